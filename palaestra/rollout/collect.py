"""Running episodes: a batch of envs in lockstep, one batched agent call per turn.

Each slot holds an env and the episode it is playing; a slot whose episode ends starts the next
one at once, so the agent's batch stays full until the last episodes drain. Episode ``i`` is
played with ``reset(seed=seed + i)``, so a run is reproducible whatever the batch size.

An exception from an env's ``step`` (a dead sandbox, a lost server) ends that episode only: it is
recorded on its trajectory as ``error`` and the other slots carry on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import gymnasium as gym

from palaestra.agents.base import Agent, respond_batch
from palaestra.agents.specs import AgentFactory
from palaestra.core.types import ErrorInfo, Trajectory, write_jsonl
from palaestra.errors import ConfigError
from palaestra.rollout.recorder import EpisodeRecorder

__all__ = ["collect"]


@dataclass
class _Slot:
    env: gym.Env[Any, Any]
    agent: Agent
    episode: int = -1
    seed: int | None = None
    recorder: EpisodeRecorder | None = None


def collect(
    env_id: str,
    agent: Agent | AgentFactory,
    episodes: int,
    *,
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
    batch_size: int = 8,
    task_ids: Sequence[str] | None = None,
    out: str | Path | None = None,
    on_episode: Callable[[Trajectory], None] | None = None,
) -> list[Trajectory]:
    """Play ``episodes`` episodes of ``env_id`` and return their trajectories in episode order.

    Args:
        env_id: A registered env id.
        agent: An agent shared by all slots, or a factory that binds one agent to each env
            (the oracle).
        episodes: How many episodes to play.
        seed: Episode ``i`` resets with ``seed + i``.
        env_kwargs: Keyword arguments for ``gym.make`` (``split``, ``domain``, ...).
        batch_size: How many episodes run at once (the agent's batch size).
        task_ids: Pin episode ``i`` to ``task_ids[i]`` instead of drawing a task from the seed.
        out: A JSONL file to append each trajectory to as soon as its episode ends.
        on_episode: Called with each trajectory as its episode ends (progress bars).
    """
    if episodes < 1:
        raise ConfigError(f"episodes must be at least 1, got {episodes}")
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
    if task_ids is not None and len(task_ids) < episodes:
        raise ConfigError(f"{episodes} episodes need {episodes} task ids, got {len(task_ids)}")
    shared: Agent | None = None
    if not isinstance(agent, type) and hasattr(agent, "act_batch"):
        shared = cast(Agent, agent)
    slots: list[_Slot] = []
    results: dict[int, Trajectory] = {}
    next_episode = 0

    def finish(slot: _Slot, trajectory: Trajectory) -> None:
        trajectory.metadata["episode"] = slot.episode
        results[slot.episode] = trajectory
        if out is not None:
            write_jsonl([trajectory], out)
        if on_episode is not None:
            on_episode(trajectory)
        slot.recorder = None

    def start(slot: _Slot) -> None:
        nonlocal next_episode
        if next_episode >= episodes:
            return
        slot.episode, slot.seed = next_episode, seed + next_episode
        options = {"task_id": task_ids[next_episode]} if task_ids is not None else None
        next_episode += 1
        observation, info = slot.env.reset(seed=slot.seed, options=options)
        slot.recorder = EpisodeRecorder(
            env_id,
            observation,
            info,
            seed=slot.seed,
            agent=slot.agent.name,
            model=getattr(slot.agent, "model_name", None),
        )

    try:
        for _ in range(min(batch_size, episodes)):
            env = gym.make(env_id, **dict(env_kwargs or {}))
            bound = shared if shared is not None else cast(AgentFactory, agent)(env)
            slots.append(_Slot(env=env, agent=bound))
            start(slots[-1])
        while active := [s for s in slots if s.recorder is not None]:
            turns = _ask(shared, active)
            for slot, turn in zip(active, turns, strict=True):
                recorder = slot.recorder
                assert recorder is not None
                try:
                    observation, reward, terminated, truncated, info = slot.env.step(turn.text)
                except Exception as exc:  # noqa: BLE001 - one broken env must not stop the others
                    finish(
                        slot, recorder.finish(ErrorInfo(type=type(exc).__name__, message=str(exc)))
                    )
                    start(slot)
                    continue
                recorder.record(turn, observation, float(reward), terminated, truncated, info)
                if recorder.done:
                    finish(slot, recorder.finish())
                    start(slot)
    finally:
        for slot in slots:
            slot.env.close()
    return [results[i] for i in sorted(results)]


def _ask(shared: Agent | None, active: list[_Slot]) -> list[Any]:
    """One batched call for a shared agent; one call per slot for env-bound agents."""
    if shared is not None:
        conversations = [s.recorder.conversation.messages for s in active]  # type: ignore[union-attr]
        tools = [s.recorder.tools for s in active]  # type: ignore[union-attr]
        return respond_batch(shared, conversations, tools)
    return [
        respond_batch(s.agent, [s.recorder.conversation.messages], [s.recorder.tools])[0]  # type: ignore[union-attr]
        for s in active
    ]
