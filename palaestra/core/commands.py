"""The one-line command grammar: tools written as ``click [12]`` or ``click('12')``.

For envs whose tools read naturally as commands (web navigation), `parse_action` reads every
line that starts with a command's name as a call of that tool. A line is one of:

- the call form, Python literals: ``click(12)``, ``click('12')``, ``type(3, "mug")``,
  ``fill('3', 'mug')`` (a BrowserGym name, through ``aliases``), ``click(id=5)``;
- the space form: ``click [12]``, ``type [3] "blue mug"``, ``select [5] 'M'``, ``scroll down``,
  ``back``. An ``int`` parameter is ``[12]`` or ``12``; a text parameter is quoted, except that a
  tool of one parameter takes the rest of the line as it is (``answer The Blue Mug``,
  ``goto /shop/cart``).

List markers, bold, backticks and an ``Action:`` label around a command are ignored, and so is a
full stop after it. A line that starts with a command's name but does not fit its grammar is a
near miss: prose such as "type 2 diabetes is ..." is never run as ``type``. A near miss whose
arguments start like a command's (``[``, ``(`` or a quote) is an error; other near misses are
errors only when the message has no command at all, since they are then more likely a command
written wrong than prose.
"""

from __future__ import annotations

import ast
import json
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from palaestra.core.types import ToolCall

__all__ = ["Commands", "Line"]

_DECORATION = re.compile(r"^(?:[-*•+]\s+|\d{1,3}[.)]\s+)?(?:(?:next\s+)?action\s*:\s*)?", re.I)
_ELEMENT = re.compile(r"\[(\d{1,9})\]")
_NUMBER = re.compile(r"\d{1,9}")
_QUOTED = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'""")


@dataclass(frozen=True)
class Line:
    """What one line says: a call, a near miss with what is wrong, or nothing (prose)."""

    call: ToolCall | None = None
    problem: str | None = None
    deliberate: bool = False
    """A near miss whose arguments start like a command's, so surely meant as one."""


@dataclass(frozen=True)
class Commands:
    """The tools of a toolbox as commands (see the module docstring).

    ``signatures`` maps each tool name to its parameters in order, as ``(name, annotation)``;
    ``aliases`` maps other names to tool names.
    """

    signatures: Mapping[str, Sequence[tuple[str, Any]]]
    aliases: Mapping[str, str] = field(default_factory=dict)

    def with_aliases(self, aliases: Mapping[str, str]) -> Commands:
        """The same commands, also written with these names."""
        return Commands(self.signatures, {**self.aliases, **aliases}) if aliases else self

    def read(self, raw: str) -> Line:
        """Read one line of a message."""
        line = _DECORATION.sub("", raw.strip().replace("**", "").strip("`").strip()).strip("`")
        head = re.match(r"[a-z_]+", line)
        if head is None:
            return Line()
        written = head.group()
        name = self.aliases.get(written, written)
        rest = line[head.end() :]
        if name not in self.signatures or (rest and rest[0] not in " \t("):
            return Line()
        rest = rest.strip()
        try:
            arguments = self._arguments(name, rest)
        except ValueError as exc:
            return Line(problem=f"{exc}. {self.usage(name)}", deliberate=rest[:1] in "[(\"'")
        return Line(call=ToolCall(name=name, arguments=arguments))

    def usage(self, name: str) -> str:
        """How a command is written, for error messages."""
        shown = {int: "[{}]", str: '"<{}>"'}
        params = " ".join(
            shown.get(kind, "<{}>").format(param) for param, kind in self.signatures[name]
        )
        return f"Write it as: {name} {params}".rstrip() + "."

    # ---------------------------------------------------------------------------- the forms
    def _arguments(self, name: str, rest: str) -> dict[str, Any]:
        params = list(self.signatures[name])
        if rest.startswith("("):
            positional, named = _call_form(f"f{rest.rstrip('.')}")
        else:
            positional, named = self._space_form(name, params, rest), {}
        if len(positional) > len(params):
            raise ValueError(f"{name} takes {len(params)} argument(s), got {len(positional)}")
        arguments = dict(zip((p for p, _ in params), positional, strict=False))
        clash = sorted(set(arguments) & set(named))
        if clash:
            raise ValueError(f"argument {clash[0]!r} given twice")
        arguments.update(named)
        kinds = dict(params)
        for key, value in arguments.items():  # BrowserGym quotes its ids: click('12')
            if kinds.get(key) is int and isinstance(value, str) and _NUMBER.fullmatch(value):
                arguments[key] = int(value)
        return arguments

    def _space_form(self, name: str, params: list[tuple[str, Any]], rest: str) -> list[Any]:
        if re.search(r"[\]\"']\s*\.$", rest):
            rest = rest[:-1].rstrip()  # "click [3]." ends a sentence
        if not params or not rest:
            if rest:
                raise ValueError(f"{name} takes no arguments")
            return []
        if len(params) == 1:
            return [_whole(rest, params[0][1])]
        values: list[Any] = []
        position = 0
        for _, kind in params:
            position = _skip_spaces(rest, position)
            if position == len(rest):
                break
            value, position = _token(rest, position, kind)
            values.append(value)
        if rest[position:].strip():
            raise ValueError(f"unexpected {rest[position:].strip()[:30]!r} after the arguments")
        return values


def _skip_spaces(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _unquote(quoted: str) -> str:
    if quoted[0] == '"':
        try:
            return str(json.loads(quoted))
        except json.JSONDecodeError as exc:
            raise ValueError(f"the quoted text {quoted[:40]!r} has a broken escape") from exc
    return quoted[1:-1].replace("\\'", "'")


def _token(text: str, position: int, kind: Any) -> tuple[Any, int]:
    """One argument of the space form from ``position``: its value and where it ends."""
    for pattern in (_ELEMENT, _QUOTED):
        match = pattern.match(text, position)
        if match:
            found = match.group()
            return (int(match.group(1)) if pattern is _ELEMENT else _unquote(found)), match.end()
    if text[position] in "\"'[":
        raise ValueError(f"{text[position : position + 40]!r} is not closed")
    bare = re.match(r"\S+", text[position:])
    assert bare is not None  # position is not at a space
    word = bare.group()
    if kind is int and _NUMBER.fullmatch(word):
        return int(word), position + len(word)
    if typing.get_origin(kind) is typing.Literal and word in typing.get_args(kind):
        return word, position + len(word)
    raise ValueError(f"put the text {word[:30]!r} in quotes")


def _whole(rest: str, kind: Any) -> Any:
    """The one argument of a one-parameter command: the rest of the line."""
    element = _ELEMENT.fullmatch(rest)
    if kind is int:
        if element or _NUMBER.fullmatch(rest):
            return int(element.group(1) if element else rest)
        raise ValueError("it needs the element's number, such as [12]")
    if _QUOTED.fullmatch(rest):
        return _unquote(rest)
    if rest[0] in "\"'":
        raise ValueError(f"{rest[:40]!r} is not closed")
    return rest


def _call_form(text: str) -> tuple[list[Any], dict[str, Any]]:
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise ValueError("the call is not well-formed (check its brackets and quotes)") from exc
    if not isinstance(node, ast.Call):
        raise ValueError("expected one call such as click(12)")
    try:
        positional = [ast.literal_eval(arg) for arg in node.args]
        named = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
    except ValueError as exc:
        raise ValueError("arguments must be literal numbers or quoted strings") from exc
    return positional, named
