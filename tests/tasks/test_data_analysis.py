from __future__ import annotations

import contextlib
import csv
import io
import itertools
from pathlib import Path

import numpy as np
import pytest

from palaestra.errors import ConfigError, TaskError
from palaestra.tasks.code import CodeTask, TaskFamily
from palaestra.tasks.data_analysis import LEVELS, TEMPLATES, DataAnalysisFamily

NO_SANDBOX = None  # verify never needs one for data tasks


@pytest.fixture(scope="module")
def family() -> DataAnalysisFamily:
    return DataAnalysisFamily()


def run_reference(task: CodeTask, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The last line the reference code prints, run with plain exec among the task's files."""
    workdir.mkdir()
    for name, content in task.files.items():
        (workdir / name).write_text(content)
    monkeypatch.chdir(workdir)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(task.reference_code, {"__name__": "__main__"})
    monkeypatch.undo()
    return out.getvalue().strip().splitlines()[-1]


def score(family: DataAnalysisFamily, task: CodeTask, answer: str) -> float:
    return family.verify(task, answer, NO_SANDBOX).score


def first(family: DataAnalysisFamily, template: str, level: int, kind: str) -> CodeTask:
    narrowed = DataAnalysisFamily(template, level)
    return next(t for t in narrowed.iterate("train") if t.hidden["kind"] == kind)


def test_implements_the_task_family_protocol(family: DataAnalysisFamily) -> None:
    assert isinstance(family, TaskFamily)
    assert family.name == "data"
    assert "1e-4" in family.answer_format and "\\boxed" in family.answer_format


@pytest.mark.parametrize("split", ["train", "test"])
def test_oracle_and_reference_code_solve_sampled_tasks(
    family: DataAnalysisFamily, split: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Round-robin over every template and level: 6 tasks of each of the 18 pairs.
    tasks = list(itertools.islice(family.iterate(split), 6 * len(TEMPLATES) * len(LEVELS)))
    assert {(t.metadata["template"], t.difficulty) for t in tasks} == {
        (name, level) for name in TEMPLATES for level in LEVELS
    }
    for number, task in enumerate(tasks):
        assert task.split == split and task.family == "data" and task.files
        for name, content in task.files.items():
            assert name in task.prompt
            header = next(csv.reader(io.StringIO(content)))
            assert ", ".join(header) in task.prompt  # the prompt names the columns
        assert "pandas" not in task.reference_code and "numpy" not in task.reference_code
        assert score(family, task, task.solution) == 1.0, task.id
        printed = run_reference(task, tmp_path / str(number), monkeypatch)
        assert score(family, task, f"<answer>\\boxed{{{printed}}}</answer>") == 1.0, (
            task.id,
            printed,
            task.answer,
        )
        assert score(family, task, f"\\boxed{{{wrong_answer(task)}}}") == 0.0, task.id


def wrong_answer(task: CodeTask) -> str:
    if task.hidden["kind"] == "list":
        names = task.hidden["answer"]
        return ", ".join(reversed(names)) if len(names) > 1 else "Nowhere"
    return f"{float(task.hidden['exact']) * 1.01 + 1:.2f}"


def test_a_do_nothing_answer_scores_zero(family: DataAnalysisFamily) -> None:
    task = next(family.iterate("train"))
    for answer in ["I don't know", "", "<answer>42</answer>"]:
        verdict = family.verify(task, answer, NO_SANDBOX)
        assert verdict.score == 0.0 and not verdict.success
        assert "\\boxed" in verdict.reason


def test_numbers_are_compared_with_a_relative_tolerance(family: DataAnalysisFamily) -> None:
    task = first(family, "sales", 1, "number")
    exact = float(task.hidden["exact"])
    assert exact > 1000 and task.hidden["tolerance"] == 1e-4
    assert score(family, task, f"\\boxed{{{exact}}}") == 1.0  # unrounded
    assert score(family, task, f"\\boxed{{{exact * (1 + 5e-5):.4f}}}") == 1.0
    assert score(family, task, f"\\boxed{{{exact * (1 + 1e-3):.2f}}}") == 0.0
    assert score(family, task, f"\\boxed{{{exact:,.2f}}}") == 1.0  # 12,345.67
    assert score(family, task, f"\\boxed{{\\${exact:.2f}}}") == 1.0
    assert score(family, task, f"\\boxed{{\\text{{{exact:.2f} dollars}}}}") == 1.0
    verdict = family.verify(task, "\\boxed{12 or 13}", NO_SANDBOX)
    assert verdict.score == 0.0 and "one number" in verdict.reason
    verdict = family.verify(task, "\\boxed{7}", NO_SANDBOX)
    assert verdict.reason.startswith("expected a number within a relative 0.0001") and "got 7" in (
        verdict.reason
    )


def test_a_value_rounded_either_way_at_a_tie_is_accepted(family: DataAnalysisFamily) -> None:
    task = first(family, "sales", 1, "number")
    tie = task.model_copy(update={"hidden": {**task.hidden, "exact": 0.125, "answer": "0.12"}})
    assert score(family, tie, "\\boxed{0.12}") == 1.0
    assert score(family, tie, "\\boxed{0.13}") == 1.0
    assert score(family, tie, "\\boxed{0.14}") == 0.0


def test_counts_must_be_exact(family: DataAnalysisFamily) -> None:
    task = first(family, "inventory", 3, "number")
    count = int(task.answer)
    assert task.hidden["decimals"] == 0
    assert score(family, task, f"\\boxed{{{count}}}") == 1.0
    assert score(family, task, f"\\boxed{{{count}.0}}") == 1.0
    assert score(family, task, f"\\boxed{{{count + 1}}}") == 0.0
    assert score(family, task, f"\\boxed{{{count}.4}}") == 0.0


def test_percent_changes_accept_a_percent_sign(family: DataAnalysisFamily) -> None:
    task = first(family, "change", 1, "number")
    assert "in percent" in task.prompt
    assert score(family, task, f"\\boxed{{{task.answer}\\%}}") == 1.0
    assert score(family, task, f"\\boxed{{{task.answer}%}}") == 1.0


def test_lists_are_compared_in_order_ignoring_case_and_spaces(family: DataAnalysisFamily) -> None:
    task = first(family, "ranking", 2, "list")
    names = task.hidden["answer"]
    assert len(names) == 3
    assert score(family, task, "\\boxed{" + " ,  ".join(n.upper() for n in names) + "}") == 1.0
    assert score(family, task, "\\boxed{[" + ", ".join(f"'{n}'" for n in names) + "]}") == 1.0
    assert score(family, task, "\\boxed{\\text{" + "; ".join(names) + "}}") == 1.0
    assert score(family, task, "\\boxed{" + ", ".join(names[:2]) + "}") == 0.0
    verdict = family.verify(task, "\\boxed{" + ", ".join(reversed(names)) + "}", NO_SANDBOX)
    assert verdict.score == 0.0 and verdict.reason.startswith("expected 3 name(s)")


def test_ids_are_stable_and_reproducible(family: DataAnalysisFamily) -> None:
    task = family.sample(np.random.default_rng(3), "test")
    assert DataAnalysisFamily().sample(np.random.default_rng(3), "test") == task
    assert family.get(task.id, "test") is task
    from palaestra.tasks.data_analysis import family as data_analysis

    data_analysis._make_task.cache_clear()  # rebuilt from the id alone
    assert family.get(task.id, "test").model_dump() == task.model_dump()
    template, level, index = task.id.split("-")[1:]
    assert (task.metadata["template"], task.difficulty, task.seed) == (
        template,
        int(level),
        int(index),
    )


def test_splits_are_disjoint(family: DataAnalysisFamily) -> None:
    seen: dict[str, set[tuple[str, tuple[tuple[str, str], ...]]]] = {}
    for split in ("train", "test"):
        tasks = list(itertools.islice(family.iterate(split), 200))
        assert all(t.split == split for t in tasks)
        seen[split] = {(t.prompt, tuple(sorted(t.files.items()))) for t in tasks}
    assert not seen["train"] & seen["test"]


def test_get_of_the_other_split_or_a_bad_id_raises(family: DataAnalysisFamily) -> None:
    task = next(family.iterate("test"))
    with pytest.raises(TaskError, match="belongs to the test split, not train"):
        family.get(task.id, "train")
    for bad in ["data-nope-1-0", "data-sales-4-0", "math-sales-1-0", "data-sales-1", "sales"]:
        with pytest.raises(TaskError, match="ids look like 'data-sales-2-417'"):
            family.get(bad, "train")


def test_a_family_can_be_restricted_and_bad_configuration_is_refused() -> None:
    family = DataAnalysisFamily(templates=["grades"], levels=3)
    rng = np.random.default_rng(0)
    assert all(family.sample(rng, "train").id.startswith("data-grades-3-") for _ in range(5))
    with pytest.raises(ConfigError, match="templates must be among"):
        DataAnalysisFamily(templates="pivot")
    with pytest.raises(ConfigError, match="levels must be among"):
        DataAnalysisFamily(levels=0)
