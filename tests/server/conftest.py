"""Env servers for the server tests: in a thread (`BackgroundServer`) or in a subprocess."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from palaestra.server.runner import BackgroundServer, child_pids  # noqa: E402


@pytest.fixture(scope="module")
def server():
    """A default (unprivileged) server on a free loopback port, shared by a test module."""
    with BackgroundServer() as running:
        yield running


@pytest.fixture(scope="module")
def privileged_server():
    """A server that gives out oracle actions, for tests that need the ground truth."""
    with BackgroundServer(privileged=True) as running:
        yield running


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _server_process(*args: str, timeout: float = 30.0):
    """``palaestra serve`` in a subprocess on a free port; yields (process, base_url)."""
    port = _free_port()
    command = [sys.executable, "-m", "palaestra.cli", "serve", "--port", str(port), *args]
    command += ["--log-level", "warning"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the server exited: {process.stderr.read()}")
            try:
                if httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the server did not start")
            time.sleep(0.05)
        yield process, base_url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        process.stderr.close()


@pytest.fixture
def free_port():
    """``free_port()``: a loopback port nothing listens on (at the time of asking)."""
    return _free_port


@pytest.fixture
def server_process():
    """``with server_process(*serve_args) as (process, base_url)``: a server subprocess."""
    return _server_process


@pytest.fixture
def child_processes():
    """``child_processes()``: live child processes of this test process started during the test
    (children that earlier tests left on purpose, such as a verifier's helper, do not count)."""
    before = set(child_pids())
    return lambda: [pid for pid in child_pids() if pid not in before]


class FaultProxy:
    """A TCP proxy on 127.0.0.1 in front of ``target`` that can cut its connections for real.

    ``base_url`` is where clients connect; `cut` resets every connection it carries (both sides
    see the socket die, with no WebSocket close frame), as a network fault would; `freeze` keeps
    them open but lets nothing through (a half-open link: a peer that vanished without a word).
    New connections are carried as before.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.accepted = 0
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.frozen = threading.Event()
        self._start(self._accept)

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(self._target)
            with self._lock:
                self._pairs.append((client, upstream))
                self.accepted += 1
            self._start(self._pump, client, upstream)
            self._start(self._pump, upstream, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if not self.frozen.is_set():
                    sink.sendall(data)
        except OSError:
            pass
        for side in (source, sink):  # one side ended: end the other, as a dead link would
            try:
                side.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        """Reset every carried connection (RST, no close frame on either side)."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for side in pair:
                try:  # linger 0: close sends a RST, like a dropped link or a killed peer
                    side.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    side.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                side.close()

    def freeze(self) -> None:
        """From now on, drop every byte in both directions and keep the connections open."""
        self.frozen.set()

    def close(self) -> None:
        """Stop accepting, cut everything and wait for the proxy's threads."""
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self._listener.close()
        self.cut()
        for thread in self._threads:
            thread.join(30)


@pytest.fixture
def fault_proxy():
    """``fault_proxy(server)``: a `FaultProxy` in front of a server, closed after the test."""
    made: list[FaultProxy] = []

    def start(server) -> FaultProxy:
        made.append(FaultProxy(server.host, server.port))
        return made[-1]

    yield start
    for proxy in made:
        proxy.close()


class FakeClock:
    """A monotonic clock that moves only when told (``advance``): TTLs without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    """A `FakeClock` to pass to ``SessionManager(clock=...)``."""
    return FakeClock()


def _wait_until(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(0.02)


@pytest.fixture
def wait_until():
    """``wait_until(condition, what, timeout=60)``: poll; the bound only says "never hangs"."""
    return _wait_until
