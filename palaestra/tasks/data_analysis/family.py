"""`DataAnalysisFamily`: the question templates by name, and how a draft becomes a task.

Task ``data-sales-2-417`` is what template ``sales`` writes at level 2 from
``random.Random("data/sales/2/417")``; an index whose draft is unusable (or whose answer is 0, too
easy to guess) yields no task. The split is a hash of the question and the files.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from palaestra.core.types import Verdict
from palaestra.errors import TaskError
from palaestra.tasks.code import CodeTask, SandboxFactory
from palaestra.tasks.data_analysis.checks import check
from palaestra.tasks.data_analysis.drafts import Draft
from palaestra.tasks.data_analysis.grades import grades
from palaestra.tasks.data_analysis.inventory import inventory
from palaestra.tasks.data_analysis.sales import change, ranking, sales
from palaestra.tasks.data_analysis.sensors import sensors
from palaestra.tasks.generated import Generated, checked, choose
from palaestra.tasks.splits import split_of
from palaestra.tasks.task import Split

if TYPE_CHECKING:
    import numpy as np

__all__ = ["LEVELS", "RELATIVE_TOLERANCE", "TEMPLATES", "DataAnalysisFamily"]

LEVELS = (1, 2, 3)
RELATIVE_TOLERANCE = 1e-4

TEMPLATES: dict[str, Callable[[random.Random, int], Draft | None]] = {
    "sales": sales,
    "ranking": ranking,
    "change": change,
    "sensors": sensors,
    "grades": grades,
    "inventory": inventory,
}
"""Question templates by name; each takes a seeded RNG and a level (1-3)."""


@functools.lru_cache(maxsize=4096)
def _make_task(template: str, level: int, index: int) -> CodeTask | None:
    draft = TEMPLATES[template](random.Random(f"data/{template}/{level}/{index}"), level)
    if draft is None or draft.answer == 0:  # a zero is too easy to guess
        return None
    files = "; ".join(f"{name} ({draft.columns[name]})" for name in draft.files)
    prompt = f"Files: {files}.\n\n{draft.question} {draft.answer_format}"
    fingerprint = hashlib.blake2b(digest_size=8)
    for name in sorted(draft.files):
        fingerprint.update(f"{name}\n{draft.files[name]}\n".encode())
    hidden: dict[str, Any]
    if isinstance(draft.answer, list):
        gold = ", ".join(draft.answer)
        hidden = {"kind": "list", "answer": list(draft.answer)}
    else:
        gold = f"{draft.answer:.{draft.decimals}f}"
        hidden = {
            "kind": "number",
            "answer": gold,
            "exact": draft.answer,
            "decimals": draft.decimals,
            "tolerance": RELATIVE_TOLERANCE,
        }
    return CodeTask(
        id=f"data-{template}-{level}-{index}",
        prompt=prompt,
        split=split_of(f"{draft.question}\n{fingerprint.hexdigest()}"),
        domain="data",
        difficulty=level,
        seed=index,
        answer=gold,
        metadata={"template": template, "files": sorted(draft.files)},
        family="data",
        files=draft.files,
        reference_code=draft.reference_code,
        solution=f"Computed from the files: \\boxed{{{gold}}}",
        hidden=hidden,
    )


class DataAnalysisFamily:
    """Questions about CSV files for CodeInterpreter-v0, checked numerically or as name lists.

    Args:
        templates: names from `TEMPLATES` (all by default).
        levels: difficulty levels, 1-3 (all by default).
    """

    name = "data"
    description = (
        "Data analysis: the CSV files named in the task are in the working directory; compute the "
        "answer with Python (csv and statistics always work; pandas may be missing)."
    )
    answer_format = (
        "Put the final answer in \\boxed{}: a number rounded as asked (compared with a relative "
        "tolerance of 1e-4), or names in order separated by commas, e.g. \\boxed{North, East}."
    )

    def __init__(
        self,
        templates: str | Sequence[str] | None = None,
        levels: int | Sequence[int] | None = None,
    ) -> None:
        self.templates: tuple[str, ...] = choose(templates, "templates", TEMPLATES)
        self.levels: tuple[int, ...] = choose(levels, "levels", LEVELS)
        self._id = re.compile(r"^data-([a-z_]+)-([1-9])-(\d{1,10})$")
        self._generated = Generated(_make_task, self.templates, self.levels)

    def get(self, task_id: str, split: Split) -> CodeTask:
        """The task with this id; a `TaskError` if it does not exist or is in the other split."""
        match = self._id.match(task_id) if isinstance(task_id, str) else None
        if match is None or match[1] not in self.templates or int(match[2]) not in self.levels:
            raise TaskError(
                f"{task_id!r} is not a data task id; ids look like 'data-sales-2-417' "
                f"(template: {', '.join(self.templates)}; level: 1-3; then an index)"
            )
        return checked(_make_task(match[1], int(match[2]), int(match[3])), task_id, split)

    def sample(self, rng: np.random.Generator, split: Split) -> CodeTask:
        """A task of the split drawn with ``rng``: a template, a level, then an index."""
        return self._generated.sample(rng, split)

    def iterate(self, split: Split) -> Iterator[CodeTask]:
        """The split's tasks, endless: round-robin over templates and levels, by index."""
        return self._generated.iterate(split)

    def verify(self, task: CodeTask, answer: str, new_sandbox: SandboxFactory) -> Verdict:
        r"""Score 1 when the last ``\boxed{}`` holds the number (within tolerance) or the names."""
        return check(task, answer)
