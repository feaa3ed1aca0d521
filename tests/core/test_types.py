import pytest

from palaestra.core.types import Message, StepRecord, ToolCall, Trajectory, read_jsonl, write_jsonl
from palaestra.errors import RecordError


def make(task_id="t-1", success=True):
    return Trajectory(
        env_id="ToolUse-v0",
        task_id=task_id,
        seed=3,
        agent="oracle",
        messages=[Message(role="system", content="rules"), Message(role="user", content="héllo")],
        steps=[
            StepRecord(
                turn=1,
                action="a",
                observation="o",
                reward=1.0,
                terminated=True,
                truncated=False,
                tool_calls=[ToolCall(name="f", arguments={"x": [1, "ü"]})],
                completion_ids=[1, 2],
                logprobs=[-0.5, -0.1],
            )
        ],
        reward=1.0,
        success=success,
        terminated=True,
    )


def test_jsonl_round_trip_appends(tmp_path):
    path = tmp_path / "runs" / "t.jsonl"
    write_jsonl([make("a")], path)
    write_jsonl([make("b", success=False)], path)
    back = list(read_jsonl(path))
    assert [t.task_id for t in back] == ["a", "b"]
    assert back[0] == make("a")
    assert back[0].steps[0].tool_calls[0].arguments == {"x": [1, "ü"]}


def test_bad_file_names_the_line(tmp_path):
    path = tmp_path / "t.jsonl"
    write_jsonl([make()], path)
    with path.open("a") as handle:
        handle.write('{"env_id": "x"}\n')
    with pytest.raises(RecordError, match=r"t.jsonl:2 is not a trajectory record"):
        list(read_jsonl(path))
    with pytest.raises(RecordError, match="no trajectory file"):
        list(read_jsonl(tmp_path / "missing.jsonl"))


def test_records_reject_unknown_fields():
    with pytest.raises(ValueError, match="extra"):
        Message(role="user", content="x", extra=1)
    with pytest.raises(ValueError):
        Message(role="robot", content="x")


def test_tool_call_forms():
    call = ToolCall(name="f", arguments={"a": 1})
    assert call.to_text() == '<tool_call>{"name": "f", "arguments": {"a": 1}}</tool_call>'
    assert call.to_openai("c1") == {
        "id": "c1",
        "type": "function",
        "function": {"name": "f", "arguments": '{"a": 1}'},
    }
