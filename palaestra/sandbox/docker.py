"""`DockerSandbox`: the sandbox protocol in a Docker container, driven with docker-py.

One container per sandbox (the forks made from it share it, as with the local backend): no
network, a read-only root, private tmpfs /tmp, /sandbox and /dev/shm, hard memory, pids, CPU and
file limits, every capability dropped, no-new-privileges, Docker's default seccomp profile, and a
non-root user. Inside runs the same `worker.py` as everywhere else.

A descriptor cannot be handed into a container, so the worker runs in its ``listen_dir`` mode: the
host bind-mounts a fresh private directory at ``/run/palaestra``, the worker listens on
``s0.sock`` there, and each fork listens on ``s<k>.sock``. Signals cross the boundary through
``docker exec`` as the container's user, naming the session's pid inside the container.

Build the image once, from the palaestra source tree::

    docker build -f docker/sandbox.Dockerfile -t palaestra-sandbox .
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from palaestra.errors import ConfigError, SandboxError, require
from palaestra.sandbox.base import Capabilities, CodeError, ExecResult, Sandbox, SandboxConfig
from palaestra.sandbox.local import _ENVIRONMENT, _result, _wait_readable
from palaestra.sandbox.wire import ChannelClosed, recv_frame, send_frame

__all__ = ["DEFAULT_IMAGE", "DockerSandbox", "container_options", "worker_config"]

DEFAULT_IMAGE = "palaestra-sandbox:latest"
WORKER_DIR = "/opt/palaestra-sandbox"
WORKER_FILES = ("worker.py", "wire.py")
"""What the image must hold in `WORKER_DIR`: the worker and the wire format it imports."""
LISTEN_DIR = "/run/palaestra"
WORKDIR_ROOT = "/sandbox"
NOBODY = 65534
_START_TIMEOUT = 30.0
_BUILD_HINT = (
    "build it from the palaestra source tree with: "
    "docker build -f docker/sandbox.Dockerfile -t palaestra-sandbox ."
)
_SOCKET_NAME = re.compile(r"s\d+\.sock")
# End session $1, whose working directory is $2, sparing the live sessions $3...: stop, then
# kill, it and every process below it until it is gone (or a zombie), then remove the directory.
# The session is its descendants' subreaper, so double forks and daemons are in its tree, but
# only while it lives: were it to exit first, they would pass to its parent session. Sessions
# forked from it are in its tree too, and are spared.
_END_SESSION = r"""
root=$1 dir=$2; shift 2; spare=" $* "
tree() {
    case $spare in *" $1 "*) return ;; esac
    echo "$1"; for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree "$c"; done
}
state() { s=$(cat /proc/"$1"/stat 2>/dev/null) && s=${s##*) } && echo "${s%% *}"; }
n=0
while [ $n -lt 100 ] && [ -n "$(state $root)" ] && [ "$(state $root)" != Z ]; do
    p=$(tree $root); kill -STOP $p 2>/dev/null; kill -KILL $p 2>/dev/null; n=$((n + 1))
done
rm -rf "$dir"
"""
# The container's out-of-memory kills, as cgroup v2 and v1 count them.
_OOM_KILLS = (
    "cat /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null"
    " | grep '^oom_kill '"
)


def worker_config(config: SandboxConfig) -> dict[str, Any]:
    """The worker's start configuration: it listens in the bind mount, keeps the container alive.

    No uid or gid: the container already runs as a non-root user. No RLIMIT_NPROC (the uid may
    be shared with the host, where the limit counts its processes too) and no RLIMIT_DATA: the
    container's pids and memory limits bind instead.
    """
    mib = 1024 * 1024
    return {
        "session": 0,
        "workdir_root": WORKDIR_ROOT,
        "listen_dir": LISTEN_DIR,
        "uid": None,
        "gid": None,
        "keeper": True,
        "rlimits": {
            "CPU": config.cpu_seconds,
            "FSIZE": config.max_file_mb * mib,
            "NOFILE": config.open_files,
            "CORE": 0,
        },
        "output_limit": config.output_limit,
        "max_transfer": config.max_transfer_mb * mib,
    }


def container_options(
    config: SandboxConfig, host_dir: str, *, user: str, cpus: float = 1.0
) -> dict[str, Any]:
    """Everything `DockerSandbox` passes to ``client.containers.create`` besides the image."""
    mib = 1024 * 1024
    scratch = f"rw,exec,nosuid,nodev,size={config.disk_mb}m,mode=1777"

    def ulimit(name: str, value: int) -> dict[str, Any]:
        return {"name": name, "soft": value, "hard": value}

    return {
        "command": ["python", "-I", f"{WORKER_DIR}/worker.py", json.dumps(worker_config(config))],
        "user": user,
        "environment": {**_ENVIRONMENT, "HOME": f"{WORKDIR_ROOT}/0"},  # nothing from the host
        "working_dir": "/",
        "hostname": "sandbox",
        "network_mode": "none",
        "read_only": True,
        "tmpfs": {
            "/tmp": scratch,
            WORKDIR_ROOT: scratch,
            "/dev/shm": f"rw,noexec,nosuid,nodev,size={config.disk_mb}m,mode=1777",
        },
        "volumes": {
            host_dir: {"bind": LISTEN_DIR, "mode": "rw"},
            **{path: {"bind": path, "mode": "ro"} for path in config.read_only_paths},
        },
        "mem_limit": f"{config.memory_mb}m",
        "memswap_limit": f"{config.memory_mb}m",  # equal: no swap
        "pids_limit": config.max_processes,
        "nano_cpus": int(cpus * 1e9),
        "ulimits": [
            ulimit("nofile", config.open_files),
            ulimit("fsize", config.max_file_mb * mib),
            ulimit("core", 0),
            ulimit("cpu", config.cpu_seconds),
        ],
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "init": True,
        # The code can write to the init's stdout; cap what that costs the host's disk.
        "log_config": {"type": "json-file", "config": {"max-size": "1m", "max-file": "1"}},
        "labels": {"palaestra.sandbox": _owner()},
    }


def _container_user() -> str:
    """``nobody`` when we are root; otherwise the caller's own (non-root) uid.

    The worker creates its sockets with the container's umask (0755), and connecting to a Unix
    socket needs write permission on it, so a non-root host can only talk to a socket it owns.
    """
    if os.geteuid() == 0:
        return f"{NOBODY}:{NOBODY}"
    return f"{os.getuid()}:{os.getgid()}"


@functools.cache
def _owner() -> str:
    """This process, in words no other process can share: boot, pid namespace and pid."""
    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    return f"{boot}/{os.readlink('/proc/self/ns/pid')}/{os.getpid()}"


def _docker() -> Any:
    require("docker", "docker")
    import docker

    return docker


@contextlib.contextmanager
def _docker_errors(doing: str) -> Iterator[None]:
    """Map docker-py's failures, once, to a `SandboxError` that says how to fix them."""
    docker = _docker()
    try:
        yield
    except docker.errors.ImageNotFound as exc:
        raise SandboxError(f"the sandbox image is missing ({exc}); {_BUILD_HINT}") from exc
    except (docker.errors.DockerException, OSError) as exc:
        raise SandboxError(
            f"cannot {doing}: {exc}. Start the Docker daemon, check DOCKER_HOST, and make sure "
            "this user may use it (the docker group), or use sandbox='local'"
        ) from exc


@functools.cache
def _default_client() -> Any:
    with _docker_errors("reach the Docker daemon"):
        client = _docker().from_env()
        _remove_orphans(client)
    return client


def _remove_orphans(client: Any) -> None:
    """Remove sandbox containers whose owner process died without closing them."""
    boot_and_namespace = _owner().rsplit("/", 1)[0]
    for summary in client.api.containers(all=True, filters={"label": "palaestra.sandbox"}):
        owner = (summary.get("Labels") or {}).get("palaestra.sandbox", "")
        prefix, _, pid = owner.rpartition("/")
        if prefix != boot_and_namespace or not pid.isdigit():
            continue  # another boot, another pid namespace: not ours to judge
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            with _quietly():
                client.api.remove_container(summary["Id"], force=True)
        except PermissionError:
            pass  # alive, another user's


def _quietly() -> contextlib.suppress:
    return contextlib.suppress(_docker().errors.DockerException, OSError)


class _Container:
    """One container; a sandbox and the forks made from it share it."""

    def __init__(self, config: SandboxConfig, image: str, cpus: float, client: Any) -> None:
        self.config, self.image, self.cpus, self.client = config, image, cpus, client
        self.user = _container_user()
        self.members = 0
        self.lock = threading.Lock()
        self._next_session = 1
        self.host_dir: str | None = None
        self.container: Any = None
        self.sessions: set[int] = set()
        """The pids of the sessions bound to the container, in the container."""
        self.uid: None = None
        """A host uid held by this sandbox alone, as the local backend has: none here."""
        self._info: dict[str, Any] | None = None

    def start(self) -> tuple[socket.socket, int, dict[str, Any]]:
        """Start the container and connect to its first session: channel, pid, hello."""
        self.host_dir = tempfile.mkdtemp(prefix="palaestra-docker-")  # mode 0700
        try:
            if os.geteuid() == 0:
                os.chown(self.host_dir, NOBODY, NOBODY)
            options = container_options(self.config, self.host_dir, user=self.user, cpus=self.cpus)
            with _docker_errors("start a sandbox container"):
                self.client.images.get(self.image)  # never pull: a missing image is an error
                self.container = self.client.containers.create(self.image, **options)
                self.container.start()
            deadline = time.monotonic() + _START_TIMEOUT
            channel, hello = self.connect(f"{LISTEN_DIR}/s0.sock", deadline)
            pid = self._first_pid(channel, deadline)
        except BaseException:
            self.destroy()
            raise
        self.join(pid)
        return channel, pid, hello

    @staticmethod
    def _first_pid(channel: socket.socket, deadline: float) -> int:
        """The first session's pid inside the container, the one `docker exec kill` must name.

        The hello's credentials give its host pid, which a non-root host may not signal (and a
        remapped daemon would not even show), so ask the session: the parent of a shell it starts
        is itself. Unlike a `run`, a command leaves no trace (no cell number, no variable).
        """
        try:
            send_frame(channel, {"op": "exec", "cmd": "echo $PPID", "timeout": 10})
            _wait_readable(channel, deadline)
            return _pid(recv_frame(channel, 1 << 20)[0].get("stdout"))
        except (OSError, TimeoutError, ChannelClosed, ValueError) as exc:
            channel.close()
            raise SandboxError(f"the sandbox session did not tell its pid: {exc!r}") from exc

    def connect(self, path: str, deadline: float) -> tuple[socket.socket, dict[str, Any]]:
        """Connect to a session listening at ``path`` (in the container) and read its hello."""
        where = PurePosixPath(path)
        # The path comes from the session, which the code controls: never leave the bind mount.
        if str(where.parent) != LISTEN_DIR or not _SOCKET_NAME.fullmatch(where.name):
            raise SandboxError(f"the session offered an unexpected socket path {path!r}")
        assert self.host_dir is not None
        host_path, check_at = os.path.join(self.host_dir, where.name), 0.0
        while True:
            channel = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                channel.connect(host_path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                channel.close()
            except PermissionError as exc:
                channel.close()
                raise SandboxError(
                    f"cannot connect to the sandbox's socket {host_path}: the container's user "
                    f"({self.user}) is not this user. A rootless or userns-remapped daemon maps "
                    "container uids to others; the docker backend needs a daemon that does not."
                ) from exc
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"the sandbox did not open {path} in time. {self.logs()}The docker backend "
                    "needs a daemon on this machine's kernel (no remote DOCKER_HOST, no Docker "
                    "Desktop VM): it talks to the container over a Unix socket in a bind mount."
                )
            if time.monotonic() > check_at:
                check_at = time.monotonic() + 0.5
                with _docker_errors("watch the sandbox container"):
                    self.container.reload()
                if self.container.status in ("exited", "dead"):
                    raise SandboxError(f"the sandbox container exited. {self.logs()}")
            time.sleep(0.02)
        try:
            # Only the frame: the credentials the kernel attaches give a pid we have no use for.
            _wait_readable(channel, deadline)
            hello, _ = recv_frame(channel, 0)
        except (TimeoutError, ChannelClosed, ValueError) as exc:
            channel.close()
            raise SandboxError(f"the sandbox session did not say hello: {exc!r}") from exc
        return channel, hello

    def shell(self, script: str, *args: str) -> str:
        """Run a shell script in the container as its user; its output, or "" if it failed."""
        with _quietly():
            _, output = self.container.exec_run(
                ["/bin/sh", "-c", script, "sh", *args], user=self.user
            )
            return bytes(output or b"").decode(errors="replace")
        return ""

    def interrupt(self, pid: int) -> None:
        """SIGINT to a session."""
        self.shell('kill -INT "$1"', str(pid))

    def end_session(self, pid: int, workdir: str) -> None:
        """Kill a session, every process below it, and its files, leaving its siblings alone."""
        with self.lock:
            siblings = [str(other) for other in self.sessions if other != pid]
        self.shell(_END_SESSION, str(pid), workdir, *siblings)

    def out_of_memory(self) -> bool:
        """Whether the kernel killed something in the container for memory."""
        counts = [line.split()[-1] for line in self.shell(_OOM_KILLS).splitlines()]
        if any(count != "0" for count in counts):
            return True
        with _quietly():  # the container itself may be gone: ask the daemon
            self.container.reload()
            return bool(self.container.attrs.get("State", {}).get("OOMKilled"))
        return False

    def logs(self) -> str:
        """The container's last lines of output, as a sentence to add to an error."""
        with _quietly():
            text = self.container.logs(tail=20).decode(errors="replace").strip()
            return f"Its output: {text}. " if text else ""
        return ""

    def info(self) -> dict[str, Any]:
        """The daemon's ``docker info`` (which limits and protections it can enforce)."""
        if self._info is None:
            self._info = {}
            with _quietly():
                self._info = self.client.info()
        return self._info

    def next_session(self) -> int:
        with self.lock:
            session = self._next_session
            self._next_session += 1
            return session

    def join(self, pid: int) -> None:
        with self.lock:
            self.members += 1
            self.sessions.add(pid)

    def release(self, pid: int) -> bool:
        """One session fewer; the last one removes the container (True when it did)."""
        with self.lock:
            self.members -= 1
            self.sessions.discard(pid)
            last = self.members <= 0
        if last:
            self.destroy()
        return last

    def destroy(self) -> None:
        """Remove the container (killing everything in it) and the socket directory."""
        if self.container is not None:
            with _quietly():
                self.container.remove(force=True)
            self.container = None
        if self.host_dir is not None:
            shutil.rmtree(self.host_dir, ignore_errors=True)
            self.host_dir = None


def _pid(text: Any) -> int:
    if not isinstance(text, str) or not text.strip().isdigit() or int(text) <= 1:
        raise SandboxError(f"the sandbox session reported no usable pid: {text!r}")
    return int(text)


class DockerSandbox(Sandbox):
    """A persistent Python session in a Docker container. See the module docstring.

    Args:
        config: Limits and options; ``python`` does not apply (the image brings its own), and
            ``read_only_paths`` are bind-mounted read-only at the same place.
        image: The sandbox image (see `DEFAULT_IMAGE` and ``docker/sandbox.Dockerfile``).
        cpus: CPUs the container may use.
        client: A docker-py client; by default one from the environment (``DOCKER_HOST``).
    """

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        image: str = DEFAULT_IMAGE,
        cpus: float = 1.0,
        client: Any = None,
    ) -> None:
        _docker()  # first of all: name the extra to install when docker-py is missing
        if sys.platform != "linux":
            raise SandboxError(
                "the docker backend needs Linux: it reaches the container through a Unix socket "
                "in a bind mount, which Docker Desktop's VM cannot share; use sandbox='local'"
            )
        if not cpus > 0:
            raise ConfigError(f"cpus must be a positive number, got {cpus!r}")
        self.config = config or SandboxConfig()
        self.image, self.cpus = image, cpus
        self._client = client if client is not None else _default_client()
        self._lock = threading.RLock()
        self._closed = False
        self._start_fresh()

    def _start_fresh(self) -> None:
        container = _Container(self.config, self.image, self.cpus, self._client)
        channel, pid, hello = container.start()
        self._bind(container, channel, pid, int(hello["session"]))

    def _bind(self, container: _Container, channel: socket.socket, pid: int, session: int) -> None:
        self._container, self._channel, self._pid, self._session = container, channel, pid, session
        self.workdir = f"{WORKDIR_ROOT}/{session}"

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
                self._container.interrupt(self._pid)
                try:
                    reply = self._reply(time.monotonic() + self.config.interrupt_grace_s)
                    timed_out = True
                except (TimeoutError, ChannelClosed):
                    self._restart()
                    return ExecResult(
                        error=CodeError(
                            type="Timeout",
                            message=f"the code ran past its {limit:g} s limit and did not stop "
                            "when interrupted; the session was restarted and its state is lost",
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

    def fork(self) -> DockerSandbox:
        """An independent session in the same container, with the same variables and files."""
        with self._lock:
            self._check_open()
            deadline = time.monotonic() + 60
            send_frame(self._channel, {"op": "fork", "session": self._container.next_session()})
            reply = self._reply(deadline)
            self._expect_ok(reply, "fork")
            # The child listens at the path in the reply; its pid there is the container's.
            pid = _pid(str(reply.get("pid")))
            channel, hello = self._container.connect(str(reply.get("listen")), deadline)
            self._container.join(pid)
            child = DockerSandbox.__new__(DockerSandbox)
            child.config, child.image, child.cpus = self.config, self.image, self.cpus
            child._client, child._lock, child._closed = self._client, threading.RLock(), False
            child._bind(self._container, channel, pid, int(hello["session"]))
            return child

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
        """What this sandbox enforces and how; what the daemon says it cannot enforce is off."""
        info = self._container.info()
        security = " ".join(info.get("SecurityOptions") or [])
        seccomp = "name=seccomp" in security and "profile=unconfined" not in security
        memory, pids = bool(info.get("MemoryLimit")), bool(info.get("PidsLimit"))
        config, uid = self.config, self._container.user.split(":")[0]
        off = "not enforced: the daemon reports no support for it"
        details = {
            "network": "network_mode none: no interface but loopback",
            "filesystem": "read-only root; private tmpfs /tmp, /sandbox and /dev/shm "
            f"({config.disk_mb} MiB each); from the host only the socket directory, and "
            "read_only_paths read-only",
            "pid": "the container's own pid namespace, with docker-init as its first process",
            "memory": f"container memory limit {config.memory_mb} MiB, no swap" if memory else off,
            "processes": f"container pids limit {config.max_processes}" if pids else off,
            "syscalls": "Docker's default seccomp profile, all capabilities dropped, "
            "no-new-privileges"
            if seccomp
            else f"{off} (seccomp); all capabilities dropped, no-new-privileges",
            "user": f"non-root uid {uid} in the container, no capabilities, no-new-privileges",
        }
        return Capabilities(
            backend="docker",
            network=True,
            filesystem=True,
            pid=True,
            memory=memory,
            processes=pids,
            syscalls=seccomp,
            user=True,
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
        memory = self._container.out_of_memory()
        self._restart()
        reason = (
            f"it ran out of memory: the limit is {self.config.memory_mb} MiB"
            if memory
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
            # Siblings keep the container alive: end this session's processes and files first,
            # while it still holds them (closing the channel would make it exit).
            self._container.end_session(self._pid, self.workdir)
        with contextlib.suppress(OSError):
            self._channel.close()
        self._container.release(self._pid)  # the last one removes the container, all in it

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            if not self._closed:
                self.close()
