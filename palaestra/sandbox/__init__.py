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
    "close_quietly",
    "env_sandbox_settings",
    "find_bwrap",
    "make_sandbox",
]

SANDBOX_KINDS = ("local", "docker")


def make_sandbox(kind: str = "local", config: SandboxConfig | None = None) -> Sandbox:
    """A sandbox of the named kind: ``"local"`` (bubblewrap) or ``"docker"``."""
    if kind == "local":
        return LocalSandbox(config)
    if kind == "docker":
        from palaestra.sandbox.docker import DockerSandbox

        return DockerSandbox(config)
    from palaestra.errors import ConfigError

    raise ConfigError(f"sandbox must be 'local' or 'docker', got {kind!r}")


def env_sandbox_settings(
    kind: str, config: SandboxConfig | dict[str, Any] | None, timeout_s: float
) -> SandboxConfig:
    """Check a code env's sandbox arguments; the config with ``timeout_s`` as its run limit.

    Raises:
        ConfigError: An unknown kind, a bad config field or a timeout that is not positive.
    """
    import dataclasses

    from palaestra.errors import ConfigError

    if kind not in SANDBOX_KINDS:
        raise ConfigError(f"sandbox must be 'local' or 'docker', got {kind!r}")
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or timeout_s <= 0:
        raise ConfigError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
    if isinstance(config, dict):
        try:
            config = SandboxConfig(**config)
        except TypeError as exc:
            raise ConfigError(f"bad sandbox_config: {exc}") from exc
    return dataclasses.replace(config or SandboxConfig(), timeout_s=float(timeout_s))


def close_quietly(sandbox: Sandbox | None) -> None:
    """Close a sandbox that may already be broken: its failure to close is no news."""
    from palaestra.errors import SandboxError

    if sandbox is None:
        return
    try:
        sandbox.close()
    except SandboxError:
        pass


def __getattr__(name: str) -> Any:
    if name == "DockerSandbox":
        from palaestra.sandbox.docker import DockerSandbox

        return DockerSandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
