"""ThoughtGraph-v0's ``programming`` task: the built-in programming problems, as thoughts.

A thought is a candidate function (`Program`). Its score is what the agent can check itself:
how many visible checks (the statement's worked example) it fails, run in a sandbox. The
reward comes from the problem's hidden unit tests, run once at submit in a fresh sandbox by
`palaestra.tasks.programming.grader` (the harness CodeInterpreter-v0 grades with), so no action
queries the ground truth.

The simulated reasoner writes code the way the other tasks corrupt lists: a candidate is the
reference solution with some mutation sites turned into bugs. The sites are the places where a
model slips: a comparison (``<`` for ``<=``, ``in`` for ``not in``), an arithmetic, bitwise or
boolean operator, a sign, an integer constant off by one, a string constant missing its last
character, ``min`` for ``max`` or ``list`` for ``sorted``, ``upper`` for ``lower`` (and other
method mix-ups), an ``if``/``while`` test negated. A program's length, for the error model, is
four items per line of the reference up to 64, so an 8-line function solves like 32 digits and
any function of 16 lines or more like 64. Refining fixes each bug with the reasoner's ``p_fix``;
aggregating candidates keeps a bug that all of them share and half of those only some share,
then adds merge errors. A bug may not show on the example or on any hidden test (an equivalent
mutant): exactly the gap between visible and hidden tests that programming has.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from palaestra.core.types import Verdict
from palaestra.errors import TaskError
from palaestra.tasks.code import CodeTask, SandboxFactory
from palaestra.tasks.programming.family import problem_task
from palaestra.tasks.programming.grader import GraderLimits, extract_code, grade
from palaestra.tasks.programming.problems import PROBLEMS, Problem
from palaestra.tasks.task import Split

__all__ = [
    "CodingProblem",
    "Program",
    "coding_problem",
    "coding_problems",
    "hidden_verdict",
    "visible_check",
]

ITEMS_PER_LINE = 4
"""A reference line counts as this many items in the simulated reasoner's length."""
MAX_LENGTH = 64
"""Past 16 lines a function counts as 16: it is written (and fixed) a piece at a time."""

_SWAPS: dict[type, type] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Add,
    ast.FloorDiv: ast.Mod,
    ast.Mod: ast.FloorDiv,
    ast.Div: ast.Mult,
    ast.And: ast.Or,
    ast.Or: ast.And,
    ast.Pow: ast.Mult,
    ast.BitXor: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.BitAnd: ast.BitOr,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
    ast.USub: ast.UAdd,
}
_NAMES = {
    "min": "max",
    "max": "min",
    "any": "all",
    "all": "any",
    "sorted": "list",
    "reversed": "iter",
}
_METHODS = {
    "lower": "upper",
    "upper": "lower",
    "strip": "rstrip",
    "lstrip": "strip",
    "rstrip": "strip",
    "append": "extend",
    "keys": "values",
    "values": "keys",
    "startswith": "endswith",
    "endswith": "startswith",
}


@dataclass(frozen=True)
class CodingProblem:
    """A built-in programming problem as ThoughtGraph-v0 plays it.

    Attributes:
        id: ``programming-<slug>``.
        problem: The problem (statement, reference, hidden cases).
        task: Its `CodeTask`, which the hidden-test grader reads.
        statement: What the agent reads.
    """

    id: str
    problem: Problem
    task: CodeTask = field(repr=False)
    statement: str
    kind: ClassVar[str] = "programming"

    @property
    def input_data(self) -> CodingProblem:
        """The input of node 0: the problem itself (what the reasoner is prompted with)."""
        return self

    @property
    def split(self) -> Split:
        """The problem's split (a hash of its statement, as in CodeInterpreter-v0)."""
        return self.task.split

    @property
    def length(self) -> int:
        """The reference's length in the simulated reasoner's items (see the module docstring)."""
        lines = len(self.problem.reference.strip().splitlines())
        return min(MAX_LENGTH, ITEMS_PER_LINE * lines)

    @property
    def sites(self) -> int:
        """How many mutation sites the reference has."""
        return len(_sites(self.problem.reference))


@dataclass(frozen=True)
class Program:
    """A candidate solution: its code and, when the simulated reasoner wrote it, its bugs.

    ``bugs`` names the reference's mutation sites that are wrong; None when a model wrote the
    code and nobody knows. The agent sees only ``code``.
    """

    code: str
    bugs: frozenset[int] | None = None


def coding_problems() -> tuple[CodingProblem, ...]:
    """Every built-in problem, in a fixed order."""
    return _all()


def coding_problem(task_id: str) -> CodingProblem:
    """The problem with this id (``programming-<slug>``); a `TaskError` if there is none."""
    for candidate in _all():
        if candidate.id == task_id:
            return candidate
    raise TaskError(f"no programming problem has the id {task_id!r}")


@functools.cache
def _all() -> tuple[CodingProblem, ...]:
    made = []
    for problem in PROBLEMS:
        task = problem_task(problem)
        statement = (
            f"Write the Python function `{problem.entry_point}` specified below.\n\n"
            f"```python\n{problem.statement()}\n```\n\nA function is not split: solve node 0, "
            f"score candidates (that runs the example), refine or aggregate them, and submit "
            f"one; hidden tests grade it."
        )
        made.append(CodingProblem(task.id, problem, task, statement))
    return tuple(made)


