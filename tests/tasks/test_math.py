from __future__ import annotations

import contextlib
import io
import itertools
import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from palaestra.errors import ConfigError, TaskError
from palaestra.tasks import split_of
from palaestra.tasks.code import CodeTask, TaskFamily
from palaestra.tasks.math import GENERATORS, LEVELS, MathFamily, default_answer, last_boxed

pytest.importorskip("math_verify")
pytest.importorskip("reasoning_gym")

NO_SANDBOX = None  # verify never needs one for math


@pytest.fixture(scope="module")
def family() -> MathFamily:
    family = MathFamily()
    task = next(family.iterate("train"))
    assert family.verify(task, task.solution, NO_SANDBOX).score == 1.0  # warms math-verify
    return family


def run_reference(task: CodeTask) -> str:
    """The last line the reference code prints, run with plain exec (no sandbox needed)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(task.reference_code, {"__name__": "__main__"})
    return out.getvalue().strip().splitlines()[-1]


def score(family: MathFamily, task: CodeTask, answer: str) -> float:
    return family.verify(task, answer, NO_SANDBOX).score


def fixed_task(gold: str) -> tuple[MathFamily, CodeTask]:
    task = CodeTask(
        id="fixed-1",
        prompt="?",
        split="train",
        domain="math",
        difficulty=1,
        seed=1,
        family="fixed",
        reference_code=f"print({gold!r})",
        solution=f"\\boxed{{{gold}}}",
        hidden={"answer": gold},
    )
    return MathFamily(tasks=[task], name="fixed"), task


# ------------------------------------------------------------------------ generated tasks
def test_implements_the_task_family_protocol(family: MathFamily) -> None:
    assert isinstance(family, TaskFamily)
    assert family.name == "math"
    assert "\\boxed" in family.answer_format


@pytest.mark.parametrize("split", ["train", "test"])
def test_oracle_and_reference_code_solve_sampled_tasks(family: MathFamily, split: str) -> None:
    # Round-robin over every generator and level: 4 tasks of each of the 30 pairs.
    tasks = list(itertools.islice(family.iterate(split), 4 * len(GENERATORS) * len(LEVELS)))
    assert {(t.metadata["generator"], t.difficulty) for t in tasks} == {
        (g, level) for g in GENERATORS for level in LEVELS
    }
    for task in tasks:
        assert task.split == split and task.id.startswith("math-") and task.family == "math"
        assert "\\boxed{}" in task.prompt
        assert score(family, task, task.solution) == 1.0, task.id
        printed = run_reference(task)
        assert score(family, task, f"\\boxed{{{printed}}}") == 1.0, (task.id, printed)
        wrong = family.verify(task, f"\\boxed{{{task.hidden['answer']} + 1}}", NO_SANDBOX)
        assert wrong.score == 0.0 and not wrong.success, task.id


def test_a_do_nothing_answer_scores_zero(family: MathFamily) -> None:
    task = next(family.iterate("train"))
    for answer in ["I don't know", "", "<answer></answer>", "the answer is 42"]:
        verdict = family.verify(task, answer, NO_SANDBOX)
        assert verdict.score == 0.0 and not verdict.success
        assert "\\boxed" in verdict.reason
    assert "empty" in family.verify(task, "\\boxed{ }", NO_SANDBOX).reason


def test_a_wrong_answer_scores_zero_and_says_what_was_read(family: MathFamily) -> None:
    fam, task = fixed_task("\\frac{1}{2}")
    verdict = fam.verify(task, "So \\boxed{1/3}.", NO_SANDBOX)
    assert verdict.score == 0.0
    assert verdict.reason.startswith("expected an answer equal to the reference; got")
    assert "1}{3" in verdict.reason and "{1}{2}" not in verdict.reason  # no leak of the gold
    assert "could not read" in fam.verify(task, "\\boxed{)(}", NO_SANDBOX).reason


@pytest.mark.parametrize(
    "answer",
    [
        "\\boxed{2/4}",
        "\\boxed{0.5}",
        "\\boxed{\\frac{1}{2}}",
        "\\boxed{\\frac12}",
        "\\boxed{\\dfrac{1}{2}}",
        "<answer>\\boxed{0.50}</answer>",
        "The probability is $\\boxed{\\frac{2}{4}}$.",
        "first \\boxed{7}, on reflection \\boxed{1/2}",  # the last box counts
    ],
)
def test_equivalent_forms_of_a_half_score_one(answer: str) -> None:
    fam, task = fixed_task("\\frac{1}{2}")
    assert score(fam, task, answer) == 1.0


@pytest.mark.parametrize(
    ("gold", "answer", "expected"),
    [
        ("1000", "\\boxed{1,000}", 1.0),
        ("1000", "\\boxed{1000.0}", 1.0),
        ("1000", "\\boxed{10^3}", 1.0),
        ("1000", "\\boxed{999}", 0.0),
        ("-4", "\\boxed{x = -4}", 1.0),
        ("-4", "\\boxed{4}", 0.0),
        ("\\frac{737}{960}", "\\boxed{0.767708}", 1.0),  # a decimal to 6 places is the same
        ("\\frac{737}{960}", "\\boxed{0.77}", 0.0),
        ("60.5", "\\boxed{60.50}", 1.0),
        ("1194348413414345238", "\\boxed{1.1943484134143452e18}", 0.0),  # a float is not exact
        ("2\\sqrt{2}", "\\boxed{\\sqrt{8}}", 1.0),
        ("x^2+2x+1", "\\boxed{(x+1)^2}", 1.0),
    ],
)
def test_answers_are_compared_symbolically(gold: str, answer: str, expected: float) -> None:
    fam, task = fixed_task(gold)
    assert score(fam, task, answer) == expected


def test_ids_are_stable_and_reproducible(family: MathFamily) -> None:
    first = family.sample(np.random.default_rng(7), "train")
    again = MathFamily().sample(np.random.default_rng(7), "train")
    assert first == again
    assert family.get(first.id, "train") == first
    from palaestra.tasks.math import generators as math_module

    math_module._make_task.cache_clear()  # rebuilt from the id alone, not from a cache
    assert family.get(first.id, "train").model_dump() == first.model_dump()
    generator, level, index = first.id.split("-")[1:]
    assert first.metadata["generator"] == generator and first.difficulty == int(level)
    assert first.seed == int(index)


def test_splits_are_disjoint_and_follow_the_statement_hash(family: MathFamily) -> None:
    prompts: dict[str, set[str]] = {}
    for split in ("train", "test"):
        tasks = list(itertools.islice(family.iterate(split), 300))
        assert all(t.split == split for t in tasks)
        prompts[split] = {t.prompt for t in tasks}
        question = tasks[0].prompt.rsplit("\n\nPut your final answer", 1)[0]
        assert split_of(question) == split
    assert not prompts["train"] & prompts["test"]


def test_get_of_the_other_split_or_a_bad_id_raises(family: MathFamily) -> None:
    test_task = next(family.iterate("test"))
    with pytest.raises(TaskError, match="belongs to the test split, not train"):
        family.get(test_task.id, "train")
    for bad in ["math-nope-1-0", "math-gcd-4-0", "gcd-1-0", "math-gcd-1-x", "data-gcd-1-0"]:
        with pytest.raises(TaskError, match="ids look like 'math-gcd-2-417'"):
            family.get(bad, "train")


def test_a_family_can_be_restricted_to_generators_and_levels() -> None:
    family = MathFamily(generators="gcd", levels=[1])
    rng = np.random.default_rng(0)
    assert all(family.sample(rng, "test").id.startswith("math-gcd-1-") for _ in range(5))
    with pytest.raises(TaskError, match="ids look like"):
        family.get("math-lcm-1-0", "train")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"generators": "prime_factorization"}, "generators must be among"),
        ({"levels": 4}, "levels must be among"),
        ({"levels": []}, "levels must be among"),
        ({"name": "Math Set"}, "name must be lowercase"),
        ({"tasks": [], "levels": 1}, "either tasks or generators"),
    ],
)
def test_bad_configuration_is_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        MathFamily(**kwargs)


def test_verify_off_the_main_thread_gives_the_same_verdicts(family: MathFamily) -> None:
    task = next(family.iterate("train"))
    answers = [task.solution, "\\boxed{-123456}", "no box"]
    expected = [family.verify(task, a, NO_SANDBOX) for a in answers]
    got: list = []
    thread = threading.Thread(
        target=lambda: got.extend(family.verify(task, a, None) for a in answers)
    )
    thread.start()
    thread.join(60)
    assert [v.score for v in got] == [v.score for v in expected] == [1.0, 0.0, 0.0]


@pytest.mark.slow
def test_an_answer_that_never_finishes_comparing_is_cut_off(family: MathFamily) -> None:
    fam, task = fixed_task("42")
    bomb = "\\boxed{9^{9^{9^{9}}}}"
    assert score(fam, task, bomb) == 0.0  # main thread: math-verify's own timeout
    got: list = []
    thread = threading.Thread(target=lambda: got.append(fam.verify(task, bomb, None)))
    thread.start()
    thread.join(60)
    assert got[0].score == 0.0 and "too long" in got[0].reason  # the helper process was killed
    assert score(fam, task, "\\boxed{42}") == 1.0


def test_importing_the_family_modules_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, palaestra.tasks.math, palaestra.tasks.data_analysis\n"
        "print([m for m in ('math_verify', 'reasoning_gym', 'sympy', 'datasets') "
        "if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------------ answer text
def test_last_boxed_balances_braces() -> None:
    assert last_boxed("\\boxed{1} then \\boxed{\\frac{1}{x^{2}}}") == "\\frac{1}{x^{2}}"
    assert last_boxed("\\fbox{7}") == "7"
    assert last_boxed("\\boxed {3}") == "3"
    assert last_boxed("\\boxed{unclosed") is None
    assert last_boxed("no box") is None


@pytest.mark.parametrize(
    ("worked", "answer"),
    [
        ("She has 3 + 4 = 7 apples.\n#### 7", "7"),
        ("Total: 1,250 dollars\n#### 1,250", "1250"),
        ("So $x = \\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"),
        ("42", "42"),
    ],
)
def test_default_answer_reads_gsm8k_math_and_plain_answers(worked: str, answer: str) -> None:
    assert default_answer(worked) == answer


def test_default_answer_refuses_a_long_text_without_a_final_answer() -> None:
    with pytest.raises(ValueError, match="no final answer"):
        default_answer("a long\nworked solution that never states the answer")


# ---------------------------------------------------------------------------------- loaders
def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


GSM8K_ROWS = [
    {"question": "Tom has 3 apples and buys 4 more. How many?", "answer": "3 + 4 = 7\n#### 7"},
    {"question": "A car costs 1,000 dollars, twice. Total?", "answer": "2 * 1000\n#### 2,000"},
    {"question": "Half of 9?", "answer": "9 / 2 = 4.5\n#### 4.5"},
]


def test_from_jsonl_loads_gsm8k_rows(tmp_path: Path) -> None:
    family = MathFamily.from_jsonl(write_jsonl(tmp_path / "gsm8k.jsonl", GSM8K_ROWS), name="gsm8k")
    tasks = [t for split in ("train", "test") for t in family.iterate(split)]
    assert sorted(t.id for t in tasks) == ["gsm8k-1", "gsm8k-2", "gsm8k-3"]
    for task in tasks:
        assert task.split == split_of(GSM8K_ROWS[int(task.id[6:]) - 1]["question"])
        assert family.get(task.id, task.split) is task
        assert score(family, task, task.solution) == 1.0
        assert score(family, task, f"\\boxed{{{run_reference(task)}}}") == 1.0
        assert task.hidden["worked_solution"].startswith(GSM8K_ROWS[int(task.id[6:]) - 1]["answer"])
    by_id = {t.id: t for t in tasks}
    assert by_id["gsm8k-2"].hidden["answer"] == "2000"
    assert score(family, by_id["gsm8k-2"], "\\boxed{2,000}") == 1.0
    assert score(family, by_id["gsm8k-3"], "\\boxed{9/2}") == 1.0
    assert score(family, by_id["gsm8k-3"], "\\boxed{4}") == 0.0


def test_from_jsonl_loads_math_rows_with_ids_levels_and_a_fixed_split(tmp_path: Path) -> None:
    rows = [
        {"unique_id": "algebra/1", "problem": "Solve 2x=1.", "level": "Level 3",
         "solution": "Divide: $x = \\boxed{\\frac{1}{2}}$."},
        {"unique_id": "algebra/2", "problem": "Simplify (x+1)^2.", "level": "Level ?",
         "solution": "Expand: $\\boxed{x^2+2x+1}$"},
    ]  # fmt: skip
    family = MathFamily.from_jsonl(
        write_jsonl(tmp_path / "math.jsonl", rows),
        question_field="problem",
        answer_field="solution",
        id_field="unique_id",
        difficulty_field="level",
        split="test",
    )
    assert list(family.iterate("train")) == []
    first, second = family.iterate("test")
    assert (first.id, first.difficulty, second.difficulty) == ("math-algebra/1", 3, 1)
    assert first.answer == "\\frac{1}{2}" and "Solve 2x=1." in first.prompt
    assert score(family, first, "\\boxed{0.5}") == 1.0
    assert score(family, second, "\\boxed{(x+1)^2}") == 1.0
    assert score(family, second, f"\\boxed{{{run_reference(second)}}}") == 1.0
    with pytest.raises(TaskError, match="belongs to the test split, not train"):
        family.get("math-algebra/1", "train")
    with pytest.raises(TaskError, match="not a task of the 'math' family"):
        family.get("math-algebra/3", "test")
    assert family.sample(np.random.default_rng(0), "test") in (first, second)
    with pytest.raises(TaskError, match="has no train tasks"):
        family.sample(np.random.default_rng(0), "train")


def test_from_jsonl_with_a_custom_answer_extractor(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [{"q": "2+2?", "a": "ANSWER: 4"}])
    family = MathFamily.from_jsonl(
        path, question_field="q", answer_field="a", answer_extractor=lambda s: s.split(":")[1]
    )
    task = next(itertools.chain(family.iterate("train"), family.iterate("test")))
    assert task.answer == "4"


@pytest.mark.parametrize(
    ("lines", "match"),
    [
        ([GSM8K_ROWS[0], "{not json"], r"bad\.jsonl, line 2: not valid JSON"),
        (["[1, 2]"], r"line 1: expected a JSON object, got list"),
        ([{"question": "q"}], r"line 1: field 'answer' is missing"),
        ([{"question": "q", "answer": ["7"]}], r"line 1: field 'answer' must be text, got list"),
        ([{"question": "  ", "answer": "7"}], r"line 1: field 'question' is empty"),
        (
            [{"question": "q", "answer": "long\nworking, no result"}],
            r"line 1: field 'answer': no final",
        ),
        ([{"question": "q", "answer": "#### "}], r"line 1: field 'answer' has no final answer"),
    ],
)
def test_malformed_jsonl_names_the_line_and_field(tmp_path: Path, lines: list, match: str) -> None:
    with pytest.raises(TaskError, match=match):
        MathFamily.from_jsonl(write_jsonl(tmp_path / "bad.jsonl", lines))


def test_duplicate_ids_and_missing_files_are_refused(tmp_path: Path) -> None:
    rows = [{"id": "a", **GSM8K_ROWS[0]}, {"id": "a", **GSM8K_ROWS[1]}]
    with pytest.raises(TaskError, match=r"line 2: id 'math-a' was already used on .*line 1"):
        MathFamily.from_jsonl(write_jsonl(tmp_path / "dup.jsonl", rows), id_field="id")
    with pytest.raises(TaskError, match="cannot read math tasks from"):
        MathFamily.from_jsonl(tmp_path / "missing.jsonl")
    with pytest.raises(ConfigError, match="split must be"):
        MathFamily.from_jsonl(write_jsonl(tmp_path / "ok.jsonl", GSM8K_ROWS), split="dev")  # type: ignore[arg-type]


def test_from_hf_maps_a_local_dataset() -> None:
    datasets = pytest.importorskip("datasets")
    dataset = datasets.Dataset.from_list(GSM8K_ROWS)
    family = MathFamily.from_hf(dataset, name="gsm8k", split="train")
    tasks = list(family.iterate("train"))
    assert [t.id for t in tasks] == ["gsm8k-0", "gsm8k-1", "gsm8k-2"]
    assert [t.answer for t in tasks] == ["7", "2000", "4.5"]
    assert all(score(family, t, t.solution) == 1.0 for t in tasks)
    both = MathFamily.from_hf(datasets.DatasetDict({"test": dataset}), hf_split="test")
    assert len([*both.iterate("train"), *both.iterate("test")]) == 3
    with pytest.raises(TaskError, match="has no split 'train'"):
        MathFamily.from_hf(datasets.DatasetDict({"test": dataset}))
    broken = datasets.Dataset.from_list([{"question": "q", "answer": "7"}, {"question": "q2"}])
    with pytest.raises(TaskError, match=r"row 1: field 'answer'"):
        MathFamily.from_hf(broken)
    with pytest.raises(TaskError, match="expected a datasets.Dataset"):
        MathFamily.from_hf(42)
