"""Sandbox fixtures: every available backend, with small limits so that attacks end quickly."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest

from palaestra.errors import SandboxError
from palaestra.sandbox import Sandbox, SandboxConfig, make_sandbox
from palaestra.sandbox.local import _descendants as local_descendants

SMALL = SandboxConfig(memory_mb=256, max_processes=32, disk_mb=64, max_file_mb=32, timeout_s=10)
_ENFORCED: dict[str, list[str]] = {}


def _docker_available() -> str:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env().ping()
    except Exception as exc:  # noqa: BLE001 - any failure means no daemon here
        return f"no Docker daemon: {type(exc).__name__}"
    return ""


@pytest.fixture(params=["local", "docker"])
def backend(request) -> str:
    if request.param == "docker":
        reason = _docker_available()
        if reason:
            pytest.skip(reason)
    return request.param


@pytest.fixture
def make(backend):
    """Build sandboxes of the backend under test; all are closed at teardown."""
    made: list[Sandbox] = []

    def build(config: SandboxConfig = SMALL) -> Sandbox:
        try:
            sandbox = make_sandbox(backend, config)
        except SandboxError as exc:
            pytest.fail(f"the {backend} sandbox must start on this machine: {exc}")
        made.append(sandbox)
        _ENFORCED.setdefault(backend, sandbox.capabilities().enforced())
        return sandbox

    yield build
    for sandbox in made:
        sandbox.close()


@pytest.fixture
def sandbox(make) -> Sandbox:
    return make()


def _descendants() -> set[int]:
    """Every live process below this one, found as the sandbox's own kill does."""
    return set(local_descendants(os.getpid(), set()))


def _eventually(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Whether the condition comes true within a generous time (a loaded machine is slow)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def descendants() -> Callable[[], set[int]]:
    """``descendants()``: every live process below this one (sandboxes and all inside them)."""
    return _descendants


@pytest.fixture
def eventually() -> Callable[..., bool]:
    """``eventually(condition, timeout=30)``: whether it comes true within a generous time."""
    return _eventually


def pytest_terminal_summary(terminalreporter) -> None:
    for backend, enforced in _ENFORCED.items():
        terminalreporter.write_line(f"sandbox backend {backend!r} enforced: {', '.join(enforced)}")
