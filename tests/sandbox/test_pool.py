"""Spare containers for ``reset``: nothing carried between episodes, nothing left after close."""

from __future__ import annotations

import dataclasses
import gc
import os
import re
import signal
import threading

import pytest

from palaestra.errors import ConfigError, SandboxError
from palaestra.sandbox import LocalSandbox, SandboxConfig

SMALL = SandboxConfig(memory_mb=256, max_processes=32, disk_mb=64, max_file_mb=32, timeout_s=10)
NAMESPACE = "import os\nos.readlink('/proc/self/ns/pid')"


def local(pool_size: int = 1) -> LocalSandbox:
    return LocalSandbox(dataclasses.replace(SMALL, pool_size=pool_size))


def test_reset_carries_nothing_from_one_episode_to_the_next(make, host_processes_of, eventually):
    sandbox = make(dataclasses.replace(SMALL, pool_size=1))
    sandbox.reset()  # the pool starts here; from now on resets hand out spares
    for episode in range(3):
        namespace = sandbox.run(NAMESPACE).value
        sandbox.run(
            "import os, subprocess\n"
            "secret = 'episode'\n"
            "os.environ['LEFT_BEHIND'] = '1'\n"
            "open('work.txt', 'w').write('x')\n"
            "open('/tmp/tmp.txt', 'w').write('x')\n"
            "open('/dev/shm/shm.txt', 'w').write('x')\n"
            "subprocess.Popen(['sleep', '1000'], start_new_session=True)\n"
            "if os.fork() == 0:\n"  # a daemon whose parent is gone
            "    if os.fork() == 0:\n"
            "        os.setsid(); import time; time.sleep(1000)\n"
            "    os._exit(0)\n"
        )
        container = getattr(sandbox, "_container", None)
        old_uid = container.uid.uid if container is not None and container.uid else None
        sandbox.reset()
        first = sandbox.run("secret")
        assert first.error.type == "NameError"
        assert "<cell 1>" in first.error.traceback, "the container ran code before this episode"
        assert sandbox.run(NAMESPACE).value != namespace, f"episode {episode}: same container"
        listing = sandbox.run(
            "[os.listdir(p) for p in ('.', '/tmp', '/dev/shm', '/sandbox')], "
            "'LEFT_BEHIND' in os.environ"
        )
        assert listing.value == "([[], [], [], ['0']], False)", listing
        commands = sandbox.run(
            "[open(f'/proc/{p}/cmdline').read() for p in os.listdir('/proc') if p.isdigit()]"
        ).value
        assert "sleep" not in commands
        if old_uid is not None:
            assert eventually(lambda uid=old_uid: host_processes_of(uid) == []), "it outlived reset"


def test_reset_with_a_spare_ready_starts_no_container_in_the_caller(monkeypatch, eventually):
    starters: list[str] = []
    original = LocalSandbox._new_container

    def counted(self):
        starters.append(threading.current_thread().name)
        return original(self)

    monkeypatch.setattr(LocalSandbox, "_new_container", counted)
    sandbox = local(pool_size=1)
    try:
        sandbox.reset()
        for _ in range(3):
            assert eventually(lambda: sandbox._pool.ready == 1)
            caller = len([name for name in starters if name == threading.current_thread().name])
            sandbox.reset()
            assert sandbox.run("6 * 7").value == "42"
            after = len([name for name in starters if name == threading.current_thread().name])
            assert after == caller, "the reset waited for a start instead of taking the spare"
    finally:
        sandbox.close()
    assert "palaestra-sandbox-spares" in starters


@pytest.mark.parametrize("pool_size", [1, 3])
def test_close_ends_the_spares_and_the_retired_containers(pool_size, descendants, eventually):
    before = descendants()
    sandbox = local(pool_size)
    sandbox.run("import subprocess\nsubprocess.Popen(['sleep', '1000'], start_new_session=True)")
    sandbox.reset()
    sandbox.reset()  # the first episode's container is destroyed in the background
    assert eventually(lambda: sandbox._pool.ready == pool_size)
    during = descendants() - before
    assert len(during) >= 2 * (pool_size + 1), "each spare is a bubblewrap with its worker"
    sandbox.close()
    assert descendants() - before == set(), "close returns once every process is gone"
    assert not any(thread.name == "palaestra-sandbox-spares" for thread in threading.enumerate())


