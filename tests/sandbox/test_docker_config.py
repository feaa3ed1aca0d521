"""The Docker backend without a daemon: what it would ask Docker for, and how it fails."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import palaestra.sandbox.docker as backend
from palaestra.errors import ConfigError, MissingDependencyError, SandboxError
from palaestra.sandbox import SandboxConfig
from palaestra.sandbox.docker import (
    LISTEN_DIR,
    WORKDIR_ROOT,
    WORKER_DIR,
    WORKER_FILES,
    DockerSandbox,
    container_options,
)

ROOT = Path(__file__).resolve().parents[2]
CONFIG = SandboxConfig(
    memory_mb=300,
    max_processes=40,
    cpu_seconds=120,
    disk_mb=70,
    max_file_mb=20,
    open_files=100,
    output_limit=5000,
    max_transfer_mb=8,
)
MIB = 1024 * 1024


@pytest.fixture
def options(tmp_path) -> dict:
    return container_options(CONFIG, str(tmp_path), user="65534:65534", cpus=0.5)


@pytest.fixture(autouse=True)
def fresh_client_cache():
    backend._default_client.cache_clear()
    yield
    backend._default_client.cache_clear()


# --------------------------------------------------------------------------- what is requested
def test_no_network_no_capabilities_no_new_privileges(options):
    assert options["network_mode"] == "none"
    assert options["cap_drop"] == ["ALL"] and "cap_add" not in options
    assert options["security_opt"] == ["no-new-privileges"]
    assert not options.get("privileged")
    assert options["init"] is True


def test_read_only_root_and_private_tmpfs_of_the_configured_size(options):
    assert options["read_only"] is True
    tmpfs = options["tmpfs"]
    assert set(tmpfs) == {"/tmp", WORKDIR_ROOT, "/dev/shm"}
    for mount, flags in tmpfs.items():
        parts = flags.split(",")
        assert "size=70m" in parts and "mode=1777" in parts and "nosuid" in parts, mount
    assert "noexec" in tmpfs["/dev/shm"].split(",")


def test_limits_come_from_the_sandbox_config(options):
    assert options["mem_limit"] == options["memswap_limit"] == "300m", "no swap on top"
    assert options["pids_limit"] == 40
    assert options["nano_cpus"] == 500_000_000
    ulimits = {limit["name"]: (limit["soft"], limit["hard"]) for limit in options["ulimits"]}
    assert ulimits == {
        "nofile": (100, 100),
        "fsize": (20 * MIB, 20 * MIB),
        "core": (0, 0),
        "cpu": (120, 120),
    }


def test_only_the_socket_directory_is_mounted_from_the_host(options, tmp_path):
    assert options["volumes"] == {str(tmp_path): {"bind": LISTEN_DIR, "mode": "rw"}}
    assert "mounts" not in options and "volumes_from" not in options


def test_read_only_paths_are_mounted_read_only_at_the_same_place(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    config = SandboxConfig(read_only_paths=(str(data),))
    volumes = container_options(config, str(tmp_path / "sockets"), user="65534:65534")["volumes"]
    assert volumes[str(data)] == {"bind": str(data), "mode": "ro"}
    assert volumes[str(tmp_path / "sockets")] == {"bind": LISTEN_DIR, "mode": "rw"}


def test_no_environment_from_the_host(tmp_path, monkeypatch):
    monkeypatch.setenv("PALAESTRA_HOST_SECRET", "hunter2")
    environment = container_options(CONFIG, str(tmp_path), user="65534:65534")["environment"]
    assert "PALAESTRA_HOST_SECRET" not in environment and "hunter2" not in environment.values()
    assert environment["HOME"] == f"{WORKDIR_ROOT}/0" and "/usr/local/bin" in environment["PATH"]


def test_the_user_is_never_root(monkeypatch):
    monkeypatch.setattr(backend.os, "geteuid", lambda: 0)
    assert backend._container_user() == "65534:65534", "root on the host: nobody in the container"
    monkeypatch.setattr(backend.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(backend.os, "getuid", lambda: 1000)
    monkeypatch.setattr(backend.os, "getgid", lambda: 1001)
    # Not root: the caller's own uid, so that the host may connect to the sockets it creates.
    assert backend._container_user() == "1000:1001"


def test_the_worker_command_and_its_configuration(options):
    python, isolated, script, raw = options["command"]
    assert (python, isolated, script) == ("python", "-I", f"{WORKER_DIR}/worker.py")
    worker = json.loads(raw)
    assert worker["listen_dir"] == options["volumes"][next(iter(options["volumes"]))]["bind"]
    assert worker["workdir_root"] == WORKDIR_ROOT and WORKDIR_ROOT in options["tmpfs"]
    assert worker["keeper"] is True and worker["session"] == 0
    assert worker["uid"] is None and worker["gid"] is None, "the container user is already set"
    assert worker["rlimits"] == {"CPU": 120, "FSIZE": 20 * MIB, "NOFILE": 100, "CORE": 0}
    assert worker["output_limit"] == 5000 and worker["max_transfer"] == 8 * MIB


def test_docker_py_accepts_every_option(options, tmp_path):
    pytest.importorskip("docker")
    from docker.models.containers import _create_container_args

    created = _create_container_args({"image": "palaestra-sandbox", "version": "1.45", **options})
    host = created["host_config"]
    assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"] and host["SecurityOpt"] == ["no-new-privileges"]
    assert host["Memory"] == host["MemorySwap"] == 300 * MIB
    assert host["PidsLimit"] == 40 and host["NanoCpus"] == 500_000_000 and host["Init"] is True
    assert host["Binds"] == [f"{tmp_path}:{LISTEN_DIR}:rw"]
    assert created["user"] == "65534:65534"


def test_the_dockerfile_copies_exactly_the_worker_files():
    dockerfile = (ROOT / "docker" / "sandbox.Dockerfile").read_text()
    assert "docker build -f docker/sandbox.Dockerfile -t palaestra-sandbox ." in dockerfile
    copies = [line.split()[1:] for line in dockerfile.splitlines() if line.startswith("COPY ")]
    assert len(copies) == 1, copies
    *sources, destination = copies[0]
    assert destination.rstrip("/") == WORKER_DIR
    assert sorted(Path(source).name for source in sources) == sorted(WORKER_FILES)
    for source in sources:
        assert (ROOT / source).is_file() and Path(source).parent == Path("palaestra/sandbox")
    worker = (ROOT / "palaestra" / "sandbox" / "worker.py").read_text()
    imported = set(re.findall(r"^import (\w+)\s", worker, re.MULTILINE))
    assert imported & {Path(name).stem for name in WORKER_FILES} == {"wire"}
    assert re.search(r"^USER (?!0\b|root\b)", dockerfile, re.MULTILINE), "a non-root user"
    assert re.search(r"^ENTRYPOINT \[\]$", dockerfile, re.MULTILINE)


# ------------------------------------------------------------------------------------ failures
def test_without_docker_py_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "docker", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'palaestra\[docker\]'"):
        DockerSandbox()


def test_an_unreachable_daemon_is_a_sandbox_error_that_says_what_to_do(monkeypatch):
    docker = pytest.importorskip("docker")

    def refuse() -> None:
        raise docker.errors.DockerException("Error while fetching server API version")

    monkeypatch.setattr(docker, "from_env", refuse)
    with pytest.raises(SandboxError, match="cannot reach the Docker daemon.*sandbox='local'"):
        DockerSandbox()
    nowhere = docker.DockerClient(base_url="unix:///nonexistent/docker.sock", version="1.45")
    with pytest.raises(SandboxError, match="Start the Docker daemon"):
        DockerSandbox(client=nowhere)


def test_a_missing_image_says_how_to_build_it():
    docker = pytest.importorskip("docker")

    def missing(name: str) -> None:
        raise docker.errors.ImageNotFound(f"No such image: {name}")

    client = SimpleNamespace(images=SimpleNamespace(get=missing))
    with pytest.raises(SandboxError, match="docker build -f docker/sandbox.Dockerfile"):
        DockerSandbox(image="palaestra-sandbox:missing", client=client)


def test_bad_cpus_is_a_config_error():
    pytest.importorskip("docker")
    with pytest.raises(ConfigError, match="cpus must be a positive number"):
        DockerSandbox(cpus=0, client=object())


@pytest.mark.parametrize(
    "path", ["/run/palaestra/../../etc/s1.sock", "/tmp/s1.sock", "/run/palaestra/x.sock", ""]
)
def test_a_session_cannot_point_the_host_outside_the_socket_directory(path, tmp_path):
    pytest.importorskip("docker")
    container = backend._Container(CONFIG, "image", 1.0, client=None)
    container.host_dir = str(tmp_path)
    with pytest.raises(SandboxError, match="unexpected socket path"):
        container.connect(path, deadline=0)


def test_capabilities_follow_what_the_daemon_reports():
    sandbox = DockerSandbox.__new__(DockerSandbox)
    sandbox.config = CONFIG
    enforcing = {
        "SecurityOptions": ["name=seccomp,profile=builtin", "name=cgroupns"],
        "MemoryLimit": True,
        "PidsLimit": True,
    }
    sandbox._container = SimpleNamespace(info=lambda: enforcing, user="65534:65534")
    report = sandbox.capabilities()
    assert report.backend == "docker" and len(report.enforced()) == 7
    assert "300 MiB" in report.details["memory"] and "40" in report.details["processes"]
    assert "seccomp" in report.details["syscalls"] and "65534" in report.details["user"]
    assert all(report.details.values())
    sandbox._container = SimpleNamespace(info=lambda: {}, user="65534:65534")
    weak = sandbox.capabilities()
    assert not (weak.memory or weak.processes or weak.syscalls)
    assert "not enforced" in weak.details["memory"]


def test_orphaned_containers_of_dead_processes_are_removed():
    pytest.importorskip("docker")
    dead = subprocess.Popen(["true"])
    dead.wait()
    ours = backend._owner().rsplit("/", 1)[0]
    listed = [
        {"Id": "dead", "Labels": {"palaestra.sandbox": f"{ours}/{dead.pid}"}},
        {"Id": "alive", "Labels": {"palaestra.sandbox": backend._owner()}},
        {"Id": "other-boot", "Labels": {"palaestra.sandbox": f"boot/pid:[1]/{dead.pid}"}},
    ]
    removed: list[str] = []
    api = SimpleNamespace(
        containers=lambda **kwargs: listed,
        remove_container=lambda ident, force: removed.append(ident),
    )
    backend._remove_orphans(SimpleNamespace(api=api))
    assert removed == ["dead"]


# ------------------------------------------------------------- the host side, against a stand-in
class _BubblewrapContainer:
    """A stand-in for a Docker container: bubblewrap with its own pid namespace, the requested
    tmpfs and bind mounts and user, and ``exec_run`` through nsenter. It enforces no limits; it
    lets the host side (sockets, pids, signals, forks, restarts) run against the real worker."""

    def __init__(self, image: str, options: dict) -> None:
        self.options, self.status, self.attrs, self.init_pid = options, "created", {}, None

    def start(self) -> None:
        from palaestra.sandbox.local import (
            _python_paths,
            _read_child_pid,
            _system_mounts,
            find_bwrap,
        )

        options, (host_dir, bind) = self.options, next(iter(self.options["volumes"].items()))
        uid, gid = options["user"].split(":")
        command = [sys.executable if part == "python" else part for part in options["command"]]
        info_read, info_write = os.pipe()
        argv = [find_bwrap(), "--unshare-pid", "--unshare-net", "--die-with-parent"]
        argv += ["--info-fd", str(info_write), "--clearenv"]
        for mount in set(options["tmpfs"]) - {"/dev/shm"}:
            argv += ["--perms", "1777", "--tmpfs", mount]
        argv += _system_mounts()
        python = _python_paths(sys.executable)
        for directory in _ancestors([*python, WORKER_DIR, bind["bind"]]):
            argv += ["--perms", "0755", "--dir", directory]
        for path in python:
            argv += ["--ro-bind", path, path]
        argv += ["--ro-bind", str(ROOT / "palaestra" / "sandbox"), WORKER_DIR]
        argv += ["--bind", host_dir, bind["bind"], "--proc", "/proc", "--dev", "/dev"]
        argv += ["--remount-ro", "/", "--", "setpriv", f"--reuid={uid}", f"--regid={gid}"]
        argv += ["--clear-groups", *command]
        self.process = subprocess.Popen(argv, pass_fds=[info_write], start_new_session=True)
        os.close(info_write)
        self.init_pid = _read_child_pid(info_read)
        os.close(info_read)
        self.status = "running"

    def reload(self) -> None:
        self.status = "running" if self.process.poll() is None else "exited"

    def exec_run(self, cmd: list[str], user: str) -> tuple[int, bytes]:
        uid, gid = user.split(":")
        enter = ["nsenter", "-t", str(self.init_pid), "-p", "-m", "--", "setpriv"]
        enter += [f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *cmd]
        done = subprocess.run(enter, capture_output=True, timeout=30)
        return done.returncode, done.stdout

    def logs(self, tail: int) -> bytes:
        return b""

    def remove(self, force: bool) -> None:
        if self.init_pid is not None:
            os.kill(self.init_pid, 9)
        self.process.wait()
        self.status = "removed"


def _ancestors(paths: list[str]) -> list[str]:
    found = set()
    for path in paths:
        parts = Path(path).parts[1:-1]
        found |= {"/" + "/".join(parts[:depth]) for depth in range(1, len(parts) + 1)}
    return sorted(found, key=lambda directory: directory.count("/"))


def _stand_in_client() -> SimpleNamespace:
    made: list[_BubblewrapContainer] = []

    def create(image: str, **options) -> _BubblewrapContainer:
        made.append(_BubblewrapContainer(image, options))
        return made[-1]

    return SimpleNamespace(
        images=SimpleNamespace(get=lambda name: None),
        containers=SimpleNamespace(create=create),
        info=lambda: {},
        made=made,
    )


@pytest.fixture
def stand_in() -> SimpleNamespace:
    from palaestra.sandbox.local import _probe

    if os.geteuid() != 0 or not (shutil.which("nsenter") and shutil.which("setpriv")):
        pytest.skip("the stand-in container needs root, nsenter and setpriv")
    if not _probe().namespaces:
        pytest.skip(f"the stand-in container needs bubblewrap: {_probe().problem}")
    return _stand_in_client()


LIVE_PROCESSES = (
    "import os\n[open(f'/proc/{p}/cmdline').read() for p in os.listdir('/proc') if p.isdigit()"
    " and open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[0] != 'Z']"
)


def test_the_host_side_against_a_stand_in_container(stand_in):
    sandbox = DockerSandbox(SandboxConfig(interrupt_grace_s=1), client=stand_in)
    try:
        assert sandbox.run("x = 20\nx + 1").value == "21"
        pid = sandbox.run("import os\nos.getpid()").value
        assert pid == str(sandbox._pid), "signals name the session's pid in the container"
        slow = sandbox.run("import time\ntime.sleep(30)", timeout=0.3)
        assert slow.timed_out and not slow.state_lost and sandbox.run("x").value == "20"

        child = sandbox.fork()
        assert child.run("x").value == "20" and child._pid != sandbox._pid
        child.run("import subprocess\nsubprocess.Popen(['sleep', '300'], start_new_session=True)")
        assert any("sleep" in command for command in eval(sandbox.run(LIVE_PROCESSES).value))
        grandchild = child.fork()
        child.close()
        live = eval(sandbox.run(LIVE_PROCESSES).value)
        assert not any("sleep" in command for command in live), "a closed fork's processes go"
        assert grandchild.run("x").value == "20", "and the forks made from it stay"
        grandchild.close()

        stuck = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True: pass"
        result = sandbox.run(stuck, timeout=0.3)
        assert result.state_lost and "state is lost" in result.error.message
        assert [made.status for made in stand_in.made] == ["removed", "running"]
        assert sandbox.run("x").error.type == "NameError"
        host_dir = sandbox._container.host_dir
    finally:
        sandbox.close()
    assert stand_in.made[-1].status == "removed" and not os.path.exists(host_dir)


ZOMBIES = (
    "import os\nlen([p for p in os.listdir('/proc') if p.isdigit()"
    " and open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[0] == 'Z'])"
)


def test_closed_sessions_leave_no_zombies_in_a_stand_in_container(stand_in):
    sandbox = DockerSandbox(client=stand_in)
    try:
        for _ in range(5):
            sandbox.fork().close()
        child = sandbox.fork()
        child.run("import subprocess\nsubprocess.Popen(['sleep', '300'], start_new_session=True)")
        child.close()
        assert sandbox.run(ZOMBIES).value == "0"
        survivor = sandbox.fork()
    finally:
        sandbox.close()
    try:
        assert survivor.run(ZOMBIES).value == "0", "the first session is reaped too"
    finally:
        survivor.close()
