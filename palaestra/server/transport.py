"""How `RemoteEnv` talks to the env server: HTTP (httpx) or one WebSocket per session.

Both transports have one method, ``call(op, body, what)``, that sends one request and returns the
result body, and map every failure once, here: an error body from the server becomes the matching
palaestra exception (``EnvStateError``, ``TaskError``, ``ConfigError``, ``RegistrationError``, the
server's own `EnvServerError` subclasses) with the server's message; a network fault (refused,
reset, closed, no answer within the timeout) becomes an `EnvServerError` naming the call (``what``:
session and step). Over HTTP, only calls that cannot change anything are retried: the GETs, and
opening a connection (nothing was sent yet); a step, reset or fork is never sent twice.

The WebSocket survives faults:

- Every request carries an id, increasing per session, and only the reply with that id is taken:
  after a call timed out, the late reply to it is dropped when it comes, and the connection stays
  in use (the server answers requests in order, so the next call gets its own reply after it).
- A connection that drops (closed, reset, cut) is reopened with ``?resume=1`` and the request
  resent with the same id, up to ``1 + retries`` times; the server runs each id once and answers a
  repeat with the kept reply, so a step lost in flight is applied exactly once. When the session
  is gone (closed, or reaped after the server's grace period) the call raises
  `SessionNotFoundError`; when the server is unreachable, `EnvServerError`; never a hang.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any, Literal, NoReturn

import httpx
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

from palaestra.errors import (
    ConfigError,
    EnvServerError,
    EnvStateError,
    ForbiddenError,
    RegistrationError,
    ServerBusyError,
    SessionInUseError,
    SessionNotFoundError,
    TaskError,
)

__all__ = ["HttpTransport", "SocketTransport", "raise_server_error"]

_ERROR_TYPES: dict[str, type[Exception]] = {
    kind.__name__: kind
    for kind in (
        ConfigError,
        EnvStateError,
        RegistrationError,
        TaskError,
        ForbiddenError,
        ServerBusyError,
        SessionInUseError,
        SessionNotFoundError,
    )
}

# op -> (HTTP method, path under /sessions/{id}, safe to retry)
_ROUTES: dict[str, tuple[str, str, bool]] = {
    "reset": ("POST", "/reset", False),
    "step": ("POST", "/step", False),
    "fork": ("POST", "/fork", False),
    "render": ("GET", "/render", True),
    "oracle": ("GET", "/oracle", True),
    "close": ("DELETE", "", False),
}


_JSON = {"content-type": "application/json"}
Retry = Literal["always", "connect", "never"]


def raise_server_error(body: Any, what: str) -> NoReturn:
    """Raise the palaestra exception an error body names, with the server's message."""
    if not isinstance(body, dict):
        raise EnvServerError(f"{what}: the env server answered with an error: {body!r}")
    kind, message = str(body.get("type", "")), str(body.get("message", body))
    known = _ERROR_TYPES.get(kind)
    if known is not None:
        raise known(message)
    raise EnvServerError(f"{what}: the env server answered {kind or 'an error'}: {message}")


def _backoff(attempt: int) -> None:
    time.sleep(min(0.1 * 2**attempt, 2.0))


class HttpTransport:
    """Requests over HTTP; also makes sessions for the WebSocket transport."""

    def __init__(self, base_url: str, *, timeout: float, connect_timeout: float, retries: int):
        self.base_url = base_url
        self.retries = retries
        self._client = httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            # No TLS context unless the server is https: building one costs ~30 ms.
            verify=base_url.startswith("https://"),
        )

    def request(
        self, method: str, path: str, what: str, *, body: Any = None, retry: Retry = "never"
    ) -> Any:
        """One request; returns the JSON body (None for 204) or raises the mapped error.

        ``retry``: ``"always"`` for calls that change nothing, ``"connect"`` for calls that may be
        repeated when the connection could not even be made (nothing was sent), ``"never"``.
        """
        # ASCII JSON, so that any string (even a lone surrogate, which UTF-8 cannot hold) goes.
        content = None if body is None else json.dumps(body).encode("ascii")
        attempt = 0
        while True:
            try:
                response = self._client.request(method, path, content=content, headers=_JSON)
                break
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # nothing was sent
                if retry == "never" or attempt >= self.retries:
                    raise EnvServerError(
                        f"{what}: cannot reach the env server at {self.base_url} ({exc})"
                    ) from exc
            except httpx.TimeoutException as exc:
                if retry != "always" or attempt >= self.retries:
                    raise EnvServerError(
                        f"{what}: the env server at {self.base_url} did not answer in time ({exc})"
                    ) from exc
            except httpx.TransportError as exc:
                if retry != "always" or attempt >= self.retries:
                    raise EnvServerError(
                        f"{what}: the connection to the env server at {self.base_url} failed "
                        f"({type(exc).__name__}: {exc})"
                    ) from exc
            _backoff(attempt)
            attempt += 1
        if response.status_code == 204:
            return None
        try:
            payload = response.json()
        except ValueError:
            payload = response.text
        if response.is_error:
            raise_server_error(payload, what)
        return payload

    def call(self, session_id: str, op: str, body: dict[str, Any] | None, what: str) -> Any:
        """One session call (``op`` as on the WebSocket) as an HTTP request."""
        method, suffix, idempotent = _ROUTES[op]
        retry: Retry = "always" if idempotent else "never"
        return self.request(method, f"/sessions/{session_id}{suffix}", what, body=body, retry=retry)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


