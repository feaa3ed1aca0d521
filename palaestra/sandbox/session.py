"""The session protocol over a channel, once for every backend.

A backend starts a container (a bubblewrap instance, a Docker container) in which `worker.py`
answers on a channel socket. The protocol on that channel is the same everywhere, so it lives
here: ``run`` with its timeout, interrupt and restart; ``exec``; file transfer; ``fork``;
``reset`` and ``close``. A backend supplies its `Container` (how it starts, how it is destroyed)
and four hooks: how a fork's channel reaches the host, how to interrupt a session, how to kill
one session's processes while other sessions keep the container, and whether the memory limit
killed something. ``reset`` takes a spare container that `pool.SparePool` started in the
background (``SandboxConfig.pool_size``).
"""

from __future__ import annotations

import contextlib
import copy
import select
import socket
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from palaestra.errors import SandboxError
from palaestra.sandbox.base import CodeError, ExecResult, Sandbox, SandboxConfig
from palaestra.sandbox.pool import SparePool
from palaestra.sandbox.wire import ChannelClosed, recv_frame, send_frame

__all__ = ["ENVIRONMENT", "ChannelSandbox", "Container", "wait_readable"]

ENVIRONMENT = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "USER": "sandbox",
    "LOGNAME": "sandbox",
    "PYTHONDONTWRITEBYTECODE": "1",
    "MPLBACKEND": "Agg",
}
"""The code's whole environment (``HOME`` aside): nothing comes from the host."""

_S = TypeVar("_S", bound="ChannelSandbox")


class Container(ABC):
    """One isolated place that a sandbox and the forks made from it share."""

    workdir_root: str
    """The directory holding the sessions' working directories, as the code sees it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sessions: dict[int, int] = {}
        """The live sessions: each one's number, and the pid through which the host ends it."""
        self._next_session = 1

    @abstractmethod
    def start(self) -> tuple[socket.socket, int]:
        """Start the container and its first session (number 0): its channel and pid."""

    @abstractmethod
    def destroy(self) -> None:
        """Kill everything in the container and release what it held."""

    def alive(self) -> bool:
        """Whether the container still runs (its keeper, which no session can signal, lives)."""
        return True

    @property
    def members(self) -> int:
        """How many sessions use the container."""
        return len(self.sessions)

    def next_session(self) -> int:
        """A session number not used before in this container."""
        with self.lock:
            session = self._next_session
            self._next_session += 1
            return session

    def join(self, session: int, pid: int) -> None:
        """Count a new session in."""
        with self.lock:
            self.sessions[session] = pid

    def others(self, session: int) -> list[int]:
        """The pids of the live sessions other than this one (ending it must spare them)."""
        with self.lock:
            return [pid for number, pid in self.sessions.items() if number != session]

    def stop(self) -> None:  # noqa: B027 - a backend whose destroy is quick has nothing to add
        """Kill the container's processes at once; ``destroy`` (which may wait) comes after."""

    def release(self, session: int, retire: Callable[[Container], None] | None = None) -> bool:
        """One session fewer; the last one destroys the container (True when it did).

        Args:
            session: The session that ends.
            retire: Destroys the container in the background instead (after `stop`), so that
                the caller need not wait until every process of it is gone.
        """
        with self.lock:
            self.sessions.pop(session, None)
            last = not self.sessions
        if last and retire is not None:
            self.stop()
            retire(self)
        elif last:
            self.destroy()
        return last


