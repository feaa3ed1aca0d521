"""The reasoning-gym datasets a `MathFamily` draws from, and how an entry becomes a task.

Task ``math-gcd-2-417`` is entry 417 of the ``gcd`` dataset made with its level-2 config
(`GENERATORS`) and a seed that is a hash of ``"math/gcd/2"``; the entry's answer is checked and
its reference code written by the dataset's solver (`solvers.py`). reasoning-gym loads slowly, so
it is imported on first use.
"""

from __future__ import annotations

import decimal
import functools
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from palaestra.errors import TaskError, require
from palaestra.tasks.code import CodeTask
from palaestra.tasks.generated import Generated, checked
from palaestra.tasks.math.solvers import (
    solve_arithmetic,
    solve_count_bits,
    solve_count_primes,
    solve_decimal_sum,
    solve_dice,
    solve_equation,
    solve_gcd,
    solve_integer_expression,
    solve_lcm,
)
from palaestra.tasks.splits import split_of
from palaestra.tasks.task import Split

if TYPE_CHECKING:
    import numpy as np

__all__ = ["GENERATORS", "LEVELS", "GeneratedTasks"]

LEVELS = (1, 2, 3)


@dataclass(frozen=True)
class _Generator:
    """A reasoning-gym dataset: its config per level, and how to solve one of its entries."""

    levels: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]
    solve: Callable[[dict[str, Any]], tuple[str, str] | None]
    """entry -> (gold answer in LaTeX, reference code), or None when the entry is unusable."""


def _terms(low: int, high: int, digits: tuple[int, int], **extra: Any) -> dict[str, Any]:
    return dict(min_terms=low, max_terms=high, min_digits=digits[0], max_digits=digits[1], **extra)


GENERATORS: dict[str, _Generator] = {
    "basic_arithmetic": _Generator(
        (
            _terms(2, 3, (1, 2), operators=("+", "-", "*"), allow_negation=False),
            _terms(3, 5, (1, 2), operators=("+", "-", "*", "/")),
            _terms(5, 8, (2, 3), operators=("+", "-", "*", "/")),
        ),
        solve_arithmetic,
    ),
    "chain_sum": _Generator(
        (_terms(2, 3, (1, 2)), _terms(4, 6, (2, 4)), _terms(8, 12, (4, 6), allow_negation=True)),
        solve_integer_expression,
    ),
    "products": _Generator(
        (_terms(2, 2, (1, 2)), _terms(2, 3, (2, 3)), _terms(3, 4, (3, 5))),
        solve_integer_expression,
    ),
    "decimal_chain_sum": _Generator(
        (
            _terms(2, 3, (1, 2), min_decimal_places=1, max_decimal_places=2),
            _terms(3, 5, (2, 3), min_decimal_places=1, max_decimal_places=3),
            _terms(5, 8, (3, 5), min_decimal_places=2, max_decimal_places=4, allow_negation=True),
        ),
        solve_decimal_sum,
    ),
    "simple_equations": _Generator(
        (
            dict(
                min_terms=2,
                max_terms=2,
                max_value=20,
                operators=("+", "-"),
                operators_weights=[0.5] * 2,
            ),
            dict(min_terms=2, max_terms=4, max_value=100),
            dict(min_terms=3, max_terms=5, max_value=1000, operators_weights=[0.3, 0.3, 0.4]),
        ),
        solve_equation,
    ),
    "gcd": _Generator(
        (
            dict(min_numbers=2, max_numbers=2, max_value=100),
            dict(min_numbers=2, max_numbers=3, max_value=10_000),
            dict(min_numbers=3, max_numbers=5, max_value=1_000_000),
        ),
        solve_gcd,
    ),
    "lcm": _Generator(
        (
            dict(min_numbers=2, max_numbers=2, max_value=20),
            dict(min_numbers=2, max_numbers=3, max_value=200),
            dict(min_numbers=3, max_numbers=5, max_value=2_000),
        ),
        solve_lcm,
    ),
    "count_primes": _Generator(
        (dict(max_n=200), dict(max_n=10_000), dict(max_n=200_000)), solve_count_primes
    ),
    "count_bits": _Generator(
        (dict(max_n=2**10), dict(max_n=2**31), dict(max_n=2**64)), solve_count_bits
    ),
    "dice": _Generator(
        (
            dict(num_dice=2, max_dice_size=6),
            dict(num_dice=3, max_dice_size=12),
            dict(num_dice=5, max_dice_size=20),
        ),
        solve_dice,
    ),
}
"""The reasoning-gym datasets used, with their config at levels 1-3."""


