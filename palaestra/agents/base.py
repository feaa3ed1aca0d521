"""The agent protocol: messages in, text out, one conversation or a batch.

An agent is anything with ``act(messages, tools) -> str`` and
``act_batch(conversations, tools) -> list[str]``, where ``tools`` holds one list of OpenAI
function schemas per conversation (tasks in one batch may offer different tools).
Agents that can say more about a reply (token ids, logprobs) subclass `BaseAgent` and implement
``respond_batch``, which the rollout collector prefers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from palaestra.core.types import AgentTurn, Message
from palaestra.errors import AgentError, ConfigError

__all__ = [
    "Agent",
    "BaseAgent",
    "Messages",
    "Tools",
    "as_dicts",
    "respond_batch",
    "tools_per_conversation",
]

Messages = Sequence[Message] | Sequence[dict[str, Any]]
"""A conversation: `Message` records or plain ``{"role", "content"}`` dicts."""

Tools = Sequence[dict[str, Any]]
"""OpenAI function schemas, as in ``info["tools"]``."""


@runtime_checkable
class Agent(Protocol):
    """What the rollout collector needs from an agent."""

    name: str

    def act(self, messages: Messages, tools: Tools | None = None) -> str:
        """Reply to one conversation."""
        ...

    def act_batch(
        self, conversations: Sequence[Messages], tools: Sequence[Tools | None] | None = None
    ) -> list[str]:
        """Reply to several conversations at once; ``tools[i]`` belongs to conversation ``i``."""
        ...


class BaseAgent(ABC):
    """Convenience base: implement `respond_batch`, get `act` and `act_batch` for free."""

    name: str = "agent"
    model_name: str | None = None

    @abstractmethod
    def respond_batch(
        self, conversations: Sequence[Messages], tools: Sequence[Tools | None] | None = None
    ) -> list[AgentTurn]:
        """Reply to several conversations, with token ids and logprobs where recorded."""

    def act(self, messages: Messages, tools: Tools | None = None) -> str:
        """Reply to one conversation."""
        return self.respond_batch([messages], [tools])[0].text

    def act_batch(
        self, conversations: Sequence[Messages], tools: Sequence[Tools | None] | None = None
    ) -> list[str]:
        """Reply to several conversations at once."""
        return [turn.text for turn in self.respond_batch(conversations, tools)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def tools_per_conversation(
    conversations: Sequence[Messages], tools: Sequence[Tools | None] | None
) -> list[Tools | None]:
    """One tool list (or None) per conversation; a count that does not match is an error."""
    if tools is None:
        return [None] * len(conversations)
    if len(tools) != len(conversations):
        raise ConfigError(
            f"got {len(tools)} tool lists for {len(conversations)} conversations; "
            "pass one list (or None) per conversation"
        )
    return list(tools)


def as_dicts(messages: Messages) -> list[dict[str, Any]]:
    """Normalise a conversation to ``{"role", "content"}`` dicts."""
    return [m.model_dump() if isinstance(m, Message) else dict(m) for m in messages]


def respond_batch(
    agent: Agent, conversations: Sequence[Messages], tools: Sequence[Tools | None]
) -> list[AgentTurn]:
    """Ask any agent for replies, using `BaseAgent.respond_batch` when it has one."""
    if isinstance(agent, BaseAgent):
        turns = agent.respond_batch(conversations, tools)
    else:
        turns = [AgentTurn(text=text) for text in agent.act_batch(conversations, tools)]
    if len(turns) != len(conversations):
        raise AgentError(
            f"agent {agent.name!r} returned {len(turns)} replies for {len(conversations)} "
            "conversations"
        )
    return turns
