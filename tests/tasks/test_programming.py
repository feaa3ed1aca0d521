"""The programming family: built-in problems, loaders, and a grader that answers cannot cheat.

Every test that grades runs the real local sandbox. The attack tests use a "secret" task whose
expected values cannot be guessed: an attack that scores more than the answer's honest return
values earn has read them from somewhere.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from palaestra.errors import ConfigError, SandboxError, TaskError
from palaestra.sandbox import LocalSandbox, SandboxConfig
from palaestra.tasks.code import CodeTask, TaskFamily
from palaestra.tasks.programming import (
    PROBLEMS,
    GraderLimits,
    ProgrammingFamily,
    extract_code,
    problem_task,
)
from palaestra.tasks.programming.grader import harness_cell
from palaestra.tasks.programming.harness import _matches
from palaestra.tasks.programming.loader import convert_assert, load_jsonl
from palaestra.tasks.programming.runner import decode, encode

# Limits a loaded machine cannot miss by accident: a verdict these tests expect never depends
# on how fast the machine is. Only the tests about a limit itself set that limit tight.
GENEROUS = GraderLimits(case_timeout_s=10.0, load_timeout_s=60.0, total_timeout_s=120.0)
CONFIG = SandboxConfig(memory_mb=1024, max_processes=64, timeout_s=30)


def new_sandbox() -> LocalSandbox:
    return LocalSandbox(CONFIG)


@pytest.fixture(scope="module", autouse=True)
def _sandbox_works() -> None:
    try:
        LocalSandbox(CONFIG).close()
    except SandboxError as exc:
        pytest.skip(f"the local sandbox cannot start here: {exc}")


@pytest.fixture(scope="module")
def family() -> ProgrammingFamily:
    return ProgrammingFamily()


@pytest.fixture(scope="module")
def fast() -> ProgrammingFamily:
    """Grading with limits far above what any honest answer needs, so no verdict is a timing."""
    return ProgrammingFamily(limits=GENEROUS)


# A task nobody can answer by guessing: only the expected values give the answer away.
SECRET_ARGS = (3, 5, 8, 13)


def secret_value(n: int) -> str:
    return f"zebra-{n * 7919}-quokka"


def secret_task(preamble: str = "") -> CodeTask:
    return CodeTask(
        id="programming-secret",
        prompt="Write secret(n).",
        split="train",
        domain="programming",
        difficulty=1,
        seed=0,
        family="programming",
        reference_code="",
        solution="",
        hidden={
            "entry_point": "secret",
            "preamble": preamble,
            "cases": [{"args": [n], "expected": secret_value(n)} for n in SECRET_ARGS],
        },
    )


def answer(code: str) -> str:
    return f"<answer>\n```python\n{textwrap.dedent(code).strip()}\n```\n</answer>"


HONEST_FOR_3 = 'f"zebra-{3 * 7919}-quokka" if n == 3 else '
"""An answer prefix that knows the value for n == 3 only: worth exactly 1/4."""


# ------------------------------------------------------------------------------ the problems
def test_there_are_enough_original_problems():
    assert len(PROBLEMS) >= 50
    slugs = [p.slug for p in PROBLEMS]
    assert len(set(slugs)) == len(slugs)
    for problem in PROBLEMS:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", problem.slug)
        assert 5 <= len(problem.cases) <= 10, problem.slug
        json.dumps([problem.cases, problem.example])  # JSON data only
        assert problem.compare in ("exact", "float", "unordered")
        tree = ast.parse(problem.reference)
        assert problem.entry_point in {
            node.name for node in tree.body if isinstance(node, ast.FunctionDef)
        }


def test_references_agree_with_their_cases_and_examples():
    for problem in PROBLEMS:
        namespace: dict = {}
        exec(problem.reference, namespace)
        function = namespace[problem.entry_point]
        for args, expected in [*problem.cases, problem.example]:
            got = decode(encode(function(*json.loads(json.dumps(args)))))
            assert _matches(problem.compare, expected, got, {}), (problem.slug, args)


def test_prompts_state_the_function_and_hide_the_cases(family):
    for problem in PROBLEMS:
        task = family.get(f"programming-{problem.slug}", problem_task(problem).split)
        assert problem.signature in task.prompt
        assert "<answer>" in task.prompt
        assert list(problem.example) not in [list(case) for case in problem.cases]
        for args, _ in problem.cases:
            call = f"{problem.entry_point}({', '.join(repr(a) for a in args)})"
            assert call not in task.prompt, (problem.slug, call)


def test_ids_are_stable_and_splits_disjoint(family):
    train = [t.id for t in family.iterate("train")]
    test = [t.id for t in family.iterate("test")]
    assert not set(train) & set(test)
    assert len(train) + len(test) == len(PROBLEMS)
    assert 0.1 <= len(test) / len(PROBLEMS) <= 0.3
    assert all(i.startswith("programming-") for i in train + test)
    # Pinned: a change of statement that moves a task across splits must be deliberate.
    assert family.get("programming-run-length-encode", "train").split == "train"
    assert family.get("programming-roman-to-int", "test").split == "test"
    again = ProgrammingFamily()
    assert [t.id for t in again.iterate("train")] == train
    assert [t.id for t in again.iterate("test")] == test
    assert [(t.id, t.prompt) for t in again.tasks()] == [(t.id, t.prompt) for t in family.tasks()]


def test_family_interface(family):
    assert isinstance(family, TaskFamily)
    assert family.name == "programming"
    assert "<answer>" in family.answer_format
    with pytest.raises(TaskError, match="no programming task"):
        family.get("programming-nope", "train")
    with pytest.raises(TaskError, match="in the test split, not train"):
        family.get("programming-roman-to-int", "train")
    first = family.sample(np.random.default_rng(7), "train")
    assert family.sample(np.random.default_rng(7), "train") == first
    task = family.get("programming-run-length-encode", "train")
    assert task.solution.startswith("<answer>\n```python\ndef run_length_encode")
    assert task.hidden["entry_point"] == "run_length_encode"


def test_reference_code_runs_and_prints_a_check(family):
    with new_sandbox() as sandbox:
        for task in family.tasks():
            result = sandbox.run(task.reference_code)
            assert result.ok, (task.id, result.error)
            assert "on the example ->" in result.stdout, task.id


def test_every_reference_solution_passes_all_its_hidden_tests(family):
    tasks = family.tasks()
    started = time.perf_counter()
    with ThreadPoolExecutor(3) as pool:
        verdicts = list(pool.map(lambda t: family.verify(t, t.solution, new_sandbox), tasks))
    elapsed = time.perf_counter() - started
    failed = [(t.id, v.reason) for t, v in zip(tasks, verdicts, strict=True) if not v.success]
    assert not failed
    assert all(v.score == 1.0 for v in verdicts)
    print(f"verified {len(tasks)} references in {elapsed:.1f} s")


# ------------------------------------------------------------------------------ scoring
def test_a_do_nothing_answer_scores_zero(family):
    task = family.get("programming-run-length-encode", "train")
    verdict = family.verify(task, "I don't know", new_sandbox)
    assert (verdict.score, verdict.success) == (0.0, False)
    assert "did not load" in verdict.reason

    def no_sandbox() -> LocalSandbox:
        raise AssertionError("an empty answer needs no sandbox")

    assert family.verify(task, "<answer></answer>", no_sandbox).score == 0.0


def test_a_wrong_solution_scores_the_fraction_it_gets_right(family):
    task = family.get("programming-is-prime", "train")
    # n % 2 == 1 is right for 0, 97, 7919 and 1000003 and wrong for 2, 1, -7 and 91.
    verdict = family.verify(task, answer("def is_prime(n):\n    return n % 2 == 1"), new_sandbox)
    assert verdict.score == 0.5 and not verdict.success
    assert verdict.reason == "4/8 hidden tests passed (4 wrong)"


def test_errors_and_missing_functions_are_reported(family):
    task = family.get("programming-run-length-encode", "train")
    verdict = family.verify(task, answer("def encode(text):\n    return text"), new_sandbox)
    assert verdict.score == 0.0 and "defines no function 'run_length_encode'" in verdict.reason
    raising = "def run_length_encode(text):\n    return {}[text]"
    verdict = family.verify(task, answer(raising), new_sandbox)
    assert verdict.score == 0.0 and "7 raised KeyError" in verdict.reason


@pytest.mark.parametrize(
    ("task_id", "code"),
    [
        (
            "programming-run-length-encode",
            """
            from itertools import groupby

            def run_length_encode(text):
                return "".join(f"{k}{len(list(g))}" for k, g in groupby(text))
            """,
        ),
        (
            "programming-fibonacci",
            """
            import functools

            @functools.lru_cache(maxsize=None)
            def fibonacci(n):
                return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)
            """,
        ),
        (
            "programming-group-anagrams",
            """
            def group_anagrams(words):
                groups = {}
                for w in words:
                    groups.setdefault(tuple(sorted(w)), []).append(w)
                return tuple(tuple(sorted(g)) for g in reversed(list(groups.values())))
            """,
        ),
        (
            "programming-mean-and-median",
            """
            import statistics

            def mean_and_median(values):
                print("debugging output is fine", values)
                return (statistics.fmean(values), statistics.median(values))

            if __name__ == "__main__":
                raise SystemExit("a test block under a main guard never runs")
            """,
        ),
    ],
)
def test_equivalent_solutions_written_differently_pass(family, task_id, code):
    task = next(t for t in family.tasks() if t.id == task_id)
    verdict = family.verify(task, answer(code), new_sandbox)
    assert verdict.success, verdict.reason


def test_answers_without_tags_or_fences_are_graded_too(family):
    task = family.get("programming-run-length-encode", "train")
    code = task.solution.split("```python\n")[1].split("```")[0]
    assert family.verify(task, code, new_sandbox).success
    assert family.verify(task, f"Here it is:\n```py\n{code}```", new_sandbox).success


def test_extract_code():
    assert extract_code("<answer>\n```python\nx = 1\n```\n</answer>") == "x = 1\n"
    assert extract_code("text ```python\nx = 1\n``` more <answer>y = 2</answer>") == "y = 2"
    assert extract_code("```\na\n```\n```python\nb\n```") == "a\n"
    assert extract_code("<answer>def f(): pass</answer>") == "def f(): pass"
    assert extract_code("```python\nunterminated") == "unterminated"


def test_encoding_round_trips_python_values():
    value = [1, 2.5, "s", None, True, (1, "t"), {(1, 2): {"k": b"\x00"}}, {3}, frozenset({4})]
    assert decode(json.loads(json.dumps(encode(value)))) == value
    assert decode(encode([float("inf"), 1j])) == [float("inf"), 1j]
    with pytest.raises(ValueError):
        decode({"a": 1})


def test_comparison_modes():
    assert _matches("exact", [1, 2], (1, 2), {})
    assert not _matches("exact", True, 1, {})
    assert not _matches("exact", 1, True, {})
    assert _matches("exact", 2, 2.0, {})
    assert _matches("float", [0.3], [0.1 + 0.2], {})
    assert not _matches("exact", [0.3], [0.1 + 0.2], {})
    assert _matches("unordered", [[1], [2, 3]], [(2, 3), [1]], {})
    assert not _matches("unordered", [1, 1, 2], [1, 2, 2], {})
    assert _matches("python", (1, 2), (1, 2), {}) and not _matches("python", (1, 2), [1, 2], {})


# ------------------------------------------------------------------------------ attacks
def run_cell(task: CodeTask, code: str, *, protect_memory: bool = True) -> dict:
    """The harness's summary for ``code``, run in a sandbox by hand (white-box tests)."""
    with new_sandbox() as sandbox:
        result = sandbox.run(
            harness_cell(task.hidden, code, GraderLimits(), protect_memory=protect_memory),
            timeout=40,
        )
        assert result.error is None, result.error
        assert result.value is not None
        return ast.literal_eval(result.value)


