"""The `Task` record: what to solve, stated as a user would, with its hidden ground truth."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from palaestra.core.types import ToolCall

__all__ = ["Split", "Task"]

Split = Literal["train", "test"]


class Task(BaseModel):
    """One task. ``gold_actions`` and ``answer`` are ground truth: never shown to an agent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    prompt: str
    split: Split
    domain: str
    difficulty: int = Field(ge=1)
    seed: int | str
    gold_actions: tuple[ToolCall, ...] = ()
    answer: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
