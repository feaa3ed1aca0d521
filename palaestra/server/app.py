"""The env server: a FastAPI app over a `SessionManager`.

Routes (the OpenAPI page is at ``/docs``, the schema at ``/openapi.json``)::

    GET    /health                      liveness and load
    GET    /envs                        served envs, their turn limits and text limits
    POST   /sessions                    make an env -> session id            (201)
    POST   /sessions/{id}/reset         env.reset(seed, options)
    POST   /sessions/{id}/step          env.step(action)
    POST   /sessions/{id}/fork          env.fork() -> a new session id       (201)
    GET    /sessions/{id}/render        the transcript
    GET    /sessions/{id}/oracle        the gold actions (privileged servers only, else 403)
    DELETE /sessions/{id}               close the session and its env        (204)
    WS     /sessions/{id}/ws            the same calls as JSON messages, one connection per
                                        session; closing the connection closes the session
    WS     /sessions/{id}/ws?resume=1   a client whose connection was cut takes the session back

Handlers are thin: they validate, call the manager in a worker thread (env steps are synchronous
and may be slow, e.g. a sandboxed code run) and map exceptions to ``{"type", "message"}`` bodies.

When a session's WebSocket ends: a closing handshake from the client (close code 1000 or 1001)
closes the session at once; a connection that was cut (no close frame: a network fault, a killed
client) leaves the session waiting ``grace_s`` for a ``resume`` connection, after which the
reaper closes it and its env. Keepalive pings (uvicorn's, every 20 s) turn a half-open connection
into a cut one; the idle TTL ends the rest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from palaestra.errors import PalaestraError
from palaestra.server.protocol import decode_action, dumps, error_reply
from palaestra.server.schemas import (
    CreateSession,
    EnvList,
    ErrorBody,
    Health,
    OracleResult,
    RenderResult,
    ResetRequest,
    ResetResult,
    SessionInfo,
    StepRequest,
    StepResult,
    describe_validation_error,
)
from palaestra.server.sessions import SessionManager

__all__ = ["create_app"]

logger = logging.getLogger("palaestra.server")

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in [
        (404, "Unknown session (closed, expired or never made) or unknown env"),
        (409, "Out of order, e.g. a step after the episode ended"),
        (422, "Malformed body, bad env kwargs or an unknown task id"),
    ]
}


_DESCRIPTION = """\
Make a session with `POST /sessions`, then reset and step it. Errors are always
`{"type", "message"}`: `type` names the palaestra exception (`EnvStateError`, `TaskError`,
`ConfigError`, `RegistrationError`, `SessionNotFoundError`, `ServerBusyError`, ...).

**WebSocket** `/sessions/{session_id}/ws` (the fast path; `RemoteEnv` uses it by default): one
connection per session; send one JSON message, read its reply, repeat. Requests are the HTTP
bodies plus an `op`: `{"op": "reset", "seed": 0}`, `{"op": "step", "action": "..."}`,
`{"op": "render"}`, `{"op": "fork"}`, `{"op": "oracle"}`, `{"op": "close"}`. Replies are
`{"result": <the HTTP response body>}` or `{"error": {"type", "message", "status"}}`; a bad
message gets an error reply and the connection stays open. A request may carry an `"id"`
(an integer, increasing per session), which its reply repeats; a repeated id is not run again but
answered with the kept reply. Closing the connection closes the session; a connection that was cut
may be replaced within the grace period by one to `/sessions/{session_id}/ws?resume=1`.
"""


def create_app(
    env_ids: Iterable[str] | None = None,
    *,
    max_sessions: int = 256,
    ttl_s: float = 600.0,
    grace_s: float = 30.0,
    privileged: bool = False,
    workers: int = 64,
    manager: SessionManager | None = None,
) -> FastAPI:
    """The env server app. Arguments are `SessionManager`'s; ``workers`` sizes the step pool.

    ``app.state.manager`` is the manager, for tests and embedding.
    """
    if manager is None:  # not `or`: a manager with no sessions yet is falsy (it has a length)
        manager = SessionManager(
            env_ids, max_sessions=max_sessions, ttl_s=ttl_s, grace_s=grace_s, privileged=privileged
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # WebSocket messages run here; HTTP handlers in Starlette's own pool.
        app.state.executor = ThreadPoolExecutor(workers, thread_name_prefix="palaestra-step")
        sweeper = asyncio.create_task(_expire_periodically(manager))
        try:
            yield
        finally:
            sweeper.cancel()
            await run_in_threadpool(manager.close_all)  # no sandbox outlives the server
            app.state.executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="palaestra env server",
        summary="Sessions of palaestra envs: reset, step, fork and close them over HTTP or a "
        "WebSocket.",
        description=_DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.manager = manager
    _add_error_handlers(app)

    @app.get("/health")
    def health() -> Health:
        """Liveness and load: live sessions, the maximum, the idle TTL."""
        return Health(
            sessions=len(manager),
            max_sessions=manager.max_sessions,
            ttl_s=manager.ttl_s,
            grace_s=manager.grace_s,
        )

    @app.get("/envs")
    def list_envs() -> EnvList:
        """The envs this server serves, with their turn limits and text limits."""
        return EnvList(envs=manager.envs())

    @app.post(
        "/sessions",
        status_code=201,
        responses={**_ERRORS, 429: {"model": ErrorBody, "description": "Too many sessions"}},
    )
    def create_session(body: CreateSession) -> SessionInfo:
        """Make an env with the keyword arguments ``gym.make`` would take."""
        return manager.create(body.env_id, body.kwargs)

    @app.post("/sessions/{session_id}/reset", response_model=ResetResult, responses=_ERRORS)
    def reset(session_id: str, body: ResetRequest | None = None) -> Response:
        """``env.reset(seed=..., options=...)``; ``options={"task_id": ...}`` pins a task."""
        body = body or ResetRequest()
        observation, info = manager.reset(session_id, seed=body.seed, options=body.options)
        return _json({"observation": observation, "info": info})

    @app.post("/sessions/{session_id}/step", response_model=StepResult, responses=_ERRORS)
    def step(session_id: str, body: StepRequest) -> Response:
        """``env.step(action)``: agent mistakes come back as observations, never as errors."""
        opaque = body.opaque.model_dump() if body.opaque else None
        obs, reward, terminated, truncated, info = manager.step(
            session_id, decode_action(body.action, opaque)
        )
        return _json(
            {
                "observation": obs,
                "reward": float(reward),
                "terminated": bool(terminated),
                "truncated": bool(truncated),
                "info": info,
            }
        )

    @app.post(
        "/sessions/{session_id}/fork",
        status_code=201,
        responses={**_ERRORS, 429: {"model": ErrorBody, "description": "Too many sessions"}},
    )
    def fork(session_id: str) -> SessionInfo:
        """A new session in the identical state, evolving independently."""
        return manager.fork(session_id)

    @app.get("/sessions/{session_id}/render", response_model=RenderResult, responses=_ERRORS)
    def render(session_id: str) -> Response:
        """The episode so far as a readable transcript."""
        return _json({"text": manager.render(session_id)})

    @app.get(
        "/sessions/{session_id}/oracle",
        responses={**_ERRORS, 403: {"model": ErrorBody, "description": "Not a privileged server"}},
    )
    def oracle(session_id: str) -> OracleResult:
        """The gold actions for the current task; only when the server is privileged."""
        return OracleResult(actions=manager.oracle_actions(session_id))

    @app.delete("/sessions/{session_id}", status_code=204, responses=_ERRORS)
    def close(session_id: str) -> Response:
        """Close the session and its env (and so its sandbox)."""
        manager.close(session_id)
        return Response(status_code=204)

    @app.websocket("/sessions/{session_id}/ws")
    async def session_socket(websocket: WebSocket, session_id: str) -> None:
        """One session's calls as JSON messages (see `palaestra.server.schemas`)."""
        await _serve_socket(websocket, session_id, manager, app.state.executor)

    return app