class ChannelSandbox(Sandbox):
    """A sandbox whose session is a worker answering on a channel; see the module docstring."""

    _container: Container

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self._lock = threading.RLock()
        self._closed = False
        self._pool: SparePool | None = None
        self._start_fresh()

    # ------------------------------------------------------------------- what a backend adds
    @abstractmethod
    def _new_container(self) -> Container:
        """A container of this backend, not started yet."""

    @abstractmethod
    def _fork_channel(self, deadline: float) -> tuple[socket.socket, int]:
        """The channel and pid of the session a fork request just made, before ``deadline``."""

    @abstractmethod
    def _interrupt(self) -> None:
        """Send SIGINT to the session."""

    @abstractmethod
    def _kill_session(self) -> None:
        """Kill the session and every process below it, sparing the container's other sessions.

        The session must still be alive: it is its descendants' subreaper, so the tree holds
        its daemons and double forks only while it lives (they would pass to its parent session
        once it exited).
        """

    @abstractmethod
    def _out_of_memory(self) -> bool:
        """Whether the memory limit has killed something in the container."""

    # ----------------------------------------------------------------------------- the protocol
    def run(self, code: str, timeout: float | None = None) -> ExecResult:
        """Execute Python code; on timeout the code is interrupted, and killed if it won't stop."""
        limit = self.config.timeout_s if timeout is None else timeout
        with self._lock:
            self._check_open()
            try:
                send_frame(self._channel, {"op": "run", "code": code})
                reply = self._reply(time.monotonic() + limit)
                timed_out = False
            except TimeoutError:
                self._interrupt()
                try:
                    reply = self._reply(time.monotonic() + self.config.interrupt_grace_s)
                    timed_out = True
                except (TimeoutError, ChannelClosed):
                    self._restart()
                    return ExecResult(
                        error=CodeError(
                            type="Timeout",
                            message=f"the code ran past its {limit:g} s limit and did not stop "
                            "when interrupted; the session was restarted and its state is lost",
                        ),
                        duration_s=limit,
                        timed_out=True,
                        state_lost=True,
                    )
            except (ChannelClosed, ConnectionError):  # it died during the call, or before
                return self._died()
        result = _result(reply)
        if timed_out:
            result.timed_out = True
            result.error = CodeError(
                type="Timeout",
                message=f"the code ran past its {limit:g} s limit and was interrupted; "
                "the session kept its state",
                traceback=result.error.traceback if result.error else "",
            )
        return result

    def exec(self, command: str, timeout: float | None = None) -> ExecResult:
        """Run a shell command in the working directory (its process group is killed on timeout)."""
        limit = self.config.timeout_s if timeout is None else timeout
        with self._lock:
            self._check_open()
            try:
                send_frame(self._channel, {"op": "exec", "cmd": command, "timeout": limit})
                reply = self._reply(time.monotonic() + limit + self.config.interrupt_grace_s + 5)
            except TimeoutError:
                self._restart()
                return ExecResult(
                    error=CodeError(
                        type="Timeout", message="the session stopped answering and was restarted"
                    ),
                    timed_out=True,
                    state_lost=True,
                )
            except (ChannelClosed, ConnectionError):  # it died during the call, or before
                return self._died()
        result = _result(reply)
        if result.timed_out:
            result.error = CodeError(
                type="Timeout", message=f"the command ran past its {limit:g} s limit and was killed"
            )
        elif result.exit_code not in (0, None):
            result.error = CodeError(
                type="ExitStatus", message=f"the command exited with status {result.exit_code}"
            )
        return result

    def upload(self, source: bytes | str | Path, destination: str) -> None:
        """Write bytes, or a host file's contents, to a sandbox path (links never followed)."""
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        limit = self.config.max_transfer_mb * 1024 * 1024
        if len(data) > limit:
            raise SandboxError(
                f"upload of {len(data):,} bytes exceeds the {limit:,}-byte transfer limit"
            )
        with self._lock:
            self._check_open()
            send_frame(self._channel, {"op": "upload", "path": destination}, data)
            self._expect_ok(self._reply(time.monotonic() + 60), f"upload to {destination!r}")

    def download(self, source: str) -> bytes:
        """Read a regular file from the sandbox; symbolic links are refused, never followed."""
        with self._lock:
            self._check_open()
            send_frame(self._channel, {"op": "download", "path": source})
            reply, data = self._reply_with_blob(time.monotonic() + 60)
            self._expect_ok(reply, f"download of {source!r}")
            return data

    def fork(self: _S) -> _S:
        """An independent session in the same container, with the same variables and files."""
        with self._lock:
            self._check_open()
            deadline = time.monotonic() + 60
            session = self._container.next_session()
            send_frame(self._channel, {"op": "fork", "session": session})
            try:
                channel, pid = self._fork_channel(deadline)
            except (TimeoutError, ChannelClosed, ValueError) as exc:
                raise SandboxError(f"fork failed: {exc!r}") from exc
            child = copy.copy(self)  # the backend's settings (config, image, client) are shared
            child._lock = threading.RLock()
            child._pool = None  # spares are handed out once: a fork fills its own when reset
            child._bind(self._container, channel, pid, session)
            return child

    def reset(self) -> None:
        """A fresh session in a fresh container: no variables, no files, no processes.

        The container is a spare started in the background when ``config.pool_size`` allows it;
        the first reset starts the pool (and waits for its first spare).
        """
        with self._lock:
            self._check_open()
            if self._pool is None and self.config.pool_size > 0:
                make = weakref.WeakMethod(self._new_container)
                self._pool = SparePool(make, self.config.pool_size)
            self._end_session()
            self._start_fresh()

    def close(self) -> None:
        """Kill the session's processes; the container goes when its last session does."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._end_session()
            finally:
                if self._pool is not None:
                    self._pool.close()
                    self._pool = None

    # ----------------------------------------------------------------------------- internals
    def _start_fresh(self) -> None:
        spare = self._pool.take() if self._pool is not None else None
        if spare is not None:
            self._bind(spare.container, spare.channel, spare.pid, 0)
            return
        container = self._new_container()
        channel, pid = container.start()
        self._bind(container, channel, pid, 0)

    def _bind(self, container: Container, channel: socket.socket, pid: int, session: int) -> None:
        container.join(session, pid)
        self._container, self._channel, self._pid, self._session = container, channel, pid, session
        self.workdir = f"{container.workdir_root}/{session}"

    def _check_open(self) -> None:
        if self._closed:
            raise SandboxError("the sandbox is closed")

    def _reply(self, deadline: float) -> dict[str, Any]:
        return self._reply_with_blob(deadline)[0]

    def _reply_with_blob(self, deadline: float) -> tuple[dict[str, Any], bytes]:
        wait_readable(self._channel, deadline)
        return recv_frame(self._channel, self.config.max_transfer_mb * 1024 * 1024 + 1024)

    @staticmethod
    def _expect_ok(reply: dict[str, Any], what: str) -> None:
        if not reply.get("ok"):
            raise SandboxError(f"{what} failed: {reply.get('error', 'no reason given')}")

    def _died(self) -> ExecResult:
        """The session process died (killed for memory, or the code ended it): start over.

        When the whole container died with it, something outside the sandbox killed it (no
        session can signal the keeper): that is an infrastructure failure, raised as
        `SandboxError` (on every call until ``reset()``), not a result of the code.
        """
        if not self._container.alive():
            raise SandboxError(
                "the sandbox's container died (killed from outside the sandbox, not by the "
                "code); the session's state is gone: reset() starts a fresh one"
            )
        out_of_memory = self._out_of_memory()
        self._restart()
        reason = (
            f"it ran out of memory: the limit is {self.config.memory_mb} MiB"
            if out_of_memory
            else "its process exited"
        )
        return ExecResult(
            error=CodeError(
                type="SessionDied",
                message=f"the session ended ({reason}); it was restarted and its state is lost",
            ),
            state_lost=True,
        )

    def _restart(self) -> None:
        self._end_session()
        self._start_fresh()

    def _end_session(self) -> None:
        if self._container.members > 1:
            # Other sessions keep the container (and its file systems): the session removes its
            # files and leaves its children to the kernel to reap, so that nothing it held stays
            # behind, not even a zombie; then its processes are killed.
            with contextlib.suppress(OSError, TimeoutError, ChannelClosed, ValueError):
                send_frame(self._channel, {"op": "end"})
                self._reply(time.monotonic() + 1.0)
            self._kill_session()
        with contextlib.suppress(OSError):
            self._channel.close()
        retire = self._pool.retire if self._pool is not None else None
        self._container.release(self._session, retire)  # the last one destroys the container

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            if not self._closed:
                self.close()


def wait_readable(channel: socket.socket, deadline: float) -> None:
    """Wait until the channel has something to read; TimeoutError at the deadline."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    ready, _, _ = select.select([channel], [], [], remaining)
    if not ready:
        raise TimeoutError


def _result(reply: dict[str, Any]) -> ExecResult:
    if not reply.get("ok"):
        return ExecResult(error=CodeError(type="SandboxError", message=str(reply.get("error"))))
    error = reply.get("error")
    return ExecResult(
        stdout=str(reply.get("stdout", "")),
        stderr=str(reply.get("stderr", "")),
        value=reply.get("value") if isinstance(reply.get("value"), str) else None,
        error=CodeError.model_validate(error) if isinstance(error, dict) else None,
        exit_code=reply.get("exit_code") if isinstance(reply.get("exit_code"), int) else None,
        duration_s=float(reply.get("duration_s", 0.0)),
        timed_out=bool(reply.get("timed_out", False)),
        truncated=bool(reply.get("truncated", False)),
    )