def test_a_sandbox_dropped_without_close_takes_its_spares(descendants, eventually):
    before = descendants()
    sandbox = local(pool_size=2)
    sandbox.reset()
    pool = sandbox._pool
    assert eventually(lambda: pool.ready == 2)
    del sandbox  # the pool holds its sandbox weakly: nothing keeps it alive
    gc.collect()
    assert eventually(lambda: descendants() - before == set())


def test_no_spares_unless_reset_and_none_with_pool_size_zero(descendants):
    before = descendants()
    grading = local(pool_size=1)
    assert grading.run("1").value == "1"
    assert grading._pool is None, "a sandbox that is never reset starts no spares"
    grading.close()
    plain = local(pool_size=0)
    plain.run("x = 1")
    one_container = len(descendants() - before)
    plain.reset()
    assert plain._pool is None and plain.run("x").error.type == "NameError"
    assert len(descendants() - before) == one_container, "no spare"
    plain.close()
    assert descendants() - before == set()


def test_a_fork_fills_its_own_pool_and_outlives_its_parents(descendants, eventually):
    before = descendants()
    parent = local(pool_size=1)
    parent.reset()
    parent.run("x = 1")
    child = parent.fork()
    assert child._pool is None, "spares are handed out once, never shared"
    parent.close()
    assert child.run("x").value == "1"
    child.reset()
    assert child.run("x").error.type == "NameError"
    assert eventually(lambda: child._pool.ready == 1)
    child.close()
    assert descendants() - before == set()


def test_a_spare_that_died_in_the_pool_is_never_handed_out(eventually):
    sandbox = local(pool_size=1)
    try:
        sandbox.reset()
        assert eventually(lambda: sandbox._pool.ready == 1)
        spare = sandbox._pool._spares[0]
        os.kill(spare.container.init_pid, signal.SIGKILL)
        assert eventually(lambda: not spare.idle())
        sandbox.reset()
        assert sandbox._container is not spare.container
        assert sandbox.run("21 * 2").value == "42"
    finally:
        sandbox.close()


def test_capabilities_are_the_same_after_a_pooled_reset():
    sandbox = local(pool_size=1)
    try:
        before = sandbox.capabilities()
        sandbox.reset()
        sandbox.reset()
        after = sandbox.capabilities()
    finally:
        sandbox.close()

    def without_numbers(details: dict[str, str]) -> dict[str, str]:
        return {key: re.sub(r"\d+", "N", value) for key, value in details.items()}

    assert after.enforced() == before.enforced()
    assert without_numbers(after.details) == without_numbers(before.details)


@pytest.mark.parametrize("bad", [-1, 9, True, "2", 1.0])
def test_pool_size_is_checked(bad):
    with pytest.raises(ConfigError, match="pool_size must be"):
        SandboxConfig(pool_size=bad)


def test_a_failed_background_start_falls_back_to_the_callers_own(monkeypatch):
    from palaestra.sandbox import local as local_backend

    original = local_backend._Container.start
    fail_everywhere = False

    def start(self):
        if fail_everywhere or threading.current_thread().name == "palaestra-sandbox-spares":
            raise SandboxError("no room for another container")
        return original(self)

    monkeypatch.setattr(local_backend._Container, "start", start)
    sandbox = local(pool_size=2)
    try:
        for _ in range(3):
            sandbox.reset()  # every spare fails to start: the reset starts its own
            assert sandbox.run("1 + 1").value == "2"
        assert sandbox._pool.ready == 0
        fail_everywhere = True
        with pytest.raises(SandboxError, match="no room for another container"):
            sandbox.reset()  # the error comes out where the caller can handle it
    finally:
        sandbox.close()


def test_a_container_outlives_the_thread_that_started_it():
    # bubblewrap's --die-with-parent watches a thread: the pool's threads end with the pool,
    # and a server starts sandboxes from worker threads that come and go.
    made: list[LocalSandbox] = []
    thread = threading.Thread(target=lambda: made.append(local(pool_size=0)))
    thread.start()
    thread.join()
    try:
        assert made[0].run("import time\ntime.sleep(0.2)\n6 * 7").value == "42"
    finally:
        made[0].close()
