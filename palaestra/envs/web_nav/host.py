"""The host: every site under one ASGI app, the episodes' sessions, and how requests reach it.

One `Host` per process (`host()`) serves every WebNav env of that process::

    /shop/...  /wiki/...  /forms/...    the sites (palaestra/envs/web_nav/sites/)
    /miniwob/...                        MiniWoB++ task pages, when the miniwob package is there

An episode opens a `Session` (its own copy of the site's database) and sends its token in the
``palaestra_session`` cookie; a request without a live session, or for another site than the
session's, gets 403, so no episode can reach another's state. Requests reach the app in one of
two ways, with the same app and the same semantics:

- in process (`Host.transport`): an httpx transport that calls the ASGI app directly, for the
  text backend: no socket, no thread, about a tenth of a millisecond a request;
- over loopback (`Host.serve`): uvicorn on 127.0.0.1 in a daemon thread, started on first use,
  for the browser backend. It binds 127.0.0.1 only and is never reachable from outside.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx

from palaestra.envs.web_nav.sites import SITES
from palaestra.envs.web_nav.sites.base import Session
from palaestra.errors import EnvStateError, MissingDependencyError

__all__ = ["COOKIE", "Host", "host"]

COOKIE = "palaestra_session"
_log = logging.getLogger("palaestra.web_nav")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def _starlette() -> Any:
    try:
        import starlette.applications
        import starlette.routing
    except ImportError as exc:  # pragma: no cover - the server extra brings it
        raise MissingDependencyError(
            "WebNav-v0 serves its sites with Starlette: pip install 'palaestra[web]'"
        ) from exc
    return starlette


class Host:
    """The sites' ASGI app and the live sessions; see the module docstring."""

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._apps: dict[str, Any] = {}
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.base_url: str | None = None
        _starlette()

    def app(self, site: str) -> Any:
        """The ASGI app of a site (built on first use), or None when there is no such site."""
        if site not in self._apps:
            if site in SITES:
                starlette = _starlette()
                self._apps[site] = starlette.applications.Starlette(routes=SITES[site].routes())
            elif site == "miniwob":
                from palaestra.envs.web_nav.miniwob import miniwob_app

                self._apps[site] = miniwob_app()
            else:
                return None
        return self._apps[site]

    # ------------------------------------------------------------------------------- sessions
    def open_session(self, site: str, world_seed: int) -> Session:
        """A new episode's session on world ``world_seed`` of ``site``, with its own database."""
        world = SITES[site].world(world_seed) if site in SITES else None
        database = world.new_database() if world is not None else None
        token = secrets.token_urlsafe(16)
        session = Session(token=token, site=site, world=world, database=database)  # type: ignore[arg-type]
        with self._lock:
            self.sessions[token] = session
        return session

    def close_session(self, token: str) -> None:
        """End a session and free its database; unknown tokens are ignored."""
        with self._lock:
            session = self.sessions.pop(token, None)
        if session is not None and session.database is not None:
            session.database.close()

    # ----------------------------------------------------------------------------------- ASGI
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route a request to its site, with its session in ``scope["state"]``."""
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        site = scope["path"].split("/", 2)[1]
        session = self.sessions.get(_cookie(scope, COOKIE) or "")
        if session is None or session.site != site:
            await _plain(send, 403, "This page belongs to another episode or to none.")
            return
        app = self.app(site)
        if app is None:
            await _plain(send, 404, f"No site at {scope['path']}.")
            return
        scope = {**scope, "root_path": scope.get("root_path", "") + f"/{site}"}
        scope["state"] = {**scope.get("state", {}), "session": session}
        await app(scope, receive, send)

    # -------------------------------------------------------------------- ways to reach the app
    def transport(self) -> httpx.BaseTransport:
        """An httpx transport that calls the app in this process."""
        return _InProcessTransport(self)

    def serve(self) -> str:
        """Serve the app on 127.0.0.1 (once per process); its base URL."""
        with self._lock:
            if self.base_url is None:
                self.base_url = self._start_server()
        return self.base_url

    def _start_server(self) -> str:
        try:
            import uvicorn
        except ImportError as exc:
            raise MissingDependencyError(
                "the browser backend serves the sites with uvicorn: pip install 'palaestra[web]'"
            ) from exc
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Small pages go out at once (asyncio sets this only for sockets it knows are TCP;
        # accepted sockets inherit it): without it each response waits for a delayed ACK.
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        config = uvicorn.Config(self, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [listener]},
            name="palaestra-web-host",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise EnvStateError("the WebNav site server did not start on 127.0.0.1")
            time.sleep(0.005)
        return f"http://127.0.0.1:{port}"


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                left, _, right = part.strip().partition("=")
                if left == name:
                    return right
    return None


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"%d" % len(body)),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _run(loop: asyncio.AbstractEventLoop, coroutine: Any) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        loop.run_until_complete(coroutine)
        return
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as exc:  # re-raised in the calling thread
            failure.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    if failure:
        raise failure[0]


class _InProcessTransport(httpx.BaseTransport):
    """Calls the ASGI app directly: the request never leaves the process.

    The app's handlers never wait on real I/O, so the coroutine is driven on a private event
    loop; when the calling thread already runs a loop (a notebook), on a short-lived thread.
    """

    def __init__(self, app: Host) -> None:
        self.app = app
        self._loop = asyncio.new_event_loop()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "root_path": "",
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "client": ("127.0.0.1", 0),
            "server": ("127.0.0.1", 80),
            "state": {},
        }
        sent = False
        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        complete: asyncio.Event | None = None

        async def receive() -> dict[str, Any]:
            # The client stays connected until the response is complete: file and streaming
            # responses stop sending when they hear of a disconnect.
            nonlocal sent, complete
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            complete = complete or asyncio.Event()
            await complete.wait()
            return {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status, headers, complete
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    complete = complete or asyncio.Event()
                    complete.set()

        try:
            _run(self._loop, self.app(scope, receive, send))
        except Exception:  # a bug in a site is its 500 page, as over HTTP; the log says why
            _log.exception("WebNav site error on %s %s", request.method, request.url.path)
            if not chunks:
                status, headers, chunks = 500, [], [b"Internal Server Error"]
        return httpx.Response(status, headers=headers, content=b"".join(chunks), request=request)

    def close(self) -> None:
        self._loop.close()


_HOST: Host | None = None
_HOST_LOCK = threading.Lock()


def host() -> Host:
    """This process's host (made on first use)."""
    global _HOST
    with _HOST_LOCK:
        if _HOST is None:
            _HOST = Host()
        return _HOST
