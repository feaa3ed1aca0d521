"""Turning an agent's action into tool calls: the only parser in palaestra.

An action is the model's raw text, a `ToolCall`, an OpenAI-style tool-call dict
(``{"type": "function", "function": {"name", "arguments"}}``), an OpenAI assistant message
(``{"role": "assistant", "content", "tool_calls"}``), or a list of calls. In text, tool calls are
``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` blocks, several allowed; code envs
also read fenced python blocks (except inside ``<answer>`` tags, which hold a final answer).
Envs whose tools read naturally as commands (web navigation: ``click [12]``, ``type [3] "mug"``,
or BrowserGym's ``click('12')``) pass their `Commands`: a line that starts with a command's name
is then a call of that tool, its arguments given in order (see `Commands.parse_line`).
Anything malformed becomes an `ActionError` that says what was
wrong and how to do it right; nothing here raises on agent input.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from palaestra.core.types import ErrorInfo, ToolCall

__all__ = [
    "TOOL_CALL_FORMAT",
    "ActionError",
    "Commands",
    "ParsedAction",
    "action_to_text",
    "parse_action",
    "tool_response",
]

TOOL_CALL_FORMAT = (
    '<tool_call>{"name": "<tool name>", "arguments": {<argument>: <value>, ...}}</tool_call>'
)

_TOOL_CALL = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)
_CODE_BLOCK = re.compile(r"```(?:python|py)[ \t]*\n(.*?)```", re.DOTALL)
_ANSWER = re.compile(r"<answer>.*?</answer>", re.DOTALL)
# C0 controls except tab, newline and carriage return; DEL; C1 controls; lone surrogates.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class ActionError(ErrorInfo):
    """An agent mistake: ``type`` is a stable identifier, ``message`` is shown to the agent.

    Types: ``invalid_action``, ``empty_action``, ``action_too_long``, ``control_characters``,
    ``malformed_tool_call``, ``malformed_command``, ``unknown_tool``, ``invalid_arguments``,
    ``tool_error``.
    """


@dataclass(frozen=True)
class ParsedAction:
    """What an action says: its free text, its tool calls, its code blocks, or an error."""

    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    code_blocks: list[str] = field(default_factory=list)
    error: ActionError | None = None

    @property
    def is_final(self) -> bool:
        """True when the action is a final answer: well-formed, with no tool call and no code."""
        return self.error is None and not self.tool_calls and not self.code_blocks


def _error(kind: str, message: str, text: str = "") -> ParsedAction:
    return ParsedAction(text=text, error=ActionError(type=kind, message=message))


@dataclass(frozen=True)
class Commands:
    """Tools written as one-line commands: ``name arg arg`` or ``name(arg, key=value)``.

    ``signatures`` maps each tool name to its parameters in order, as ``(name, annotation)``.
    In the space form an argument is ``[12]`` (an element id), a quoted string (JSON escapes),
    or a bare word or number; in the call form, Python literals. A quoted number given for an
    ``int`` parameter (BrowserGym writes ``click('12')``) is read as the number.
    """

    signatures: Mapping[str, Sequence[tuple[str, Any]]]

    def starts(self, line: str) -> str | None:
        """The command a line starts with, or None."""
        head = re.match(r"[a-z_]+", line)
        if head is None or head.group() not in self.signatures:
            return None
        rest = line[head.end() :]
        return head.group() if not rest or rest[0] in " \t(" else None

    def parse_line(self, name: str, line: str) -> tuple[ToolCall | None, str]:
        """The call a command line makes, or None and what is wrong with it."""
        rest = line[len(name) :].strip()
        try:
            if rest.startswith("("):
                positional, named = _call_form(f"{name}{rest}")
            else:
                positional, named = _space_form(rest), {}
        except ValueError as exc:
            return None, f"{exc}. {self.usage(name)}"
        params = list(self.signatures[name])
        if len(positional) > len(params):
            return None, f"{name} takes {len(params)} argument(s), got {len(positional)}. " + (
                self.usage(name)
            )
        arguments = dict(zip((p for p, _ in params), positional, strict=False))
        clash = sorted(set(arguments) & set(named))
        if clash:
            return None, f"argument {clash[0]!r} given twice. {self.usage(name)}"
        arguments.update(named)
        kinds = dict(params)
        for key, value in arguments.items():
            if kinds.get(key) is int and isinstance(value, str) and value.strip().isdigit():
                arguments[key] = int(value)
        return ToolCall(name=name, arguments=arguments), ""

    def usage(self, name: str) -> str:
        """How a command is written, for error messages."""
        shown = {int: "[{}]", str: '"<{}>"'}
        params = " ".join(
            shown.get(kind, "<{}>").format(param) for param, kind in self.signatures[name]
        )
        return f"Write it as: {name} {params}".rstrip() + "."


_SPACE_TOKEN = re.compile(r"""\s*(?:\[(\d+)\]|("(?:[^"\\]|\\.)*")|'((?:[^'\\]|\\.)*)'|(\S+))""")


