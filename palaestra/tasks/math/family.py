r"""`MathFamily`: math problems whose final ``\boxed{}`` answer is checked symbolically.

The tasks come from reasoning-gym generators (`generators.py`) or from a loaded data set
(`loaders.py`); either way the final answer goes in ``\boxed{...}`` and math-verify compares it
with the reference (`equivalence.py`), so ``\boxed{2/4}``, ``\boxed{0.5}`` and ``\boxed{\frac12}``
are all equal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from palaestra.core.types import Verdict
from palaestra.errors import ConfigError
from palaestra.tasks.code import CodeTask, SandboxFactory, extract_answer
from palaestra.tasks.generated import choose
from palaestra.tasks.math.answers import last_boxed
from palaestra.tasks.math.equivalence import judge
from palaestra.tasks.math.generators import GENERATORS, LEVELS, GeneratedTasks
from palaestra.tasks.math.loaders import (
    Fields,
    ListedTasks,
    hf_rows,
    jsonl_rows,
    tasks_from_rows,
)
from palaestra.tasks.task import Split

if TYPE_CHECKING:
    import numpy as np

__all__ = ["ANSWER_FORMAT", "MathFamily"]

ANSWER_FORMAT = (
    "Put the final answer in \\boxed{}, e.g. \\boxed{42} or \\boxed{\\frac{3}{4}}; "
    "any equivalent form (3/4, 0.75) counts."
)
_MAX_BOXED_CHARS = 2_000


class MathFamily:
    """Math problems for CodeInterpreter-v0, verified by symbolic equivalence.

    Args:
        generators: names from `GENERATORS` (all by default).
        levels: difficulty levels to draw from, 1-3 (all by default).
        tasks: a fixed list of tasks instead of the generators (what the loaders build).
        name: the family name and task-id prefix; give loaded sets their own (``"gsm8k"``) to use
            them beside the built-in ``"math"`` family.
    """

    description = "Math problems with an exact answer; use Python to compute and check it."
    answer_format = ANSWER_FORMAT

    def __init__(
        self,
        generators: str | Sequence[str] | None = None,
        levels: int | Sequence[int] | None = None,
        *,
        tasks: Sequence[CodeTask] | None = None,
        name: str = "math",
    ) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise ConfigError(f"name must be lowercase letters, digits and '_', got {name!r}")
        self.name = name
        self._source: GeneratedTasks | ListedTasks
        if tasks is not None:
            if generators is not None or levels is not None:
                raise ConfigError("give either tasks or generators/levels, not both")
            self._source = ListedTasks(name, tasks)
        else:
            self._source = GeneratedTasks(
                name,
                choose(generators, "generators", GENERATORS),
                choose(levels, "levels", LEVELS),
            )

    # ---------------------------------------------------------------------------- loaders
    @classmethod
    def from_jsonl(
        cls,
        path: str | Path,
        *,
        question_field: str = "question",
        answer_field: str = "answer",
        id_field: str | None = None,
        difficulty_field: str | None = None,
        split: Split | None = None,
        answer_extractor: Callable[[str], str] | None = None,
        name: str = "math",
    ) -> MathFamily:
        r"""Tasks from a JSONL file, one JSON object a line (GSM8K, MATH and the like).

        Args:
            path: the file.
            question_field: the field that states the problem (``"problem"`` for MATH).
            answer_field: the field with the answer or worked solution (``"solution"`` for MATH).
            id_field: a field with a unique id; by default the line number (``math-12``).
            difficulty_field: a field with the level (an int or text like ``"Level 3"``).
            split: put every task in this split; by default a hash of the question decides.
            answer_extractor: worked solution -> final answer; `default_answer` by default
                (``#### 42`` as in GSM8K, the last ``\boxed{}`` as in MATH, or a short value).
            name: the family name and id prefix.
        """
        path = Path(path)
        fields = Fields(question_field, answer_field, id_field, difficulty_field)
        tasks = tasks_from_rows(jsonl_rows(path), str(path), fields, split, answer_extractor, name)
        return cls(tasks=tasks, name=name)

    @classmethod
    def from_hf(
        cls,
        dataset: Any,
        *,
        subset: str | None = None,
        hf_split: str = "train",
        question_field: str = "question",
        answer_field: str = "answer",
        id_field: str | None = None,
        difficulty_field: str | None = None,
        split: Split | None = None,
        answer_extractor: Callable[[str], str] | None = None,
        name: str = "math",
    ) -> MathFamily:
        """Tasks from a Hugging Face dataset: a ``datasets.Dataset``, or a hub name to load.

        Args:
            dataset: a ``Dataset`` (or ``DatasetDict``, of which ``hf_split`` is used), or a
                name for ``datasets.load_dataset`` (e.g. ``"openai/gsm8k"``).
            subset: the dataset config when loading by name (``"main"`` for GSM8K).
            hf_split: the split to load or pick from a ``DatasetDict``.
            question_field: see `from_jsonl`; rows without an ``id_field`` are numbered from 0.
            answer_field: see `from_jsonl`.
            id_field: see `from_jsonl`.
            difficulty_field: see `from_jsonl`.
            split: see `from_jsonl`.
            answer_extractor: see `from_jsonl`.
            name: see `from_jsonl`.
        """
        rows, source = hf_rows(dataset, subset, hf_split)
        fields = Fields(question_field, answer_field, id_field, difficulty_field)
        tasks = tasks_from_rows(rows, source, fields, split, answer_extractor, name)
        return cls(tasks=tasks, name=name)

    # ---------------------------------------------------------------------- TaskFamily API
    def get(self, task_id: str, split: Split) -> CodeTask:
        """The task with this id; a `TaskError` if it does not exist or is in the other split."""
        return self._source.get(task_id, split)

    def sample(self, rng: np.random.Generator, split: Split) -> CodeTask:
        """A task of the split drawn with ``rng``: a generator, a level, then an index."""
        return self._source.sample(rng, split)

    def iterate(self, split: Split) -> Iterator[CodeTask]:
        """The split's tasks: endless, round-robin over generators and levels; or the list."""
        return self._source.iterate(split)

    def verify(self, task: CodeTask, answer: str, new_sandbox: SandboxFactory) -> Verdict:
        r"""Score 1 when the last ``\boxed{}`` of the answer equals the reference, else 0."""
        boxed = last_boxed(extract_answer(answer))
        if boxed is None:
            return Verdict(
                score=0.0,
                success=False,
                reason="no \\boxed{...} in the final answer; write it as \\boxed{42}",
            )
        if not boxed.strip():
            return Verdict(score=0.0, success=False, reason="the \\boxed{} is empty")
        if len(boxed) > _MAX_BOXED_CHARS:
            return Verdict(
                score=0.0,
                success=False,
                reason=f"the boxed answer is longer than {_MAX_BOXED_CHARS} characters",
            )
        outcome = judge(str(task.hidden["answer"]), boxed)
        if outcome is None:
            return Verdict(
                score=0.0,
                success=False,
                reason="the answer took too long to compare with the reference; simplify it",
            )
        equal, shown = outcome
        if equal:
            return Verdict(score=1.0, success=True, reason="the answer equals the reference")
        if shown is None:
            return Verdict(
                score=0.0,
                success=False,
                reason=f"could not read \\boxed{{{_clip(boxed)}}} as a number or expression",
            )
        return Verdict(
            score=0.0,
            success=False,
            reason=f"expected an answer equal to the reference; got {_clip(shown)}",
        )


def _clip(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
