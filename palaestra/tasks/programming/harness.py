"""The hidden-test harness: the trusted half of grading, run inside a fresh grading sandbox.

Standard library only. The grader sends this module's source, followed by one call of
`run_hidden_tests` with the runner's source and the test specification as JSON, as a single
``run`` cell; the call's value (a dict of counts) is the cell's value. The expected values exist
only in that cell: in this process's memory, never in a file, an argument or the environment.

Order of work, and why:

1. ``prctl(PR_SET_DUMPABLE, 0)``: no process of the same uid may read this one's memory,
   descriptors or environment through /proc, nor attach to it with ptrace or process_vm_readv
   (the kernel's ptrace access check refuses them all; the local sandbox's seccomp filter
   denies the two system calls besides).
2. ``sys.path`` loses every writable directory, and everything this process will ever import is
   imported now, before any untrusted code runs: a module the answer plants in /tmp or in the
   working directory can never be loaded here.
3. The task's test setup runs and every expected value is computed, still before any untrusted
   code runs. Call arguments are encoded; expected values stay here.
4. The answer runs only in children (`runner.py`): ``subprocess`` with a per-case deadline,
   limited memory, stdout and stderr away from this process. One child answers every case over a
   pipe; a child that dies, hangs or floods is killed with its process group and a new one takes
   the next case. A child only ever sees the arguments of the case it is asked about.
5. Replies are parsed as data (JSON, then the tagged encoding: never ``eval``, never pickle) and
   compared here, all of them after the last child is killed: nothing a child can observe, not
   even the time a comparison takes, depends on an expected value.
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

__all__ = ["run_hidden_tests"]

_PR_SET_DUMPABLE = 4
_MAX_REPLY = 4 * 1024 * 1024
"""Longest reply line accepted from a child, in bytes."""
_WRITABLE_ROOTS = ("/tmp", "/sandbox", "/dev/shm", "/var/tmp", "/run")
_ERROR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,59}")
_TOLERANCE = {"rel_tol": 1e-6, "abs_tol": 1e-9}


def run_hidden_tests(
    runner_source: str, spec_json: str, protect_memory: bool = True
) -> dict[str, Any]:
    """Run every case of ``spec_json`` against the answer; counts of what happened.

    ``protect_memory=False`` exists for one test: it shows that the memory attack the tests try
    really works against a harness that skips step 1.
    """
    if protect_memory:
        if ctypes.CDLL(None).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            return {"fatal": "prctl(PR_SET_DUMPABLE, 0) failed: refusing to run hidden tests"}
    else:
        ctypes.CDLL(None).prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)
    _seal_imports()
    spec = json.loads(spec_json)
    codec: dict[str, Any] = {"__name__": "palaestra_runner"}
    exec(runner_source, codec)
    try:
        cases = _prepare(spec, codec["encode"])
    except Exception as exc:  # noqa: BLE001 - the task's own tests are broken
        return {"setup_error": f"{type(exc).__name__}: {exc}"[:500]}
    workdir = tempfile.mkdtemp(prefix="answer-")
    files = {}
    for name, text in (("preamble", spec.get("preamble", "")), ("source", spec["source"])):
        files[name] = os.path.join(workdir, f"{name}.py")
        with open(files[name], "w", encoding="utf-8", errors="replace") as handle:
            handle.write(text)
    config = {
        "path": list(sys.path),
        "workdir": workdir,
        "entry_point": spec["entry_point"],
        "memory_mb": int(spec["memory_mb"]),
        "cpu_seconds": int(math.ceil(spec["total_timeout_s"])) + 1,
        **files,
    }
    modules_before = set(sys.modules)
    summary = _Grading(runner_source, config, spec, codec["decode"]).run(cases)
    summary["late_imports"] = sorted(set(sys.modules) - modules_before)
    return summary


def _seal_imports() -> None:
    """Drop writable directories from the import path; nothing is imported after the children."""
    roots = _WRITABLE_ROOTS + (os.getcwd(),)

    def trusted(entry: str) -> bool:
        if not entry or not os.path.isabs(entry):
            return False
        real = os.path.realpath(entry)
        inside = any(real == root or real.startswith(root.rstrip("/") + "/") for root in roots)
        return not inside and not os.access(real, os.W_OK)

    sys.path[:] = [entry for entry in sys.path if trusted(entry)]
    sys.path_importer_cache.clear()
    sys.dont_write_bytecode = True


def _prepare(spec: dict[str, Any], encode: Any) -> list[dict[str, Any]]:
    """Every case ready to run: arguments encoded, expected values computed (trusted code only).

    A dataset case whose arguments the encoding cannot carry, or whose expected value cannot be
    computed here, becomes a weak check: its assert runs whole in the child.
    """
    tests: dict[str, Any] = {"__name__": "palaestra_tests"}
    exec(compile(spec.get("preamble", ""), "<preamble>", "exec"), tests)
    exec(compile(spec.get("setup", ""), "<tests>", "exec"), tests)
    default = spec.get("compare", "exact")
    prepared = []
    for case in spec["cases"]:
        if "check" in case:
            prepared.append({"kind": "check", "check": case["check"]})
        elif "args_src" in case:
            try:
                prepared.append(_from_sources(case, tests, encode, default))
            except Exception:  # noqa: BLE001 - the assert still runs, whole, in the child
                prepared.append({"kind": "check", "check": case["source"]})
        else:
            payload = {"args": encode(case["args"]), "kwargs": encode({}), "wrap": None}
            prepared.append(
                {
                    "kind": "call",
                    "payload": payload,
                    "expected": case["expected"],
                    "compare": case.get("compare", default),
                    "tolerance": {},
                }
            )
    # Weak checks last: the test setup they need goes to the child only after every strong case.
    prepared.sort(key=lambda c: c["kind"] == "check")
    for case in prepared:
        if case["kind"] == "check":
            case["payload"] = {
                "setup": spec.get("setup", ""),
                "check": case["check"],
                "names": spec.get("names", []),
            }
    return prepared


def _from_sources(
    case: dict[str, Any], tests: dict[str, Any], encode: Any, default: str
) -> dict[str, Any]:
    """A dataset case: arguments and expected value evaluated from their sources."""
    args = eval(case["args_src"], tests)
    kwargs = eval(case.get("kwargs_src", "{}"), tests)
    wrap = case.get("wrap")
    if wrap:
        wrap = [wrap[0], encode(eval(wrap[1], tests)), encode(eval(wrap[2], tests))]
    return {
        "kind": "call",
        "payload": {"args": encode(list(args)), "kwargs": encode(dict(kwargs)), "wrap": wrap},
        "expected": eval(case["expected_src"], tests),
        "compare": case.get("compare", default),
        "tolerance": {k: eval(v, tests) for k, v in case.get("tolerance", {}).items()},
    }


class _Child:
    """One runner process: its pipes, a reply buffer, and how to kill it."""

    def __init__(self, runner_source: str, config: dict[str, Any]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-s", "-S", "-B", "-c", runner_source, json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd="/",
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"},
            close_fds=True,
            start_new_session=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.input = self.process.stdin.fileno()
        self.output = self.process.stdout.fileno()
        os.set_blocking(self.input, False)
        os.set_blocking(self.output, False)
        self.buffer = b""
        self.closed = False

    def send(self, message: dict[str, Any], deadline: float) -> bool:
        """Write one request line before the deadline; False if the child would not take it."""
        data = (json.dumps(message) + "\n").encode()
        while data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            _, writable, _ = select.select([], [self.input], [], remaining)
            if not writable:
                return False
            try:
                data = data[os.write(self.input, data) :]
            except BlockingIOError:
                continue
            except OSError:
                return False
        return True

    def receive(self, deadline: float, accept: Any) -> dict[str, Any] | str:
        """The first reply line ``accept`` takes, or why none came: timeout, exited, flooded."""
        while True:
            *lines, self.buffer = self.buffer.split(b"\n")
            for count, line in enumerate(lines):
                if count % 1024 == 1023 and time.monotonic() >= deadline:
                    return "timeout"
                if not line.startswith(b"{"):
                    continue  # not a reply: something the answer wrote
                try:
                    reply = json.loads(line)
                except Exception:  # noqa: BLE001 - not a reply either
                    continue
                if isinstance(reply, dict) and accept(reply):
                    self.buffer = b"\n".join([*lines[count + 1 :], self.buffer])
                    return reply
            if len(self.buffer) > _MAX_REPLY:
                return "flooded"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            readable, _, _ = select.select([self.output], [], [], remaining)
            if not readable:
                return "timeout"
            try:
                chunk = os.read(self.output, 1 << 16)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                return "exited"
            self.buffer += chunk

    def kill(self) -> None:
        """Kill the child and everything in its process group, and reap it."""
        if self.closed:
            return
        self.closed = True
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.process.kill()
        except OSError:
            pass
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


class _Grading:
    """The loop over cases, and the tally."""

    def __init__(
        self, runner_source: str, config: dict[str, Any], spec: dict[str, Any], decode: Any
    ) -> None:
        self.runner_source = runner_source
        self.config = config
        self.decode = decode
        self.case_timeout = float(spec["case_timeout_s"])
        self.load_timeout = float(spec["load_timeout_s"])
        self.deadline = time.monotonic() + float(spec["total_timeout_s"])
        self.child: _Child | None = None
        self.requests = 0
        self.summary: dict[str, Any] = {
            "total": 0,
            "passed": 0,
            "wrong": 0,
            "errors": {},
            "timeouts": 0,
            "crashes": 0,
            "skipped": 0,
            "weak": 0,
            "weak_passed": 0,
            "load_error": None,
        }

    def run(self, cases: list[dict[str, Any]]) -> dict[str, Any]:
        """Collect every reply first, then judge them all, then tally.

        Judging only after the last child is gone means no child can time the comparison of a
        value with its expected value (nor anything else that depends on one).
        """
        summary = self.summary
        summary["total"] = len(cases)
        results: list[tuple[dict[str, Any], str | dict[str, Any]]] = []
        try:
            for case in cases:
                if summary["load_error"] is not None or time.monotonic() >= self.deadline:
                    results.append((case, "skipped"))
                else:
                    results.append((case, self._one(case)))
        finally:
            if self.child is not None:
                self.child.kill()
        for case, result in results:
            outcome = self._judge(case, result) if isinstance(result, dict) else result
            self._tally(case, outcome)
        return summary

    def _tally(self, case: dict[str, Any], outcome: str) -> None:
        summary = self.summary
        if case["kind"] == "check" and outcome != "skipped":
            summary["weak"] += 1
        if outcome == "pass":
            summary["passed"] += 1
            if case["kind"] == "check":
                summary["weak_passed"] += 1
        elif outcome.startswith("error:"):
            name = outcome[len("error:") :]
            errors = summary["errors"]
            if name not in errors and len(errors) >= 5:
                name = "other"
            errors[name] = errors.get(name, 0) + 1
        else:
            key = {"wrong": "wrong", "timeout": "timeouts", "crash": "crashes"}.get(outcome)
            summary[key or "skipped"] += 1

    def _start(self) -> _Child | None:
        """A child that has loaded the answer, or None (``load_error`` says why)."""
        try:
            child = _Child(self.runner_source, self.config)
        except OSError as exc:
            self.summary["load_error"] = f"the answer's process could not start ({exc.strerror})"
            return None
        deadline = min(time.monotonic() + self.load_timeout, self.deadline)
        reply = child.receive(deadline, lambda r: "ready" in r)
        if isinstance(reply, dict) and reply.get("ready") is True:
            return child
        child.kill()
        if isinstance(reply, dict):
            name = _error_name(reply.get("error"))
            message = str(reply.get("message", ""))[:300]
            self.summary["load_error"] = f"{name}: {message}" if message else name
        elif reply == "timeout":
            self.summary["load_error"] = (
                f"loading the answer took longer than {self.load_timeout:g} s"
            )
        else:
            self.summary["load_error"] = "the answer's process ended while it was loading"
        return None

    def _one(self, case: dict[str, Any]) -> str | dict[str, Any]:
        """Run one case: the child's reply, or ``timeout``, ``crash`` or ``error:<Type>``."""
        if self.child is None:
            self.child = self._start()
            if self.child is None:
                return "crash"
        child = self.child
        self.requests += 1
        index = self.requests
        deadline = min(time.monotonic() + self.case_timeout, self.deadline)
        if child.send({"i": index, **case["payload"]}, deadline):
            reply = child.receive(deadline, lambda r: r.get("i") == index)
        else:
            reply = "timeout" if time.monotonic() >= deadline else "exited"
        if not isinstance(reply, dict):
            child.kill()
            self.child = None
            return "timeout" if reply == "timeout" else "crash"
        if reply.get("ok") is not True:
            return f"error:{_error_name(reply.get('error'))}"
        return reply

    def _judge(self, case: dict[str, Any], reply: dict[str, Any]) -> str:
        """``pass`` or ``wrong``: the reply against the expected value, which stays here."""
        if case["kind"] == "check":
            return "pass" if reply.get("passed") is True else "wrong"
        mode, expected = case["compare"], case["expected"]
        if mode in ("truthy", "falsy"):
            return "pass" if reply.get("t") is (mode == "truthy") else "wrong"
        if "unencodable" in reply:
            return "wrong"
        try:
            actual = self.decode(reply.get("v"))
            return "pass" if _matches(mode, expected, actual, case["tolerance"]) else "wrong"
        except Exception:  # noqa: BLE001 - a reply that cannot be compared is wrong
            return "wrong"


