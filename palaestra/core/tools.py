"""Typed tools: a method's signature and docstring become its schema and its argument checks.

A world marks its tool methods with `@tool`. `Toolbox.of(world_class)` reads each signature
once, builds a strict pydantic model (no coercion of "2" to 2, no unknown arguments) and an
OpenAI function schema from it, and describes each tool in one line for the system prompt.
`Toolbox.validate` turns a `ToolCall` into checked keyword arguments or an `ActionError` that
tells the agent exactly what to fix.
"""

from __future__ import annotations

import inspect
import json
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from palaestra.core.commands import Commands
from palaestra.core.parsing import ActionError
from palaestra.core.types import ToolCall, ToolSpec

__all__ = ["Tool", "Toolbox", "tool"]

F = TypeVar("F", bound=Callable[..., Any])

_TOOL_MARK = "__palaestra_tool__"
_EXPECTED_BY_ERROR = {
    "string_type": "text",
    "int_type": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
}


@typing.overload
def tool(fn: F, /) -> F: ...


@typing.overload
def tool(*, ends_episode: bool = False) -> Callable[[F], F]: ...


def tool(fn: F | None = None, /, *, ends_episode: bool = False) -> F | Callable[[F], F]:
    """Mark a method as a tool the agent may call; its docstring's first line describes it.

    ``@tool(ends_episode=True)`` marks a tool whose call is the agent's last word (``answer``,
    ``submit``): it must be the last call of its message, and the text it returns is the final
    answer the env verifies.
    """

    def mark(method: F) -> F:
        setattr(method, _TOOL_MARK, {"ends_episode": ends_episode})
        return method

    return mark(fn) if fn is not None else mark


@dataclass(frozen=True)
class Tool:
    """One tool: its name, its argument model, its schema and a one-line usage."""

    name: str
    description: str
    arguments: type[BaseModel]
    spec: ToolSpec
    usage: str
    method: Callable[..., Any]
    ends_episode: bool = False
    parameters: tuple[tuple[str, Any], ...] = ()
    """The parameters in order, as ``(name, annotation)``."""


class Toolbox:
    """The tools of a world class, built once per class and shared by every instance."""

    _cache: typing.ClassVar[dict[type, Toolbox]] = {}

    def __init__(self, tools: dict[str, Tool]) -> None:
        self.tools = tools
        self.specs = [t.spec.to_openai() for t in tools.values()]
        self.commands = Commands({name: t.parameters for name, t in tools.items()})
        """The tools as one-line commands, for envs that read ``click [12]`` as a call."""

    @classmethod
    def of(cls, world_class: type) -> Toolbox:
        """The toolbox of a class whose tool methods are marked with `@tool`."""
        if world_class not in cls._cache:
            marked: dict[str, Callable[..., Any]] = {}
            for klass in reversed(world_class.__mro__):  # definition order, subclasses last
                for name, member in vars(klass).items():
                    if inspect.isfunction(member) and getattr(member, _TOOL_MARK, False):
                        marked[name] = member
            cls._cache[world_class] = cls({name: _build_tool(fn) for name, fn in marked.items()})
        return cls._cache[world_class]

    def __contains__(self, name: object) -> bool:
        return name in self.tools

    def __len__(self) -> int:
        return len(self.tools)

    def describe(self) -> str:
        """One line per tool, for the system prompt."""
        return "\n".join(f"- {t.usage}: {t.description}" for t in self.tools.values())

    def validate(self, call: ToolCall) -> tuple[dict[str, Any], ActionError | None]:
        """Check a call against its tool's signature; return its arguments or an error."""
        target = self.tools.get(call.name)
        if target is None:
            names = ", ".join(self.tools)
            return {}, ActionError(
                type="unknown_tool",
                message=f"There is no tool named {call.name!r}. Available tools: {names}.",
            )
        try:
            model = target.arguments.model_validate(call.arguments)
        except ValidationError as exc:
            problems = "; ".join(_describe_problem(err) for err in exc.errors())
            return {}, ActionError(
                type="invalid_arguments",
                message=f"Invalid arguments for {call.name}: {problems}. Usage: {target.usage}.",
            )
        return {name: getattr(model, name) for name in type(model).model_fields}, None


def _build_tool(fn: Callable[..., Any]) -> Tool:
    mark = getattr(fn, _TOOL_MARK)
    hints = typing.get_type_hints(fn)
    doc = inspect.getdoc(fn) or ""
    summary, arg_docs = _parse_docstring(doc)
    fields: dict[str, Any] = {}
    usage_parts = []
    parameters = []
    for name, param in inspect.signature(fn).parameters.items():
        if name == "self":
            continue
        annotation = hints.get(name, Any)
        parameters.append((name, annotation))
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[name] = (annotation, default)
        shown = _type_name(annotation)
        usage_parts.append(f"{name}: {shown}" + ("" if default is ... else f" = {default!r}"))
    model = create_model(
        f"{fn.__name__}_arguments",
        __config__=ConfigDict(strict=True, extra="forbid"),
        **fields,
    )
    schema = _strip_titles(model.model_json_schema())
    for name, text in arg_docs.items():
        if name in schema.get("properties", {}):
            schema["properties"][name]["description"] = text
    usage = f"{fn.__name__}({', '.join(usage_parts)})"
    spec = ToolSpec(name=fn.__name__, description=summary, parameters=schema)
    ends = bool(mark["ends_episode"])
    return Tool(fn.__name__, summary, model, spec, usage, fn, ends, tuple(parameters))


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The summary paragraph and the ``Args:`` descriptions of a Google-style docstring."""
    summary = doc.split("\n\n", 1)[0].replace("\n", " ").strip()
    arg_docs: dict[str, str] = {}
    match = re.search(r"^Args:\n((?:[ \t]+.*\n?)+)", doc, re.MULTILINE)
    if match:
        current = None
        for line in match.group(1).splitlines():
            head = re.match(r"\s+(\w+)(?: \([^)]*\))?:\s*(.*)", line)
            if head:
                current = head.group(1)
                arg_docs[current] = head.group(2).strip()
            elif current:
                arg_docs[current] += " " + line.strip()
    return summary, arg_docs


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " | ".join(json.dumps(v) for v in typing.get_args(annotation))
    if origin in (list, tuple):
        args = typing.get_args(annotation)
        return f"list[{_type_name(args[0])}]" if args else "list"
    if origin is typing.Union or type(annotation).__name__ == "UnionType":
        return " | ".join(_type_name(a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation))


def _strip_titles(schema: Any) -> Any:
    """Drop pydantic's generated ``title`` annotations; an argument named "title" stays."""
    if isinstance(schema, list):
        return [_strip_titles(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    stripped = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            stripped[key] = {name: _strip_titles(sub) for name, sub in value.items()}
        else:
            stripped[key] = _strip_titles(value)
    return stripped


def _describe_problem(error: Any) -> str:
    location = ".".join(str(part) for part in error["loc"]) or "arguments"
    kind = error["type"]
    given = json.dumps(error.get("input"), ensure_ascii=False, default=repr)
    if len(given) > 80:
        given = given[:77] + "..."
    if kind == "missing":
        return f"missing required argument {location!r}"
    if kind == "extra_forbidden":
        return f"unexpected argument {location!r}"
    if kind == "literal_error":
        return f"{location!r} must be one of {error['ctx']['expected']}, got {given}"
    if kind in _EXPECTED_BY_ERROR:
        return f"{location!r} must be {_EXPECTED_BY_ERROR[kind]}, got {given}"
    return f"{location!r}: {error['msg']} (got {given})"
