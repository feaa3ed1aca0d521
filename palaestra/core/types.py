"""The records every part of palaestra exchanges: messages, tool calls, steps, trajectories.

These cross boundaries (the wire, JSONL files, the trainers), so they are pydantic models that
reject unknown fields. A `Trajectory` is one JSON line; `write_jsonl` appends and flushes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from palaestra.errors import RecordError

__all__ = [
    "AgentTurn",
    "EpisodeStatus",
    "ErrorInfo",
    "Message",
    "Role",
    "StepRecord",
    "ToolCall",
    "ToolSpec",
    "Trajectory",
    "Verdict",
    "read_jsonl",
    "write_jsonl",
]

Role = Literal["system", "user", "assistant", "tool"]
EpisodeStatus = Literal["success", "failure", "truncated", "unfinished", "infra_failure"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ToolCall(_Record):
    """One call of a named tool with JSON arguments."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None

    def to_text(self) -> str:
        """The call as a model writes it: ``<tool_call>{"name", "arguments"}</tool_call>``."""
        body = json.dumps({"name": self.name, "arguments": self.arguments}, ensure_ascii=False)
        return f"<tool_call>{body}</tool_call>"

    def to_openai(self, call_id: str) -> dict[str, Any]:
        """The call as an OpenAI chat-completions ``tool_calls`` entry."""
        return {
            "id": self.id or call_id,
            "type": "function",
            "function": {"name": self.name, "arguments": json.dumps(self.arguments)},
        }


class ToolSpec(_Record):
    """A tool as the model is told about it: name, description, JSON schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]

    def to_openai(self) -> dict[str, Any]:
        """OpenAI function-calling schema, the form chat templates and servers expect."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


class Message(_Record):
    """One chat message. Assistant content is the model's raw text, tool calls included."""

    role: Role
    content: str


class ErrorInfo(_Record):
    """What went wrong in a step (an agent mistake) or an episode (an infrastructure failure)."""

    type: str
    message: str


class Verdict(_Record):
    """A verifier's judgement of a finished episode."""

    score: float = Field(ge=0.0, le=1.0)
    success: bool
    reason: str


class AgentTurn(_Record):
    """One reply of an agent, with the token ids and logprobs when the agent recorded them.

    ``logprobs[i]`` is the log-probability of ``completion_ids[i]`` under the model's raw
    distribution (temperature 1, no truncation), which is what policy-gradient losses need.
    """

    text: str
    prompt_ids: list[int] | None = None
    completion_ids: list[int] | None = None
    logprobs: list[float] | None = None

    @property
    def prompt_tokens(self) -> int:
        """Number of prompt tokens, 0 when not recorded."""
        return len(self.prompt_ids or ())

    @property
    def completion_tokens(self) -> int:
        """Number of generated tokens, 0 when not recorded."""
        return len(self.completion_ids or ())


class StepRecord(_Record):
    """One env step: what the agent did and what the env answered."""

    turn: int
    action: str
    observation: str
    reward: float
    terminated: bool
    truncated: bool
    tool_calls: list[ToolCall] = Field(default_factory=list)
    error: ErrorInfo | None = None
    prompt_ids: list[int] | None = None
    completion_ids: list[int] | None = None
    logprobs: list[float] | None = None


class Trajectory(_Record):
    """One episode, everything a trainer or a reader needs. One JSON line on disk."""

    env_id: str
    task_id: str
    seed: int | None = None
    agent: str
    model: str | None = None
    messages: list[Message]
    tools: list[dict[str, Any]] = Field(default_factory=list)
    """The tool schemas the agent was shown (chat templates that render tools need them)."""
    steps: list[StepRecord] = Field(default_factory=list)
    reward: float = 0.0
    success: bool = False
    terminated: bool = False
    truncated: bool = False
    verdict: str | None = None
    error: ErrorInfo | None = None
    duration_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def status(self) -> EpisodeStatus:
        """How the episode ended: ``"infra_failure"`` (``error`` is set) is not the agent's doing.

        ``"success"`` and ``"failure"`` are verdicts, ``"truncated"`` hit the turn limit,
        ``"unfinished"`` stopped before an end (a collection cut short). Every trainer leaves
        ``"infra_failure"`` episodes out: their reward says nothing about the policy.
        """
        if self.error is not None:
            return "infra_failure"
        if self.terminated:
            return "success" if self.success else "failure"
        return "truncated" if self.truncated else "unfinished"

    @property
    def num_turns(self) -> int:
        """Number of agent turns (env steps) in the episode."""
        return len(self.steps)

    @property
    def step_errors(self) -> list[ErrorInfo]:
        """The agent mistakes the env reported, in order."""
        return [s.error for s in self.steps if s.error is not None]


def write_jsonl(trajectories: Iterable[Trajectory], file: str | Path | IO[str]) -> None:
    """Append trajectories to a JSONL file, flushing after each so a crash loses nothing."""
    if isinstance(file, (str, Path)):
        path = Path(file)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            write_jsonl(trajectories, handle)
        return
    for trajectory in trajectories:
        file.write(trajectory.model_dump_json() + "\n")
        file.flush()


def read_jsonl(path: str | Path) -> Iterator[Trajectory]:
    """Read trajectories from a JSONL file; a bad line raises `RecordError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise RecordError(f"no trajectory file at {str(path)!r}")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield Trajectory.model_validate_json(line)
            except ValueError as exc:
                first = str(exc).splitlines()[0]
                raise RecordError(f"{path}:{number} is not a trajectory record: {first}") from exc