def test_the_secret_task_is_solvable(fast):
    code = 'def secret(n):\n    return f"zebra-{n * 7919}-quokka"'
    assert fast.verify(secret_task(), answer(code), new_sandbox).score == 1.0


MEMORY_THIEF = f"""
import os, re

def _steal():
    found = {{}}
    parent = os.getppid()
    try:
        maps = open(f"/proc/{{parent}}/maps").read().splitlines()
        memory = open(f"/proc/{{parent}}/mem", "rb", 0)
    except OSError:
        return found
    for line in maps:
        span, perms = line.split()[:2]
        if not perms.startswith("rw"):
            continue
        start, end = (int(x, 16) for x in span.split("-"))
        try:
            memory.seek(start)
            chunk = memory.read(end - start)
        except (OSError, ValueError, OverflowError):
            continue
        for match in re.finditer(rb'"args": \\[(\\d+)\\], "expected": "([^"]+)"', chunk):
            found[int(match.group(1))] = match.group(2).decode()
    return found

STOLEN = _steal()

def secret(n):
    return {HONEST_FOR_3}STOLEN.get(n, "")
"""


def test_reading_the_harness_memory_gets_nothing(fast):
    verdict = fast.verify(secret_task(), answer(MEMORY_THIEF), new_sandbox)
    assert verdict.score == 0.25, verdict.reason


