"""A seeded simulated reasoner: the cheap stand-in for an LLM that executes thought transformations.

Graph of Thoughts and ARIES rely on three facts about LLMs on these tasks: long inputs are solved
worse than short ones (far worse, not proportionally), merging partial results adds errors, and
refining an answer removes some of its errors. `SimulatedReasoner` has exactly those properties
and nothing else, so a policy over transformations can be trained in minutes on a CPU and static
schedules can be compared with it on the same footing.

Every operation computes the correct result, then corrupts it::

    solve   Poisson(error_rate * (length / length_scale) ** exponent) errors
    split   exact (the first set for set intersection, sentences for keyword counting)
    merge   the correct merge of the parts as given (sorted merge, union, summed counts), plus
            Poisson(merge_error_rate * (total length / length_scale) ** exponent) errors
    refine  each error of the candidate is fixed with probability p_fix, scaled down past
            fix_length items (each fix lowers the error by at least one), then
            Poisson(refine_error_rate * (length / length_scale) ** exponent) new errors
    score   the exact `local_error` of a candidate against its own input

An error on a list swaps two adjacent different items (sorting), drops an item, duplicates one, or
(set intersection) adds an element of the first set that is not common; on counts it adds or
subtracts 1. Length is `input_length`: digits, elements of the first set, or country mentions.

Programming (`coding`) follows the same model on code: a candidate is the reference with bugs
at mutation sites, four items per reference line; split is refused and score is left to running
the code.

Cost: each call costs ``prompt_tokens`` plus one token per number or word read and written
(two per country count); `calls` and `tokens` keep the totals. The reasoner is deterministic
given its seed and its sequence of calls, and `fork` (or `copy.copy`) gives an independent one
in the same random state.
"""

from __future__ import annotations

import copy
import dataclasses
import heapq
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, cast

import numpy as np

from palaestra.errors import ConfigError
from palaestra.tasks.thought_graph import coding
from palaestra.tasks.thought_graph.problems import (
    COUNTRIES,
    InputData,
    Kind,
    Result,
    check_kind,
    input_length,
    local_error,
    solution,
)

__all__ = ["Question", "SimulatedReasoner", "SimulatedReasonerConfig", "Thought"]

Question = InputData | coding.CodingProblem
"""What a transformation works on: a task's input, or a programming problem."""
Thought = Result | coding.Program
"""What it makes: a task's result, or a candidate function."""