def _matches(mode: str, expected: Any, actual: Any, tolerance: dict[str, Any]) -> bool:
    if mode == "exact":
        return _json_equal(expected, _as_json(actual), None)
    if mode == "float":
        return _json_equal(expected, _as_json(actual), _TOLERANCE)
    if mode == "unordered":
        if not isinstance(expected, list) or not isinstance(actual, (list, tuple, set, frozenset)):
            return False
        got = sorted((_as_json(item) for item in actual), key=_canonical)
        want = sorted(expected, key=_canonical)
        return len(got) == len(want) and all(
            _json_equal(w, g, None) for w, g in zip(want, got, strict=True)
        )
    if mode == "python":
        return bool(actual == expected)
    if mode == "is":
        return actual is expected
    if mode == "abs_tol":
        gap = abs(actual - expected)
        if tolerance.get("strict", True):
            return bool(gap < tolerance["tol"])
        return bool(gap <= tolerance["tol"])
    if mode == "isclose":
        return math.isclose(actual, expected, **tolerance)
    raise ValueError(f"unknown comparison {mode!r}")


def _as_json(value: Any) -> Any:
    """Tuples as lists, as JSON would have them; everything else as it is."""
    if isinstance(value, (list, tuple)):
        return [_as_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    return value


def _json_equal(expected: Any, actual: Any, tolerance: dict[str, float] | None) -> bool:
    """Equality of JSON data, strict about booleans, optionally with a tolerance on numbers."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)):
        if not isinstance(actual, (int, float)):
            return False
        if tolerance is not None:
            return math.isclose(actual, expected, **tolerance)
        return bool(actual == expected)
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(_json_equal(e, a, tolerance) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(_json_equal(expected[k], actual[k], tolerance) for k in expected)
        )
    return type(expected) is type(actual) and bool(expected == actual)


def _canonical(value: Any) -> str:
    try:
        return json.dumps(_integral(value), sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    return value


def _error_name(name: Any) -> str:
    text = str(name)
    return text if _ERROR_NAME.fullmatch(text) else "Exception"
