"""Agents without a model: scripted replies, random actions, and the oracle."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym

from palaestra.agents.base import BaseAgent, Messages, Tools, as_dicts, tools_per_conversation
from palaestra.core.types import AgentTurn, ToolCall
from palaestra.errors import AgentError

__all__ = ["NoopAgent", "OracleAgent", "RandomAgent", "ScriptedAgent"]


def _turn_index(messages: Messages) -> int:
    return sum(1 for m in as_dicts(messages) if m["role"] == "assistant")


class ScriptedAgent(BaseAgent):
    """Plays a list of actions, one per turn (the last repeats), or a function of the messages."""

    def __init__(
        self,
        script: Sequence[str] | Callable[[list[dict[str, Any]]], str],
        *,
        name: str = "scripted",
    ) -> None:
        if not callable(script) and not script:
            raise AgentError("a ScriptedAgent needs at least one action")
        self.script = script
        self.name = name

    def respond_batch(
        self, conversations: Sequence[Messages], tools: Sequence[Tools | None] | None = None
    ) -> list[AgentTurn]:
        """Reply from the script, by turn index."""
        replies = []
        for messages in conversations:
            if callable(self.script):
                replies.append(self.script(as_dicts(messages)))
            else:
                replies.append(self.script[min(_turn_index(messages), len(self.script) - 1)])
        return [AgentTurn(text=text) for text in replies]


class NoopAgent(ScriptedAgent):
    """Gives up at once: the floor every task must stay unsolved at."""

    def __init__(self) -> None:
        super().__init__(["I'm sorry, I can't help with that."], name="noop")


class RandomAgent(BaseAgent):
    """Random actions: tool calls with arguments of the right and wrong types, garbage, answers.

    A baseline that should solve about nothing, and a fuzzer for envs.
    """

    name = "random"

    def __init__(self, seed: int = 0, *, final_probability: float = 0.15) -> None:
        self.rng = random.Random(seed)
        self.final_probability = final_probability

    def respond_batch(
        self, conversations: Sequence[Messages], tools: Sequence[Tools | None] | None = None
    ) -> list[AgentTurn]:
        """One random action per conversation."""
        tool_lists = tools_per_conversation(conversations, tools)
        return [AgentTurn(text=self._action(t or [])) for t in tool_lists]

    def _action(self, tools: Tools) -> str:
        roll = self.rng.random()
        if roll < self.final_probability or not tools:
            return self.rng.choice(["Done.", "The answer is 42.", "I have completed your request."])
        if roll < self.final_probability + 0.1:
            return self.rng.choice(["<tool_call>{not json</tool_call>", "<tool_call>", "", "??"])
        function = self.rng.choice(list(tools))["function"]
        properties = function.get("parameters", {}).get("properties", {})
        arguments = {name: self._value(schema) for name, schema in properties.items()}
        return ToolCall(name=function["name"], arguments=arguments).to_text()

    def _value(self, schema: dict[str, Any]) -> Any:
        if "enum" in schema:
            return self.rng.choice(schema["enum"])
        kind = schema.get("type")
        if kind == "integer":
            return self.rng.randint(-2, 12)
        if kind == "number":
            return round(self.rng.uniform(0, 200), 2)
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "array":
            return [self._value(schema.get("items", {})) for _ in range(self.rng.randint(0, 3))]
        prefix = self.rng.choice(["C-", "O-", "P-", "M-", "U-", "FL-", "BK-", "PX-", ""])
        return f"{prefix}{self.rng.randint(0, 9999)}"


class OracleAgent(BaseAgent):
    """Solves a task from its ground truth, read through the env's privileged method.

    Bound to one env (``OracleAgent(env)``): it proves every task solvable and makes SFT data.
    It follows the gold plan from the start of the episode, one action per turn.
    """

    name = "oracle"

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        oracle_actions = getattr(env.unwrapped, "oracle_actions", None)
        if oracle_actions is None:
            raise AgentError(
                f"{type(env.unwrapped).__name__} has no oracle_actions(); no oracle for it"
            )
        self._oracle_actions: Callable[[], list[str]] = oracle_actions

    def respond_batch(
        self, conversations: Sequence[Messages], tools: Sequence[Tools | None] | None = None
    ) -> list[AgentTurn]:
        """The gold action for each conversation's turn (all conversations share the bound env)."""
        plan = self._oracle_actions()
        return [AgentTurn(text=plan[min(_turn_index(m), len(plan) - 1)]) for m in conversations]
