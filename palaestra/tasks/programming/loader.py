"""Programming tasks from HumanEval- and MBPP-style JSONL files.

HumanEval records have ``task_id``, ``prompt`` (imports, helpers and the signature with its
docstring), ``canonical_solution`` (the body), ``test`` (a module defining ``check(candidate)``)
and ``entry_point``. MBPP records have ``task_id``, ``text`` (the statement; ``prompt`` is
accepted too), ``code`` (the reference), ``test_list`` (assert statements) and optionally
``test_setup_code`` and ``test_imports``.

Their asserts are split with `ast` into a call and an expected value wherever the shape allows:
``f(args) == expected`` (either side), ``f(args) is None/True/False``, ``abs(f(args) - x) < tol``,
``math.isclose(f(args), x)``, a bare ``f(args)`` or ``not f(args)``, where ``f(args)`` may sit in
one builtin such as ``set(...)`` or ``sorted(...)``. The harness evaluates arguments and expected
values in its own process and the answer only ever sees the arguments. Any other assert, and a
``check`` function with statements other than asserts and imports, runs whole inside the answer's
process: a weak check, counted in ``hidden["weak"]``, that a determined answer could fake.

A malformed file raises `TaskError` naming the line and what is wrong with it.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from palaestra.errors import ConfigError, TaskError
from palaestra.tasks.code import CodeTask
from palaestra.tasks.programming.family import answer_for, task_prompt
from palaestra.tasks.splits import split_of
from palaestra.tasks.task import Split

__all__ = ["FORMATS", "convert_assert", "humaneval_task", "load_jsonl", "mbpp_task"]

FORMATS = ("humaneval", "mbpp")

_HUMANEVAL_FIELDS = {
    "task_id": (str, int),
    "prompt": str,
    "canonical_solution": str,
    "test": str,
    "entry_point": str,
}
_MBPP_FIELDS = {"task_id": (str, int), "text": str, "code": str, "test_list": list}
_WRAPPERS = frozenset(
    {"set", "frozenset", "sorted", "list", "tuple", "dict", "len", "str", "repr", "int", "float"}
    | {"bool", "abs", "round", "sum", "min", "max"}
)
_SINGLETONS = (None, True, False)


def load_jsonl(path: str | Path, format: str = "humaneval") -> list[CodeTask]:
    """Every task of a HumanEval- or MBPP-style JSONL file, in file order."""
    if format not in FORMATS:
        raise ConfigError(f"format must be one of {list(FORMATS)}, got {format!r}")
    path = Path(path)
    if not path.is_file():
        raise TaskError(f"no task file at {str(path)!r}")
    convert = humaneval_task if format == "humaneval" else mbpp_task
    tasks: list[CodeTask] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TaskError(f"{where}: not valid JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise TaskError(f"{where}: a record must be a JSON object, got {_kind(record)}")
            task = convert(record, where)
            if task.id in seen:
                raise TaskError(f"{where}: task id {task.id!r} repeats line {seen[task.id]}")
            seen[task.id] = number
            tasks.append(task)
    if not tasks:
        raise TaskError(f"{path} holds no tasks")
    return tasks


# ------------------------------------------------------------------------------------ HumanEval
def humaneval_task(record: Mapping[str, Any], where: str = "record") -> CodeTask:
    """A HumanEval record as a task (``where`` names it in error messages)."""
    _require(record, _HUMANEVAL_FIELDS, where, "HumanEval")
    prompt, entry = record["prompt"], record["entry_point"]
    reference = prompt + record["canonical_solution"]
    prompt_tree = _parse(prompt, where, "prompt")
    _parse(reference, where, "prompt + canonical_solution")
    entry_def = _function(prompt_tree, entry)
    if entry_def is None:
        raise TaskError(f"{where}: the prompt defines no function {entry!r} (the entry_point)")
    test_tree = _parse(record["test"], where, "test")
    check = _function(test_tree, "check")
    if check is None or not check.args.args:
        raise TaskError(f"{where}: test must define check(candidate)")
    parameter = check.args.args[0].arg
    callee = {parameter, entry}
    hoisted: list[str] = []
    cases: list[dict[str, Any]] = []
    whole = False
    for statement in check.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            hoisted.append(ast.unparse(statement))
        elif isinstance(statement, ast.Assert):
            if _mentions(statement.test, callee):
                cases.append(convert_assert(statement, callee) or {"check": _source(statement)})
        elif not _is_inert(statement):
            whole = True
    test_source = record["test"]
    if whole:
        setup, cases = test_source, [{"check": f"check({parameter})"}]
    else:
        setup = "\n".join([_without(test_source, check), *hoisted])
    if not cases:
        raise TaskError(f"{where}: check() holds no assert that calls the candidate")
    slug = _slug(record["task_id"])
    hidden = {
        "entry_point": entry,
        "preamble": _without(prompt, entry_def),
        "setup": setup,
        "names": sorted(callee),
        "compare": "python",
        "cases": cases,
        "weak": sum("check" in case for case in cases),
    }
    return _task("humaneval", record, slug, prompt.strip("\n"), split_of(prompt), reference, hidden)


# ----------------------------------------------------------------------------------------- MBPP
def mbpp_task(record: Mapping[str, Any], where: str = "record") -> CodeTask:
    """An MBPP record as a task (``where`` names it in error messages)."""
    if "text" not in record and isinstance(record.get("prompt"), str):
        record = {**record, "text": record["prompt"]}
    _require(record, _MBPP_FIELDS, where, "MBPP")
    tests = record["test_list"]
    if not tests or not all(isinstance(test, str) for test in tests):
        raise TaskError(f"{where}: test_list must be a non-empty list of strings")
    code = record["code"]
    defined = {
        node.name: node
        for node in _parse(code, where, "code").body
        if isinstance(node, ast.FunctionDef)
    }
    statements: list[ast.stmt] = []
    for index, test in enumerate(tests):
        statements += _parse(test, where, f"test_list[{index}]").body
    entry = next(
        (
            node.func.id
            for statement in statements
            for node in ast.walk(statement)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in defined
        ),
        None,
    )
    if entry is None:
        raise TaskError(f"{where}: test_list calls no function that code defines")
    callee = {entry}
    cases = []
    for statement in statements:
        if isinstance(statement, ast.Assert) and not _mentions(statement.test, callee):
            continue
        converted = convert_assert(statement, callee) if isinstance(statement, ast.Assert) else None
        cases.append(converted or {"check": _source(statement)})
    setup_parts = [record.get("test_setup_code") or "", *(record.get("test_imports") or [])]
    if not all(isinstance(part, str) for part in setup_parts):
        raise TaskError(f"{where}: test_setup_code and test_imports must be strings")
    setup = "\n".join(part for part in setup_parts if part)
    _parse(setup, where, "test_setup_code / test_imports")
    signature = f"def {entry}({ast.unparse(defined[entry].args)}):"
    text = " ".join(record["text"].split())
    statement_text = f'{signature}\n    """{text}\n    """'
    slug = _slug(record["task_id"], prefix="mbpp")
    hidden = {
        "entry_point": entry,
        "setup": setup,
        "names": [entry],
        "compare": "python",
        "cases": cases,
        "weak": sum("check" in case for case in cases),
    }
    return _task("mbpp", record, slug, statement_text, split_of(statement_text), code, hidden)


# ------------------------------------------------------------------------------------ asserts
def convert_assert(node: ast.Assert, callee: set[str]) -> dict[str, Any] | None:
    """The assert as a call and an expected value, or None when it can only run whole."""
    test, source = node.test, _source(node)
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        op, left, right = test.ops[0], test.left, test.comparators[0]
        if isinstance(op, (ast.Eq, ast.Is)):
            for call_side, expected_side in ((left, right), (right, left)):
                call = _call(call_side, callee)
                if call is None or _mentions(expected_side, callee):
                    continue
                if isinstance(op, ast.Eq):
                    return {**call, "expected_src": ast.unparse(expected_side), "source": source}
                if isinstance(expected_side, ast.Constant) and any(
                    expected_side.value is value for value in _SINGLETONS
                ):
                    return {
                        **call,
                        "expected_src": ast.unparse(expected_side),
                        "compare": "is",
                        "source": source,
                    }
        if isinstance(op, (ast.Lt, ast.LtE)) and not _mentions(right, callee):
            difference = _abs_difference(left)
            if difference is not None:
                for call_side, expected_side in (difference, difference[::-1]):
                    call = _call(call_side, callee)
                    if call is not None and not _mentions(expected_side, callee):
                        return {
                            **call,
                            "expected_src": ast.unparse(expected_side),
                            "compare": "abs_tol",
                            "tolerance": {
                                "tol": ast.unparse(right),
                                "strict": str(isinstance(op, ast.Lt)),
                            },
                            "source": source,
                        }
    if isinstance(test, ast.Call) and _dotted(test.func) in ("math.isclose", "isclose"):
        keywords = {k.arg: k.value for k in test.keywords}
        if (
            len(test.args) == 2
            and set(keywords) <= {"rel_tol", "abs_tol"}
            and not any(_mentions(value, callee) for value in keywords.values())
        ):
            tolerance = {name: ast.unparse(value) for name, value in keywords.items() if name}
            for call_side, expected_side in (test.args, test.args[::-1]):
                call = _call(call_side, callee)
                if call is not None and not _mentions(expected_side, callee):
                    return {
                        **call,
                        "expected_src": ast.unparse(expected_side),
                        "compare": "isclose",
                        "tolerance": tolerance,
                        "source": source,
                    }
    call = _call(test, callee)
    if call is not None:
        return {**call, "expected_src": "True", "compare": "truthy", "source": source}
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        call = _call(test.operand, callee)
        if call is not None:
            return {**call, "expected_src": "False", "compare": "falsy", "source": source}
    return None


def _call(node: ast.expr, callee: set[str]) -> dict[str, Any] | None:
    """``f(args)`` or ``wrapper(f(args), ...)`` as sources, when no argument mentions ``f``."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        return None
    arguments = [*node.args, *(k.value for k in node.keywords)]
    if node.func.id in callee:
        if any(_mentions(arg, callee) for arg in arguments):
            return None
        return {
            "args_src": ast.unparse(ast.List(elts=node.args, ctx=ast.Load())),
            "kwargs_src": _kwargs_source(node.keywords),
        }
    if node.func.id in _WRAPPERS and node.args:
        inner = _call(node.args[0], callee)
        if inner is None or "wrap" in inner or any(_mentions(a, callee) for a in arguments[1:]):
            return None
        extra = ast.unparse(ast.List(elts=node.args[1:], ctx=ast.Load()))
        return {**inner, "wrap": [node.func.id, extra, _kwargs_source(node.keywords)]}
    return None


