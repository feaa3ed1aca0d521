"""`SessionManager`: the env server's logic, usable (and tested) without HTTP.

A session is one env made with ``gym.make`` kwargs, addressed by a random id. The manager is
thread-safe: one lock guards the table of sessions, and each session has its own lock, so
different sessions step in parallel (in the server's thread pool) while calls on one session run
one at a time. `close_all` runs at shutdown, so no sandbox outlives the server.

Reaping (`expire`, which the app calls periodically) closes a session and its env when either

- it sat idle (no call) for longer than ``ttl_s``, attached to a WebSocket or not: this also
  ends sessions whose client vanished without a trace (a half-open connection), or
- its WebSocket dropped without a closing handshake (a cut connection, a killed client process)
  and no connection resumed it within ``grace_s``. A client that closes its WebSocket properly
  (a close frame) ends the session at once; one whose connection was cut may reconnect with
  ``resume`` (`attach`) within the grace period and carry on with the same env.

Requests on a WebSocket carry ids, increasing per session. `answer_once` runs each id once and
keeps the last reply, so a client that lost its connection mid-request resends the same request on
the new connection and gets the reply of the one run (a step is never applied twice); an id older
than the last one (a duplicate from a superseded connection) is refused, not run.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from palaestra.core.registration import catalog, entry
from palaestra.errors import (
    ConfigError,
    ForbiddenError,
    PalaestraError,
    RegistrationError,
    ServerBusyError,
    SessionInUseError,
    SessionNotFoundError,
)
from palaestra.server.protocol import handle_message
from palaestra.server.schemas import (
    EnvInfo,
    SessionInfo,
)

__all__ = ["Session", "SessionManager"]

logger = logging.getLogger("palaestra.server")


@dataclass
class Session:
    """One env on the server."""

    id: str
    env_id: str
    env: Any  # a palaestra env: gym.Env with fork() and oracle_actions()
    last_used: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False
    connection: object | None = None  # the WebSocket serving it, if any
    dropped_at: float | None = None  # when its WebSocket was cut (reaped after the grace period)
    reply_lock: threading.Lock = field(default_factory=threading.Lock)
    last_request: int = -1  # id of the last WebSocket request run, and its reply
    last_reply: str = ""


class SessionManager:
    """Sessions of registered envs: create, reset, step, fork, render, close, expire.

    Args:
        env_ids: the envs to serve (``palaestra:`` prefix allowed); all registered ones by default.
        max_sessions: sessions held at once; one more is a `ServerBusyError` (HTTP 429).
        ttl_s: seconds a session may sit idle before `expire` closes it.
        grace_s: seconds a session whose WebSocket was cut waits for a connection that resumes
            it, before `expire` closes it.
        privileged: allow `oracle_actions` (ground truth) for tests and oracle agents. Off by
            default: an agent talking to the server must not reach the answers.
        clock: the monotonic clock (seconds) that TTL and grace periods are measured with;
            tests pass one they control.
    """

    def __init__(
        self,
        env_ids: Iterable[str] | None = None,
        *,
        max_sessions: int = 256,
        ttl_s: float = 600.0,
        grace_s: float = 30.0,
        privileged: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(max_sessions, int) or max_sessions < 1:
            raise ConfigError(f"max_sessions must be a positive integer, got {max_sessions!r}")
        if not ttl_s > 0:
            raise ConfigError(f"ttl_s must be positive (seconds), got {ttl_s!r}")
        if not grace_s > 0:
            raise ConfigError(f"grace_s must be positive (seconds), got {grace_s!r}")
        ids = [entry(env_id).id for env_id in env_ids] if env_ids else [e.id for e in catalog()]
        self.env_ids: tuple[str, ...] = tuple(dict.fromkeys(ids))
        self.max_sessions = max_sessions
        self.ttl_s = float(ttl_s)
        self.grace_s = float(grace_s)
        self.privileged = privileged
        self.clock = clock
        self._sessions: dict[str, Session] = {}
        self._pending = 0  # slots reserved by envs being built
        self._lock = threading.Lock()
        self._limits: dict[str, EnvInfo] = {}

    # ------------------------------------------------------------------------------ queries
    def __len__(self) -> int:
        """Live sessions."""
        return len(self._sessions)

    def session_ids(self) -> list[str]:
        """Ids of the live sessions."""
        with self._lock:
            return list(self._sessions)

    def envs(self) -> list[EnvInfo]:
        """The served envs with their turn and text limits."""
        return [self._env_info(env_id) for env_id in self.env_ids]

    def _env_info(self, env_id: str) -> EnvInfo:
        if env_id not in self._limits:
            registered = entry(env_id)
            env = registered.make_local()
            try:
                self._limits[env_id] = EnvInfo(
                    id=env_id,
                    description=registered.description,
                    max_episode_steps=registered.max_episode_steps,
                    observation_max_length=int(getattr(env.observation_space, "max_length", 0)),
                    action_max_length=int(getattr(env.action_space, "max_length", 0)),
                )
            finally:
                env.close()
        return self._limits[env_id]

    # ------------------------------------------------------------------------------ lifecycle
    def create(self, env_id: str, kwargs: dict[str, Any] | None = None) -> SessionInfo:
        """Make an env with ``gym.make``-style kwargs and open a session on it."""
        key = env_id.removeprefix("palaestra:")
        if key not in self.env_ids:
            raise RegistrationError(
                f"unknown env {env_id!r}; this server serves: {', '.join(self.env_ids)}"
            )
        kwargs = dict(kwargs or {})
        self._reserve()
        try:
            env = self._make(key, kwargs)
        except BaseException:
            with self._lock:
                self._pending -= 1
            raise
        return self._add(key, env)

    def _make(self, env_id: str, kwargs: dict[str, Any]) -> gym.Env[Any, Any]:
        try:
            return entry(env_id).make_local(**kwargs)
        except PalaestraError:
            raise
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{env_id} does not accept these arguments: {exc}") from exc

    def _reserve(self) -> None:
        self.expire()
        with self._lock:
            if len(self._sessions) + self._pending >= self.max_sessions:
                raise ServerBusyError(
                    f"the server holds its maximum of {self.max_sessions} sessions; close "
                    "sessions you no longer need, or use another server"
                )
            self._pending += 1

    def _add(self, env_id: str, env: Any) -> SessionInfo:
        session = Session(
            id=secrets.token_urlsafe(12), env_id=env_id, env=env, last_used=self.clock()
        )
        with self._lock:
            self._pending -= 1
            self._sessions[session.id] = session
        return self._info(session)

    def _info(self, session: Session) -> SessionInfo:
        env = session.env.unwrapped
        return SessionInfo(
            session_id=session.id,
            env_id=session.env_id,
            observation_max_length=int(getattr(env.observation_space, "max_length", 0)),
            action_max_length=int(getattr(env.action_space, "max_length", 0)),
            max_turns=int(getattr(env, "max_turns", 0)),
            turn=int(getattr(env, "turn", 0)),
        )

    def _get(self, session_id: str) -> Session:
        session = self._sessions.get(session_id)
        if session is None:
            raise self._not_found(session_id)
        return session

    def _not_found(self, session_id: str) -> SessionNotFoundError:
        return SessionNotFoundError(
            f"no session {session_id!r} on this server: it was closed, expired after "
            f"{self.ttl_s:g} s idle or {self.grace_s:g} s after its connection dropped, or never "
            "existed"
        )

    def _locked(self, session_id: str) -> Session:
        """The session with its lock held; the caller releases it. Raises if it went away."""
        session = self._get(session_id)
        session.lock.acquire()
        if session.closed:  # closed while we waited for the lock
            session.lock.release()
            raise self._not_found(session_id)
        session.last_used = self.clock()
        return session

    def close(self, session_id: str) -> None:
        """Close a session and its env (and so its sandbox)."""
        session = self._get(session_id)
        with session.lock:
            self._discard(session)

    def _discard(self, session: Session) -> None:
        """Close a session whose lock the caller holds."""
        with self._lock:
            if self._sessions.get(session.id) is session:
                del self._sessions[session.id]
        if not session.closed:
            session.closed = True
            try:
                session.env.close()
            except Exception:  # a failing close must not keep the session (or others) alive
                logger.exception("closing session %s (%s) failed", session.id, session.env_id)

    def attach(self, session_id: str, connection: object, *, resume: bool = False) -> object | None:
        """Mark a session as served by ``connection`` (a WebSocket).

        A second connection is a `SessionInUseError`, unless it ``resume``s: then it replaces the
        first (whose client lost it), which is returned for the caller to close.
        """
        session = self._get(session_id)
        with self._lock:
            previous = session.connection
            if previous is not None and not resume:
                raise SessionInUseError(
                    f"session {session_id!r} already has a WebSocket; use one connection per "
                    "session (fork it for a second env)"
                )
            session.connection, session.dropped_at = connection, None
        return previous

    def detach(self, session_id: str, connection: object, *, close: bool = False) -> None:
        """``connection`` ended; with ``close`` (the client said goodbye) the session closes now.

        Without ``close`` (the connection was cut) the session waits ``grace_s`` for a resume. A
        connection that a resuming one replaced no longer speaks for the session: nothing changes.
        """
        session = self._sessions.get(session_id)
        if session is None:
            return
        with self._lock:
            if session.connection is not connection:
                return
            session.connection = None
            if not close:
                session.dropped_at = self.clock()
        if close:
            with session.lock:
                self._discard(session)

    def answer_once(self, session_id: str, request_id: int, answer: Callable[[], str]) -> str:
        """``answer()`` for a new request id; the kept reply for a repeat of the last one.

        Raises `ConfigError` for an id older than the last: a stale duplicate, never run.
        """
        session = self._get(session_id)
        with session.reply_lock:
            if request_id == session.last_request:
                return session.last_reply
            if request_id < session.last_request:
                raise ConfigError(
                    f"request id {request_id} is older than the last one session {session_id!r} "
                    f"served ({session.last_request}); it was not run"
                )
            reply = answer()
            session.last_request, session.last_reply = request_id, reply
            return reply

    def expire(self) -> int:
        """Close sessions idle past the TTL or cut off past the grace period; returns how many."""
        now = self.clock()

        def stale(session: Session) -> bool:
            if session.last_used < now - self.ttl_s:
                return True
            return session.dropped_at is not None and session.dropped_at < now - self.grace_s

        with self._lock:
            candidates = [s for s in self._sessions.values() if stale(s)]
        closed = 0
        for session in candidates:
            if session.lock.acquire(blocking=False):  # busy sessions are not idle
                try:
                    with self._lock:
                        still = stale(session)  # used or resumed since
                    if still:
                        self._discard(session)
                        closed += 1
                finally:
                    session.lock.release()
        if closed:
            logger.info("reaped %d idle or disconnected session(s)", closed)
        return closed

    def close_all(self) -> None:
        """Close every session (server shutdown)."""
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            with session.lock:
                self._discard(session)

    # ------------------------------------------------------------------------------ env calls
    def reset(
        self, session_id: str, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """``env.reset(seed=seed, options=options)``."""
        session = self._locked(session_id)
        try:
            return session.env.reset(seed=seed, options=options)
        finally:
            session.lock.release()

    def step(self, session_id: str, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """``env.step(action)``."""
        session = self._locked(session_id)
        try:
            return session.env.step(action)
        finally:
            session.lock.release()

    def render(self, session_id: str) -> str:
        """``env.render()``: the transcript so far."""
        session = self._locked(session_id)
        try:
            return str(session.env.render())
        finally:
            session.lock.release()

    def fork(self, session_id: str) -> SessionInfo:
        """A new session holding ``env.fork()``: the identical state, evolving independently."""
        self._reserve()
        try:
            session = self._locked(session_id)
            try:
                clone = session.env.fork()
            finally:
                session.lock.release()
        except BaseException:
            with self._lock:
                self._pending -= 1
            raise
        return self._add(session.env_id, clone)

    def oracle_actions(self, session_id: str) -> list[str]:
        """The gold actions for the session's task; only on a privileged server."""
        if not self.privileged:
            raise ForbiddenError(
                "this server does not give out ground truth; start it with privileged=True "
                "(palaestra serve --privileged) for tests and oracle agents"
            )
        session = self._locked(session_id)
        try:
            return list(session.env.unwrapped.oracle_actions())
        finally:
            session.lock.release()

    # ----------------------------------------------------------------------- WebSocket messages
    def handle_message(self, session_id: str, text: str | bytes) -> str:
        """Serve one WebSocket message (`palaestra.server.protocol`); never raises."""
        return handle_message(self, session_id, text)
