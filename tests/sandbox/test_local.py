"""The sandbox protocol, as envs use it: a persistent session, files, fork, timeouts, output."""

from __future__ import annotations

import time

import pytest

from palaestra.errors import ConfigError, SandboxError
from palaestra.sandbox import SandboxConfig


def test_state_persists_and_values_come_back(sandbox):
    assert sandbox.run("import math\nx = 20").ok
    result = sandbox.run("print('hello')\nx + math.floor(2.5)")
    assert result.stdout == "hello\n" and result.value == "22" and result.error is None
    assert sandbox.run("y = None\ny").value is None


def test_exceptions_come_back_with_the_code_traceback(sandbox):
    result = sandbox.run("def f():\n    return 1 / 0\nf()")
    assert result.error.type == "ZeroDivisionError"
    assert 'File "<cell' in result.error.traceback and "worker.py" not in result.error.traceback
    assert sandbox.run("1 +").error.type == "SyntaxError"
    assert sandbox.run("raise SystemExit(3)").error.type == "SystemExit"
    assert sandbox.run("2 + 2").value == "4", "the session survives exit()"


def test_files_persist_and_transfer(sandbox, tmp_path):
    sandbox.run("open('notes.txt', 'w').write('from the code')")
    assert sandbox.download("notes.txt") == b"from the code"
    sandbox.upload(b"\x00\x01binary", "data/raw.bin") if False else None
    sandbox.run("import os; os.makedirs('data', exist_ok=True)")
    sandbox.upload(b"\x00\x01binary", "data/raw.bin")
    assert sandbox.run("open('data/raw.bin', 'rb').read()").value == repr(b"\x00\x01binary")
    host_file = tmp_path / "host.txt"
    host_file.write_text("from the host")
    sandbox.upload(host_file, "host.txt")
    assert sandbox.run("open('host.txt').read()").value == "'from the host'"
    with pytest.raises(SandboxError, match="download of 'missing.txt' failed"):
        sandbox.download("missing.txt")
    with pytest.raises(SandboxError, match="not a regular file"):
        sandbox.download("data")


def test_exec_runs_shell_commands_in_the_working_directory(sandbox):
    sandbox.run("open('a.txt', 'w').write('x')")
    result = sandbox.exec("ls && echo err >&2 && exit 3")
    assert "a.txt" in result.stdout and result.stderr == "err\n"
    assert result.exit_code == 3 and result.error.type == "ExitStatus"
    slow = sandbox.exec("sleep 300", timeout=0.5)
    assert slow.timed_out and slow.duration_s < 60, "killed long before the sleep would end"
    assert sandbox.exec("echo ok").stdout == "ok\n"


def test_timeout_interrupts_and_keeps_state(sandbox):
    sandbox.run("counter = 0")
    started = time.monotonic()
    result = sandbox.run("while True:\n    counter += 1", timeout=0.5)
    assert time.monotonic() - started < 30, "it did not hang"
    assert result.timed_out and not result.state_lost
    assert "kept its state" in result.error.message
    assert int(sandbox.run("counter").value) > 0


def test_code_that_ignores_the_interrupt_is_killed_and_restarted(sandbox):
    sandbox.run("x = 1")
    code = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    started = time.monotonic()
    result = sandbox.run(code, timeout=0.5)
    assert time.monotonic() - started < 30, "it did not hang"
    assert result.timed_out and result.state_lost and "state is lost" in result.error.message
    assert sandbox.run("x").error.type == "NameError"
    assert sandbox.run("1 + 1").value == "2"


def test_output_is_capped_head_and_tail(make):
    sandbox = make(SandboxConfig(output_limit=1000))
    result = sandbox.run("for i in range(100_000):\n    print(i)")
    assert result.truncated
    assert result.stdout.startswith("0\n1\n2\n") and result.stdout.rstrip().endswith("99999")
    assert "bytes of output cut" in result.stdout and len(result.stdout) < 1200
    assert not sandbox.run("print('short')").truncated


