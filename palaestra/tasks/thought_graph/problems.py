"""Graph of Thoughts' three synthetic tasks, seeded, with its exact error metrics.

Graph of Thoughts (Besta et al., 2024) measures reasoning schedules on tasks whose answers can be
checked exactly and whose difficulty grows with a size: sorting a list of digits, intersecting two
sets of integers, and counting how often each country is mentioned in a text. Each task comes in
sizes 32, 64 and 128 (digits to sort; elements per set; country mentions in the text).

`make_problem(kind, size, seed)` builds a `ThoughtProblem`: what the user reads (`statement`), the
raw input (`input_data`) and the canonical answer (ground truth, never shown). The error metrics
are the paper's, and `local_error` computes them against the correct result of *any* input, so a
scorer can judge a sub-problem's output from that sub-problem's own input without ground truth::

    sorting           |count in candidate - true count| summed over values,
                      plus the adjacent pairs of the candidate that are out of order
    set_intersection  missing elements plus extra ones (a duplicate counts as extra)
    keyword_counting  |candidate count - true count| summed over every country named

An unreadable answer counts as the empty answer (``[]`` or ``{}``), and at least 1, so it is never
exact: `max_error` is that number, and `partial_score` uses it as the normaliser.

Results are Python data: a list of ints for sorting and set intersection, a dict country -> count
for keyword counting. Inputs are a list of ints (sorting), a pair of lists (set intersection: the
first set and the second) or a text (keyword counting).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal, cast, get_args

import numpy as np

from palaestra.errors import ConfigError
from palaestra.tasks.splits import split_of
from palaestra.tasks.task import Split

__all__ = [
    "COUNTRIES",
    "KINDS",
    "SIZES",
    "InputData",
    "Kind",
    "Result",
    "ThoughtProblem",
    "check_kind",
    "error_count",
    "format_answer",
    "input_length",
    "local_error",
    "make_problem",
    "max_error",
    "parse_answer",
    "partial_score",
    "score_of_errors",
    "solution",
]

Kind = Literal["sorting", "set_intersection", "keyword_counting"]
KINDS: tuple[Kind, ...] = get_args(Kind)
SIZES = (32, 64, 128)
InputData = list[int] | tuple[list[int], list[int]] | str
"""A list of digits, a pair of integer lists (the two sets), or a text."""
Result = list[int] | dict[str, int]
"""A list of ints (sorting, set intersection) or country -> count (keyword counting)."""

COUNTRIES = (
    "Australia", "Brazil", "Canada", "Chile", "Egypt", "France", "Germany", "Ghana", "India",
    "Italy", "Japan", "Kenya", "Mexico", "Nepal", "Norway", "Peru", "Portugal", "Spain", "Sweden",
    "Vietnam",
)  # fmt: skip
"""The countries keyword-counting texts mention: single words, so counting is unambiguous."""

_COUNTRY = re.compile(r"\b(" + "|".join(COUNTRIES) + r")\b")
_OPENERS = (
    "Last spring my cousin travelled to",
    "The documentary opened with scenes from",
    "Our book club read a novel set in",
    "A friend of mine once lived in",
    "The conference moved its meeting from",
    "Grandfather often told long stories about",
    "The cycling team spent the winter training in",
    "A chef who grew up in",
)
_JOINERS = (
    "and then went on to",
    "before a long stay in",
    "while her brother worked in",
    "and later wrote home from",
    "after a short trip through",
    "with a detour via",
    "and kept dreaming of",
    "then flew over",
)
_INSTRUCTIONS: dict[Kind, str] = {
    "sorting": (
        "Sort the following list of {size} digits in ascending order. Answer with the sorted "
        "list in brackets, for example [0, 1, 1, 3]."
    ),
    "set_intersection": (
        "Find the intersection of the two sets of {size} numbers below: the numbers that appear "
        "in both. Answer with them in ascending order as a list in brackets, for example "
        "[3, 7, 12]."
    ),
    "keyword_counting": (
        "Count how often each country is mentioned in the text below. Answer with a JSON object "
        'that maps each mentioned country to its count, keys sorted, for example {{"France": 2, '
        '"Peru": 1}}.'
    ),
}


@dataclass(frozen=True)
class ThoughtProblem:
    """One seeded problem of a kind and size (see the module docstring)."""

    id: str
    """``<kind>-<size>-<seed>``, e.g. ``sorting-32-7``."""
    kind: Kind
    """Which of the three tasks."""
    size: int
    """32, 64 or 128: digits, elements per set, or country mentions."""
    seed: int
    """The seed it was made from."""
    statement: str
    """What the user reads: the task in words, then the input."""
    input_data: InputData
    """The raw input: digits, the two sets (a pair of lists), or the text."""
    answer: str
    """The canonical answer (ground truth: never shown to an agent)."""

    @property
    def split(self) -> Split:
        """The split this problem belongs to, a hash of its statement."""
        return split_of(self.statement)


def check_kind(kind: str) -> Kind:
    """Return ``kind`` as a `Kind`, or raise `ConfigError` naming the valid ones."""
    if kind not in KINDS:
        raise ConfigError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return cast(Kind, kind)


def make_problem(kind: str, size: int, seed: int) -> ThoughtProblem:
    """Build the problem of a kind and size from a seed (the same seed, the same problem).

    Args:
        kind: ``"sorting"``, ``"set_intersection"`` or ``"keyword_counting"``.
        size: 32, 64 or 128.
        seed: A non-negative integer.

    Raises:
        ConfigError: The kind, size or seed is not one of those allowed.
    """
    kind = check_kind(kind)
    if size not in SIZES:
        raise ConfigError(f"size must be one of {SIZES}, got {size!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    rng = np.random.default_rng([KINDS.index(kind), size, seed])
    data: InputData
    if kind == "sorting":
        data = [int(x) for x in rng.integers(0, 10, size)]
        shown = f"Input: {format_answer(kind, data)}"
    elif kind == "set_intersection":
        data = _make_sets(rng, size)
        shown = f"Set 1: {format_answer(kind, data[0])}\nSet 2: {format_answer(kind, data[1])}"
    else:
        data = _make_text(rng, size)
        shown = f"Text: {data}"
    statement = _INSTRUCTIONS[kind].format(size=size) + "\n\n" + shown
    answer = format_answer(kind, solution(kind, data))
    return ThoughtProblem(f"{kind}-{size}-{seed}", kind, size, seed, statement, data, answer)


def _make_sets(rng: np.random.Generator, size: int) -> tuple[list[int], list[int]]:
    """Two sets of ``size`` distinct ints from ``range(4 * size)``, sharing 1/8 to 3/8 of them."""
    common = int(rng.integers(size // 8, 3 * size // 8 + 1))
    pool = [int(x) for x in rng.permutation(4 * size)[: 2 * size - common]]
    shared, rest = pool[:common], pool[common:]
    first = shared + rest[: size - common]
    second = shared + rest[size - common :]
    return [int(x) for x in rng.permutation(first)], [int(x) for x in rng.permutation(second)]


def _make_text(rng: np.random.Generator, mentions: int) -> str:
    """Sentences of filler words naming ``mentions`` countries in all, 2 to 6 a sentence."""
    sentences = []
    left = mentions
    while left > 0:
        count = min(left, int(rng.integers(2, 7)))
        left -= count
        names = [COUNTRIES[int(i)] for i in rng.integers(0, len(COUNTRIES), count)]
        words = [_OPENERS[int(rng.integers(len(_OPENERS)))], names[0]]
        for name in names[1:]:
            words += [_JOINERS[int(rng.integers(len(_JOINERS)))], name]
        sentences.append(" ".join(words) + ".")
    return " ".join(sentences)


# ---- results and their text form -------------------------------------------------------------


def solution(kind: str, input_data: InputData) -> Result:
    """The correct result of an input: sorted digits, the sorted intersection, or the counts.

    Raises:
        ConfigError: The kind is unknown or the input does not have that kind's shape.
    """
    kind = check_kind(kind)
    if kind == "sorting":
        return sorted(_ints(input_data, "a sorting input"))
    if kind == "set_intersection":
        first, second = _pair(input_data)
        return sorted(set(first) & set(second))
    return dict(sorted(Counter(_COUNTRY.findall(_text(input_data))).items()))


def input_length(kind: str, input_data: InputData) -> int:
    """How much work an input is: digits to sort, elements of the first set, or mentions."""
    kind = check_kind(kind)
    if kind == "sorting":
        return len(_ints(input_data, "a sorting input"))
    if kind == "set_intersection":
        return len(_pair(input_data)[0])
    return len(_COUNTRY.findall(_text(input_data)))


def format_answer(kind: str, result: Result) -> str:
    """The canonical text of a result: ``[0, 1, 1, 3]`` or ``{"France": 2, "Peru": 1}``."""
    if check_kind(kind) == "keyword_counting":
        if not isinstance(result, dict):
            raise ConfigError(f"a keyword-counting result is a dict, got {type(result).__name__}")
        return json.dumps(dict(sorted(result.items())))
    return "[" + ", ".join(str(x) for x in _ints(result, "a list result")) + "]"


def parse_answer(kind: str, text: str) -> Result | None:
    """Read an answer from text, or None when there is none to read.

    Lists: the contents of the first ``[...]`` (which must be integers separated by commas or
    spaces), else the first run of such integers (no brackets, trailing text allowed).
    Keyword counting: the first JSON object in the text whose keys are strings and values ints.
    """
    if check_kind(kind) == "keyword_counting":
        return _parse_counts(text)
    start = text.find("[")
    end = text.find("]", start + 1) if start >= 0 else -1
    if end >= 0:
        tokens = [t for t in re.split(r"[,\s]+", text[start + 1 : end]) if t]
        if all(re.fullmatch(r"-?\d+", t) for t in tokens):
            return [int(t) for t in tokens]
        return None
    run = re.search(r"-?\d+(?:\s*,\s*-?\d+|\s+-?\d+)*", text[start + 1 :])
    return None if run is None else [int(t) for t in re.findall(r"-?\d+", run.group())]


def _parse_counts(text: str) -> dict[str, int] | None:
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _end = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value.values()
        ):
            return {str(k): int(v) for k, v in value.items()}
    return None


# ---- Graph of Thoughts' error metrics --------------------------------------------------------


def local_error(kind: str, input_data: InputData, candidate: object | None) -> int:
    """Graph of Thoughts' error of a parsed candidate against the correct result of this input.

    A candidate that is None or not of the kind's shape (a list of ints, or a dict of str -> int)
    is unreadable and gets `max_error`.
    """
    kind = check_kind(kind)
    truth = solution(kind, input_data)
    if kind == "keyword_counting":
        if not _is_counts(candidate):
            return max_error(kind, input_data)
        counts = cast(dict[str, int], candidate)
        assert isinstance(truth, dict)
        return sum(abs(counts.get(k, 0) - truth.get(k, 0)) for k in set(counts) | set(truth))
    if not _is_ints(candidate):
        return max_error(kind, input_data)
    items = cast(list[int], candidate)
    assert isinstance(truth, list)
    if kind == "sorting":
        have, want = Counter(items), Counter(truth)
        count_errors = sum(abs(have[v] - want[v]) for v in set(have) | set(want))
        return count_errors + sum(1 for a, b in pairwise(items) if a > b)
    common = set(items) & set(truth)
    return (len(truth) - len(common)) + (len(items) - len(common))


def error_count(problem: ThoughtProblem, candidate: object | None) -> int:
    """The error of a parsed answer to the whole problem (0 iff exact)."""
    return local_error(problem.kind, problem.input_data, candidate)


def max_error(kind: str, input_data: InputData) -> int:
    """The error of an unreadable answer: that of the empty answer, at least 1.

    Sorting: the number of digits. Set intersection: the size of the true intersection.
    Keyword counting: the number of country mentions.
    """
    truth = solution(kind, input_data)
    return max(1, len(truth) if isinstance(truth, list) else sum(truth.values()))


def partial_score(problem: ThoughtProblem, candidate: object | None) -> float:
    """A score in [0, 1]: 1.0 iff exact, else ``0.9 * max(0, 1 - error / max_error)``.

    The factor 0.9 makes every exact answer beat every inexact one; an unreadable or empty
    answer scores 0.
    """
    return score_of_errors(
        error_count(problem, candidate), max_error(problem.kind, problem.input_data)
    )


def score_of_errors(errors: int, most: int) -> float:
    """1.0 for no error, else ``0.9 * max(0, 1 - errors / most)`` (see `partial_score`)."""
    if errors == 0:
        return 1.0
    return 0.9 * max(0.0, 1.0 - errors / most)


# ---- shapes ----------------------------------------------------------------------------------


def _is_ints(value: object) -> bool:
    return isinstance(value, (list, tuple)) and all(
        isinstance(x, int) and not isinstance(x, bool) for x in value
    )


def _is_counts(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
        for k, v in value.items()
    )


def _ints(value: object, what: str) -> list[int]:
    if not _is_ints(value):
        raise ConfigError(f"{what} must be a list of ints, got {type(value).__name__}")
    return list(cast(Sequence[int], value))


def _pair(value: object) -> tuple[list[int], list[int]]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ConfigError("a set-intersection input must be a pair of int lists (set 1, set 2)")
    return _ints(value[0], "set 1"), _ints(value[1], "set 2")


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"a keyword-counting input must be a text, got {type(value).__name__}")
    return value