@dataclass(frozen=True)
class SimulatedReasonerConfig:
    """How error-prone and how costly the simulated reasoner is (defaults tuned; see tests)."""

    # -- errors
    error_rate: float = 0.15
    """Mean errors of `solve` on an input of ``length_scale`` items (0.15: 86% exact at 16)."""
    merge_error_rate: float = 0.1
    """Mean errors of `merge` when the parts hold ``length_scale`` items in all."""
    length_scale: float = 16.0
    """The length at which the mean number of errors equals the rate."""
    exponent: float = 1.5
    """How fast errors grow with length: above 1, doubling the input more than doubles them."""
    p_fix: float = 0.5
    """Probability that `refine` fixes each error of a candidate of up to `fix_length` items."""
    fix_length: float = 64.0
    """Past this length the chance of a fix falls in proportion (half as likely at twice it):
    a long answer is harder to polish, so refining the whole problem is no shortcut."""
    refine_error_rate: float = 0.05
    """Mean new errors `refine` writes into an answer of ``length_scale`` items; it grows with
    length like solving's, since a refinement rewrites the whole answer."""

    # -- cost
    prompt_tokens: int = 50
    """Fixed tokens of every call (instructions and framing)."""

    def __post_init__(self) -> None:
        for name in ("error_rate", "merge_error_rate"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if self.length_scale <= 0 or self.exponent <= 0:
            raise ConfigError(
                f"length_scale and exponent must be > 0, got {self.length_scale!r} and "
                f"{self.exponent!r}"
            )
        if self.refine_error_rate < 0:
            raise ConfigError(f"refine_error_rate must be >= 0, got {self.refine_error_rate!r}")
        for name in ("p_fix",):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(
                    f"{name} must be a probability in [0, 1], got {getattr(self, name)!r}"
                )
        if self.prompt_tokens < 0:
            raise ConfigError(f"prompt_tokens must be >= 0, got {self.prompt_tokens!r}")

    def mean_errors(self, rate: float, length: int) -> float:
        """The Poisson mean of errors at a rate for an input of ``length`` items."""
        return rate * (length / self.length_scale) ** self.exponent

    def fix_chance(self, length: int) -> float:
        """The chance that a refinement fixes each error of an answer of ``length`` items."""
        return self.p_fix * min(1.0, self.fix_length / length)


class SimulatedReasoner:
    """Executes split, solve, merge, refine and score on task data, with seeded errors.

    Each operation returns ``(output, tokens used by this call)``.

    Args:
        seed: Seed of the reasoner's random generator.
        config: The error and cost model; the defaults if None.
        **overrides: Fields of `SimulatedReasonerConfig` to change, e.g. ``error_rate=0.3``.
    """

    def __init__(
        self, seed: int = 0, config: SimulatedReasonerConfig | None = None, **overrides: Any
    ) -> None:
        base = config if config is not None else SimulatedReasonerConfig()
        try:
            self.config = dataclasses.replace(base, **overrides) if overrides else base
        except TypeError as error:
            raise ConfigError(f"unknown SimulatedReasonerConfig field in {overrides}") from error
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.calls = 0
        """Reasoner calls made so far."""
        self.tokens = 0
        """Tokens read and written so far, prompt overhead included."""

    # ---- operations ---------------------------------------------------------------------------

    def solve(self, kind: str, input_data: Question) -> tuple[Thought, int]:
        """Solve an input: its correct result with Poisson errors that grow with its length."""
        if kind == "programming":
            problem = _coding(input_data)
            mean = self.config.mean_errors(self.config.error_rate, problem.length)
            program = coding.simulate_solve(problem, mean, self.rng)
            return program, self._charge(_size(problem.statement) + _size(program.code))
        kind = check_kind(kind)
        input_data = cast(InputData, input_data)
        result = solution(kind, input_data)
        mean = self.config.mean_errors(self.config.error_rate, input_length(kind, input_data))
        result = self._corrupt(kind, result, int(self.rng.poisson(mean)), input_data)
        return result, self._charge(_size(input_data) + _size(result))

    def split(self, kind: str, input_data: Question, k: int) -> tuple[list[InputData], int]:
        """Cut an input into ``k`` contiguous parts, exactly.

        Set intersection splits the first set and keeps the second whole in each part; keyword
        counting splits the text at sentence ends.

        Raises:
            ConfigError: ``k`` is below 1 or above the number of items (or sentences), or the
                task is programming (a function is written whole).
        """
        if kind == "programming":
            raise ConfigError(
                "a programming problem is not split: solve it, then refine or aggregate candidates"
            )
        kind = check_kind(kind)
        input_data = cast(InputData, input_data)
        input_length(kind, input_data)  # raises ConfigError on a malformed input
        parts: list[InputData]
        if kind == "sorting":
            parts = [list(p) for p in _chunks(list(cast(list[int], input_data)), k)]
        elif kind == "set_intersection":
            first, second = cast(tuple[list[int], list[int]], input_data)
            parts = [(list(p), list(second)) for p in _chunks(list(first), k)]
        else:
            sentences = re.split(r"(?<=[.!?])\s+", cast(str, input_data).strip())
            parts = [" ".join(p) for p in _chunks(sentences, k)]
        return parts, self._charge(_size(input_data) + sum(_size(p) for p in parts))

    def merge(
        self, kind: str, parts: Sequence[Thought], input_data: Question | None = None
    ) -> tuple[Thought, int]:
        """Merge partial results, with errors that grow with their total length.

        Sorting merges the lists as they are (a k-way merge of sorted runs, so disorder in a
        part survives); set intersection takes their union; keyword counting sums the counts.
        Programming combines candidates of one problem (``input_data``, needed only there).
        """
        if kind == "programming":
            problem = _coding(input_data)
            programs = [_program(part) for part in parts]
            mean = self.config.mean_errors(self.config.merge_error_rate, problem.length)
            combined = coding.simulate_merge(problem, programs, mean, self.rng)
            read = sum(_size(program.code) for program in programs)
            return combined, self._charge(read + _size(combined.code))
        kind = check_kind(kind)
        if not parts:
            raise ConfigError("merge needs at least one part")
        parts = cast(list[Result], parts)
        if any(_readable(kind, part) != part for part in parts):
            raise ConfigError(f"every part to merge must be a {kind} result (list or dict)")
        merged: Result
        if kind == "sorting":
            merged = list(heapq.merge(*(cast(list[int], p) for p in parts)))
            length = len(merged)
        elif kind == "set_intersection":
            merged = sorted(set().union(*(cast(list[int], p) for p in parts)))
            length = sum(len(p) for p in parts)
        else:
            total: Counter[str] = Counter()
            for part in parts:
                total.update(cast(dict[str, int], part))
            merged = {k: v for k, v in sorted(total.items()) if v > 0}
            length = sum(merged.values())
        mean = self.config.mean_errors(self.config.merge_error_rate, length)
        merged = self._corrupt(kind, merged, int(self.rng.poisson(mean)), None)
        return merged, self._charge(sum(_size(p) for p in parts) + _size(merged))

    def refine(self, kind: str, input_data: Question, candidate: object) -> tuple[Thought, int]:
        """Improve a candidate for an input: fix each error with probability ``p_fix``.

        An unreadable candidate (None, or not of the kind's shape) is refined from the empty one.
        """
        if kind == "programming":
            problem = _coding(input_data)
            program = _program(candidate)
            p_fix = self.config.fix_chance(problem.length)
            mean = self.config.mean_errors(self.config.error_rate, problem.length)
            refined = coding.simulate_refine(
                problem, program, p_fix, self._new_errors(problem.length), self.rng, mean
            )
            return refined, self._charge(_size(problem.statement) + 2 * _size(refined.code))
        kind = check_kind(kind)
        input_data = cast(InputData, input_data)
        current = _readable(kind, candidate)
        errors = local_error(kind, input_data, current)
        length = max(1, input_length(kind, input_data))
        p_fix = self.config.fix_chance(length)
        fixes = int(self.rng.binomial(errors, p_fix))
        truth = solution(kind, input_data)
        for _ in range(fixes):
            if local_error(kind, input_data, current) == 0:
                break
            current = self._fix(kind, current, truth)
        if kind == "set_intersection":  # asked for ascending order; order is not an error
            current = sorted(cast(list[int], current))
        current = self._corrupt(kind, current, self._new_errors(length), input_data)
        return current, self._charge(_size(input_data) + 2 * _size(current))

    def score(self, kind: str, input_data: Question, candidate: object) -> tuple[int, int]:
        """The exact error of a candidate against its own input (`local_error`), and its cost.

        Raises:
            ConfigError: For programming, whose candidates are scored by running them.
        """
        if kind == "programming":
            raise ConfigError(
                "programming candidates are scored by running them, not by a reasoner"
            )
        input_data = cast(InputData, input_data)
        error = local_error(kind, input_data, candidate)
        return error, self._charge(_size(input_data) + _size(candidate) + 1)

    def fork(self) -> SimulatedReasoner:
        """An independent reasoner in the same random state, with the same counters."""
        clone = copy.deepcopy(self)
        return clone

    def __copy__(self) -> SimulatedReasoner:
        return self.fork()

    # ---- errors -------------------------------------------------------------------------------

    def _corrupt(self, kind: Kind, result: Result, n: int, input_data: InputData | None) -> Result:
        """Add ``n`` errors to a result (a copy; the argument is left alone)."""
        if kind == "keyword_counting":
            counts = dict(cast(dict[str, int], result))
            for _ in range(n):
                keys = sorted(counts) if counts and self.rng.random() < 0.8 else list(COUNTRIES)
                key = keys[int(self.rng.integers(len(keys)))]
                step = 1 if counts.get(key, 0) == 0 or self.rng.random() < 0.5 else -1
                counts[key] = counts.get(key, 0) + step
                if counts[key] == 0:
                    del counts[key]
            return dict(sorted(counts.items()))
        items = list(cast(list[int], result))
        for _ in range(n):
            moves = ["drop", "duplicate"] if items else []
            if kind == "sorting" and any(a != b for a, b in pairwise(items)):
                moves.append("swap")
            if kind == "set_intersection" or not items:
                moves.append("add")
            move = moves[int(self.rng.integers(len(moves)))]
            if move == "swap":
                sites = [i for i in range(len(items) - 1) if items[i] != items[i + 1]]
                i = sites[int(self.rng.integers(len(sites)))]
                items[i], items[i + 1] = items[i + 1], items[i]
            elif move == "drop":
                del items[int(self.rng.integers(len(items)))]
            elif move == "duplicate":
                i = int(self.rng.integers(len(items)))
                items.insert(i, items[i])
            else:
                items = self._add_spurious(kind, items, input_data)
        return items

    def _add_spurious(
        self, kind: Kind, items: list[int], input_data: InputData | None
    ) -> list[int]:
        """Insert, in order, a wrong element: a non-common one of set 1, or a near miss."""
        pool: list[int] = []
        if kind == "set_intersection" and input_data is not None:
            pool = [x for x in cast(tuple[list[int], list[int]], input_data)[0] if x not in items]
        if not pool:
            top = max(items, default=9 if kind == "sorting" else 16)
            pool = [x for x in range(top + 2) if x not in items] or [top + 1]
        value = pool[int(self.rng.integers(len(pool)))]
        position = next((i for i, x in enumerate(items) if x > value), len(items))
        return items[:position] + [value] + items[position:]

    def _fix(self, kind: Kind, current: Result, truth: Result) -> Result:
        """Remove one error, chosen at random; the error drops by at least one."""
        if kind == "keyword_counting":
            have, want = cast(dict[str, int], current), cast(dict[str, int], truth)
            wrong = sorted(k for k in set(have) | set(want) if have.get(k, 0) != want.get(k, 0))
            key = wrong[int(self.rng.integers(len(wrong)))]
            fixed = dict(have)
            fixed[key] = fixed.get(key, 0) + (1 if fixed.get(key, 0) < want.get(key, 0) else -1)
            return {k: v for k, v in sorted(fixed.items()) if v != 0}
        items, target = cast(list[int], current), cast(list[int], truth)
        surplus = Counter(items) - Counter(target)
        deficit = Counter(target) - Counter(items)
        if kind == "set_intersection":
            surplus = Counter(items) - Counter(set(target))
            deficit = Counter(set(target) - set(items))
        sites: list[tuple[str, int]] = [("remove", v) for v in sorted(surplus.elements())]
        sites += [("insert", v) for v in sorted(deficit.elements())]
        if kind == "sorting":
            sites += [("merge", i) for i in range(len(items) - 1) if items[i] > items[i + 1]]
        move, value = sites[int(self.rng.integers(len(sites)))]
        if move == "remove":  # never adds an out-of-order pair
            index = len(items) - 1 - items[::-1].index(value)
            return items[:index] + items[index + 1 :]
        if move == "insert":  # before the first larger item: no new out-of-order pair
            position = next((i for i, x in enumerate(items) if x > value), len(items))
            return items[:position] + [value] + items[position:]
        return _merge_runs_at(items, value)

    def _new_errors(self, length: int) -> int:
        return int(self.rng.poisson(self.config.mean_errors(self.config.refine_error_rate, length)))

    def _charge(self, read_and_written: int) -> int:
        used = self.config.prompt_tokens + read_and_written
        self.calls += 1
        self.tokens += used
        return used


def _merge_runs_at(items: list[int], i: int) -> list[int]:
    """Merge the two ascending runs that meet at the descent ``items[i] > items[i + 1]``.

    The runs stay bounded by the same neighbours, so exactly one out-of-order pair goes away.
    """
    start = i
    while start > 0 and items[start - 1] <= items[start]:
        start -= 1
    end = i + 1
    while end + 1 < len(items) and items[end] <= items[end + 1]:
        end += 1
    return items[:start] + sorted(items[start : end + 1]) + items[end + 1 :]


def _chunks(items: list[Any], k: int) -> list[list[Any]]:
    """``k`` contiguous parts whose lengths differ by at most one."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= max(1, len(items)):
        raise ConfigError(f"k must be an integer from 1 to {len(items)}, got {k!r}")
    bounds = [round(j * len(items) / k) for j in range(k + 1)]
    return [items[bounds[j] : bounds[j + 1]] for j in range(k)]


def _readable(kind: Kind, candidate: object) -> Result:
    """The candidate as a result of the kind's shape, or the empty result if it is not one."""
    if kind == "keyword_counting":
        if isinstance(candidate, dict) and all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
            for k, v in candidate.items()
        ):
            return dict(candidate)
        return {}
    if isinstance(candidate, (list, tuple)) and all(
        isinstance(x, int) and not isinstance(x, bool) for x in candidate
    ):
        return list(candidate)
    return []


def _coding(input_data: object) -> coding.CodingProblem:
    if not isinstance(input_data, coding.CodingProblem):
        raise ConfigError(
            f"a programming input is a CodingProblem, got {type(input_data).__name__}"
        )
    return input_data


def _program(candidate: object) -> coding.Program:
    if isinstance(candidate, coding.Program):
        return candidate
    return coding.Program(str(candidate) if candidate is not None else "")


def _size(data: object) -> int:
    """Tokens to read or write data: numbers, words, or two per country count."""
    if isinstance(data, str):
        return len(data.split())
    if isinstance(data, dict):
        return 2 * len(data)
    if isinstance(data, (list, tuple)):
        return sum(_size(x) if isinstance(x, (list, tuple, dict, str)) else 1 for x in data)
    return 1
