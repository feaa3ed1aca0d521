"""The shape every ToolUse domain shares: a world of plain JSON state with typed tools.

A domain module defines a `World` subclass (its state, generated from a seed, and its `@tool`
methods) and its task templates. Tools check every precondition *before* they change anything
and refuse with `ToolError`, so a rejected call leaves the world exactly as it was.
"""

from __future__ import annotations

import copy
import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from palaestra.core.tools import Toolbox
from palaestra.core.types import ToolCall

__all__ = ["Domain", "TaskDraft", "Template", "World", "gold_call"]


class World(ABC):
    """A simulated service: ``state`` is plain JSON data, tools are `@tool` methods."""

    domain: ClassVar[str]
    policy: ClassVar[str]
    """Rules of the service, stated in the system prompt."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    @classmethod
    @abstractmethod
    def generate(cls, rng: random.Random) -> World:
        """A fresh world drawn from ``rng``."""

    @classmethod
    def toolbox(cls) -> Toolbox:
        """The domain's tools (built once per class)."""
        return Toolbox.of(cls)

    def call(self, name: str, arguments: dict[str, Any]) -> Any:
        """Run a tool whose arguments the toolbox already validated."""
        return getattr(self, name)(**arguments)

    def run(self, call: ToolCall) -> Any:
        """Validate and run a call; used to replay gold actions. Raises on any problem."""
        arguments, error = self.toolbox().validate(call)
        if error is not None:
            raise ValueError(f"gold action {call.name} is invalid: {error.message}")
        return self.call(call.name, arguments)

    def copy(self) -> World:
        """An independent copy of this world."""
        return type(self)(copy.deepcopy(self.state))

    def snapshot(self) -> dict[str, Any]:
        """The state as it is now, detached from later changes."""
        return copy.deepcopy(self.state)


@dataclass(frozen=True)
class TaskDraft:
    """A task as a template writes it: the statement, the gold calls, the expected answer."""

    prompt: str
    gold_actions: list[ToolCall]
    answer: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


Template = Callable[[World, random.Random], "TaskDraft | None"]
"""Writes a task for a world, or returns None when this world has nothing that fits."""


@dataclass(frozen=True)
class Domain:
    """A domain: its world, its task templates by level (1-3), and how the prompt presents it."""

    name: str
    world: type[World]
    templates: dict[int, list[Template]]
    description: str
    example: ToolCall


def gold_call(tool_name: str, /, **arguments: Any) -> ToolCall:
    """A gold action, as templates write them: ``gold_call("get_order", order_id="O-1")``."""
    return ToolCall(name=tool_name, arguments=arguments)
