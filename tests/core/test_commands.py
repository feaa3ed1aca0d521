"""The one-line command grammar (palaestra/core/commands.py), read through `parse_action`."""

from typing import Literal

import pytest

from palaestra.core.commands import Commands
from palaestra.core.parsing import parse_action

COMMANDS = Commands(
    {
        "click": [("id", int)],
        "type": [("id", int), ("text", str)],
        "scroll": [("direction", Literal["up", "down"])],
        "goto": [("url", str)],
        "back": [],
        "answer": [("text", str)],
    },
    aliases={"fill": "type", "go_back": "back"},
)


def calls(text):
    parsed = parse_action(text, max_chars=10_000, commands=COMMANDS)
    assert parsed.error is None, parsed.error
    return [(c.name, c.arguments) for c in parsed.tool_calls]


def error(text):
    parsed = parse_action(text, max_chars=10_000, commands=COMMANDS)
    assert parsed.error is not None and parsed.error.type == "malformed_command", parsed
    assert not parsed.tool_calls
    return parsed.error.message


@pytest.mark.parametrize(
    "text",
    ["click [12]", "click 12", "click(12)", "click('12')", "click(id=12)", "Action: `click [12]`",
     "- click [12]", "3. click [12]", "**Action:** click [12]", "click [12].", "  click [12]  "],
)  # fmt: skip
def test_every_way_of_writing_a_click(text):
    assert calls(text) == [("click", {"id": 12})]


def test_arguments_in_order_quotes_and_escapes():
    assert calls('type [3] "blue \\"mug\\""') == [("type", {"id": 3, "text": 'blue "mug"'})]
    assert calls("type [3] 'it\\'s'") == [("type", {"id": 3, "text": "it's"})]
    assert calls('type 3 "x"') == [("type", {"id": 3, "text": "x"})]
    assert calls("fill('3', 'mug')") == [("type", {"id": 3, "text": "mug"})]
    assert calls("scroll down") == [("scroll", {"direction": "down"})]
    assert calls("back") == calls("go_back()") == [("back", {})]


def test_a_one_parameter_command_takes_the_rest_of_the_line():
    assert calls("answer The Blue Mug") == [("answer", {"text": "The Blue Mug"})]
    assert calls("answer 42") == [("answer", {"text": "42"})]
    assert calls('answer "42"') == [("answer", {"text": "42"})]
    assert calls("goto /shop/cart?page=2") == [("goto", {"url": "/shop/cart?page=2"})]


def test_several_commands_one_per_line_with_prose_between():
    text = 'I will search first.\ntype [4] "mug"\nThen press the button:\nclick [5]'
    assert calls(text) == [("type", {"id": 4, "text": "mug"}), ("click", {"id": 5})]


def test_prose_that_starts_with_a_command_word_is_never_run():
    text = "type 2 diabetes is common, and back in 1990 it was rarer."
    assert "in quotes" in error(text)  # no command at all: say how to write one
    parsed = parse_action("click [3]\nback in 1990 it was rarer", max_chars=999, commands=COMMANDS)
    assert [c.name for c in parsed.tool_calls] == ["click"]  # the prose line is left alone


def test_a_command_written_wrong_is_an_error_even_beside_good_ones():
    assert "not closed" in error('click [3]\ntype [4] "unclosed')
    assert "takes no arguments" in error("back [3]")
    assert "element's number" in error("click the search button")
    assert "Write it as: type [id]" in error("type [4] mug")


def test_thinking_and_answers_are_not_commands():
    parsed = parse_action(
        "<think>\nclick [3]\n</think>\nI am done.", max_chars=999, commands=COMMANDS
    )
    assert parsed.tool_calls == [] and parsed.error is None
    parsed = parse_action("<answer>\nback\n</answer>", max_chars=999, commands=COMMANDS)
    assert parsed.tool_calls == [] and "back" in parsed.text


def test_decoded_arguments_are_checked_for_control_characters():
    tool_call = '<tool_call>{"name": "type", "arguments": {"id": 3, "text": "\\u0000"}}</tool_call>'
    for text in ['type [3] "a\\u0001b"', 'type [3] "\\ud800"', tool_call]:
        parsed = parse_action(text, max_chars=999, commands=COMMANDS)
        assert parsed.error is not None and parsed.error.type == "control_characters", text


def test_without_commands_the_same_text_is_a_final_answer():
    parsed = parse_action("click [12]", max_chars=999)
    assert parsed.tool_calls == [] and parsed.text == "click [12]"
