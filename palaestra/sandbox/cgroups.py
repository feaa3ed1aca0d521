"""Memory and process limits, and a reliable kill, through cgroups (v2 unified or v1).

A sandbox gets one cgroup (``palaestra/<name>``) holding its limits; each session in it gets a
child cgroup, so one session's process tree can be killed without touching its siblings. Killing
freezes the group first (v1 freezer) or uses ``cgroup.kill`` (v2), so a fork bomb cannot outrun it,
and returns only once the group is empty. Used only when palaestra runs as root and the
hierarchy is writable; otherwise `available()` is False and the sandbox reports it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

__all__ = ["Cgroup", "available"]

ROOT = Path("/sys/fs/cgroup")
_V1_CONTROLLERS = ("memory", "pids", "freezer")


def _is_v2() -> bool:
    return (ROOT / "cgroup.controllers").exists()


def available() -> bool:
    """True when palaestra can create cgroups with memory and pids limits here."""
    if os.geteuid() != 0:
        return False
    if _is_v2():
        controllers = (ROOT / "cgroup.controllers").read_text().split()
        return {"memory", "pids"} <= set(controllers) and os.access(ROOT, os.W_OK)
    return all(os.access(ROOT / c, os.W_OK) for c in _V1_CONTROLLERS)


class Cgroup:
    """One cgroup, in every hierarchy palaestra uses."""

    def __init__(self, relative: str) -> None:
        self.relative = relative
        self.v2 = _is_v2()
        if self.v2:
            self.dirs = [ROOT / relative]
        else:
            self.dirs = [ROOT / c / relative for c in _V1_CONTROLLERS]

    @classmethod
    def create(cls, name: str, *, memory_bytes: int | None, max_pids: int | None) -> Cgroup:
        """A new cgroup under ``palaestra/`` with the given limits."""
        if _is_v2():
            parent = ROOT / "palaestra"
            if not parent.exists():
                parent.mkdir()
                (ROOT / "cgroup.subtree_control").write_text("+memory +pids")
                (parent / "cgroup.subtree_control").write_text("+memory +pids")
        group = cls(f"palaestra/{name}")
        for directory in group.dirs:
            directory.mkdir(parents=True, exist_ok=True)
        if group.v2:
            if memory_bytes:
                group._write("memory.max", str(memory_bytes))
                group._write("memory.swap.max", "0", missing_ok=True)
            if max_pids:
                group._write("pids.max", str(max_pids))
        else:
            if memory_bytes:
                group._write("memory.limit_in_bytes", str(memory_bytes), controller="memory")
                group._write(
                    "memory.memsw.limit_in_bytes",
                    str(memory_bytes),
                    controller="memory",
                    missing_ok=True,
                )
            if max_pids:
                group._write("pids.max", str(max_pids), controller="pids")
        return group

    def child(self, name: str) -> Cgroup:
        """A child cgroup (no limits of its own; the parent's apply)."""
        group = Cgroup(f"{self.relative}/{name}")
        for directory in group.dirs:
            directory.mkdir(exist_ok=True)
        return group

    def _write(
        self, filename: str, value: str, *, controller: str | None = None, missing_ok: bool = False
    ) -> None:
        directory = self.dirs[0] if controller is None else ROOT / controller / self.relative
        try:
            (directory / filename).write_text(value)
        except FileNotFoundError:
            if not missing_ok:
                raise

    @property
    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` files a process writes its pid to in order to join."""
        return [str(d / "cgroup.procs") for d in self.dirs]

    def add(self, pid: int) -> None:
        """Move a process (with all its threads) into this cgroup."""
        for path in self.procs_files:
            Path(path).write_text(str(pid))

    def pids(self) -> set[int]:
        """Every process in this cgroup and its children."""
        base = self.dirs[0] if self.v2 else ROOT / "pids" / self.relative
        found: set[int] = set()
        for directory, _, files in os.walk(base):
            if "cgroup.procs" in files:
                try:
                    text = (Path(directory) / "cgroup.procs").read_text()
                except FileNotFoundError:
                    continue
                found.update(int(line) for line in text.split())
        return found

    def kill(self, timeout: float = 10.0) -> bool:
        """Kill every process in the group; True once it is empty (False on timeout)."""
        deadline = time.monotonic() + timeout
        if self.v2 and (self.dirs[0] / "cgroup.kill").exists():
            self._write("cgroup.kill", "1")
        else:
            freezer = None if self.v2 else ROOT / "freezer" / self.relative / "freezer.state"
            if freezer is not None:
                freezer.write_text("FROZEN")
            try:
                while pids := self.pids():
                    for pid in pids:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    if freezer is not None:
                        break  # frozen processes cannot fork; they die once thawed
                    if time.monotonic() > deadline:
                        return False
            finally:
                if freezer is not None:
                    freezer.write_text("THAWED")
        while self.pids():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True

    def oom_kills(self) -> int:
        """How many processes the memory limit killed, in this group and its children."""
        if self.v2:
            try:
                lines = (self.dirs[0] / "memory.events").read_text().splitlines()
            except FileNotFoundError:
                return 0
            return sum(int(line.split()[1]) for line in lines if line.startswith("oom_kill "))
        total = 0
        for directory, _, files in os.walk(ROOT / "memory" / self.relative):
            if "memory.oom_control" in files:
                with contextlib.suppress(FileNotFoundError):
                    for line in (Path(directory) / "memory.oom_control").read_text().splitlines():
                        if line.startswith("oom_kill "):
                            total += int(line.split()[1])
        return total

    def remove(self) -> None:
        """Remove the group and its children (they must be empty)."""
        for directory in self.dirs:
            for sub, _, _ in sorted(os.walk(directory), key=lambda entry: -len(entry[0])):
                try:
                    os.rmdir(sub)
                except (FileNotFoundError, OSError):
                    pass