def _space_form(rest: str) -> list[Any]:
    values: list[Any] = []
    position = 0
    while position < len(rest):
        match = _SPACE_TOKEN.match(rest, position)
        if match is None or match.end() == position:
            break
        element, double, single, bare = match.groups()
        if element is not None:
            values.append(int(element))
        elif double is not None:
            try:
                values.append(json.loads(double))
            except json.JSONDecodeError as exc:
                raise ValueError(f"the quoted text {double[:40]!r} is not closed properly") from exc
        elif single is not None:
            values.append(single.replace("\\'", "'"))
        elif bare is not None:
            if bare[0] in "\"'[":
                raise ValueError(f"{bare[:40]!r} is not closed")
            values.append(int(bare) if re.fullmatch(r"-?\d+", bare) else bare)
        position = match.end()
        if rest[position:].strip() == "":
            break
    return values


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


def parse_action(
    action: Any, *, max_chars: int, code_blocks: bool = False, commands: Commands | None = None
) -> ParsedAction:
    """Parse one action.

    ``code_blocks`` also extracts fenced python blocks (code envs); ``commands`` reads lines
    that start with a command name as calls of that tool.
    """
    if isinstance(action, str):
        return _parse_text(action, max_chars=max_chars, code_blocks=code_blocks, commands=commands)
    if isinstance(action, ToolCall):
        return ParsedAction(text="", tool_calls=[action])
    if isinstance(action, Mapping) and "role" in action:
        return _parse_message(
            action, max_chars=max_chars, code_blocks=code_blocks, commands=commands
        )
    if isinstance(action, Mapping):
        call, problem = _call_from_mapping(action)
        if problem:
            return _error("malformed_tool_call", problem)
        return ParsedAction(text="", tool_calls=[call] if call else [])
    if isinstance(action, (list, tuple)):
        calls = []
        for item in action:
            parsed = parse_action(item, max_chars=max_chars)
            if parsed.error:
                return parsed
            calls.extend(parsed.tool_calls)
        if not calls:
            return _error("empty_action", "The action is an empty list of tool calls.")
        return ParsedAction(text="", tool_calls=calls)
    return _error(
        "invalid_action",
        f"An action must be text or a tool call, not {type(action).__name__}. "
        f"Call a tool as {TOOL_CALL_FORMAT}.",
    )


def _parse_text(
    text: str, *, max_chars: int, code_blocks: bool, commands: Commands | None = None
) -> ParsedAction:
    if len(text) > max_chars:
        return _error(
            "action_too_long",
            f"Your message has {len(text):,} characters; the limit is {max_chars:,}. "
            "Send a shorter message.",
        )
    if not text.strip():
        return _error(
            "empty_action",
            f"Your message is empty. Call a tool as {TOOL_CALL_FORMAT}, "
            "or write your final answer.",
        )
    bad = _CONTROL.search(text)
    if bad:
        return _error(
            "control_characters",
            f"Your message contains the control character {bad.group()!r} at position "
            f"{bad.start()}. Write plain text.",
        )
    calls: list[ToolCall] = []
    for number, match in enumerate(_TOOL_CALL.finditer(text), start=1):
        call, problem = _call_from_json(match.group(1))
        if call is None:
            return _error("malformed_tool_call", f"In tool call {number}: {problem}", text)
        calls.append(call)
    rest = _TOOL_CALL.sub("", text)
    if "<tool_call>" in rest or "</tool_call>" in rest:
        return _error(
            "malformed_tool_call",
            "A <tool_call> tag is not closed (or a </tool_call> has no opening tag). "
            f"Write each call as {TOOL_CALL_FORMAT}.",
            text,
        )
    if commands is not None and not calls:
        return _parse_commands(text, commands)
    # Code inside <answer> tags is the answer (a solution to grade), never code to run.
    runnable = _ANSWER.sub("", rest) if code_blocks else ""
    blocks = [b.strip("\n") for b in _CODE_BLOCK.findall(runnable)] if code_blocks else []
    return ParsedAction(text=rest.strip(), tool_calls=calls, code_blocks=blocks)


