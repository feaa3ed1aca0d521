"""Isolated, stateful code execution: one protocol, a local (bubblewrap) and a Docker backend.

from palaestra.sandbox import LocalSandbox

with LocalSandbox() as sandbox:
    sandbox.run("x = 21")
    print(sandbox.run("x * 2").value)   # '42'
"""

from __future__ import annotations

from typing import Any

from palaestra.sandbox.base import Capabilities, CodeError, ExecResult, Sandbox, SandboxConfig
from palaestra.sandbox.local import LocalSandbox, find_bwrap

__all__ = [
    "Capabilities",
    "CodeError",
    "DockerSandbox",
    "ExecResult",
    "LocalSandbox",
    "Sandbox",
    "SandboxConfig",
    "find_bwrap",
    "make_sandbox",
]


def make_sandbox(kind: str = "local", config: SandboxConfig | None = None) -> Sandbox:
    """A sandbox of the named kind: ``"local"`` (bubblewrap) or ``"docker"``."""
    if kind == "local":
        return LocalSandbox(config)
    if kind == "docker":
        from palaestra.sandbox.docker import DockerSandbox

        return DockerSandbox(config)
    from palaestra.errors import ConfigError

    raise ConfigError(f"sandbox must be 'local' or 'docker', got {kind!r}")


def __getattr__(name: str) -> Any:
    if name == "DockerSandbox":
        from palaestra.sandbox.docker import DockerSandbox

        return DockerSandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
