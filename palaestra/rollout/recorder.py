"""Recording one episode into a `Trajectory`: the one place where steps become records."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from palaestra.core.conversation import Conversation
from palaestra.core.types import AgentTurn, ErrorInfo, StepRecord, ToolCall, Trajectory

__all__ = ["EpisodeRecorder"]


class EpisodeRecorder:
    """Grows a trajectory from what ``reset`` and each ``step`` return (local or remote env)."""

    def __init__(
        self,
        env_id: str,
        observation: str,
        info: Mapping[str, Any],
        *,
        seed: int | None,
        agent: str,
        model: str | None = None,
    ) -> None:
        self.env_id = env_id
        self.task_id = str(info.get("task_id", ""))
        self.seed = seed
        self.agent = agent
        self.model = model
        self.conversation = Conversation.start(observation, info)
        self.tools: list[dict[str, Any]] = list(info.get("tools") or [])
        self.metadata = {k: info[k] for k in ("domain", "difficulty") if k in info}
        self.steps: list[StepRecord] = []
        self.done = False
        self._final_info: Mapping[str, Any] = {}
        self._started = time.perf_counter()

    def record(
        self,
        turn: AgentTurn,
        observation: str,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: Mapping[str, Any],
    ) -> None:
        """Record one step: the agent's turn and what the env answered."""
        error = info.get("error")
        self.steps.append(
            StepRecord(
                turn=len(self.steps) + 1,
                action=turn.text,
                observation=observation,
                reward=float(reward),
                terminated=bool(terminated),
                truncated=bool(truncated),
                tool_calls=[ToolCall.model_validate(c) for c in info.get("tool_calls") or []],
                error=ErrorInfo.model_validate(error) if error else None,
                prompt_ids=turn.prompt_ids,
                completion_ids=turn.completion_ids,
                logprobs=turn.logprobs,
            )
        )
        self.done = bool(terminated or truncated)
        self.conversation.add_turn(turn.text, observation, done=self.done)
        if self.done:
            self._final_info = info
            if isinstance(info.get("usage"), Mapping):  # what the episode consumed, in all
                self.metadata["usage"] = dict(info["usage"])

    def finish(self, error: ErrorInfo | None = None) -> Trajectory:
        """The trajectory so far; ``error`` marks an episode an infrastructure failure cut short."""
        last = self.steps[-1] if self.steps else None
        return Trajectory(
            env_id=self.env_id,
            task_id=self.task_id,
            seed=self.seed,
            agent=self.agent,
            model=self.model,
            messages=list(self.conversation.messages),
            tools=self.tools,
            steps=self.steps,
            reward=last.reward if last and last.terminated else 0.0,
            success=bool(self._final_info.get("success", False)),
            terminated=bool(last and last.terminated),
            truncated=bool(last and last.truncated),
            verdict=self._final_info.get("verdict"),
            error=error,
            duration_s=time.perf_counter() - self._started,
            prompt_tokens=sum(len(s.prompt_ids or ()) for s in self.steps),
            completion_tokens=sum(len(s.completion_ids or ()) for s in self.steps),
            metadata=self.metadata,
        )