def test_output_from_subprocesses_is_captured(sandbox):
    result = sandbox.run("import subprocess\nsubprocess.run(['echo', 'from a child'])")
    assert "from a child" in result.stdout


def test_fork_copies_variables_and_files_then_diverges(sandbox):
    sandbox.run("import os\nvalues = [1, 2]\nopen('state.txt', 'w').write('parent')")
    child = sandbox.fork()
    try:
        assert child.run("values").value == "[1, 2]"
        assert child.run("open('state.txt').read()").value == "'parent'"
        child.run("values.append(3)\nopen('state.txt', 'w').write('child')")
        sandbox.run("values.append(99)")
        assert sandbox.run("values").value == "[1, 2, 99]"
        assert child.run("values").value == "[1, 2, 3]"
        assert (
            sandbox.download("state.txt") == b"parent" and child.download("state.txt") == b"child"
        )
        grandchild = child.fork()
        assert grandchild.run("values").value == "[1, 2, 3]"
        grandchild.close()
    finally:
        child.close()
    assert sandbox.run("values").value == "[1, 2, 99]", "closing a fork leaves the parent alone"


def test_parent_can_close_before_its_fork(make):
    parent = make()
    parent.run("x = 7")
    child = parent.fork()
    parent.close()
    assert child.run("x * 6").value == "42"
    child.close()


def test_reset_gives_a_fresh_session(sandbox):
    sandbox.run("x = 1\nopen('f.txt', 'w').write('1')")
    sandbox.reset()
    assert sandbox.run("x").error.type == "NameError"
    assert sandbox.run("import os\nos.listdir('.')").value == "[]"


def test_closed_sandbox_refuses_work(make):
    sandbox = make()
    sandbox.close()
    sandbox.close()  # idempotent
    with pytest.raises(SandboxError, match="closed"):
        sandbox.run("1")


def test_context_manager_closes(backend):
    from palaestra.sandbox import make_sandbox

    with make_sandbox(backend) as sandbox:
        assert sandbox.run("1").value == "1"
    with pytest.raises(SandboxError, match="closed"):
        sandbox.run("1")


def test_capabilities_report_what_is_enforced(sandbox):
    report = sandbox.capabilities()
    assert report.network and report.filesystem and report.pid
    assert set(report.enforced()) <= {
        "network",
        "filesystem",
        "pid",
        "memory",
        "processes",
        "syscalls",
        "user",
    }
    assert all(report.details.values())


def test_bad_configuration_is_a_clear_error():
    with pytest.raises(ConfigError, match="memory_mb must be a positive integer"):
        SandboxConfig(memory_mb=0)
    with pytest.raises(ConfigError, match="isolation must be"):
        SandboxConfig(isolation="partial")
    with pytest.raises(ConfigError, match="existing absolute paths"):
        SandboxConfig(read_only_paths=("relative/path",))
    from palaestra.sandbox import make_sandbox

    with pytest.raises(ConfigError, match="sandbox must be 'local' or 'docker'"):
        make_sandbox("vm")


def test_unisolated_mode_warns_loudly():
    from palaestra.sandbox import LocalSandbox

    with pytest.warns(RuntimeWarning, match="UNISOLATED"):
        sandbox = LocalSandbox(SandboxConfig(isolation="none"))
    try:
        assert sandbox.run("21 * 2").value == "42"
        assert not sandbox.capabilities().enforced()
    finally:
        sandbox.close()


def test_missing_isolation_refuses_to_start_and_names_what_is_missing(monkeypatch):
    from palaestra.sandbox import LocalSandbox, local

    monkeypatch.setattr(local, "find_bwrap", lambda: None)
    local._probe.cache_clear()
    try:
        with pytest.raises(SandboxError, match="bubblewrap is not installed.*isolation='none'"):
            LocalSandbox()
    finally:
        local._probe.cache_clear()