def _abs_difference(node: ast.expr) -> tuple[ast.expr, ast.expr] | None:
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "abs"
        and len(node.args) == 1
        and not node.keywords
        and isinstance(node.args[0], ast.BinOp)
        and isinstance(node.args[0].op, ast.Sub)
    ):
        return node.args[0].left, node.args[0].right
    return None


def _kwargs_source(keywords: list[ast.keyword]) -> str:
    keys: list[ast.expr | None] = [
        None if k.arg is None else ast.Constant(value=k.arg) for k in keywords
    ]
    return ast.unparse(ast.Dict(keys=keys, values=[k.value for k in keywords]))


# ------------------------------------------------------------------------------------ helpers
def _task(
    source: str,
    record: Mapping[str, Any],
    slug: str,
    statement: str,
    split: Split,
    reference: str,
    hidden: dict[str, Any],
) -> CodeTask:
    """A loaded record's task: its statement, the reference that solves it, the hidden tests."""
    entry = hidden["entry_point"]
    return CodeTask(
        id=f"programming-{slug}",
        prompt=task_prompt(statement, entry),
        split=split,
        domain="programming",
        difficulty=2,
        seed=slug,
        family="programming",
        reference_code=f"{reference.rstrip()}\n\nprint('{entry} defined:', callable({entry}))\n",
        solution=answer_for(reference),
        hidden=hidden,
        metadata={"source": source, "task_id": record["task_id"], "tests": len(hidden["cases"])},
    )


