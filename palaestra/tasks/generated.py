"""Generated task supplies: an index makes a task or nothing, and each task has its split.

A generated family makes task ``index`` of a kind (a domain, generator or template) at a level
from a seed derived from the three. Some indices make nothing (the world did not fit the
template), and each task falls in the split its statement hashes to, so the tasks of one split
are found by walking indices: `scan`. `Generated` draws and interleaves such scans over kinds and
levels in the one way every generated family shares (ToolUse, math, data analysis); `choose`
checks the kinds and levels a family is restricted to, and `checked` the task an id names.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from palaestra.errors import ConfigError, TaskError
from palaestra.tasks.task import Split

if TYPE_CHECKING:
    import numpy as np

__all__ = ["MAX_SKIPS", "Generated", "checked", "choose", "draw_start", "scan"]

MAX_SKIPS = 10_000
"""How many indices in a row may yield no task of the split before a scan gives up."""


class _Split(Protocol):
    @property
    def split(self) -> Split: ...


T = TypeVar("T", bound=_Split)


def draw_start(rng: np.random.Generator) -> int:
    """The index a sampled scan starts from."""
    return int(rng.integers(0, 2**31))


def scan(
    make: Callable[[int], T | None],
    start: int,
    split: Split,
    *,
    what: str,
    max_skips: int = MAX_SKIPS,
) -> Iterator[T]:
    """The tasks ``make(index)`` yields in ``split``, in index order from ``start``; endless.

    Raises:
        TaskError: when ``max_skips`` indices in a row yield no task of the split; ``what``
            names the supply in the message (``"gcd level 2"``).
    """
    skipped = 0
    for index in itertools.count(start):
        task = make(index)
        if task is not None and task.split == split:
            skipped = 0
            yield task
        elif (skipped := skipped + 1) >= max_skips:
            raise TaskError(f"no {split} task for {what} near index {index}")


@dataclass(frozen=True)
class Generated(Generic[T]):
    """The tasks ``make(kind, level, index)`` yields, over some kinds and levels."""

    make: Callable[[str, int, int], T | None]
    """kind, level, index -> the task, or None when that index yields none."""
    kinds: tuple[str, ...]
    levels: tuple[int, ...]

    def sample(self, rng: np.random.Generator, split: Split) -> T:
        """A task of the split drawn with ``rng``: a kind, a level, then an index to scan from."""
        kind = self.kinds[int(rng.integers(len(self.kinds)))]
        level = self.levels[int(rng.integers(len(self.levels)))]
        return next(self.scan(kind, level, draw_start(rng), split))

    def iterate(self, split: Split) -> Iterator[T]:
        """The split's tasks, endless: round-robin over kinds and levels, each from index 0."""
        scans = [self.scan(kind, level, 0, split) for kind in self.kinds for level in self.levels]
        while True:
            for each in scans:
                yield next(each)

    def scan(self, kind: str, level: int, start: int, split: Split) -> Iterator[T]:
        """The split's tasks of one kind and level, in index order from ``start``."""
        make = functools.partial(self.make, kind, level)
        return scan(make, start, split, what=f"{kind} level {level}")


def choose(value: Any, what: str, allowed: Iterable[Any]) -> tuple[Any, ...]:
    """The kinds or levels a family keeps: all of ``allowed`` for None, else ``value`` checked.

    Raises:
        ConfigError: when ``value`` is empty or holds something ``allowed`` does not.
    """
    allowed = tuple(allowed)
    if value is None:
        return allowed
    values = tuple(value) if isinstance(value, (list, tuple, set, frozenset)) else (value,)
    if not values or any(v not in allowed for v in values):
        raise ConfigError(f"{what} must be among {list(allowed)}, got {value!r}")
    return values


def checked(task: T | None, task_id: str, split: Split) -> T:
    """The task ``task_id`` names, once it is known to exist and to lie in ``split``.

    Raises:
        TaskError: when the id's index (its last part) yields no task, or the task is in the
            other split (the message says which split to make the env with).
    """
    if task is None:
        index = task_id.rsplit("-", 1)[-1]
        raise TaskError(f"index {index} yields no task for {task_id!r}; try another index")
    if task.split != split:
        raise TaskError(
            f"task {task_id!r} belongs to the {task.split} split, not {split}; "
            f"make the env with split={task.split!r}"
        )
    return task
