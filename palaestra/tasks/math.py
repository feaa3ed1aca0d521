r"""Math problems whose final answer is checked by symbolic equivalence (math-verify).

Two sources, one verifier. `MathFamily()` draws from reasoning-gym generators with exact answers
(`GENERATORS`, three levels each): task ``math-gcd-2-417`` is entry 417 of the ``gcd`` dataset at
level 2, whose seed is a hash of ``"math/gcd/2"``. `MathFamily.from_jsonl` and
`MathFamily.from_hf` load GSM8K- or MATH-style sets. A task's split is a hash of its question
(`palaestra.tasks.split_of`), so train and test never share a question.

The final answer goes in ``\boxed{...}``; math-verify compares it with the reference
symbolically, so ``\boxed{2/4}``, ``\boxed{0.5}`` and ``\boxed{\frac12}`` are all equal.
math-verify bounds its work with ``signal.alarm``, which only the main thread may use; elsewhere
(an env server's worker threads) the comparison runs in a helper process that is killed when it
overruns. reasoning-gym and math-verify load slowly, so they are imported on first use.
"""

from __future__ import annotations

import ast
import decimal
import functools
import hashlib
import itertools
import json
import logging
import os
import re
import select
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from palaestra.core.types import Verdict
from palaestra.errors import ConfigError, TaskError, require
from palaestra.tasks.code import CodeTask, SandboxFactory, extract_answer
from palaestra.tasks.splits import split_of
from palaestra.tasks.task import Split

if TYPE_CHECKING:
    import numpy as np

__all__ = ["ANSWER_FORMAT", "GENERATORS", "LEVELS", "MathFamily", "default_answer", "last_boxed"]

ANSWER_FORMAT = (
    "Put the final answer in \\boxed{}, e.g. \\boxed{42} or \\boxed{\\frac{3}{4}}; "
    "any equivalent form (3/4, 0.75) counts."
)
LEVELS = (1, 2, 3)
_MAX_SKIPS = 10_000
_TIMEOUT_S = 3  # per math-verify call (parse, verify); whole seconds: it uses signal.alarm
_MAX_BOXED_CHARS = 2_000


# ------------------------------------------------------------------------- reasoning-gym entries
@dataclass(frozen=True)
class _Generator:
    """A reasoning-gym dataset: its config per level, and how to solve one of its entries."""

    levels: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]
    solve: Callable[[dict[str, Any]], tuple[str, str] | None]
    """entry -> (gold answer in LaTeX, reference code), or None when the entry is unusable."""