def _json(body: Any, status_code: int = 200) -> Response:
    """A JSON response in ASCII: env text may hold lone surrogates, which UTF-8 cannot encode."""
    return Response(dumps(body), status_code=status_code, media_type="application/json")


async def _serve_socket(
    websocket: WebSocket, session_id: str, manager: SessionManager, executor: ThreadPoolExecutor
) -> None:
    """Answer one message at a time; each is decoded, run and encoded in a worker thread."""
    await websocket.accept()
    resume = websocket.query_params.get("resume") == "1"
    try:
        replaced = manager.attach(session_id, websocket, resume=resume)
    except PalaestraError as exc:
        await websocket.send_text(dumps({"error": error_reply(exc)}))
        await websocket.close(code=1008)
        return
    if isinstance(replaced, WebSocket):
        # Its client reconnected, so it is dead or half-open; its loop ends on the close.
        await _close_quietly(replaced)
    if resume:
        await websocket.send_text(dumps({"resumed": session_id}))  # not refused: carry on
    loop = asyncio.get_running_loop()
    handle = manager.handle_message
    receive, send = websocket.receive, websocket.send
    goodbye = False
    try:
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                goodbye = message.get("code") in _GOODBYE
                break
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            reply = await loop.run_in_executor(executor, handle, session_id, data)
            await send({"type": "websocket.send", "text": reply})
    except Exception as exc:  # the client went away mid-reply; nothing to tell it
        logger.debug("WebSocket of session %s ended: %r", session_id, exc)
    finally:
        await run_in_threadpool(manager.detach, session_id, websocket, close=goodbye)


_GOODBYE = (1000, 1001)
"""Close codes of a client that ended its connection on purpose (its session closes now)."""


async def _close_quietly(websocket: WebSocket) -> None:
    try:
        await websocket.close(code=1001)
    except Exception:  # already gone: nothing to close
        pass


async def _expire_periodically(manager: SessionManager) -> None:
    interval = min(max(min(manager.ttl_s, manager.grace_s) / 4, 0.05), 30.0)
    while True:
        await asyncio.sleep(interval)
        try:
            await run_in_threadpool(manager.expire)
        except Exception:
            logger.exception("expiring idle sessions failed")


def _add_error_handlers(app: FastAPI) -> None:
    """Every failure is a ``{"type", "message"}`` body; never a traceback or a bare 500."""

    def reply(exc: BaseException) -> Response:
        body = error_reply(exc)
        status = body.pop("status")
        return _json(body, status_code=status)

    @app.exception_handler(PalaestraError)
    async def palaestra_error(request: Request, exc: PalaestraError) -> Response:
        return reply(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        message = describe_validation_error(list(exc.errors()))
        return JSONResponse({"type": "ValidationError", "message": message}, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(
            {"type": "HTTPError", "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        return reply(exc)
