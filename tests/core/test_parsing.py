import json

import pytest

from palaestra.core.parsing import action_to_text, parse_action, tool_response
from palaestra.core.types import ToolCall

LIMIT = 1000


def parse(action, **kw):
    return parse_action(action, max_chars=LIMIT, **kw)


def test_text_with_several_tool_calls_keeps_order_and_free_text():
    text = (
        'Let me look. <tool_call>{"name": "a", "arguments": {"x": 1}}</tool_call>\n'
        '<tool_call>{"name": "b", "arguments": {}}</tool_call>'
    )
    parsed = parse(text)
    assert parsed.error is None
    assert [c.name for c in parsed.tool_calls] == ["a", "b"]
    assert parsed.tool_calls[0].arguments == {"x": 1}
    assert parsed.text == "Let me look."
    assert not parsed.is_final


def test_plain_text_is_a_final_answer():
    parsed = parse("The order has shipped.")
    assert parsed.is_final and parsed.text == "The order has shipped."


@pytest.mark.parametrize(
    ("action", "kind", "hint"),
    [
        ("", "empty_action", "empty"),
        ("   \n ", "empty_action", "empty"),
        ("x" * (LIMIT + 1), "action_too_long", "limit is 1,000"),
        ("hi\x00there", "control_characters", "control character"),
        ("bad \x1b[31m", "control_characters", "position 4"),
        ("<tool_call>{not json}</tool_call>", "malformed_tool_call", "not valid JSON"),
        ("<tool_call>[1, 2]</tool_call>", "malformed_tool_call", "expected a JSON object"),
        ('<tool_call>{"arguments": {}}</tool_call>', "malformed_tool_call", '"name"'),
        (
            '<tool_call>{"name": "a", "arguments": [1]}</tool_call>',
            "malformed_tool_call",
            "must be a JSON object",
        ),
        (
            '<tool_call>{"name": "a", "args": {}}</tool_call>',
            "malformed_tool_call",
            "unexpected key",
        ),
        ('<tool_call>{"name": "a", "arguments": {}}', "malformed_tool_call", "not closed"),
        ('{"name": "a"}</tool_call>', "malformed_tool_call", "not closed"),
        (12345, "invalid_action", "must be text"),
        (b"bytes", "invalid_action", "must be text"),
        (None, "invalid_action", "must be text"),
        ([], "empty_action", "empty list"),
    ],
)
def test_bad_actions_become_errors_that_explain_the_fix(action, kind, hint):
    parsed = parse(action)
    assert parsed.error is not None
    assert parsed.error.type == kind
    assert hint in parsed.error.message
    assert parsed.tool_calls == []


def test_malformed_json_error_names_the_call_and_shows_the_format():
    parsed = parse(
        '<tool_call>{"name": "a", "arguments": {}}</tool_call><tool_call>{oops</tool_call>'
    )
    assert parsed.error is not None
    assert "tool call 2" in parsed.error.message
    assert "<tool_call>" in parsed.error.message


def test_tool_call_objects_and_openai_dicts_are_accepted():
    call = ToolCall(name="get_order", arguments={"order_id": "O-1"})
    assert parse(call).tool_calls == [call]
    openai = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_order", "arguments": '{"order_id": "O-1"}'},
    }
    parsed = parse(openai)
    assert parsed.tool_calls[0].name == "get_order"
    assert parsed.tool_calls[0].arguments == {"order_id": "O-1"}
    assert parse([openai, call]).tool_calls[1] == call
    message = {"role": "assistant", "content": "checking", "tool_calls": [openai]}
    parsed = parse(message)
    assert parsed.text == "checking" and parsed.tool_calls[0].name == "get_order"
    bad = {"type": "function", "function": {"name": "f", "arguments": "{nope"}}
    assert parse(bad).error.type == "malformed_tool_call"


def test_code_blocks_only_when_asked():
    text = "Run this:\n```python\nprint(1)\n```"
    assert parse(text).code_blocks == []
    assert parse(text, code_blocks=True).code_blocks == ["print(1)"]


def test_action_to_text_round_trips_through_the_parser():
    call = ToolCall(name="f", arguments={"a": "ü", "b": [1, 2]})
    text = action_to_text(call)
    assert parse(text).tool_calls == [ToolCall(name="f", arguments={"a": "ü", "b": [1, 2]})]
    assert action_to_text("plain") == "plain"


def test_tool_response_is_json_inside_the_block():
    block = tool_response("f", result={"x": "ü"})
    body = block.removeprefix("<tool_response>\n").removesuffix("\n</tool_response>")
    assert json.loads(body) == {"name": "f", "result": {"x": "ü"}}
    assert json.loads(tool_response("f", error="nope").split("\n")[1]) == {
        "name": "f",
        "error": "nope",
    }


def test_code_inside_answer_tags_is_never_run():
    text = "Done.\n<answer>\n```python\ndef f():\n    return 1\n```\n</answer>"
    parsed = parse(text, code_blocks=True)
    assert parsed.code_blocks == [] and parsed.is_final
    mixed = "```python\nprint(2)\n```\n<answer>```python\nx = 1\n```</answer>"
    assert parse(mixed, code_blocks=True).code_blocks == ["print(2)"]