def _exact(expression: str) -> Fraction | None:
    """The exact value of an expression of numbers, + - * / and parentheses (None: 1/0)."""
    operators: dict[type, Callable[[Fraction, Fraction], Fraction]] = {
        ast.Add: lambda a, b: a + b,
        ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a / b,
    }

    def value(node: ast.AST) -> Fraction:
        if isinstance(node, ast.BinOp) and type(node.op) in operators:
            return operators[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = value(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return Fraction(ast.get_source_segment(expression, node) or str(node.value))
        raise ValueError(f"unexpected {ast.dump(node)}")

    try:
        return value(ast.parse(expression, mode="eval").body)
    except ZeroDivisionError:
        return None


def _latex(value: Fraction | int) -> str:
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def _solve_arithmetic(entry: dict[str, Any]) -> tuple[str, str] | None:
    # reasoning-gym evaluates "/" as floor division; keep the entries where that is exact.
    expression = entry["metadata"]["expression"]
    value = _exact(expression)
    if value is None or value != Fraction(entry["answer"]):
        return None
    code = (
        "import re\nfrom fractions import Fraction\n\n"
        f"expression = {expression!r}\n"
        "# exact arithmetic: every integer becomes a Fraction\n"
        'print(eval(re.sub(r"\\d+", lambda m: f"Fraction({m.group()})", expression)))\n'
    )
    return _latex(value), code


def _solve_integer_expression(entry: dict[str, Any]) -> tuple[str, str] | None:
    expression = entry["metadata"]["expression"]
    if _exact(expression) != int(entry["answer"]):
        return None
    return entry["answer"], f"print({expression})\n"


def _solve_decimal_sum(entry: dict[str, Any]) -> tuple[str, str] | None:
    expression = entry["metadata"]["expression"]
    if _exact(expression) != Fraction(entry["answer"]):
        return None
    exact = re.sub(r"\d+(?:\.\d+)?", lambda m: f"Decimal({m.group()!r})", expression)
    return entry["answer"], f"from decimal import Decimal\n\nprint({exact})\n"


def _solve_equation(entry: dict[str, Any]) -> tuple[str, str] | None:
    equation, variable = entry["metadata"]["equation"], entry["metadata"]["variable"]
    lhs, rhs = equation.split("=")
    code = (
        "from fractions import Fraction\n\n"
        f"lhs, rhs = {lhs.strip()!r}, {rhs.strip()!r}\n"
        f"side = lambda v: eval(lhs, {{{variable!r}: Fraction(v)}})\n"
        "# the left side is linear in the unknown: a * v + b\n"
        "b = side(0)\n"
        "a = side(1) - b\n"
        "print((Fraction(eval(rhs)) - b) / a)\n"
    )
    return entry["answer"], code


def _solve_gcd(entry: dict[str, Any]) -> tuple[str, str] | None:
    return entry["answer"], f"import math\n\nprint(math.gcd(*{entry['metadata']['numbers']}))\n"


def _solve_lcm(entry: dict[str, Any]) -> tuple[str, str] | None:
    return entry["answer"], f"import math\n\nprint(math.lcm(*{entry['metadata']['numbers']}))\n"


def _solve_count_primes(entry: dict[str, Any]) -> tuple[str, str] | None:
    start, end = entry["metadata"]["start"], entry["metadata"]["end"]
    code = (
        f"start, end = {start}, {end}\n"
        "sieve = bytearray([1]) * (end + 1)\n"
        "sieve[: min(2, end + 1)] = bytes(min(2, end + 1))\n"
        "for i in range(2, int(end**0.5) + 1):\n"
        "    if sieve[i]:\n"
        "        sieve[i * i :: i] = bytes(len(range(i * i, end + 1, i)))\n"
        "print(sum(sieve[start : end + 1]))\n"
    )
    return entry["answer"], code


def _solve_count_bits(entry: dict[str, Any]) -> tuple[str, str] | None:
    return entry["answer"], f"print(bin({entry['metadata']['number']}).count('1'))\n"


def _solve_dice(entry: dict[str, Any]) -> tuple[str, str] | None:
    puzzle = entry["metadata"]["puzzle"]
    dice = [int(die.split("d")[1]) for die in puzzle["dice_str"].split(", ")]
    code = (
        "from fractions import Fraction\n\n"
        f"dice, target = {dice}, {puzzle['target']}\n"
        "ways = {0: 1}  # total -> number of ways to roll it\n"
        "for sides in dice:\n"
        "    rolled = {}\n"
        "    for total, count in ways.items():\n"
        "        for face in range(1, sides + 1):\n"
        "            rolled[total + face] = rolled.get(total + face, 0) + count\n"
        "    ways = rolled\n"
        "outcomes = 1\n"
        "for sides in dice:\n"
        "    outcomes *= sides\n"
        "print(Fraction(sum(c for total, c in ways.items() if total >= target), outcomes))\n"
    )
    return _latex(Fraction(puzzle["num"], puzzle["den"])), code


def _terms(low: int, high: int, digits: tuple[int, int], **extra: Any) -> dict[str, Any]:
    return dict(min_terms=low, max_terms=high, min_digits=digits[0], max_digits=digits[1], **extra)


GENERATORS: dict[str, _Generator] = {
    "basic_arithmetic": _Generator(
        (
            _terms(2, 3, (1, 2), operators=("+", "-", "*"), allow_negation=False),
            _terms(3, 5, (1, 2), operators=("+", "-", "*", "/")),
            _terms(5, 8, (2, 3), operators=("+", "-", "*", "/")),
        ),
        _solve_arithmetic,
    ),
    "chain_sum": _Generator(
        (_terms(2, 3, (1, 2)), _terms(4, 6, (2, 4)), _terms(8, 12, (4, 6), allow_negation=True)),
        _solve_integer_expression,
    ),
    "products": _Generator(
        (_terms(2, 2, (1, 2)), _terms(2, 3, (2, 3)), _terms(3, 4, (3, 5))),
        _solve_integer_expression,
    ),
    "decimal_chain_sum": _Generator(
        (
            _terms(2, 3, (1, 2), min_decimal_places=1, max_decimal_places=2),
            _terms(3, 5, (2, 3), min_decimal_places=1, max_decimal_places=3),
            _terms(5, 8, (3, 5), min_decimal_places=2, max_decimal_places=4, allow_negation=True),
        ),
        _solve_decimal_sum,
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
        _solve_equation,
    ),
    "gcd": _Generator(
        (
            dict(min_numbers=2, max_numbers=2, max_value=100),
            dict(min_numbers=2, max_numbers=3, max_value=10_000),
            dict(min_numbers=3, max_numbers=5, max_value=1_000_000),
        ),
        _solve_gcd,
    ),
    "lcm": _Generator(
        (
            dict(min_numbers=2, max_numbers=2, max_value=20),
            dict(min_numbers=2, max_numbers=3, max_value=200),
            dict(min_numbers=3, max_numbers=5, max_value=2_000),
        ),
        _solve_lcm,
    ),
    "count_primes": _Generator(
        (dict(max_n=200), dict(max_n=10_000), dict(max_n=200_000)), _solve_count_primes
    ),
    "count_bits": _Generator(
        (dict(max_n=2**10), dict(max_n=2**31), dict(max_n=2**64)), _solve_count_bits
    ),
    "dice": _Generator(
        (
            dict(num_dice=2, max_dice_size=6),
            dict(num_dice=3, max_dice_size=12),
            dict(num_dice=5, max_dice_size=20),
        ),
        _solve_dice,
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


# ----------------------------------------------------------------------------------- sources
class _Generated:
    """Endless tasks from `GENERATORS`, scanned by index like ToolUse's tasks."""

    def __init__(self, name: str, generators: tuple[str, ...], levels: tuple[int, ...]) -> None:
        self.name, self.generators, self.levels = name, generators, levels
        self._id = re.compile(rf"^{re.escape(name)}-([a-z_]+)-([1-9])-(\d{{1,10}})$")

    def get(self, task_id: str, split: Split) -> CodeTask:
        match = self._id.match(task_id) if isinstance(task_id, str) else None
        if match is None or match[1] not in self.generators or int(match[2]) not in self.levels:
            raise TaskError(
                f"{task_id!r} is not a task of this math family; ids look like "
                f"'{self.name}-gcd-2-417' (generator: {', '.join(self.generators)}; "
                f"level: {', '.join(map(str, self.levels))}; then an index)"
            )
        task = _make_task(self.name, match[1], int(match[2]), int(match[3]))
        if task is None:
            raise TaskError(f"index {match[3]} yields no task for {task_id!r}; try another index")
        return task

    def sample(self, rng: np.random.Generator, split: Split) -> CodeTask:
        generator = self.generators[int(rng.integers(len(self.generators)))]
        level = self.levels[int(rng.integers(len(self.levels)))]
        return next(self._scan(generator, level, int(rng.integers(0, 2**31)), split))

    def iterate(self, split: Split) -> Iterator[CodeTask]:
        scans = [self._scan(g, lv, 0, split) for g in self.generators for lv in self.levels]
        while True:
            for scan in scans:
                yield next(scan)

    def _scan(self, generator: str, level: int, start: int, split: Split) -> Iterator[CodeTask]:
        skipped = 0
        for index in itertools.count(start):
            task = _make_task(self.name, generator, level, index)
            if task is not None and task.split == split:
                skipped = 0
                yield task
            elif (skipped := skipped + 1) >= _MAX_SKIPS:
                raise TaskError(f"no {split} task for {generator} level {level} near {index}")


class _Listed:
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
        task = self.by_id.get(task_id) if isinstance(task_id, str) else None
        if task is None:
            raise TaskError(f"{task_id!r} is not a task of the {self.name!r} family")
        return task

    def sample(self, rng: np.random.Generator, split: Split) -> CodeTask:
        tasks = self.by_split[split]
        if not tasks:
            raise TaskError(f"the {self.name!r} family has no {split} tasks")
        return tasks[int(rng.integers(len(tasks)))]

    def iterate(self, split: Split) -> Iterator[CodeTask]:
        return iter(self.by_split[split])


# ------------------------------------------------------------------------------------ family
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
        self._source: _Generated | _Listed
        if tasks is not None:
            if generators is not None or levels is not None:
                raise ConfigError("give either tasks or generators/levels, not both")
            self._source = _Listed(name, tasks)
        else:
            self._source = _Generated(
                name,
                _choose(generators, "generators", GENERATORS),
                _choose(levels, "levels", LEVELS),
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
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise TaskError(f"cannot read math tasks from {path}: {exc}") from exc
        rows: list[tuple[str, int, Any]] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                rows.append((f"{path}, line {number}", number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise TaskError(f"{path}, line {number}: not valid JSON ({exc.msg})") from exc
        fields = _Fields(question_field, answer_field, id_field, difficulty_field)
        tasks = _tasks(rows, fields, split, answer_extractor or default_answer, name, str(path))
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
        rows = [(f"{source}, row {i}", i, row) for i, row in enumerate(dataset)]
        fields = _Fields(question_field, answer_field, id_field, difficulty_field)
        tasks = _tasks(rows, fields, split, answer_extractor or default_answer, name, source)
        return cls(tasks=tasks, name=name)

    # ---------------------------------------------------------------------- TaskFamily API
    def get(self, task_id: str, split: Split) -> CodeTask:
        """The task with this id; a `TaskError` if it does not exist or is in the other split."""
        task = self._source.get(task_id, split)
        if task.split != split:
            raise TaskError(
                f"task {task_id!r} belongs to the {task.split} split, not {split}; "
                f"make the env with split={task.split!r}"
            )
        return task

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
        outcome = _judge(str(task.hidden["answer"]), boxed)
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


def _choose(value: Any, what: str, allowed: Iterable[Any]) -> tuple[Any, ...]:
    allowed = tuple(allowed)
    if value is None:
        return allowed
    values = tuple(value) if isinstance(value, (list, tuple, set, frozenset)) else (value,)
    if not values or any(v not in allowed for v in values):
        raise ConfigError(f"{what} must be among {list(allowed)}, got {value!r}")
    return values


def _clip(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ------------------------------------------------------------------------------------ loading
@dataclass(frozen=True)
class _Fields:
    question: str
    answer: str
    id: str | None
    difficulty: str | None


def _tasks(
    rows: list[tuple[str, int, Any]],
    fields: _Fields,
    split: Split | None,
    extract: Callable[[str], str],
    name: str,
    source: str,
) -> list[CodeTask]:
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


def default_answer(worked: str) -> str:
    r"""The final answer in a worked solution.

    That is the text after ``####`` (GSM8K), the last ``\boxed{}`` (MATH), or the whole text when
    it is a short value.

    Raises:
        ValueError: when none of these is found.
    """
    if "####" in worked:
        return worked.rsplit("####", 1)[1].strip().rstrip(".").replace(",", "")
    boxed = last_boxed(worked)
    if boxed is not None:
        return boxed
    if "\n" not in worked.strip() and len(worked) <= 200:
        return worked.strip()
    raise ValueError("no final answer: expected '#### <answer>', a \\boxed{} or a short value")


def last_boxed(text: str) -> str | None:
    r"""The content of the last ``\boxed{...}`` or ``\fbox{...}`` in ``text`` (None: none)."""
    for match in reversed(list(re.finditer(r"\\(?:boxed|fbox)\s*\{", text))):
        depth, start = 1, match.end()
        for position in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[position], 0)
            if depth == 0:
                return text[start:position]
    return None


# ---------------------------------------------------------------------------------- checking
def _compare(gold: str, boxed: str, timeout: int | None) -> tuple[bool, str | None]:
    """math-verify on a gold answer and a boxed answer: (equal, what the answer was read as)."""
    from math_verify import parse, verify

    wanted = parse(f"\\boxed{{{gold}}}", parsing_timeout=timeout)
    got = parse(f"\\boxed{{{boxed}}}", parsing_timeout=timeout)
    shown = next((item for item in got if isinstance(item, str)), boxed)
    if all(isinstance(item, str) for item in wanted):  # a reference that is not maths: text
        return "".join(gold.split()) == "".join(boxed.split()), shown
    if all(isinstance(item, str) for item in got):
        return False, None
    return bool(verify(wanted, got, timeout_seconds=timeout)), shown


def _judge(gold: str, boxed: str) -> tuple[bool, str | None] | None:
    """`_compare` within a time limit; None when it ran out."""
    require("math_verify", "math")
    if threading.current_thread() is threading.main_thread():
        return _compare(gold, boxed, _TIMEOUT_S)  # math-verify's own signal-based timeouts
    return _HELPER.compare(gold, boxed, timeout=2 * _TIMEOUT_S)  # parse + verify


class _Helper:
    """A child process that runs `_compare` for threads, where math-verify cannot time out.

    Started on first use (``python -c``, so the caller's ``__main__`` is never re-imported) and
    shared by the threads, one comparison at a time; killed and restarted when a comparison
    overruns. It reads JSON lines on stdin and answers on stdout; it ends when stdin closes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None

    def compare(self, gold: str, boxed: str, timeout: float) -> tuple[bool, str | None] | None:
        with self._lock:
            process = self._process if self._process and self._process.poll() is None else None
            process = process or self._start()
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.write(json.dumps([gold, boxed]) + "\n")
                process.stdin.flush()
            except OSError as exc:
                self._stop()
                raise TaskError(f"the math-verify helper process failed: {exc}") from exc
            if not _readable(process.stdout, timeout):
                self._stop()
                return None
            line = process.stdout.readline()
            if not line:
                self._stop()
                raise TaskError("the math-verify helper process exited unexpectedly")
            equal, shown = json.loads(line)
            return bool(equal), shown

    def _start(self) -> subprocess.Popen[str]:
        environment = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        process = subprocess.Popen(
            [sys.executable, "-c", "from palaestra.tasks.math import _serve; _serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=environment,
        )
        assert process.stdout is not None
        if not _readable(process.stdout, 120) or process.stdout.readline().strip() != "ready":
            process.kill()
            process.wait()
            raise TaskError("the math-verify helper process did not start")
        self._process = process
        return process

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


def _readable(stream: IO[str], timeout: float) -> bool:
    return bool(select.select([stream], [], [], timeout)[0])


def _serve() -> None:
    """The helper's loop: compare what the parent sends until stdin closes."""
    import math_verify  # noqa: F401  (load before saying ready)

    logging.getLogger("math_verify").setLevel(logging.ERROR)  # "timeout is disabled": we know
    print("ready", flush=True)
    for line in sys.stdin:
        gold, boxed = json.loads(line)
        try:
            result = _compare(gold, boxed, None)
        except Exception:  # noqa: BLE001  (an answer that breaks math-verify is just unequal)
            result = (False, None)
        print(json.dumps(result), flush=True)


_HELPER = _Helper()
