"""ToolUse's task supply: procedurally generated, unlimited, reproducible, split by statement.

Task ``retail-2-417`` is the task that ``random.Random("retail/2/417")`` writes: a fresh world,
then one of the domain's level-2 templates. Its split is a hash of its statement
(`palaestra.tasks.split_of`), so train and test never share a statement. An index whose world
does not fit the template, or whose statement falls in the other split, is skipped
(`palaestra.tasks.generated`).
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from palaestra.envs.tool_use.calendar import CALENDAR
from palaestra.envs.tool_use.retail import RETAIL
from palaestra.envs.tool_use.travel import TRAVEL
from palaestra.envs.tool_use.world import Domain
from palaestra.errors import ConfigError, TaskError
from palaestra.tasks import Split, Task, split_of
from palaestra.tasks.generated import Generated, checked

__all__ = ["DIFFICULTIES", "DOMAINS", "ToolUseTask", "ToolUseTasks", "make_task"]

DOMAINS: dict[str, Domain] = {d.name: d for d in (RETAIL, CALENDAR, TRAVEL)}
DIFFICULTIES = (1, 2, 3)
_TASK_ID = re.compile(r"^([a-z]+)-([1-9])-(\d{1,10})$")


@dataclass(frozen=True)
class ToolUseTask:
    """A task with the world it starts from and the world its gold actions leave.

    Both states are shared by every episode of the task and never mutated: envs play on copies.
    """

    task: Task
    initial_state: dict[str, Any]
    final_state: dict[str, Any]

    @property
    def id(self) -> str:
        """The task id."""
        return self.task.id

    @property
    def split(self) -> Split:
        """The task's split."""
        return self.task.split

    @property
    def domain(self) -> Domain:
        """The task's domain."""
        return DOMAINS[self.task.domain]


@lru_cache(maxsize=4096)
def make_task(domain: str, difficulty: int, index: int) -> ToolUseTask | None:
    """The task at ``index`` for a domain and level, or None when that index yields no task."""
    spec = DOMAINS[domain]
    rng = random.Random(f"{domain}/{difficulty}/{index}")
    world = spec.world.generate(rng)
    initial_state = world.snapshot()
    draft = rng.choice(spec.templates[difficulty])(world, rng)
    if draft is None:
        return None
    # The verifier's reference: the gold actions replayed on a fresh copy of the initial world.
    expected = spec.world(copy.deepcopy(initial_state))
    for call in draft.gold_actions:
        expected.run(call)  # a gold action that fails is a bug in the template: fail loudly
    task = Task(
        id=f"{domain}-{difficulty}-{index}",
        prompt=draft.prompt,
        split=split_of(f"{domain}\n{draft.prompt}"),
        domain=domain,
        difficulty=difficulty,
        seed=index,
        gold_actions=tuple(draft.gold_actions),
        answer=draft.answer,
        metadata=draft.metadata,
    )
    return ToolUseTask(task, initial_state, expected.state)


def _as_tuple(value: Any, name: str, allowed: Sequence[Any]) -> tuple[Any, ...]:
    if value is None:
        return tuple(allowed)
    values = tuple(value) if isinstance(value, (list, tuple, set, frozenset)) else (value,)
    bad = [v for v in values if v not in allowed]
    if not values or bad:
        raise ConfigError(
            f"{name} must be one of {list(allowed)} (or a list of them), got {value!r}"
        )
    return values


class ToolUseTasks:
    """The tasks of one split, optionally restricted to some domains and levels."""

    def __init__(
        self,
        split: Split = "train",
        domain: str | Sequence[str] | None = None,
        difficulty: int | Sequence[int] | None = None,
    ) -> None:
        if split not in ("train", "test"):
            raise ConfigError(f"split must be 'train' or 'test', got {split!r}")
        self.split: Split = split
        self.domains: tuple[str, ...] = _as_tuple(domain, "domain", list(DOMAINS))
        self.difficulties: tuple[int, ...] = _as_tuple(difficulty, "difficulty", DIFFICULTIES)
        self._generated = Generated(make_task, self.domains, self.difficulties)

    def get(self, task_id: str) -> ToolUseTask:
        """The task with this id; it must exist and belong to this split."""
        match = _TASK_ID.match(task_id) if isinstance(task_id, str) else None
        if (
            match is None
            or match.group(1) not in DOMAINS
            or int(match.group(2)) not in DIFFICULTIES
        ):
            raise TaskError(
                f"{task_id!r} is not a ToolUse task id; ids look like 'retail-2-417' "
                f"(domain: {', '.join(DOMAINS)}; level: 1-3; then an index)"
            )
        found = make_task(match.group(1), int(match.group(2)), int(match.group(3)))
        return checked(found, task_id, self.split)

    def sample(self, rng: np.random.Generator) -> ToolUseTask:
        """A task drawn with ``rng``: a domain, a level, then the first usable index from there."""
        return self._generated.sample(rng, self.split)

    def iterate(self, domain: str, difficulty: int, start: int = 0) -> Iterator[ToolUseTask]:
        """This split's tasks for one domain and level, in index order from ``start``."""
        return self._generated.scan(domain, difficulty, start, self.split)
