"""Env servers for the server tests: in a thread (`BackgroundServer`) or in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from palaestra.server.runner import BackgroundServer  # noqa: E402


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


def _child_processes() -> list[int]:
    """Live processes whose parent is this test process."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == me and fields[0] != "Z":
                found.append(int(entry))
    return found


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
    before = set(_child_processes())
    return lambda: [pid for pid in _child_processes() if pid not in before]
