"""Tasks solved by running code: the record, and the interface every task family keeps.

CodeInterpreter-v0 draws from families (math, programming, data analysis) that all look the same
to the env: a family lists its tasks by split, states each as a prompt with its answer format, says
which files to put in the sandbox, gives the oracle's reference code and final answer, and
verifies a final answer. Verification that must run code (hidden unit tests) gets a fresh sandbox
from the env through ``new_sandbox``, never the agent's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import Field

from palaestra.core.types import Verdict
from palaestra.tasks.task import Split, Task

if TYPE_CHECKING:
    import numpy as np

    from palaestra.sandbox.base import Sandbox

__all__ = ["CodeTask", "SandboxFactory", "TaskFamily", "extract_answer"]

SandboxFactory = Callable[[], "Sandbox"]
"""Makes a fresh sandbox (the caller closes it)."""


class CodeTask(Task):
    """A task for CodeInterpreter-v0.

    ``prompt`` states the problem and the answer format. ``files`` are written into the sandbox's
    working directory before the first turn. ``reference_code`` and ``solution`` are the oracle's
    two turns (code to run, then the final answer); ``hidden`` holds what the verifier needs
    (expected answer, tolerance, hidden tests). All three are ground truth: never shown to agents.
    """

    family: str
    files: dict[str, str] = Field(default_factory=dict)
    reference_code: str
    solution: str
    hidden: dict[str, Any] = Field(default_factory=dict)


@runtime_checkable
class TaskFamily(Protocol):
    """What CodeInterpreter-v0 needs from a family of tasks."""

    name: str
    """Short name, the prefix of its task ids (``math``, ``programming``, ``data``)."""
    description: str
    """One line for the system prompt: what kind of problems these are."""
    answer_format: str
    """How the final answer must be written (shown in the system prompt)."""

    def get(self, task_id: str, split: Split) -> CodeTask:
        """The task with this id; a `TaskError` if it does not exist or is in the other split."""
        ...

    def sample(self, rng: np.random.Generator, split: Split) -> CodeTask:
        """A task of the split drawn with ``rng`` (deterministic for a seeded generator)."""
        ...

    def iterate(self, split: Split) -> Iterator[CodeTask]:
        """Tasks of the split in a fixed order (finite for fixed sets, endless for generators)."""
        ...

    def verify(self, task: CodeTask, answer: str, new_sandbox: SandboxFactory) -> Verdict:
        """Judge a final answer: score in [0, 1], success, and a reason that says what differed."""
        ...


def extract_answer(text: str) -> str:
    """The part of a final message that is the answer: inside ``<answer>`` tags when present."""
    start, end = text.rfind("<answer>"), text.rfind("</answer>")
    if start != -1 and end > start:
        return text[start + len("<answer>") : end].strip()
    return text.strip()
