"""How `RemoteEnv` talks to the env server: HTTP (httpx) or one WebSocket per session.

Both transports have one method, ``call(op, body, what)``, that sends one request and returns the
result body, and map every failure once, here: an error body from the server becomes the matching
palaestra exception (``EnvStateError``, ``TaskError``, ``ConfigError``, ``RegistrationError``, the
server's own `EnvServerError` subclasses) with the server's message; a network fault (refused,
reset, closed, no answer within the timeout) becomes an `EnvServerError` naming the call (``what``:
session and step). Only calls that cannot change anything are retried: the GETs, and opening a
connection (nothing was sent yet). A step, reset or fork is never sent twice.
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
    """One session's WebSocket: a request, then its reply, then the next request."""

    def __init__(self, url: str, *, timeout: float, connect_timeout: float, retries: int):
        self.url = url
        self.timeout = timeout
        self._lost: str | None = None
        attempt = 0
        while True:
            try:
                self._socket: ClientConnection = connect(
                    url,
                    open_timeout=connect_timeout,
                    close_timeout=min(timeout, 2.0),
                    compression=None,  # per-message deflate costs more than loopback saves
                    max_size=None,  # the server bounds what it sends
                    user_agent_header="palaestra RemoteEnv",
                    legacy=True,  # a plain connection that this object closes
                )
                break
            except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
                if isinstance(exc, InvalidURI) or attempt >= retries:
                    raise EnvServerError(f"cannot open a WebSocket to {url}: {exc}") from exc
            _backoff(attempt)
            attempt += 1

    def call(self, session_id: str, op: str, body: dict[str, Any] | None, what: str) -> Any:
        """Send ``{"op": op, **body}`` and return the reply's result."""
        message = {"op": op, **body} if body else {"op": op}
        return self.send(json.dumps(message), what)

    def send(self, text: str, what: str) -> Any:
        """Send one JSON message and wait for its reply, at most ``timeout`` seconds."""
        if self._lost is not None:
            raise EnvServerError(f"{what}: the connection was lost earlier ({self._lost})")
        try:
            self._socket.send(text)
            reply = self._socket.recv(timeout=self.timeout)
        except TimeoutError as exc:
            self._lose(f"no answer within {self.timeout:g} s")
            raise EnvServerError(
                f"{what}: the env server at {self.url} did not answer within {self.timeout:g} s"
            ) from exc
        except ConnectionClosed as exc:
            self._lose(f"connection closed: {exc}")
            raise EnvServerError(
                f"{what}: the env server at {self.url} went away (connection closed: {exc})"
            ) from exc
        except OSError as exc:
            self._lose(f"{type(exc).__name__}: {exc}")
            raise EnvServerError(
                f"{what}: the connection to the env server at {self.url} failed ({exc})"
            ) from exc
        answer = json.loads(reply)
        if "error" in answer:
            raise_server_error(answer["error"], what)
        return answer["result"]

    def _lose(self, reason: str) -> None:
        """After a fault the stream is out of step (a late reply may come): never reuse it."""
        self._lost = reason
        self.abort()

    def abort(self) -> None:
        """Drop the connection without a closing handshake, which a hung server would not answer.

        The server sees the disconnect and closes the session.
        """
        try:
            self._socket.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        """Close the WebSocket (the server then closes the session if it still exists)."""
        try:
            self._socket.close()
        except Exception:  # closing a dead socket: nothing left to release
            pass
