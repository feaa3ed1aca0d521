"""`ProgrammingFamily`: write a function that passes hidden unit tests.

The agent reads a function's signature and specification, may try code in its session, and ends
with the complete function inside ``<answer>`` tags. Hidden tests run afterwards in a fresh
sandbox (`grader.py`); the score is the fraction passed, success is all of them.

Built-in problems (`problems.py`) are original, with JSON arguments and expected values;
`ProgrammingFamily.from_jsonl` loads HumanEval- or MBPP-style files instead (`loader.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from palaestra.core.types import Verdict
from palaestra.errors import TaskError
from palaestra.tasks.code import CodeTask, SandboxFactory
from palaestra.tasks.programming.grader import GraderLimits, grade
from palaestra.tasks.programming.problems import PROBLEMS, Problem
from palaestra.tasks.splits import split_of
from palaestra.tasks.task import Split

if TYPE_CHECKING:
    import numpy as np

__all__ = ["ANSWER_FORMAT", "ProgrammingFamily", "answer_for", "problem_task", "task_prompt"]

ANSWER_FORMAT = (
    "give the complete function definition, with any imports and helpers it needs, inside "
    "<answer></answer> tags; a ```python fence inside the tags is fine. Code inside the tags is "
    "never run in your session: it is graded afterwards by hidden unit tests, and the score is "
    "the fraction it passes. Test your function first by running it in ```python blocks outside "
    "the tags."
)


def task_prompt(statement: str, entry_point: str) -> str:
    """The task as the agent reads it: the specification, then how to answer."""
    return (
        f"Write the Python function `{entry_point}` specified below.\n\n"
        f"```python\n{statement.rstrip()}\n```\n\n"
        f"When you are done, {ANSWER_FORMAT}"
    )


def answer_for(code: str) -> str:
    """A final answer that holds ``code``: what the oracle replies."""
    return f"<answer>\n```python\n{code.strip()}\n```\n</answer>"


def problem_task(problem: Problem) -> CodeTask:
    """The `CodeTask` of a built-in problem; its split is a hash of its statement."""
    statement = problem.statement()
    name = problem.entry_point
    check = (
        f"\n\n_result = {name}(*{problem.example[0]!r})\n"
        f"print('{name}(...) on the example ->', repr(_result))\n"
    )
    return CodeTask(
        id=f"programming-{problem.slug}",
        prompt=task_prompt(statement, name),
        split=split_of(statement),
        domain="programming",
        difficulty=problem.difficulty,
        seed=problem.slug,
        family="programming",
        reference_code=problem.reference.strip() + check,
        solution=answer_for(problem.reference),
        hidden={
            "entry_point": name,
            "compare": problem.compare,
            "cases": [
                {"args": list(args), "expected": expected} for args, expected in problem.cases
            ],
        },
        metadata={"source": "palaestra", "tests": len(problem.cases)},
    )


class ProgrammingFamily:
    """Programming problems graded by hidden unit tests (see the module docstring).

    Args:
        tasks: The tasks; the built-in problems when None.
        limits: Time and memory limits of grading.
    """

    name = "programming"
    description = (
        "Each problem asks for one Python function; hidden unit tests decide whether it is right."
    )
    answer_format = ANSWER_FORMAT

    def __init__(
        self, tasks: Iterable[CodeTask] | None = None, *, limits: GraderLimits | None = None
    ):
        self.limits = limits or GraderLimits()
        chosen = list(tasks) if tasks is not None else [problem_task(p) for p in PROBLEMS]
        self._by_id: dict[str, CodeTask] = {}
        for task in chosen:
            if task.id in self._by_id:
                raise TaskError(f"two programming tasks share the id {task.id!r}")
            if not task.id.startswith(f"{self.name}-"):
                raise TaskError(f"programming task ids start with 'programming-', got {task.id!r}")
            self._by_id[task.id] = task
        self._splits: dict[str, list[CodeTask]] = {"train": [], "test": []}
        for task in chosen:
            self._splits[task.split].append(task)

    @classmethod
    def from_jsonl(
        cls, path: str | Path, format: str = "humaneval", *, limits: GraderLimits | None = None
    ) -> ProgrammingFamily:
        """The problems of a HumanEval-style (``"humaneval"``) or MBPP-style (``"mbpp"``) file."""
        from palaestra.tasks.programming.loader import load_jsonl

        return cls(load_jsonl(path, format), limits=limits)

    # --------------------------------------------------------------------------- TaskFamily
    def get(self, task_id: str, split: Split) -> CodeTask:
        """The task with this id; a `TaskError` if it does not exist or is in the other split."""
        task = self._by_id.get(task_id)
        if task is None:
            raise TaskError(f"no programming task has the id {task_id!r}")
        if task.split != split:
            raise TaskError(f"task {task_id!r} is in the {task.split} split, not {split}")
        return task

    def sample(self, rng: np.random.Generator, split: Split) -> CodeTask:
        """A task of the split drawn with ``rng``."""
        tasks = self._tasks(split)
        return tasks[int(rng.integers(len(tasks)))]

    def iterate(self, split: Split) -> Iterator[CodeTask]:
        """The split's tasks in a fixed order."""
        return iter(self._tasks(split))

    def verify(self, task: CodeTask, answer: str, new_sandbox: SandboxFactory) -> Verdict:
        """Run the hidden tests against the answer in a fresh sandbox (see `grader.grade`)."""
        return grade(task, answer, new_sandbox, self.limits)

    # ------------------------------------------------------------------------------ helpers
    def tasks(self, split: Split | None = None) -> list[CodeTask]:
        """All tasks, or those of one split."""
        if split is None:
            return list(self._by_id.values())
        return list(self._tasks(split))

    def _tasks(self, split: Split) -> list[CodeTask]:
        if split not in self._splits:
            raise TaskError(f"split must be 'train' or 'test', got {split!r}")
        tasks = self._splits[split]
        if not tasks:
            raise TaskError(f"this programming family has no {split} tasks")
        return tasks

    def __len__(self) -> int:
        return len(self._by_id)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{split}={len(tasks)}" for split, tasks in self._splits.items())
        return f"ProgrammingFamily({sizes})"
