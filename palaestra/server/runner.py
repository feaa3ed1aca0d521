"""Running the env server: in the foreground (``palaestra serve``) or in a background thread.

`BackgroundServer` is what tests, benchmarks and notebooks use: a real uvicorn server on a free
loopback port, started and stopped by a ``with`` block::

    with BackgroundServer(env_ids=["ToolUse-v0"]) as server:
        env = gym.make("ToolUse-v0", remote=server.base_url)
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from palaestra.errors import EnvServerError
from palaestra.server.app import create_app

__all__ = ["PING_S", "BackgroundServer", "child_pids", "footprint", "serve", "uvicorn_config"]

WS_MAX_SIZE = 64 * 1024 * 1024
"""Largest WebSocket message accepted: far above any env's action limit, so that an oversized
action still reaches the env and comes back as the same error observation as locally."""


PING_S = 20.0
"""Seconds between keepalive pings on a WebSocket, and the wait for the pong: a connection whose
peer vanished (half-open) is cut after at most twice this, and its session waits the grace period
for a resume, then is reaped."""


def uvicorn_config(
    app: FastAPI, host: str, port: int, *, log_level: str = "warning", ping_s: float = PING_S
) -> Any:
    """The uvicorn settings the server runs with, tuned for the WebSocket hot path."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ws="websockets-sansio",
        ws_max_size=WS_MAX_SIZE,
        ws_per_message_deflate=False,  # compressing short JSON costs more than it saves
        ws_ping_interval=ping_s,
        ws_ping_timeout=ping_s,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
    )


def serve(
    app: FastAPI, host: str = "127.0.0.1", port: int = 8000, *, log_level: str = "info"
) -> None:
    """Run the server in the foreground until interrupted (SIGINT or SIGTERM)."""
    uvicorn.Server(uvicorn_config(app, host, port, log_level=log_level)).run()


def child_pids(pid: int | None = None) -> list[int]:
    """The live (not zombie) child processes of a process, this one by default (from /proc)."""
    pid = os.getpid() if pid is None else pid
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # it ended while we looked
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return found


def footprint(pid: int | None = None) -> dict[str, int]:
    """What a process (this one by default) holds: open file descriptors, threads, live children.

    Read from /proc (Linux), to show that sessions leave nothing behind: compare the counts before
    and after a run.
    """
    pid = os.getpid() if pid is None else pid
    return {
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": len(os.listdir(f"/proc/{pid}/task")),
        "children": len(child_pids(pid)),
    }


class BackgroundServer:
    """A server in a daemon thread on ``host`` and a free port; ``base_url`` says where.

    Args:
        app: the app to serve; by default ``create_app(**app_kwargs)``.
        host: the interface to listen on (loopback by default).
        port: the port; 0 picks a free one.
        ping_s: the WebSocket keepalive (`PING_S`); tests of half-open connections shorten it.
        **app_kwargs: passed to `create_app`.
    """

    def __init__(
        self,
        app: FastAPI | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ping_s: float = PING_S,
        **app_kwargs: Any,
    ) -> None:
        self.app = app or create_app(**app_kwargs)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        self.base_url = f"http://{self.host}:{self.port}"
        self._server = uvicorn.Server(uvicorn_config(self.app, self.host, self.port, ping_s=ping_s))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def manager(self) -> Any:
        """The app's `SessionManager`."""
        return self.app.state.manager

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        """Start serving; returns once the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise EnvServerError(f"the env server on {self.base_url} did not start")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Shut down (closing every session) and wait for the thread to end."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._socket.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