def test_the_memory_attack_works_against_a_harness_that_stays_dumpable():
    # The control: the same thief, against a harness that skips PR_SET_DUMPABLE, takes all.
    assert run_cell(secret_task(), MEMORY_THIEF, protect_memory=False)["passed"] == 4
    assert run_cell(secret_task(), MEMORY_THIEF)["passed"] == 1


PROC_THIEF = f"""
import os, re

def _steal():
    found, parent = {{}}, os.getppid()
    sources = [f"/proc/{{parent}}/{{name}}" for name in ("cmdline", "environ", "maps", "status")]
    try:
        sources += [f"/proc/{{parent}}/fd/{{fd}}" for fd in os.listdir(f"/proc/{{parent}}/fd")]
    except OSError:
        pass
    for pid in filter(str.isdigit, os.listdir("/proc")):
        sources += [f"/proc/{{pid}}/cmdline", f"/proc/{{pid}}/environ"]
    for path in sources:
        try:
            with open(path, "rb") as handle:
                data = handle.read(1 << 20)
        except OSError:
            continue
        for match in re.finditer(rb"zebra-(\\d+)-quokka", data):
            found[int(match.group(1)) // 7919] = match.group(0).decode()
    return found

STOLEN = _steal()

def secret(n):
    return {HONEST_FOR_3}STOLEN.get(n, "")
"""