def _require(record: Mapping[str, Any], fields: Mapping[str, Any], where: str, kind: str) -> None:
    for name, expected in fields.items():
        if name not in record:
            raise TaskError(
                f"{where}: missing field {name!r} (a {kind} record needs {', '.join(fields)})"
            )
        if not isinstance(record[name], expected):
            names = (
                " or ".join(t.__name__ for t in expected)
                if isinstance(expected, tuple)
                else expected.__name__
            )
            raise TaskError(f"{where}: field {name!r} must be {names}, got {_kind(record[name])}")


def _parse(source: str, where: str, what: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        raise TaskError(
            f"{where}: {what} is not valid Python ({exc.msg}, line {exc.lineno})"
        ) from exc


def _function(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    return None


def _without(source: str, node: ast.stmt) -> str:
    """The source with one top-level statement (decorators included) cut out."""
    lines = source.splitlines()
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    end = node.end_lineno or node.lineno
    return "\n".join(lines[: first - 1] + lines[end:]).strip("\n") + "\n"


def _mentions(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _is_inert(statement: ast.stmt) -> bool:
    """A docstring or ``pass``: nothing a test depends on."""
    return isinstance(statement, ast.Pass) or (
        isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
    )


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _source(node: ast.stmt) -> str:
    return ast.unparse(node)


def _slug(task_id: str | int, prefix: str = "") -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", str(task_id).lower()).strip("-")
    if not slug:
        raise TaskError(f"task_id {task_id!r} has no letters or digits to name the task by")
    return f"{prefix}-{slug}" if prefix and not slug.startswith(prefix) else slug


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(
        type(value), type(value).__name__
    )
