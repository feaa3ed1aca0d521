"""`DockerSandbox`: the sandbox protocol in a Docker container, driven with docker-py.

One container per sandbox (the forks made from it share it, as with the local backend): no
network, a read-only root, private tmpfs /tmp, /sandbox and /dev/shm, hard memory, pids, CPU and
file limits, every capability dropped, no-new-privileges, Docker's default seccomp profile, and a
non-root user. Inside runs the same `worker.py` as everywhere else.

A descriptor cannot be handed into a container, so the worker runs in its ``listen_dir`` mode: the
host bind-mounts a fresh private directory at ``/run/palaestra``, the worker listens on
``s0.sock`` there, and each fork listens on ``s<k>.sock``. Signals cross the boundary through
``docker exec`` as the container's user, naming the session's pid inside the container, which
the session tells in its hello.

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
import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from palaestra.errors import ConfigError, SandboxError, require
from palaestra.sandbox.base import Capabilities, SandboxConfig
from palaestra.sandbox.session import ENVIRONMENT, ChannelSandbox, Container, wait_readable
from palaestra.sandbox.wire import ChannelClosed, recv_frame

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
# End session $1, whose working directory is $2, sparing the live sessions $3...: stop it and
# every process below it, kill those below until none is left (the session, asked to end, leaves
# them to the kernel to reap), then it (after 50 rounds in any case), then remove the directory
# (the session removes it itself when it answers). Sessions forked from it are spared.
_END_SESSION = r"""
root=$1 dir=$2; shift 2; spare=" $* "
tree() {
    case $spare in *" $1 "*) return ;; esac
    echo "$1"; below "$1"
}
below() { for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree "$c"; done; }
# A zombie whose other threads still end ($18: the number of threads) is not gone yet.
live() {
    for p; do
        s=$(cat /proc/"$p"/stat 2>/dev/null) || continue
        set -- ${s##*) }
        if [ "$1" != Z ] || [ "${18}" -gt 1 ]; then echo "$p"; fi
    done
}
n=0
while [ $n -lt 100 ] && [ -n "$(live $root)" ]; do
    kill -STOP $(tree $root) 2>/dev/null
    p=$(live $(below $root))
    if [ -z "$p" ] || [ $n -ge 50 ]; then p="$p $root"; fi
    kill -KILL $p 2>/dev/null; n=$((n + 1))
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
        "environment": {**ENVIRONMENT, "HOME": f"{WORKDIR_ROOT}/0"},  # nothing from the host
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


class _Container(Container):
    """One container; a sandbox and the forks made from it share it."""

    workdir_root = WORKDIR_ROOT

    def __init__(self, config: SandboxConfig, image: str, cpus: float, client: Any) -> None:
        super().__init__()
        self.config, self.image, self.cpus, self.client = config, image, cpus, client
        self.user = _container_user()
        self.host_dir: str | None = None
        self.container: Any = None
        self.uid: None = None
        """A host uid held by this sandbox alone, as the local backend has: none here."""
        self._info: dict[str, Any] | None = None

    def start(self) -> tuple[socket.socket, int]:
        """Start the container and connect to its first session: its channel and pid."""
        self.host_dir = tempfile.mkdtemp(prefix="palaestra-docker-")  # mode 0700
        try:
            if os.geteuid() == 0:
                os.chown(self.host_dir, NOBODY, NOBODY)
            options = container_options(self.config, self.host_dir, user=self.user, cpus=self.cpus)
            with _docker_errors("start a sandbox container"):
                self.client.images.get(self.image)  # never pull: a missing image is an error
                self.container = self.client.containers.create(self.image, **options)
                self.container.start()
            return self.connect(f"{LISTEN_DIR}/s0.sock", time.monotonic() + _START_TIMEOUT)
        except BaseException:
            self.destroy()
            raise

    def connect(self, path: str, deadline: float) -> tuple[socket.socket, int]:
        """Connect to a session listening at ``path`` (in the container): its channel and pid.

        The pid is the one its hello names, inside the container, which ``docker exec kill``
        must name: the host pid in the credentials the kernel attaches is of no use, since a
        non-root host may not signal it (and a remapped daemon would not even show it).
        """
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
            wait_readable(channel, deadline)
            hello, _ = recv_frame(channel, 0)
            pid = hello.get("pid") if isinstance(hello, dict) else None
            if not isinstance(pid, int) or pid <= 1:
                raise ValueError(f"the hello names no usable pid: {pid!r}")
        except (TimeoutError, ChannelClosed, ValueError) as exc:
            channel.close()
            raise SandboxError(f"the sandbox session did not say hello: {exc!r}") from exc
        return channel, pid

    def shell(self, script: str, *args: str) -> str:
        """Run a shell script in the container as its user; its output, or "" if it failed."""
        with _quietly():
            _, output = self.container.exec_run(
                ["/bin/sh", "-c", script, "sh", *args], user=self.user
            )
            return bytes(output or b"").decode(errors="replace")
        return ""

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

    def alive(self) -> bool:
        """Whether the daemon still reports the container running."""
        if self.container is None:
            return False
        try:
            self.container.reload()
        except Exception:  # noqa: BLE001 - a container the daemon cannot find is gone
            return False
        return bool(self.container.status == "running")

    def destroy(self) -> None:
        """Remove the container (killing everything in it) and the socket directory."""
        if self.container is not None:
            with _quietly():
                self.container.remove(force=True)
            self.container = None
        if self.host_dir is not None:
            shutil.rmtree(self.host_dir, ignore_errors=True)
            self.host_dir = None


class DockerSandbox(ChannelSandbox):
    """A persistent Python session in a Docker container. See the module docstring.

    Args:
        config: Limits and options; ``python`` does not apply (the image brings its own), and
            ``read_only_paths`` are bind-mounted read-only at the same place.
        image: The sandbox image (see `DEFAULT_IMAGE` and ``docker/sandbox.Dockerfile``).
        cpus: CPUs the container may use.
        client: A docker-py client; by default one from the environment (``DOCKER_HOST``).
    """

    _container: _Container

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
        self.image, self.cpus = image, cpus
        self._client = client if client is not None else _default_client()
        super().__init__(config)

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

    # ----------------------------------------------------------------------------- the hooks
    def _new_container(self) -> _Container:
        return _Container(self.config, self.image, self.cpus, self._client)

    def _fork_channel(self, deadline: float) -> tuple[socket.socket, int]:
        """The new session listens at the path in the fork reply, in the bind mount."""
        reply = self._reply(deadline)
        self._expect_ok(reply, "fork")
        return self._container.connect(str(reply.get("listen")), deadline)

    def _interrupt(self) -> None:
        self._container.shell('kill -INT "$1"', str(self._pid))

    def _kill_session(self) -> None:
        others = [str(pid) for pid in self._container.others(self._session)]
        self._container.shell(_END_SESSION, str(self._pid), self.workdir, *others)

    def _out_of_memory(self) -> bool:
        container = self._container
        counts = [line.split()[-1] for line in container.shell(_OOM_KILLS).splitlines()]
        if any(count != "0" for count in counts):
            return True
        with _quietly():  # the container itself may be gone: ask the daemon
            container.container.reload()
            return bool(container.container.attrs.get("State", {}).get("OOMKilled"))
        return False