def test_reading_the_harness_cmdline_environ_and_descriptors_gets_nothing(fast):
    verdict = fast.verify(secret_task(), answer(PROC_THIEF), new_sandbox)
    assert verdict.score == 0.25, verdict.reason


FILE_THIEF = """
import os, re

def _steal():
    found = {}
    for root in ("/tmp", "/sandbox", "/dev/shm", "/run", "/var", "/etc", "/opt", "/"):
        for directory, subdirectories, files in os.walk(root):
            if directory == "/":
                subdirectories[:] = [d for d in subdirectories if d in ("mnt", "srv")]
            for name in files:
                try:
                    with open(os.path.join(directory, name), "rb") as handle:
                        data = handle.read(1 << 22)
                except OSError:
                    continue
                for match in re.finditer(rb"zebra-(\\d+)-quokka", data):
                    found[int(match.group(1)) // 7919] = match.group(0).decode()
    return found

STOLEN = _steal()

def secret(n):
    return STOLEN.get(n, "")
"""


def test_scanning_the_file_system_finds_only_what_is_visible():
    # Generous limits: the walk reads every visible file, the interpreter's installation too
    # (all of a virtualenv when the checkout lies under /tmp), which takes seconds under load.
    scanner = ProgrammingFamily(limits=GraderLimits(load_timeout_s=120.0, total_timeout_s=150.0))
    verdict = scanner.verify(secret_task(), answer(FILE_THIEF), new_sandbox)
    assert verdict.reason == "0/4 hidden tests passed (4 wrong)"
    # The control: a value planted in the task's (visible) preamble file is found.
    planted = secret_task(preamble=f"# {secret_value(8)}\n")
    assert scanner.verify(planted, answer(FILE_THIEF), new_sandbox).score == 0.25


def test_exiting_at_import_scores_zero(fast):
    verdict = fast.verify(secret_task(), answer("import os\nos._exit(0)"), new_sandbox)
    assert verdict.score == 0.0 and "did not load" in verdict.reason


FORGER = f"""
import json, os, sys

FORGED = [dict(ready=True, i=i, ok=True, passed=True, t=True, v="zebra") for i in range(60)]

def _forge():
    for fd in range(1, 30):
        for reply in FORGED:
            try:
                os.write(fd, (json.dumps(reply) + "\\n").encode())
            except OSError:
                break

_forge()
print(json.dumps({{"i": 1, "ok": True, "v": "zebra"}}))

def secret(n):
    _forge()
    return {HONEST_FOR_3}"zebra"
"""


def test_printing_fake_results_earns_nothing(fast):
    # Forged replies are compared like real ones; here they even take the place of the real
    # reply for n == 3, so the answer loses the one case it knew.
    verdict = fast.verify(secret_task(), answer(FORGER), new_sandbox)
    assert verdict.score == 0.0, verdict.reason


