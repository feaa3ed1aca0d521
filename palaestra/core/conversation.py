"""The chat an agent sees, built from what an env returns.

This is the one place where ``(observation, info)`` pairs become messages: agents, the env's own
``render()``, the rollout recorder and the trainers all read the same `Conversation`.

    system     info["instructions"]    (the env's rules and how to call its tools)
    user       the reset observation    (the task as a user would state it)
    assistant  the agent's raw action
    tool       the env's answer          (tool results or an error; absent after the last turn)
    ...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from palaestra.core.types import Message

__all__ = ["Conversation"]


class Conversation:
    """An episode's messages, grown one turn at a time."""

    def __init__(self, messages: list[Message] | None = None) -> None:
        self.messages: list[Message] = list(messages or [])

    @classmethod
    def start(cls, observation: str, info: Mapping[str, Any]) -> Conversation:
        """Open a conversation from the observation and info that ``reset`` returned."""
        messages = []
        instructions = info.get("instructions")
        if instructions:
            messages.append(Message(role="system", content=instructions))
        messages.append(Message(role="user", content=observation))
        return cls(messages)

    def add_turn(self, action: str, observation: str, *, done: bool) -> None:
        """Record the agent's action and, unless the episode ended, the env's answer."""
        # model_construct: the roles are fixed here and the contents are strings already.
        self.messages.append(Message.model_construct(role="assistant", content=action))
        if not done:
            self.messages.append(Message.model_construct(role="tool", content=observation))

    @property
    def num_turns(self) -> int:
        """Number of assistant turns so far."""
        return sum(1 for m in self.messages if m.role == "assistant")

    def as_dicts(self) -> list[dict[str, str]]:
        """Messages as plain ``{"role", "content"}`` dicts, the form chat templates take."""
        return [{"role": m.role, "content": m.content} for m in self.messages]

    def copy(self) -> Conversation:
        """An independent copy (messages are immutable in practice, the list is not)."""
        return Conversation(self.messages)

    def render(self) -> str:
        """A readable transcript, one block per message."""
        blocks = [f"[{m.role}]\n{m.content}" for m in self.messages]
        return "\n\n".join(blocks)
