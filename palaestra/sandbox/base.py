"""The sandbox protocol every backend keeps, its configuration and its results.

A sandbox is a persistent Python session in an isolated place: variables, imports and files
survive between ``run`` calls; ``fork`` branches it; ``capabilities`` says which protections are
really enforced on this machine, so nobody has to take isolation on trust.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from palaestra.errors import ConfigError

__all__ = ["Capabilities", "CodeError", "ExecResult", "Sandbox", "SandboxConfig"]


@dataclass(frozen=True)
class SandboxConfig:
    """Limits and options of a sandbox. Sizes are in mebibytes, times in seconds."""

    # Resources
    memory_mb: int = 1024
    """Memory for everything in the sandbox, files in /tmp and the working directory included."""
    max_processes: int = 64
    """Processes and threads the sandbox may hold at once (a fork bomb stops here)."""
    cpu_seconds: int = 3600
    """CPU time each process may use over its whole life."""
    disk_mb: int = 512
    """Size of the working directory and of /tmp (each is a private in-memory file system)."""
    max_file_mb: int = 256
    """Largest file a process may write."""
    open_files: int = 256
    """Open file descriptors per process."""

    # Time and output
    timeout_s: float = 30.0
    """Default wall-clock limit of one ``run`` or ``exec``."""
    interrupt_grace_s: float = 2.0
    """How long an interrupted run has to stop before its session is killed and restarted."""
    output_limit: int = 32_768
    """Bytes of stdout (and of stderr) kept per call: the head and the tail, the middle cut."""
    max_transfer_mb: int = 64
    """Largest file ``upload`` or ``download`` moves."""

    # Reuse
    pool_size: int = 3
    """Fresh containers kept started in the background, so that ``reset`` swaps one in instead of
    waiting for a start (each is handed out once, before it has run anything); 0 disables. The
    spares start at the sandbox's first ``reset`` and end with its ``close``; each holds about
    10 MiB. Three keep up with short episodes back to back on two busy cores (their starts
    overlap); one is enough when episodes are longer than a start (about 50 ms)."""

    # Isolation
    isolation: Literal["full", "none"] = "full"
    """``"none"`` runs code unisolated (a loud warning, for debugging only)."""
    python: str = field(default_factory=lambda: sys.executable)
    """The interpreter the session runs; its installation is mounted read-only."""
    read_only_paths: tuple[str, ...] = ()
    """Extra host paths the code may read (datasets, models), mounted at the same place."""

    def __post_init__(self) -> None:
        for name in (
            "memory_mb",
            "max_processes",
            "cpu_seconds",
            "disk_mb",
            "max_file_mb",
            "open_files",
            "output_limit",
            "max_transfer_mb",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"SandboxConfig.{name} must be a positive integer, got {value!r}")
        if isinstance(self.pool_size, bool) or not isinstance(self.pool_size, int):
            raise ConfigError(
                f"SandboxConfig.pool_size must be an integer (0 disables), got {self.pool_size!r}"
            )
        if not 0 <= self.pool_size <= 8:
            raise ConfigError(
                f"SandboxConfig.pool_size must be between 0 (no spares) and 8, got {self.pool_size}"
            )
        for name in ("timeout_s", "interrupt_grace_s"):
            if getattr(self, name) <= 0:
                raise ConfigError(
                    f"SandboxConfig.{name} must be positive, got {getattr(self, name)!r}"
                )
        if self.isolation not in ("full", "none"):
            raise ConfigError(f"isolation must be 'full' or 'none', got {self.isolation!r}")
        if self.max_processes < 8:
            raise ConfigError(
                "max_processes must be at least 8 (the session itself needs a few), "
                f"got {self.max_processes}"
            )
        for path in self.read_only_paths:
            if not Path(path).is_absolute() or not Path(path).exists():
                raise ConfigError(
                    f"read_only_paths entries must be existing absolute paths, got {path!r}"
                )


class CodeError(BaseModel):
    """An exception the code raised (or a shell command's failure)."""

    model_config = ConfigDict(extra="forbid")

    type: str
    message: str
    traceback: str = ""


class ExecResult(BaseModel):
    """The outcome of one ``run`` or ``exec``."""

    model_config = ConfigDict(extra="forbid")

    stdout: str = ""
    stderr: str = ""
    value: str | None = None
    """``repr`` of the code's last expression, as a notebook shows it (``run`` only)."""
    error: CodeError | None = None
    exit_code: int | None = None
    """The shell command's exit status (``exec`` only)."""
    duration_s: float = 0.0
    timed_out: bool = False
    truncated: bool = False
    """Output was longer than the limit; head and tail are kept, a marker says how much was cut."""
    state_lost: bool = False
    """The session did not stop when interrupted and was restarted: variables and files are gone."""

    @property
    def ok(self) -> bool:
        """No exception, no timeout, and (for commands) exit status 0."""
        return self.error is None and not self.timed_out and self.exit_code in (None, 0)

    def as_text(self, *, timing: bool = True) -> str:
        """The run as an agent reads it: streams, value, error, and notes on limits.

        Args:
            timing: Add the duration, in whole seconds and only for runs of a second or more,
                so that observations stay reproducible (exact timings belong in info).
        """
        parts = []
        if self.stdout:
            parts.append(self.stdout.rstrip("\n"))
        if self.stderr:
            parts.append(f"[stderr]\n{self.stderr.rstrip()}")
        if self.value is not None:
            parts.append(f"[value] {self.value}")
        error = self.error
        if error is not None:
            if error.traceback and not self.state_lost:
                parts.append(error.traceback.rstrip())
            if self.timed_out or self.state_lost:
                parts.append(f"[note] {error.message}")
            elif not error.traceback:
                parts.append(f"{error.type}: {error.message}")
        if self.truncated:
            parts.append("[note] the output was too long: its middle was cut")
        if not parts:
            parts.append("[no output]")
        if timing and self.duration_s >= 1.0:
            parts.append(f"[ran for about {round(self.duration_s)} s]")
        return "\n".join(parts)


class Capabilities(BaseModel):
    """Which protections a sandbox really enforces here; ``details`` says how, or why not."""

    model_config = ConfigDict(extra="forbid")

    backend: str
    network: bool
    filesystem: bool
    pid: bool
    memory: bool
    processes: bool
    syscalls: bool
    user: bool
    details: dict[str, str]

    def enforced(self) -> list[str]:
        """The names of the protections in force."""
        names = ("network", "filesystem", "pid", "memory", "processes", "syscalls", "user")
        return [name for name in names if getattr(self, name)]


class Sandbox(ABC):
    """A persistent, isolated Python session. Use it as a context manager, or call `close`."""

    config: SandboxConfig

    @abstractmethod
    def run(self, code: str, timeout: float | None = None) -> ExecResult:
        """Execute Python code in the session; the last expression's value comes back."""

    @abstractmethod
    def exec(self, command: str, timeout: float | None = None) -> ExecResult:
        """Run a shell command in the session's working directory."""

    @abstractmethod
    def upload(self, source: bytes | str | Path, destination: str) -> None:
        """Write bytes (or a host file's contents) to a path in the sandbox."""

    @abstractmethod
    def download(self, source: str) -> bytes:
        """Read a regular file from the sandbox; symbolic links are never followed."""

    @abstractmethod
    def fork(self) -> Sandbox:
        """An independent sandbox in the same state: same variables, same files."""

    @abstractmethod
    def reset(self) -> None:
        """Start over: a fresh session with no variables and no files."""

    @abstractmethod
    def close(self) -> None:
        """Kill every process of the session and release what it held."""

    @abstractmethod
    def capabilities(self) -> Capabilities:
        """The protections this sandbox enforces on this machine."""

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