PATCHER = f"""
import builtins, json, sys

_real_dumps = json.dumps
json.dumps = lambda obj, *a, **k: _real_dumps(
    {{**obj, "ok": True, "passed": True, "t": True, "expected": obj.get("v")}}
    if type(obj) is dict else obj
)
json.loads = (lambda real: lambda text, *a, **k: {{**real(text), "expected": "zebra"}})(json.loads)
builtins.print = lambda *args, **kwargs: None
builtins.AssertionError = type("NeverRaised", (Exception,), {{}})
sys.modules["math"] = None

def secret(n):
    return {HONEST_FOR_3}"zebra"
"""


def test_monkeypatching_json_and_builtins_earns_nothing(fast):
    verdict = fast.verify(secret_task(), answer(PATCHER), new_sandbox)
    assert verdict.score == 0.25, verdict.reason
    # Patches that break the answer's own process only cost it: here even the case it knew.
    broken = PATCHER.replace(
        "import builtins, json, sys", "import builtins, json, sys\nbuiltins.bool = lambda *a: True"
    )
    assert fast.verify(secret_task(), answer(broken), new_sandbox).score == 0.0


def test_values_that_claim_to_equal_anything_are_not_trusted(fast):
    code = f"""
    class Sly(int):
        def __eq__(self, other):
            return True
        __hash__ = int.__hash__

    class Anything:
        def __eq__(self, other):
            return True

    def secret(n):
        if n == 5:
            return Sly(0)
        return {HONEST_FOR_3}Anything()
    """
    assert fast.verify(secret_task(), answer(code), new_sandbox).score == 0.25


def test_killing_the_harness_scores_zero(fast):
    for kill in ("os.kill(os.getppid(), 9)", "os.kill(-1, 9)"):
        code = f"import os\n\ndef secret(n):\n    {kill}\n    return 'zebra'"
        verdict = fast.verify(secret_task(), answer(code), new_sandbox)
        assert verdict.score == 0.0 and "grading stopped" in verdict.reason


def test_an_endless_loop_at_import_is_cut_off():
    family = ProgrammingFamily(limits=GraderLimits(load_timeout_s=2.0, total_timeout_s=120.0))
    started = time.perf_counter()
    verdict = family.verify(secret_task(), answer("while True:\n    pass"), new_sandbox)
    assert verdict.score == 0.0 and "took longer than 2 s" in verdict.reason
    assert time.perf_counter() - started < 60  # cut off, not left to run: a bound, not a speed


def test_sleeping_forever_times_each_case_out():
    code = f"""
    import time

    def secret(n):
        if n != 3:
            time.sleep(1000)
        return {HONEST_FOR_3}""
    """
    limits = GraderLimits(case_timeout_s=2.0, load_timeout_s=60.0, total_timeout_s=120.0)
    started = time.perf_counter()
    verdict = ProgrammingFamily(limits=limits).verify(secret_task(), answer(code), new_sandbox)
    assert verdict.score == 0.25 and "3 timed out" in verdict.reason
    assert time.perf_counter() - started < 90  # each case was cut off, none ran to the end


def test_flooding_the_pipes_fails_the_flooded_cases(fast):
    code = f"""
    import os, sys

    def secret(n):
        if n != 3:
            sys.stdout.write("x" * 5_000_000)
            sys.stderr.write("y" * 5_000_000)
            for fd in range(1, 12):
                try:
                    os.write(fd, b"z" * 5_000_000)
                except OSError:
                    pass
        return {HONEST_FOR_3}""
    """
    verdict = fast.verify(secret_task(), answer(code), new_sandbox)
    assert verdict.score == 0.25, verdict.reason


MEMORY_HOG = """
import os, select, time

def secret(n):
    if n == 3:
        read_end, write_end = os.pipe()
        for _ in range(3):
            if os.fork() == 0:
                os.setsid()
                hog = bytearray(450 * 1024 * 1024)  # three of them overflow the sandbox
                os.write(write_end, b"!")
                time.sleep(30)
                os._exit(0)
        os.close(write_end)
        deadline, signals = time.monotonic() + 1.5, 0
        while signals < 3 and time.monotonic() < deadline:
            if select.select([read_end], [], [], 0.1)[0]:
                signals += len(os.read(read_end, 3)) or 3  # EOF: every hog is gone
        if signals >= 3:
            return "no hog was killed: this test did not exhaust the memory"
    return f"zebra-{n * 7919}-quokka" if n % 2 else "zebra"
"""