class SocketTransport:
    """One session's WebSocket: a request, then its reply (matched by id), then the next request."""

    def __init__(self, url: str, *, timeout: float, connect_timeout: float, retries: int):
        self.url = url
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.retries = retries
        self._last_id = 0
        attempt = 0
        while True:
            try:
                self._socket: ClientConnection | None = self._open(url)
                break
            except EnvServerError:
                if attempt >= retries:
                    raise
            _backoff(attempt)
            attempt += 1

    def _open(self, url: str) -> ClientConnection:
        try:
            return connect(
                url,
                open_timeout=self.connect_timeout,
                close_timeout=min(self.timeout, 2.0),
                compression=None,  # per-message deflate costs more than loopback saves
                max_size=None,  # the server bounds what it sends
                user_agent_header="palaestra RemoteEnv",
                legacy=True,  # a plain connection that this object closes
            )
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            raise EnvServerError(f"cannot open a WebSocket to {url}: {exc}") from exc

    def call(self, session_id: str, op: str, body: dict[str, Any] | None, what: str) -> Any:
        """Send ``{"op": op, **body}`` and return the reply's result."""
        return self.request({"op": op, **body} if body else {"op": op}, what)

    def request(self, message: dict[str, Any], what: str) -> Any:
        """Send one request and wait for its reply, at most ``timeout`` seconds per connection."""
        self._last_id += 1
        request_id = self._last_id
        text = json.dumps({**message, "id": request_id})
        reconnects = 0
        while True:
            refusal = None
            try:
                connection = self._socket
                if connection is None:
                    connection, refusal = self._resume()
                if refusal is None:
                    answer = self._exchange(connection, text, request_id)
                    break
            except TimeoutError as exc:
                # Kept open: the late reply will come first and be dropped by its id.
                raise EnvServerError(
                    f"{what}: the env server at {self.url} did not answer within {self.timeout:g} s"
                ) from exc
            except (ConnectionClosed, OSError, EnvServerError) as exc:
                self.abort()
                if reconnects > self.retries:
                    detail = exc if isinstance(exc, EnvServerError) else type(exc).__name__
                    raise EnvServerError(
                        f"{what}: the env server at {self.url} went away and could not be "
                        f"reached again ({detail})"
                    ) from exc
                if reconnects:
                    _backoff(reconnects - 1)
                reconnects += 1
            if refusal is not None:  # the server is there but has no such session (any more)
                self.abort()
                detail = refusal.get("message", "") if isinstance(refusal, dict) else refusal
                raise_server_error(
                    {**refusal, "message": f"{what}: could not resume the session: {detail}"}
                    if isinstance(refusal, dict)
                    else refusal,
                    what,
                )
        if "error" in answer:
            raise_server_error(answer["error"], what)
        return answer["result"]

    def _resume(self) -> tuple[ClientConnection, Any]:
        """Open a connection that takes the session back; returns it and the server's refusal.

        The server confirms a resume with a first message, or refuses it with an error (and
        closes), so a session that is gone is told apart from a connection that failed.
        """
        self._socket = connection = self._open(f"{self.url}?resume=1")
        hello = json.loads(connection.recv(timeout=self.connect_timeout))
        if isinstance(hello, dict) and "resumed" in hello:
            return connection, None
        return connection, hello.get("error", hello) if isinstance(hello, dict) else hello

    def _exchange(self, socket_: ClientConnection, text: str, request_id: int) -> dict[str, Any]:
        socket_.send(text)
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            answer = json.loads(socket_.recv(timeout=remaining))
            if not isinstance(answer, dict):
                continue
            if answer.get("id") == request_id:
                return answer
            if "id" not in answer and "error" in answer:
                return answer  # the server refused the connection (e.g. the session is unknown)
            # Otherwise a late reply to a request that timed out earlier: not ours, dropped.

    def abort(self) -> None:
        """Drop the connection without a closing handshake, which a hung server would not answer.

        The server keeps the session for its grace period, for a resume.
        """
        if self._socket is None:
            return
        try:
            self._socket.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        """Close the WebSocket with a handshake (the server then closes the session now)."""
        connection, self._socket = self._socket, None
        if connection is None:
            return
        try:
            connection.close()
        except Exception:  # closing a dead socket: nothing left to release
            pass
