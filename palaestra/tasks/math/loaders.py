"""Math tasks from data sets: GSM8K- or MATH-style rows of a JSONL file or a Hugging Face dataset.

`MathFamily.from_jsonl` and `MathFamily.from_hf` read rows (`jsonl_rows`, `hf_rows`), turn each
into a task (`tasks_from_rows`) and serve the list in its order (`ListedTasks`). A row's
reference answer is drawn from its worked solution by an extractor, `default_answer` unless one
is given. The ``datasets`` package is imported only to load a dataset by name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from palaestra.errors import ConfigError, TaskError, require
from palaestra.tasks.code import CodeTask
from palaestra.tasks.generated import checked
from palaestra.tasks.math.answers import default_answer
from palaestra.tasks.splits import split_of
from palaestra.tasks.task import Split

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Fields", "ListedTasks", "Row", "hf_rows", "jsonl_rows", "tasks_from_rows"]

Row = tuple[str, int, Any]
"""Where a row is (for messages), its number, and the row itself."""


def jsonl_rows(path: Path) -> list[Row]:
    """The rows of a JSONL file, one JSON value a non-blank line, numbered from 1."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskError(f"cannot read math tasks from {path}: {exc}") from exc
    rows: list[Row] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append((f"{path}, line {number}", number, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise TaskError(f"{path}, line {number}: not valid JSON ({exc.msg})") from exc
    return rows


def hf_rows(dataset: Any, subset: str | None, hf_split: str) -> tuple[list[Row], str]:
    """The rows of a Hugging Face dataset (or of one loaded by name), numbered from 0.

    Returns:
        The rows, and the name of their source.
    """
    if isinstance(dataset, str):
        require("datasets", "train")
        import datasets

        source = f"{dataset}:{hf_split}"
        dataset = datasets.load_dataset(dataset, subset, split=hf_split)
    else:
        info = getattr(dataset, "info", None)
        source = getattr(info, "dataset_name", None) or "dataset"
    if isinstance(dataset, Mapping):  # a DatasetDict
        if hf_split not in dataset:
            raise TaskError(f"the dataset has no split {hf_split!r}; it has {list(dataset)}")
        dataset = dataset[hf_split]
    if not isinstance(dataset, Iterable):
        raise TaskError(f"expected a datasets.Dataset or a name, got {type(dataset).__name__}")
    return [(f"{source}, row {i}", i, row) for i, row in enumerate(dataset)], source


@dataclass(frozen=True)
class Fields:
    """Which of a row's fields hold the question, answer, id and difficulty (see `from_jsonl`)."""

    question: str
    answer: str
    id: str | None
    difficulty: str | None


def tasks_from_rows(
    rows: list[Row],
    source: str,
    fields: Fields,
    split: Split | None,
    extract: Callable[[str], str] | None,
    name: str,
) -> list[CodeTask]:
    """One task a row, with ids ``{name}-{id or number}``; a `TaskError` names a bad row.

    ``extract`` draws the final answer from the answer field (`default_answer` for None).
    """
    extract = extract or default_answer
    if split not in (None, "train", "test"):
        raise ConfigError(f"split must be 'train', 'test' or None, got {split!r}")
    tasks: list[CodeTask] = []
    first: dict[str, str] = {}
    for where, number, row in rows:
        if not isinstance(row, Mapping):
            raise TaskError(f"{where}: expected a JSON object, got {type(row).__name__}")
        question = _text(row, fields.question, where)
        worked = _text(row, fields.answer, where)
        try:
            gold = extract(worked).strip()
        except ValueError as exc:
            raise TaskError(f"{where}: field {fields.answer!r}: {exc}") from exc
        if not gold:
            raise TaskError(f"{where}: field {fields.answer!r} has no final answer")
        key = number if fields.id is None else _text(row, fields.id, where)
        task_id = f"{name}-{key}"
        if task_id in first:
            raise TaskError(f"{where}: id {task_id!r} was already used on {first[task_id]}")
        first[task_id] = where
        level = 1
        if fields.difficulty is not None:
            digits = re.search(r"\d+", str(row.get(fields.difficulty, "")))
            level = max(1, int(digits[0])) if digits else 1
        tasks.append(
            CodeTask(
                id=task_id,
                prompt=f"{question}\n\nPut your final answer in \\boxed{{}}.",
                split=split or split_of(question),
                domain="math",
                difficulty=level,
                seed=number,
                answer=gold,
                metadata={"source": source, "row": number},
                family=name,
                reference_code=f"print({gold!r})\n",
                solution=f"The answer is \\boxed{{{gold}}}",
                hidden={"answer": gold, "worked_solution": worked},
            )
        )
    return tasks


def _text(row: Mapping[str, Any], field: str, where: str) -> str:
    if field not in row:
        raise TaskError(f"{where}: field {field!r} is missing (fields: {sorted(map(str, row))})")
    value = row[field]
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TaskError(f"{where}: field {field!r} must be text, got {type(value).__name__}")
    if not str(value).strip():
        raise TaskError(f"{where}: field {field!r} is empty")
    return str(value)


class ListedTasks:
    """A fixed list of tasks (a loaded data set), in its order."""

    def __init__(self, name: str, tasks: Sequence[CodeTask]) -> None:
        self.name = name
        self.by_id: dict[str, CodeTask] = {}
        for task in tasks:
            if task.id in self.by_id:
                raise TaskError(f"two tasks share the id {task.id!r}")
            self.by_id[task.id] = task
        self.by_split: dict[str, list[CodeTask]] = {"train": [], "test": []}
        for task in tasks:
            self.by_split[task.split].append(task)

    def get(self, task_id: str, split: Split) -> CodeTask:
        """The task with this id; a `TaskError` if it does not exist or is in the other split."""
        task = self.by_id.get(task_id) if isinstance(task_id, str) else None
        if task is None:
            raise TaskError(f"{task_id!r} is not a task of the {self.name!r} family")
        return checked(task, task_id, split)

    def sample(self, rng: np.random.Generator, split: Split) -> CodeTask:
        """A task of the split drawn with ``rng``."""
        tasks = self.by_split[split]
        if not tasks:
            raise TaskError(f"the {self.name!r} family has no {split} tasks")
        return tasks[int(rng.integers(len(tasks)))]

    def iterate(self, split: Split) -> Iterator[CodeTask]:
        """The split's tasks in the list's order."""
        return iter(self.by_split[split])