def test_exhausting_memory_kills_the_answer_not_the_harness():
    # The answer's processes volunteer for the OOM killer (oom_score_adj 1000): a hog dies, the
    # harness lives, and the answer is right for n = 3 (only if a hog died), 5 and 13.
    family = ProgrammingFamily(limits=GraderLimits(case_timeout_s=30, total_timeout_s=90))
    verdict = family.verify(secret_task(), answer(MEMORY_HOG), new_sandbox)
    assert verdict.score == 0.75, verdict.reason


POISON = """
import gc
for _obj in gc.get_objects():
    if callable(_obj) and getattr(_obj, "__name__", "") in ("_matches", "_judge", "_json_equal"):
        _obj.__code__ = (lambda *a, **k: True).__code__
"""

SABOTEUR = f"""
import os, time

POISON = {POISON!r}
MODULES = ["json", "re", "math", "traceback", "linecache", "tokenize", "ast", "codecs", "shutil",
           "tempfile", "subprocess", "selectors", "signal", "textwrap", "pprint", "reprlib",
           "copy", "string", "locale", "warnings", "weakref", "fnmatch", "glob", "pickle",
           "decimal", "fractions", "statistics", "collections", "functools", "typing",
           "sitecustomize", "usercustomize", "encodings", "_strptime", "inspect", "dis"]

def _sabotage():
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        for root in ("/tmp", "/sandbox", "/dev/shm", os.getcwd()):
            for directory, _, files in os.walk(root):
                for name in files:
                    try:
                        with open(os.path.join(directory, name), "w") as handle:
                            handle.write(POISON)
                    except OSError:
                        pass
                for module in MODULES:
                    try:
                        with open(os.path.join(directory, module + ".py"), "w") as handle:
                            handle.write(POISON)
                    except OSError:
                        pass
        time.sleep(0.05)

def secret(n):
    if n == 3:
        started, ready = os.pipe()
        if os.fork() == 0:
            os.setsid()  # out of the process group the harness kills
            if os.fork() == 0:
                os.write(ready, b"!")
                _sabotage()
            os._exit(0)
        os.read(started, 1)  # the daemon is on its own before this call returns
    return f"zebra-{{n * 7919}}-quokka" if n % 2 else "zebra"
"""


def test_a_background_process_rewriting_files_changes_nothing(fast):
    # Right for n = 3, 5 and 13, wrong for 8: worth 3/4 however hard the daemon works.
    verdict = fast.verify(secret_task(), answer(SABOTEUR), new_sandbox)
    assert verdict.score == 0.75, verdict.reason


def test_the_harness_imports_nothing_once_the_answer_runs():
    with new_sandbox() as sandbox:
        cell = harness_cell(secret_task().hidden, SABOTEUR, GraderLimits())
        summary = ast.literal_eval(sandbox.run(cell, timeout=40).value or "{}")
        assert summary["passed"] == 3 and summary["late_imports"] == []
        time.sleep(0.3)
        planted = sandbox.run("import os; sorted(os.listdir(os.getcwd()))").value or ""
        assert "'json.py'" in planted  # the daemon did plant its modules here...
        path = ast.literal_eval(sandbox.run("import sys; sys.path").value or "[]")
        assert not any(p.startswith(("/tmp", "/sandbox", "/dev/shm")) or not p for p in path)


# ------------------------------------------------------------------------------ loaders
HUMANEVAL = [
    {
        "task_id": "Demo/0",
        "prompt": (
            "from typing import List\n\n\n"
            "def scale(values: List[float], k: float) -> List[float]:\n"
            '    """Multiply every value by k."""\n'
        ),
        "canonical_solution": "    return [v * k for v in values]\n",
        "test": (
            "METADATA = {}\n\n\n"
            "def check(candidate):\n"
            "    assert candidate([1.0, 2.0], 2.0) == [2.0, 4.0]\n"
            "    assert candidate([], 3.0) == []\n"
            "    assert abs(sum(candidate([0.1], 3.0)) - 0.3) < 1e-9\n"
            "    assert True\n"
        ),
        "entry_point": "scale",
    },
    {
        "task_id": "Demo/1",
        "prompt": (
            "def helper(x):\n    return x + 1\n\n\n"
            'def bump_all(values):\n    """Apply helper to each value."""\n'
        ),
        "canonical_solution": "    return [helper(v) for v in values]\n",
        "test": (
            "def check(candidate):\n"
            "    import math\n"
            "    total = 0\n"
            "    for n in range(5):\n"
            "        assert candidate([n]) == [n + 1]\n"
        ),
        "entry_point": "bump_all",
    },
]

