"""Memory (and process) limits through cgroups, v2 unified or v1.

A sandbox gets one cgroup, ``palaestra/<name>``, joined by its first process before bubblewrap
starts, so that nothing it spawns escapes. On v1 only the memory hierarchy is used: moving a
process between v1 cgroups costs milliseconds per hierarchy, and the process limit already comes
from RLIMIT_NPROC on the sandbox's dedicated uid. Killing is the pid namespace's job (its first
process takes every other with it); the group only has to be empty before it is removed. Used only
when palaestra runs as root and the hierarchy is writable; otherwise `available()` is False.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

__all__ = ["Cgroup", "available"]

ROOT = Path("/sys/fs/cgroup")


def _is_v2() -> bool:
    return (ROOT / "cgroup.controllers").exists()


def available() -> bool:
    """True when palaestra can create cgroups with a memory limit here."""
    if os.geteuid() != 0:
        return False
    if _is_v2():
        controllers = (ROOT / "cgroup.controllers").read_text().split()
        return {"memory", "pids"} <= set(controllers) and os.access(ROOT, os.W_OK)
    return os.access(ROOT / "memory", os.W_OK)


class Cgroup:
    """One sandbox's cgroup."""

    def __init__(self, relative: str) -> None:
        self.relative = relative
        self.v2 = _is_v2()
        self.directory = ROOT / relative if self.v2 else ROOT / "memory" / relative

    @classmethod
    def create(cls, name: str, *, memory_bytes: int, max_pids: int) -> Cgroup:
        """A new cgroup under ``palaestra/`` with the given limits (pids only on v2)."""
        if _is_v2():
            parent = ROOT / "palaestra"
            if not parent.exists():
                parent.mkdir()
                (ROOT / "cgroup.subtree_control").write_text("+memory +pids")
                (parent / "cgroup.subtree_control").write_text("+memory +pids")
        group = cls(f"palaestra/{name}")
        group.directory.mkdir(parents=True, exist_ok=True)
        if group.v2:
            (group.directory / "memory.max").write_text(str(memory_bytes))
            with contextlib.suppress(FileNotFoundError):
                (group.directory / "memory.swap.max").write_text("0")
            (group.directory / "pids.max").write_text(str(max_pids))
        else:
            (group.directory / "memory.limit_in_bytes").write_text(str(memory_bytes))
            with contextlib.suppress(FileNotFoundError, PermissionError, OSError):
                (group.directory / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
        return group

    @property
    def procs_file(self) -> str:
        """The ``cgroup.procs`` file a process writes its pid to in order to join."""
        return str(self.directory / "cgroup.procs")

    def pids(self) -> set[int]:
        """Every process in the group."""
        try:
            return {int(line) for line in Path(self.procs_file).read_text().split()}
        except FileNotFoundError:
            return set()

    def empty(self, timeout: float = 10.0) -> bool:
        """Kill whatever is still in the group; True once it is empty."""
        deadline = time.monotonic() + timeout
        while pids := self.pids():
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)
        return True

    def oom_kills(self) -> int:
        """How many processes the memory limit has killed."""
        if self.v2:
            name, key = "memory.events", "oom_kill"
        else:
            name, key = "memory.oom_control", "oom_kill"
        try:
            lines = (self.directory / name).read_text().splitlines()
        except FileNotFoundError:
            return 0
        return sum(int(line.split()[1]) for line in lines if line.split()[0] == key)

    def remove(self) -> None:
        """Remove the (empty) group."""
        with contextlib.suppress(FileNotFoundError, OSError):
            self.directory.rmdir()
