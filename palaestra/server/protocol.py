"""The WebSocket protocol: one JSON message in, one JSON reply out, and the error replies.

`handle_message` serves a message end to end (decode, call the `SessionManager`, encode) so that
the app hands each message to a worker thread once. A plain ``{"op": "step", "action": ...}``
takes the fast path, which skips pydantic; anything else goes through the `WS_MESSAGE` validator,
whose errors name the bad field. Nothing here raises: every failure becomes an error reply.

A request may carry an ``"id"`` (a non-negative integer, increasing per session); its reply then
carries the same id, so a client that gave up waiting can tell a late reply from the one it waits
for, and the manager runs each id once (`SessionManager.answer_once`): a request resent after a
reconnect gets the reply of the run that already happened.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from palaestra.errors import PalaestraError
from palaestra.server.schemas import (
    WS_MESSAGE,
    describe_validation_error,
    error_message,
    error_status,
    error_type,
)

if TYPE_CHECKING:
    from palaestra.server.sessions import SessionManager

__all__ = ["OPS", "decode_action", "dumps", "error_reply", "handle_message"]

logger = logging.getLogger("palaestra.server")

OPS = ("reset", "step", "render", "fork", "oracle", "close")


class _BadMessage(PalaestraError):
    """A WebSocket message that is not valid JSON or not a valid request."""


class _Opaque:
    """Stands in for an action object the client could not send as JSON (see `OpaqueAction`)."""

    def __init__(self, text: str) -> None:
        self._text = text

    def __repr__(self) -> str:
        return self._text


def decode_action(action: Any, opaque: dict[str, str] | None = None) -> Any:
    """The action to step with: the JSON value, or a stand-in for an opaque client object."""
    if opaque is None:
        return action
    stand_in = type(str(opaque["type"]), (_Opaque,), {})
    return stand_in(str(opaque["repr"]))


def _jsonable(value: Any) -> Any:
    """Fallback for json.dumps: numpy scalars and arrays, sets, then text."""
    for method in ("item", "tolist"):
        if hasattr(value, method):
            return getattr(value, method)()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return str(value)


def dumps(value: Any) -> str:
    """JSON text for the wire (ASCII, so lone surrogates in observations survive)."""
    return json.dumps(value, default=_jsonable)


def error_reply(exc: BaseException) -> dict[str, Any]:
    """The error body (with its HTTP status) for an exception raised while serving a request."""
    if isinstance(exc, _BadMessage):
        return {"type": "ValidationError", "message": str(exc), "status": 422}
    status = error_status(exc)
    if status == 500:
        logger.error("request failed", exc_info=exc)
    return {"type": error_type(exc), "message": error_message(exc), "status": status}


def _step_result(step: tuple[str, float, bool, bool, dict[str, Any]]) -> dict[str, Any]:
    observation, reward, terminated, truncated, info = step
    return {
        "observation": observation,
        "reward": float(reward),
        "terminated": bool(terminated),
        "truncated": bool(truncated),
        "info": info,
    }


def handle_message(manager: SessionManager, session_id: str, text: str | bytes) -> str:
    """Serve one WebSocket request for a session; returns the reply, never raises."""
    request_id = None
    try:
        try:
            message = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _BadMessage(f"the message is not valid JSON: {exc}") from None
        if type(message) is dict and "id" in message:
            request_id = message.pop("id")
            if type(request_id) is not int or request_id < 0:
                bad, request_id = request_id, None
                raise _BadMessage(f"id: a request id is a non-negative integer, got {bad!r}")
            return manager.answer_once(
                session_id, request_id, lambda: _answer(manager, session_id, message, request_id)
            )
        return _answer(manager, session_id, message, None)
    except Exception as exc:
        return _reply({"error": error_reply(exc)}, request_id)


def _reply(body: dict[str, Any], request_id: int | None) -> str:
    return dumps(body if request_id is None else {"id": request_id, **body})


def _answer(manager: SessionManager, session_id: str, message: Any, request_id: int | None) -> str:
    try:
        if (
            type(message) is dict
            and message.get("op") == "step"
            and "action" in message
            and len(message) == 2
        ):  # the hot path: a plain step, nothing to validate
            result = _step_result(manager.step(session_id, message["action"]))
        else:
            result = _dispatch(manager, session_id, message)
        return _reply({"result": result}, request_id)
    except Exception as exc:
        return _reply({"error": error_reply(exc)}, request_id)


def _dispatch(manager: SessionManager, session_id: str, message: Any) -> Any:
    if not isinstance(message, dict) or message.get("op") not in OPS:
        got = (
            f'"op": {json.dumps(message.get("op"))}'
            if isinstance(message, dict)
            else f"a JSON {type(message).__name__}"
        )
        raise _BadMessage(
            f'a message is a JSON object with an "op", one of {", ".join(OPS)}; got {got}'
        )
    try:
        request = WS_MESSAGE.validate_python(message)
    except ValidationError as exc:
        raise _BadMessage(describe_validation_error(exc)) from None
    if request.op == "reset":
        obs, info = manager.reset(session_id, seed=request.seed, options=request.options)
        return {"observation": obs, "info": info}
    if request.op == "step":
        opaque = request.opaque.model_dump() if request.opaque else None
        return _step_result(manager.step(session_id, decode_action(request.action, opaque)))
    if request.op == "render":
        return {"text": manager.render(session_id)}
    if request.op == "fork":
        return manager.fork(session_id).model_dump()
    if request.op == "oracle":
        return {"actions": manager.oracle_actions(session_id)}
    manager.close(session_id)
    return {"closed": True}