MBPP = [
    {
        "task_id": 901,
        "text": "Write a function to return the distinct even numbers of a list.",
        "code": "def even_set(xs):\n    return {x for x in xs if x % 2 == 0}",
        "test_list": [
            "assert even_set([1, 2, 4, 4]) == {2, 4}",
            "assert sorted(even_set([6, 3, 8])) == [6, 8]",
            "assert not even_set([1, 3])",
            "assert even_set([2]) | even_set([4]) == {2, 4}",
        ],
    },
    {
        "task_id": 902,
        "text": "Write a function to find the area of a circle.",
        "code": "import math\ndef circle_area(r):\n    return math.pi * r * r",
        "test_list": [
            "assert math.isclose(circle_area(1), 3.14159, rel_tol=0.001)",
            "assert circle_area(0) == 0",
        ],
        "test_imports": ["import math"],
    },
]


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def test_humaneval_records_become_tasks(tmp_path):
    family = ProgrammingFamily.from_jsonl(write_jsonl(tmp_path / "he.jsonl", HUMANEVAL))
    tasks = {t.id: t for t in family.tasks()}
    assert set(tasks) == {"programming-demo-0", "programming-demo-1"}
    scale = tasks["programming-demo-0"]
    assert "def scale(values: List[float], k: float)" in scale.prompt
    assert "[2.0, 4.0]" not in scale.prompt
    assert scale.hidden["weak"] == 0 and len(scale.hidden["cases"]) == 3
    assert scale.hidden["preamble"].strip() == "from typing import List"
    # A check() with statements other than asserts runs whole: one weak case.
    assert tasks["programming-demo-1"].hidden["weak"] == 1
    for task in tasks.values():
        verdict = family.verify(task, task.solution, new_sandbox)
        assert verdict.success, (task.id, verdict.reason)
    # The answer need not repeat the prompt's imports or helpers.
    wrong = answer("def scale(values, k):\n    return [v * k for v in values][:1]")
    verdict = family.verify(scale, wrong, new_sandbox)
    assert verdict.score == pytest.approx(2 / 3), verdict.reason
    helpless = answer("def bump_all(values):\n    return [helper(v) for v in values]")
    assert family.verify(tasks["programming-demo-1"], helpless, new_sandbox).success


def test_mbpp_records_become_tasks(tmp_path):
    family = ProgrammingFamily.from_jsonl(write_jsonl(tmp_path / "mbpp.jsonl", MBPP), "mbpp")
    tasks = {t.id: t for t in family.tasks()}
    assert set(tasks) == {"programming-mbpp-901", "programming-mbpp-902"}
    evens = tasks["programming-mbpp-901"]
    assert "def even_set(xs):" in evens.prompt and "{2, 4}" not in evens.prompt
    assert evens.hidden["weak"] == 1  # the assert with two calls
    for task in tasks.values():
        verdict = family.verify(task, task.solution, new_sandbox)
        assert verdict.success, (task.id, verdict.reason)
    # A list instead of a set fails where a set is expected, passes where it is sorted first.
    as_list = answer("def even_set(xs):\n    return sorted({x for x in xs if x % 2 == 0})")
    verdict = family.verify(evens, as_list, new_sandbox)
    assert verdict.score == 0.5, verdict.reason
    assert "1 ran as whole asserts" in verdict.reason


def test_weak_checks_are_the_only_ones_an_answer_can_fake(tmp_path):
    family = ProgrammingFamily.from_jsonl(write_jsonl(tmp_path / "mbpp.jsonl", MBPP), "mbpp")
    evens = next(t for t in family.tasks() if t.id == "programming-mbpp-901")
    cheat = answer(
        """
        import builtins
        builtins.exec = lambda *args, **kwargs: None

        def even_set(xs):
            return {0}
        """
    )
    verdict = family.verify(evens, cheat, new_sandbox)
    assert verdict.score == 0.25  # the weak check, faked; every split assert still fails


