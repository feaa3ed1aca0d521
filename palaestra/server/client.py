"""`RemoteEnv`: a palaestra env that lives on an env server, with exactly the local semantics.

    env = RemoteEnv("http://127.0.0.1:8000", "ToolUse-v0", split="test")
    env = gym.make("ToolUse-v0", remote="http://127.0.0.1:8000", split="test")   # the same

Same spaces (`UnicodeText` with the server's limits), the same ``reset``/``step``/``render``
(actions as text, `ToolCall`, OpenAI tool-call dicts or messages, lists of them), ``fork()`` onto
a new server session (so ``palaestra.fork`` works through wrappers), ``close()`` ends the session.
Server-side errors come back as the palaestra exception the local env would raise; a server that
goes away or stops answering raises `EnvServerError` naming the session and the step, within the
timeout.

Faults on the WebSocket (`palaestra.server.transport`): a call that timed out raises, and the next
call gets its own reply (replies are matched to requests by id); a dropped connection is reopened
and the session resumed where it was, the lost request answered once; a session the server no
longer has (reaped after its grace period) raises `SessionNotFoundError` naming it.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import gymnasium as gym

from palaestra.core.spaces import UnicodeText
from palaestra.core.types import ToolCall
from palaestra.errors import ConfigError, EnvServerError, EnvStateError
from palaestra.server.transport import HttpTransport, SocketTransport

__all__ = ["RemoteEnv", "encode_action"]

Transport = Literal["websocket", "http"]


class _NotJson(Exception):
    pass


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, ToolCall):
        return value.model_dump()
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise _NotJson
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    raise _NotJson


def encode_action(action: Any) -> dict[str, Any]:
    """The step body for an action: JSON as is (`ToolCall` via ``model_dump``), else opaque.

    An object with no JSON form travels as its type name and repr, so the server can show the
    agent the same error a local env would.
    """
    if type(action) is str:
        return {"action": action}
    try:
        return {"action": _plain(action)}
    except _NotJson:
        return {"action": None, "opaque": {"type": type(action).__name__, "repr": repr(action)}}


class RemoteEnv(gym.Env[str, str]):
    """A session of ``env_id`` on the env server at ``base_url``.

    Args:
        base_url: the server, e.g. ``"http://127.0.0.1:8000"``.
        env_id: a registered env id the server serves.
        transport: ``"websocket"`` (one connection per session; fast) or ``"http"``.
        timeout: seconds to wait for any one answer; past it, `EnvServerError`.
        connect_timeout: seconds to wait for a connection.
        retries: extra tries for calls that change nothing (connecting, render, listing);
            steps, resets and forks are never retried.
        **make_kwargs: the env's keyword arguments, as ``gym.make`` takes them.

    Like a local env, one `RemoteEnv` is used by one thread at a time; run many sessions with
    many envs (each has its own connection). Closing it, or dropping it, ends the session.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 1}  # type: ignore[misc]

    def __init__(
        self,
        base_url: str,
        env_id: str,
        *,
        transport: Transport = "websocket",
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        retries: int = 2,
        **make_kwargs: Any,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"base_url must start with http:// or https://, got {base_url!r}")
        if transport not in ("websocket", "http"):
            raise ConfigError(f"transport must be 'websocket' or 'http', got {transport!r}")
        if not timeout > 0 or not connect_timeout > 0:
            raise ConfigError(f"timeouts must be positive, got {timeout!r} and {connect_timeout!r}")
        if not isinstance(retries, int) or retries < 0:
            raise ConfigError(f"retries must be a non-negative integer, got {retries!r}")
        self.base_url = base_url.rstrip("/")
        self.transport: Transport = transport
        self._options: dict[str, Any] = {
            "timeout": float(timeout),
            "connect_timeout": float(connect_timeout),
            "retries": retries,
        }
        self.render_mode = make_kwargs.get("render_mode")
        http = HttpTransport(self.base_url, **self._options)
        try:
            info = http.request(
                "POST",
                "/sessions",
                f"creating a {env_id} session",
                body={"env_id": env_id, "kwargs": make_kwargs},
                retry="connect",
            )
        except BaseException:
            http.close()
            raise
        self._connect(info, http)

    def _connect(self, info: dict[str, Any], http: HttpTransport | None) -> None:
        """Bind to a server session (made by ``__init__`` or by a fork)."""
        self.session_id: str = info["session_id"]
        self.env_id: str = info["env_id"]
        self.max_turns: int = info["max_turns"]
        self.observation_space = UnicodeText(info["observation_max_length"])
        self.action_space = UnicodeText(info["action_max_length"])
        self._turn: int = info.get("turn", 0)
        self._closed = False
        self._http: HttpTransport | None = None
        self._socket: SocketTransport | None = None
        if self.transport == "http":
            self._http = http or HttpTransport(self.base_url, **self._options)
            return
        if http is not None:
            http.close()  # sessions are made over HTTP; everything else goes over the socket
        scheme, rest = self.base_url.split("://", 1)
        url = f"{'wss' if scheme == 'https' else 'ws'}://{rest}/sessions/{self.session_id}/ws"
        try:
            self._socket = SocketTransport(url, **self._options)
        except EnvServerError:
            self._close_over_http()
            raise
        # An env dropped without close() still ends its session at once: the server closes a
        # session whose WebSocket says goodbye (a cut one would wait out the grace period).
        weakref.finalize(self, self._socket.close)

    # ------------------------------------------------------------------------------- gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start an episode: ``options={"task_id": ...}`` pins a task, else the seed picks one."""
        super().reset(seed=seed)  # mirrors the server's seeding, for code that reads np_random
        result = self._call("reset", {"seed": seed, "options": options}, "reset")
        self._turn = 0
        return result["observation"], result["info"]

    def step(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Apply one agent turn on the server."""
        turn = self._turn + 1
        if self._socket is not None and type(action) is str and not self._closed:  # hot path
            result = self._socket.request(
                {"op": "step", "action": action}, self._what(f"step {turn}")
            )
        else:
            result = self._call("step", encode_action(action), f"step {turn}")
        info = result["info"]
        self._turn = info.get("turn", turn)
        return (
            result["observation"],
            result["reward"],
            result["terminated"],
            result["truncated"],
            info,
        )

    def render(self) -> str:
        """The episode so far as a readable transcript, with the verdict once it ended."""
        return str(self._call("render", None, "render")["text"])

    def close(self) -> None:
        """End the session on the server (and with it any sandbox); calling it again is fine."""
        if getattr(self, "_closed", True):
            return
        self._closed = True
        try:
            self._call("close", None, "close", check=False)
        except EnvServerError:
            pass  # the server is gone or the session expired: nothing is left to close
        finally:
            for transport in (self._socket, self._http):
                if transport is not None:
                    transport.close()
        super().close()

    # ---------------------------------------------------------------------- fork and oracle
    def fork(self) -> RemoteEnv:
        """A new server session in the identical state, evolving independently."""
        info = self._call("fork", None, "fork")
        clone = copy.copy(self)
        clone._connect(info, None)
        clone._np_random = copy.deepcopy(self._np_random)
        clone._np_random_seed = self._np_random_seed
        return clone

    def oracle_actions(self) -> list[str]:
        """The gold actions for the current task; only a privileged server gives them out."""
        return list(self._call("oracle", None, "oracle")["actions"])

    @property
    def turn(self) -> int:
        """Turns taken in the current episode."""
        return self._turn

    # ------------------------------------------------------------------------------ plumbing
    def _what(self, call: str) -> str:
        return f"{call} of session {self.session_id} ({self.env_id} at {self.base_url})"

    def _call(self, op: str, body: dict[str, Any] | None, call: str, *, check: bool = True) -> Any:
        if check and self._closed:
            raise EnvStateError(f"{self._what(call)}: this RemoteEnv is closed")
        transport = self._socket or self._http
        assert transport is not None
        return transport.call(self.session_id, op, body, self._what(call))

    def _close_over_http(self) -> None:
        """Close a session whose WebSocket could not be opened."""
        http = HttpTransport(self.base_url, **self._options)
        try:
            http.call(self.session_id, "close", None, self._what("close"))
        except EnvServerError:
            pass
        finally:
            http.close()

    def __repr__(self) -> str:
        where = f"session {getattr(self, 'session_id', None)} at {getattr(self, 'base_url', None)}"
        return f"RemoteEnv({getattr(self, 'env_id', None)!r} {where})"
