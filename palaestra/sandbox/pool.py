"""Spare containers, started in the background so that ``reset`` need not wait for one.

Starting a container (a bubblewrap instance and its Python worker) takes tens of milliseconds,
most of an episode of a code env. A sandbox's `SparePool` keeps ``SandboxConfig.pool_size``
containers started and idle; ``reset`` kills the episode's container and swaps a spare in, and
background threads destroy the old one (wait until its processes are gone, remove its cgroup)
and start the next spare while the new episode runs. There is one thread per spare, so that
several starts overlap: a start spends much of its time waiting (on bubblewrap's set-up, on the
worker's imports), and short episodes back to back take spares faster than one start a time
makes them.

A spare has run nothing but its worker's start-up: it is handed out exactly once, to one sandbox,
before any request has reached it, so no code, file or process of anyone's can be in it. The pool
fills on the sandbox's first ``reset`` (a sandbox that is never reset, such as one that grades an
answer, never starts spares) and is emptied by ``close``. It holds its sandbox only weakly, so a
sandbox dropped without ``close`` still takes its spares with it; spares still held when the
interpreter exits are destroyed then.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import select
import socket
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from palaestra.sandbox.session import Container

__all__ = ["Spare", "SparePool"]

_TAKE_TIMEOUT = 60.0
"""How long ``take`` waits for the spare being started (its own start-up has a 20 s limit)."""

_LIVE: weakref.WeakSet[SparePool] = weakref.WeakSet()


class Spare(NamedTuple):
    """A started container that nobody has used: its first session's channel and pid."""

    container: Container
    channel: socket.socket
    pid: int

    def discard(self) -> None:
        """Kill the container and release what it held."""
        with contextlib.suppress(OSError):
            self.channel.close()
        self.container.destroy()

    def idle(self) -> bool:
        """True while the session waits for its first request (it has not died in the pool)."""
        try:
            readable, _, _ = select.select([self.channel], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable  # an idle session says nothing until asked; EOF means it died


class SparePool:
    """Up to ``size`` started containers from ``make``, refilled by ``size`` background threads.

    Args:
        make: Builds a container, not started yet; held weakly (a `weakref.WeakMethod` of the
            sandbox's ``_new_container``), so that the pool never keeps its sandbox alive.
        size: How many spares to keep started.
    """

    def __init__(self, make: weakref.WeakMethod[Callable[[], Container]], size: int) -> None:
        self._make = make
        self._size = size
        self._spares: deque[Spare] = deque()
        self._retired: deque[Container] = deque()
        self._changed = threading.Condition()
        self._closed = False
        self._failed = False
        self._starting = 0
        self._owner = os.getpid()
        self._threads = [
            threading.Thread(target=self._fill, name="palaestra-sandbox-spares", daemon=True)
            for _ in range(size)
        ]
        _LIVE.add(self)
        for thread in self._threads:
            thread.start()

    @property
    def ready(self) -> int:
        """How many spares are started and waiting."""
        with self._changed:
            return len(self._spares)

    def take(self) -> Spare | None:
        """A spare, once the one being started is up; None when none can be had.

        None means the caller starts its container itself: the background start failed (the
        caller's own start then raises the error where it can be handled), the pool is closed,
        or this process is a fork of the one that owns the spares.
        """
        if os.getpid() != self._owner:
            return None
        deadline = time.monotonic() + _TAKE_TIMEOUT
        with self._changed:
            while not self._spares and not self._failed and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            self._failed = False  # the next refill tries again
            spare = self._spares.popleft() if self._spares else None
            self._changed.notify_all()
        if spare is not None and not spare.idle():
            spare.discard()
            return None
        return spare

    def retire(self, container: Container) -> None:
        """Destroy a stopped container in the background (``close`` waits for it)."""
        with self._changed:
            if not self._closed and os.getpid() == self._owner:  # a fork has no refill threads
                self._retired.append(container)
                self._changed.notify_all()
                return
        container.destroy()

    def close(self) -> None:
        """Destroy every spare and retired container, and the one being started; idempotent.

        Returns once all their processes are gone.
        """
        if os.getpid() != self._owner:
            return  # a forked process: the containers are its parent's to destroy
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join()  # each finishes what it was doing: a destroy, or a start
        with self._changed:
            spares, retired = list(self._spares), list(self._retired)
            self._spares.clear()
            self._retired.clear()
        for container in retired:
            container.destroy()
        for spare in spares:
            spare.discard()
        _LIVE.discard(self)

    def _fill(self) -> None:
        while True:
            with self._changed:
                while not self._closed and not self._retired and self._full():
                    self._changed.wait()
                if self._closed:
                    return
                # Destroying first frees the old container's uid, cgroup and memory.
                retired = self._retired.popleft() if self._retired else None
                if retired is None:
                    self._starting += 1
            if retired is not None:
                retired.destroy()
                continue
            spare = self._start_one()
            with self._changed:
                self._starting -= 1
                if spare is None:
                    self._failed = True
                elif not self._closed:
                    self._spares.append(spare)
                self._changed.notify_all()
                if spare is None or not self._closed:
                    continue
            spare.discard()
            return

    def _full(self) -> bool:
        return self._failed or len(self._spares) + self._starting >= self._size

    def _start_one(self) -> Spare | None:
        # A function of its own, so that the sandbox (behind ``make``) is held only meanwhile.
        make = self._make()
        if make is None:
            return None
        try:
            container = make()
            channel, pid = container.start()
        except Exception:  # noqa: BLE001 - the caller's own start reports the error
            return None
        return Spare(container, channel, pid)


@atexit.register
def _close_all() -> None:
    for pool in list(_LIVE):
        pool.close()