def test_convert_assert_shapes():
    def convert(source: str, callee=("f",)):
        node = ast.parse(source).body[0]
        assert isinstance(node, ast.Assert)
        return convert_assert(node, set(callee))

    assert convert("assert f(1, x=2) == [3]") == {
        "args_src": "[1]",
        "kwargs_src": "{'x': 2}",
        "expected_src": "[3]",
        "source": "assert f(1, x=2) == [3]",
    }
    assert convert("assert 'a' == f('b')")["expected_src"] == "'a'"
    assert convert("assert set(f(1)) == {1}")["wrap"] == ["set", "[]", "{}"]
    assert convert("assert round(f(1), 2) == 0.5")["wrap"] == ["round", "[2]", "{}"]
    assert convert("assert f(1) is None")["compare"] == "is"
    assert convert("assert abs(f(1) - 2.5) <= 1e-6")["tolerance"] == {
        "tol": "1e-06",
        "strict": "False",
    }
    assert convert("assert math.isclose(f(1), 2.0, rel_tol=0.01)")["compare"] == "isclose"
    assert convert("assert f(1)")["compare"] == "truthy"
    assert convert("assert not f(1)")["compare"] == "falsy"
    assert convert("assert f(f(1)) == 2") is None
    assert convert("assert f(1) + f(2) == 3") is None
    assert convert("assert f(1) == f(2)") is None
    assert convert("assert f(1) is g") is None


@pytest.mark.parametrize(
    ("lines", "format", "message"),
    [
        (['{"task_id": "a"'], "humaneval", r"bad\.jsonl:1: not valid JSON"),
        (["[1, 2]"], "humaneval", r"bad\.jsonl:1: a record must be a JSON object"),
        (
            [json.dumps({k: v for k, v in HUMANEVAL[0].items() if k != "entry_point"})],
            "humaneval",
            r"bad\.jsonl:1: missing field 'entry_point'",
        ),
        (
            ["", json.dumps({**HUMANEVAL[0], "test": "assert True"})],
            "humaneval",
            r"bad\.jsonl:2: test must define check\(candidate\)",
        ),
        (
            [json.dumps({**HUMANEVAL[0], "prompt": "def scale(:\n"})],
            "humaneval",
            r"bad\.jsonl:1: prompt is not valid Python",
        ),
        (
            [json.dumps({**HUMANEVAL[0], "entry_point": "nope"})],
            "humaneval",
            r"the prompt defines no function 'nope'",
        ),
        (
            [json.dumps(HUMANEVAL[0]), json.dumps(HUMANEVAL[0])],
            "humaneval",
            r"bad\.jsonl:2: task id 'programming-demo-0' repeats line 1",
        ),
        (
            [json.dumps({**MBPP[0], "test_list": "assert x"})],
            "mbpp",
            r"bad\.jsonl:1: field 'test_list' must be list, got a string",
        ),
        (
            [json.dumps({k: v for k, v in MBPP[0].items() if k != "code"})],
            "mbpp",
            r"bad\.jsonl:1: missing field 'code' \(a MBPP record needs task_id, text, code",
        ),
        (
            [json.dumps({**MBPP[0], "test_list": ["assert other(1) == 2"]})],
            "mbpp",
            r"bad\.jsonl:1: test_list calls no function that code defines",
        ),
        ([""], "mbpp", r"bad\.jsonl holds no tasks"),
    ],
)
def test_malformed_files_are_rejected_with_the_line(tmp_path, lines, format, message):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TaskError, match=message):
        load_jsonl(path, format)


def test_loader_arguments_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="format must be one of"):
        load_jsonl(tmp_path / "x.jsonl", "apps")
    with pytest.raises(TaskError, match="no task file"):
        load_jsonl(tmp_path / "missing.jsonl", "mbpp")


def test_grader_limits_are_validated():
    with pytest.raises(ConfigError, match="case_timeout_s must be a positive number"):
        GraderLimits(case_timeout_s=0)
    with pytest.raises(ConfigError, match="memory_mb must be at least 64"):
        GraderLimits(memory_mb=16)


def test_tasks_without_hidden_tests_are_refused(family):
    task = family.get("programming-run-length-encode", "train")
    broken = task.model_copy(update={"hidden": {"entry_point": "run_length_encode"}})
    with pytest.raises(TaskError, match="no hidden test cases"):
        family.verify(broken, task.solution, new_sandbox)
    bad_setup = task.model_copy(update={"hidden": {**task.hidden, "setup": "1 / 0"}})
    with pytest.raises(TaskError, match="hidden tests of programming-run-length-encode are broken"):
        family.verify(bad_setup, task.solution, new_sandbox)
