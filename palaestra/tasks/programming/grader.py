"""Grading an answer by hidden unit tests, in a fresh sandbox, where the answer cannot cheat.

`grade` takes the code out of the final answer (`extract_code`), opens a fresh sandbox, and runs
ONE cell in it: the source of `harness.py` and a call that carries the answer, the task's cases
and their expected values. The harness makes itself unreadable to other processes, seals its
imports, computes every expected value, and only then starts the answer, in child processes
(`runner.py`) that receive arguments and send back values. The expected values never leave the
harness's memory; the children never learn whether a case passed. The sandbox is closed at the end,
with every process the answer left behind.

What an answer can do, and what it gets for it (tests/tasks/test_programming.py tries each one
but the timing):

- read /proc/<harness>/mem, maps, environ, fd: refused (the harness is not dumpable; ptrace and
  process_vm_* are denied by seccomp); /proc/<harness>/cmdline is the sandbox worker's and holds
  nothing of the task. The files it can reach hold its own source and the task's visible preamble.
- print fake JSON, patch ``json`` or ``builtins``, write to the reply pipe itself, return objects
  whose ``__eq__`` says yes: the harness compares plain data decoded from the replies against
  expected values the answer never saw, so it earns what returning those values earns.
- exit at import, crash, hang, sleep, flood the pipe, exhaust memory: that case (or, at import,
  every case) fails; per-case deadlines, a total time budget, a size limit on replies, an
  address-space limit and ``oom_score_adj`` 1000 on the answer's processes keep grading bounded.
- plant modules for the harness to import, or leave processes that rewrite files later: the
  harness imports nothing after the first child starts and never reads a file back.
- time the harness: every comparison happens after the last child is gone.
- kill the harness: the cell ends without a value and the answer scores 0.

Cases converted from dataset asserts the harness could not split into call and expected value run
whole inside the child ("weak" checks): those an answer can fake, and the verdict says how many
there were.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from palaestra.core.types import Verdict
from palaestra.errors import ConfigError, SandboxError, TaskError
from palaestra.tasks.code import CodeTask, SandboxFactory, extract_answer

__all__ = ["GraderLimits", "extract_code", "grade", "harness_cell"]

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
_SLACK_S = 15.0
"""Time the grading cell gets beyond the harness's own budget: setup, start and stop."""