def _parse_commands(text: str, commands: Commands) -> ParsedAction:
    """Every line that starts with a command is a call; with none, the text is a final answer."""
    calls: list[ToolCall] = []
    for raw in text.splitlines():
        line = re.sub(r"^(?:action|next action)\s*:\s*", "", raw.strip(), flags=re.IGNORECASE)
        line = line.strip("`").strip()
        name = commands.starts(line)
        if name is None:
            continue
        call, problem = commands.parse_line(name, line)
        if call is None:
            return _error("malformed_command", f"In {line[:60]!r}: {problem}", text)
        calls.append(call)
    return ParsedAction(text="" if calls else text.strip(), tool_calls=calls)


def _parse_message(
    message: Mapping[str, Any], *, max_chars: int, code_blocks: bool, commands: Commands | None
) -> ParsedAction:
    content = message.get("content") or ""
    if not isinstance(content, str):
        return _error("invalid_action", "The message content must be text.")
    raw_calls = message.get("tool_calls") or []
    if not raw_calls:
        return _parse_text(content, max_chars=max_chars, code_blocks=code_blocks, commands=commands)
    parsed = parse_action(list(raw_calls), max_chars=max_chars)
    if parsed.error:
        return parsed
    return ParsedAction(text=content.strip(), tool_calls=parsed.tool_calls)


def _call_from_json(body: str) -> tuple[ToolCall | None, str]:
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        return None, (
            f"the content is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}). "
            f"Write it as {TOOL_CALL_FORMAT}."
        )
    if not isinstance(data, dict):
        return None, f"expected a JSON object, got {type(data).__name__}. Write {TOOL_CALL_FORMAT}."
    return _call_from_mapping(data)


def _call_from_mapping(data: Mapping[str, Any]) -> tuple[ToolCall | None, str]:
    call_id = data.get("id") if isinstance(data.get("id"), str) else None
    if "function" in data and isinstance(data["function"], Mapping):
        data = data["function"]
    unknown = sorted(set(data) - {"name", "arguments", "id", "type"})
    if unknown:
        return None, (
            f"unexpected key(s) {', '.join(map(repr, unknown))}; a tool call has only "
            f'"name" and "arguments". Write {TOOL_CALL_FORMAT}.'
        )
    name = data.get("name")
    if not isinstance(name, str) or not name:
        return None, f'the "name" key must be a tool name (text). Write {TOOL_CALL_FORMAT}.'
    arguments = data.get("arguments", {})
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as exc:
            return None, f'the "arguments" string is not valid JSON ({exc.msg}).'
    if not isinstance(arguments, dict):
        return None, (
            f'"arguments" must be a JSON object mapping argument names to values, '
            f"got {type(arguments).__name__}."
        )
    try:
        return ToolCall(name=name, arguments=arguments, id=call_id), ""
    except ValidationError as exc:  # pragma: no cover - name and arguments are checked above
        return None, str(exc)


def action_to_text(action: Any) -> str:
    """The action as the model's text, for transcripts: tool-call objects become tags."""
    if isinstance(action, str):
        return action
    parsed = parse_action(action, max_chars=1 << 30)
    calls = "".join(call.to_text() for call in parsed.tool_calls)
    if parsed.error:
        return repr(action)
    return f"{parsed.text}\n{calls}".strip() if parsed.text else calls


def tool_response(name: str, *, result: Any = None, error: str | None = None) -> str:
    """One tool's answer as the agent reads it: a ``<tool_response>`` block holding JSON."""
    body: dict[str, Any] = {"name": name}
    if error is not None:
        body["error"] = error
    else:
        body["result"] = result
    return f"<tool_response>\n{json.dumps(body, ensure_ascii=False)}\n</tool_response>"
