"""Turning an agent's action into tool calls: the only parser in palaestra.

An action is the model's raw text, a `ToolCall`, an OpenAI-style tool-call dict
(``{"type": "function", "function": {"name", "arguments"}}``), an OpenAI assistant message
(``{"role": "assistant", "content", "tool_calls"}``), or a list of calls. In text, tool calls are
``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` blocks, several allowed; code envs
also read fenced python blocks (except inside ``<answer>`` tags, which hold a final answer).
Envs whose tools read naturally as commands (web navigation: ``click [12]``, ``type [3] "mug"``,
or BrowserGym's ``click('12')``) pass their `Commands`: a line that starts with a command's name
is then a call of that tool (the grammar is in `palaestra.core.commands`). Text inside
``<think>`` or ``<answer>`` tags is never read as commands.
Anything malformed becomes an `ActionError` that says what was
wrong and how to do it right; nothing here raises on agent input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from palaestra.core.commands import Commands
from palaestra.core.types import ErrorInfo, ToolCall

__all__ = [
    "TOOL_CALL_FORMAT",
    "ActionError",
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
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)
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


def parse_action(
    action: Any, *, max_chars: int, code_blocks: bool = False, commands: Commands | None = None
) -> ParsedAction:
    """Parse one action.

    ``code_blocks`` also extracts fenced python blocks (code envs); ``commands`` reads lines
    that start with a command name as calls of that tool.
    """
    parsed = _parse_any(action, max_chars=max_chars, code_blocks=code_blocks, commands=commands)
    for call in parsed.tool_calls:  # what JSON or quote escapes decode to is checked too
        bad = _control_character(call.arguments)
        if bad is not None:
            return _error(
                "control_characters",
                f"The arguments of {call.name} contain the control character {bad!r}. "
                "Write plain text.",
                parsed.text,
            )
    return parsed


def _control_character(value: Any) -> str | None:
    if isinstance(value, str):
        found = _CONTROL.search(value)
        return found.group() if found else None
    if isinstance(value, Mapping):
        value = [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple)):
        for item in value:
            if (bad := _control_character(item)) is not None:
                return bad
    return None


def _parse_any(
    action: Any, *, max_chars: int, code_blocks: bool, commands: Commands | None
) -> ParsedAction:
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
    near_miss = None
    for raw in _ANSWER.sub("", _THINK.sub("", text)).splitlines():
        line = commands.read(raw)
        if line.call is not None:
            calls.append(line.call)
        elif line.problem is not None and (near_miss is None or line.deliberate):
            near_miss = line
    if near_miss is not None and (near_miss.deliberate or not calls):
        return _error("malformed_command", f"{near_miss.problem}", text)
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