_ANSWER_KEYS = {"answer", "result", "solution", "binary", "primes", "num", "den", "probability"}


def _inputs(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry's metadata without the answer (and without bulky or redundant fields)."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in _ANSWER_KEYS}
        return value

    skip = {"difficulty", "source_dataset", "source_index"}
    return strip({k: v for k, v in entry["metadata"].items() if k not in skip})


def _seed(generator: str, level: int) -> int:
    digest = hashlib.blake2b(f"math/{generator}/{level}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") >> 1


@functools.cache
def _dataset(generator: str, level: int) -> Any:
    require("reasoning_gym", "math")
    import reasoning_gym

    config = GENERATORS[generator].levels[level - 1]
    return reasoning_gym.create_dataset(
        generator, seed=_seed(generator, level), size=2**31 - 1, **config
    )


@functools.lru_cache(maxsize=4096)
def _make_task(name: str, generator: str, level: int, index: int) -> CodeTask | None:
    with decimal.localcontext(decimal.Context(prec=60)):  # some generators use the context
        entry = _dataset(generator, level)[index]
    solved = GENERATORS[generator].solve(entry)
    if solved is None:
        return None
    gold, code = solved
    question = entry["question"].strip()
    return CodeTask(
        id=f"{name}-{generator}-{level}-{index}",
        prompt=f"{question}\n\nPut your final answer in \\boxed{{}}.",
        split=split_of(question),
        domain="math",
        difficulty=level,
        seed=index,
        answer=gold,
        metadata={"source": "reasoning_gym", "generator": generator, "inputs": _inputs(entry)},
        family=name,
        reference_code=code,
        solution=f"Running the code gives the answer: \\boxed{{{gold}}}",
        hidden={"answer": gold},
    )


class GeneratedTasks:
    """Endless tasks from `GENERATORS`, found by index (`palaestra.tasks.generated`)."""

    def __init__(self, name: str, generators: tuple[str, ...], levels: tuple[int, ...]) -> None:
        self.name, self.generators, self.levels = name, generators, levels
        self._id = re.compile(rf"^{re.escape(name)}-([a-z_]+)-([1-9])-(\d{{1,10}})$")
        self._generated = Generated(functools.partial(_make_task, name), generators, levels)

    def get(self, task_id: str, split: Split) -> CodeTask:
        """The task with this id; a `TaskError` if it does not exist or is in the other split."""
        match = self._id.match(task_id) if isinstance(task_id, str) else None
        if match is None or match[1] not in self.generators or int(match[2]) not in self.levels:
            raise TaskError(
                f"{task_id!r} is not a task of this math family; ids look like "
                f"'{self.name}-gcd-2-417' (generator: {', '.join(self.generators)}; "
                f"level: {', '.join(map(str, self.levels))}; then an index)"
            )
        task = _make_task(self.name, match[1], int(match[2]), int(match[3]))
        return checked(task, task_id, split)

    def sample(self, rng: np.random.Generator, split: Split) -> CodeTask:
        """A task of the split drawn with ``rng``: a generator, a level, then an index."""
        return self._generated.sample(rng, split)

    def iterate(self, split: Split) -> Iterator[CodeTask]:
        """The split's tasks, endless: round-robin over generators and levels."""
        return self._generated.iterate(split)
