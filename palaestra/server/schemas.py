"""The env server's wire format: request and response bodies, WebSocket messages, error bodies.

HTTP bodies are the pydantic models below (unknown fields are rejected). A session's WebSocket
carries the same bodies as JSON text, one request and one reply at a time::

    -> {"op": "reset", "seed": 0, "options": null}     <- {"result": {"observation", "info"}}
    -> {"op": "step", "action": "<tool_call>..."}      <- {"result": {"observation", "reward",
                                                                     "terminated", "truncated",
                                                                     "info"}}
    -> {"op": "render"} | {"op": "fork"} | {"op": "oracle"} | {"op": "close"}
    <- {"error": {"type": "EnvStateError", "message": "...", "status": 409}}

Errors are ``{"type", "message"}`` everywhere (HTTP bodies and WebSocket replies, where the HTTP
status travels along); ``type`` names the palaestra exception, and `error_status` says which status
each type gets.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from palaestra.errors import (
    ConfigError,
    EnvStateError,
    ForbiddenError,
    PalaestraError,
    RegistrationError,
    ServerBusyError,
    SessionInUseError,
    SessionNotFoundError,
    TaskError,
)

__all__ = [
    "CreateSession",
    "EnvInfo",
    "EnvList",
    "ErrorBody",
    "Health",
    "OracleResult",
    "RenderResult",
    "ResetRequest",
    "ResetResult",
    "SessionInfo",
    "StepRequest",
    "StepResult",
    "WS_MESSAGE",
    "describe_validation_error",
    "error_status",
]


_STATUS: list[tuple[type[BaseException], int]] = [
    (SessionNotFoundError, 404),
    (ServerBusyError, 429),
    (ForbiddenError, 403),
    (SessionInUseError, 409),
    (RegistrationError, 404),
    (EnvStateError, 409),
    (TaskError, 422),
    (ConfigError, 422),
]


def error_status(exc: BaseException) -> int:
    """The HTTP status for an exception: 4xx for the caller's mistakes, 500 for the rest."""
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def error_type(exc: BaseException) -> str:
    """The ``type`` of an error body: the palaestra exception's name, else ``InternalError``."""
    return type(exc).__name__ if isinstance(exc, PalaestraError) else "InternalError"


def error_message(exc: BaseException) -> str:
    """The ``message`` of an error body; unexpected exceptions keep their class name."""
    if isinstance(exc, PalaestraError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def describe_validation_error(exc: ValidationError | list[Any], *, prefix: str = "") -> str:
    """A pydantic error as one line naming each bad field: ``"action: Field required"``."""
    errors = exc.errors() if isinstance(exc, ValidationError) else exc
    parts = []
    for error in errors:
        if error.get("type") == "json_invalid":
            detail = (error.get("ctx") or {}).get("error", "")
            parts.append(
                f"{prefix or 'body'} is not valid JSON" + (f" ({detail})" if detail else "")
            )
            continue
        location = ".".join(str(part) for part in (*error.get("loc", ()),) if part != "body")
        where = f"{prefix}{location}" if location else (prefix.rstrip(".") or "body")
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


# ------------------------------------------------------------------------------ HTTP bodies
class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(_Schema):
    """What every failed request returns."""

    type: str = Field(description="The palaestra exception, e.g. EnvStateError.")
    message: str = Field(description="What went wrong and how to fix it.")


class Health(_Schema):
    """Liveness and load."""

    status: Literal["ok"] = "ok"
    sessions: int
    max_sessions: int
    ttl_s: float
    grace_s: float
    """Seconds a session whose connection was cut waits to be resumed before it is closed."""


class EnvInfo(_Schema):
    """A served env: its id, what it is, its turn limit and text limits."""

    id: str
    description: str
    max_episode_steps: int
    observation_max_length: int
    action_max_length: int


class EnvList(_Schema):
    """Every env this server serves."""

    envs: list[EnvInfo]


class CreateSession(_Schema):
    """Make an env: its id and the keyword arguments ``gym.make`` would pass to it."""

    env_id: str = Field(description="A registered env id, e.g. ToolUse-v0.")
    kwargs: dict[str, Any] = Field(default_factory=dict, description="Env keyword arguments.")


class SessionInfo(_Schema):
    """A live session, and what a client needs to mirror its env's spaces."""

    session_id: str
    env_id: str
    observation_max_length: int
    action_max_length: int
    max_turns: int
    turn: int = 0


class ResetRequest(_Schema):
    """``env.reset(seed=..., options=...)``."""

    seed: Annotated[int, Field(strict=True)] | None = None
    options: dict[str, Any] | None = None


class ResetResult(_Schema):
    """What ``reset`` returns."""

    observation: str
    info: dict[str, Any]


class OpaqueAction(_Schema):
    """An action the client could not send as JSON (an arbitrary object): its type and repr.

    The server steps with a stand-in of the same type name, so the agent sees the same error
    observation as with a local env.
    """

    type: str
    repr: str


class StepRequest(_Schema):
    """``env.step(action)``: text, a tool-call dict or message, a list of them (any JSON)."""

    action: Any = Field(description="The agent's action, as for a local env.")
    opaque: OpaqueAction | None = None


class StepResult(_Schema):
    """What ``step`` returns."""

    observation: str
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any]


class RenderResult(_Schema):
    """The episode's transcript."""

    text: str


class OracleResult(_Schema):
    """The gold actions for the current task (privileged servers only)."""

    actions: list[str]


# --------------------------------------------------------------------- WebSocket messages
class _WsReset(ResetRequest):
    op: Literal["reset"]


class _WsStep(StepRequest):
    op: Literal["step"]


class _WsBare(_Schema):
    op: Literal["render", "fork", "oracle", "close"]


WS_MESSAGE: TypeAdapter[_WsReset | _WsStep | _WsBare] = TypeAdapter(
    Annotated[_WsReset | _WsStep | _WsBare, Field(discriminator="op")]
)
"""Validates one WebSocket request (the slow path: used when the fast path sees anything odd)."""