@dataclass(frozen=True)
class GraderLimits:
    """How long and how large an answer may run while it is graded. Times are in seconds."""

    case_timeout_s: float = 2.0
    """Wall-clock limit of one hidden test (a call of the function)."""
    load_timeout_s: float = 5.0
    """Wall-clock limit for starting a process and loading the answer into it."""
    total_timeout_s: float = 20.0
    """Budget for all the hidden tests of one answer; tests not started by then fail."""
    memory_mb: int = 512
    """Address-space limit of the processes that run the answer."""
    max_answer_chars: int = 100_000
    """Longest answer graded; a longer one scores 0 without running."""

    def __post_init__(self) -> None:
        for name in ("case_timeout_s", "load_timeout_s", "total_timeout_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value > 0:
                raise ConfigError(f"GraderLimits.{name} must be a positive number, got {value!r}")
        for name in ("memory_mb", "max_answer_chars"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"GraderLimits.{name} must be a positive integer, got {value!r}")
        if self.memory_mb < 64:
            raise ConfigError(
                f"GraderLimits.memory_mb must be at least 64 (for Python), got {self.memory_mb}"
            )


def extract_code(answer: str) -> str:
    """The code of a final answer: inside ``<answer>`` tags, then inside the first code fence."""
    text = extract_answer(answer)
    match = _FENCE.search(text)
    return match.group(2) if match else text


def grade(
    task: CodeTask, answer: str, new_sandbox: SandboxFactory, limits: GraderLimits
) -> Verdict:
    """Run the task's hidden tests against the answer in a fresh sandbox; the fraction passed."""
    hidden = _checked_hidden(task)
    total = len(hidden["cases"])
    code = extract_code(answer)
    if not code.strip():
        return Verdict(score=0.0, success=False, reason=f"0/{total}: the answer holds no code")
    if len(code) > limits.max_answer_chars:
        return Verdict(
            score=0.0,
            success=False,
            reason=f"0/{total}: the answer has {len(code):,} characters; the limit is "
            f"{limits.max_answer_chars:,}",
        )
    cell = harness_cell(hidden, code, limits)
    sandbox = new_sandbox()
    try:
        result = sandbox.run(cell, timeout=limits.total_timeout_s + _SLACK_S)
    finally:
        sandbox.close()
    if result.error is not None or result.value is None:
        why = "it ran out of time" if result.timed_out else "the answer ended it"
        return Verdict(
            score=0.0,
            success=False,
            reason=f"0/{total}: grading stopped before it finished ({why})",
        )
    try:
        summary = ast.literal_eval(result.value)
    except (ValueError, SyntaxError) as exc:
        raise SandboxError(f"the hidden-test harness returned no summary: {exc}") from exc
    if "fatal" in summary:
        raise SandboxError(f"the hidden-test harness refused to run: {summary['fatal']}")
    if "setup_error" in summary:
        raise TaskError(f"the hidden tests of {task.id} are broken: {summary['setup_error']}")
    return _verdict(summary)


def harness_cell(
    hidden: dict[str, Any], code: str, limits: GraderLimits, *, protect_memory: bool = True
) -> str:
    """The one cell the grading sandbox runs: the harness's source and the call that grades."""
    spec = {
        "source": code,
        "preamble": hidden.get("preamble", ""),
        "setup": hidden.get("setup", ""),
        "entry_point": hidden["entry_point"],
        "names": hidden.get("names", []),
        "compare": hidden.get("compare", "exact"),
        "cases": hidden["cases"],
        "case_timeout_s": limits.case_timeout_s,
        "load_timeout_s": limits.load_timeout_s,
        "total_timeout_s": limits.total_timeout_s,
        "memory_mb": limits.memory_mb,
    }
    harness, runner = _sources()
    call = f"run_hidden_tests({runner!r}, {json.dumps(spec)!r}, protect_memory={protect_memory})"
    return f"{harness}\n{call}\n"


@functools.cache
def _sources() -> tuple[str, str]:
    package = resources.files("palaestra.tasks.programming")
    return (
        package.joinpath("harness.py").read_text(encoding="utf-8"),
        package.joinpath("runner.py").read_text(encoding="utf-8"),
    )


def _checked_hidden(task: CodeTask) -> dict[str, Any]:
    hidden = task.hidden
    if not isinstance(hidden.get("entry_point"), str) or not hidden["entry_point"]:
        raise TaskError(f"task {task.id} has no hidden entry_point: it is not a programming task")
    cases = hidden.get("cases")
    if not isinstance(cases, list) or not cases:
        raise TaskError(f"task {task.id} has no hidden test cases")
    return hidden


def _verdict(summary: dict[str, Any]) -> Verdict:
    total, passed = int(summary["total"]), int(summary["passed"])
    head = f"{passed}/{total} hidden tests passed"
    if summary.get("load_error"):
        reason = f"{head}: the answer did not load ({summary['load_error']})"
    else:
        problems = []
        if summary["wrong"]:
            problems.append(f"{summary['wrong']} wrong")
        for name, count in sorted(summary["errors"].items()):
            problems.append(f"{count} raised {name}")
        if summary["timeouts"]:
            problems.append(f"{summary['timeouts']} timed out")
        if summary["crashes"]:
            problems.append(f"{summary['crashes']} ended the process")
        if summary["skipped"]:
            problems.append(f"{summary['skipped']} not run (the time budget ran out)")
        reason = head + (f" ({', '.join(problems)})" if problems else "")
    if summary.get("weak"):
        reason += f"; {summary['weak']} ran as whole asserts, which an answer could fake"
    score = passed / total if total else 0.0
    return Verdict(score=score, success=total > 0 and passed == total, reason=reason)