# ---------------------------------------------------------------------------- the simulation
def render(problem: CodingProblem, bugs: frozenset[int]) -> Program:
    """The reference with these sites mutated."""
    tree = ast.parse(problem.problem.reference)
    sites = _site_nodes(tree)
    for index in sorted(bugs):
        _mutate(sites[index])
    return Program(ast.unparse(tree), frozenset(bugs))


def simulate_solve(problem: CodingProblem, mean_bugs: float, rng: np.random.Generator) -> Program:
    """A fresh candidate: Poisson(``mean_bugs``) distinct bugs."""
    count = min(problem.sites, int(rng.poisson(mean_bugs)))
    chosen = rng.choice(problem.sites, size=count, replace=False) if count else ()
    return render(problem, frozenset(int(i) for i in chosen))


def simulate_refine(
    problem: CodingProblem,
    candidate: Program,
    p_fix: float,
    new_bugs: int,
    rng: np.random.Generator,
    mean_bugs: float,
) -> Program:
    """Fix each bug with ``p_fix``, then add ``new_bugs``; unknown code is written anew."""
    if candidate.bugs is None:
        return simulate_solve(problem, mean_bugs, rng)
    bugs = {bug for bug in sorted(candidate.bugs) if rng.random() >= p_fix}
    bugs |= _new_bugs(problem, bugs, new_bugs, rng)
    return render(problem, frozenset(bugs))


def simulate_merge(
    problem: CodingProblem, candidates: list[Program], mean_bugs: float, rng: np.random.Generator
) -> Program:
    """Combine candidates: shared bugs stay, a bug only some have stays with probability 1/2."""
    known = [c.bugs for c in candidates if c.bugs is not None]
    if not known:
        return simulate_solve(problem, mean_bugs, rng)
    shared = frozenset.intersection(*known)
    some = sorted(frozenset.union(*known) - shared)
    bugs = set(shared) | {bug for bug in some if rng.random() < 0.5}
    bugs |= _new_bugs(problem, bugs, int(rng.poisson(mean_bugs)), rng)
    return render(problem, frozenset(bugs))


def _new_bugs(
    problem: CodingProblem, present: set[int], count: int, rng: np.random.Generator
) -> set[int]:
    free = [i for i in range(problem.sites) if i not in present]
    count = min(count, len(free))
    return {int(i) for i in rng.choice(free, size=count, replace=False)} if count else set()


@functools.cache
def _sites(reference: str) -> tuple[int, ...]:
    return tuple(range(len(_site_nodes(ast.parse(reference)))))


def _site_nodes(tree: ast.AST) -> list[ast.AST]:
    """The mutable places of a tree, in a fixed walk order (the same for every parse)."""
    found: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and type(node.ops[0]) in _SWAPS:
            found.append(node)
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _SWAPS:
            found.append(node)
        elif isinstance(node, ast.BoolOp):
            found.append(node)
        elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
            found.append(node)
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            found.append(node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
            found.append(node)
        elif isinstance(node, ast.UnaryOp) and type(node.op) in _SWAPS:
            found.append(node)
        elif isinstance(node, ast.Name) and node.id in _NAMES and isinstance(node.ctx, ast.Load):
            found.append(node)
        elif isinstance(node, ast.Attribute) and node.attr in _METHODS:
            found.append(node)
    return found


def _mutate(node: ast.AST) -> None:
    """Turn one site into its bug (in place)."""
    if isinstance(node, ast.Compare):
        node.ops[0] = _SWAPS[type(node.ops[0])]()
    elif isinstance(node, (ast.BinOp, ast.AugAssign, ast.BoolOp, ast.UnaryOp)):
        node.op = _SWAPS[type(node.op)]()
    elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
        node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        node.value = node.value[:-1]
    elif isinstance(node, ast.Constant) and isinstance(node.value, int):
        node.value = node.value + 1
    elif isinstance(node, ast.Name):
        node.id = _NAMES[node.id]
    elif isinstance(node, ast.Attribute):
        node.attr = _METHODS[node.attr]


# ------------------------------------------------------------------------------------ checks
def visible_check(
    problem: CodingProblem, code: str, new_sandbox: SandboxFactory, limits: GraderLimits
) -> tuple[int, str]:
    """How many visible checks (the statement's example) the code fails, and why, in a sandbox."""
    args, expected = problem.problem.example
    cases = [{"args": list(args), "expected": expected}]
    visible = problem.task.model_copy(update={"hidden": {**problem.task.hidden, "cases": cases}})
    verdict = grade(visible, code, new_sandbox, limits)
    failed = len(cases) - round(verdict.score * len(cases))
    why = "passes the example" if failed == 0 else _short(verdict.reason)
    return failed, why


def hidden_verdict(
    problem: CodingProblem, answer: str, new_sandbox: SandboxFactory, limits: GraderLimits
) -> tuple[int, int, Verdict]:
    """Failed and total hidden tests of an answer, and the grader's verdict."""
    verdict = grade(problem.task, answer, new_sandbox, limits)
    total = len(problem.problem.cases)
    return total - round(verdict.score * total), total, verdict


def program_of(text: str) -> Program:
    """A model's reply as a candidate (the code of its first fence, or the text)."""
    return Program(extract_code(text).strip())


def _short(reason: str) -> str:
    head, _, rest = reason.partition(": ")
    return (rest or head).removeprefix("0/1 hidden tests passed ").strip("() ") or head
