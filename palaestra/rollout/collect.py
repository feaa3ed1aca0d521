"""Collecting episodes: many in flight, one batched model call per turn, env steps in parallel.

``num_envs`` episodes run at once. Each turn, every episode waiting for the model goes into one
``respond_batch`` call; the resulting actions are stepped concurrently (a thread pool here, Ray
actors with ``backend="ray"``); an episode that ends is replaced at once by the next one. With
``overlap=True`` the model serves the episodes that are ready while other steps still run.

Episodes are numbered, and what episode ``i`` plays depends only on ``i``: with ``group_size=G``,
episodes ``G*g ... G*g+G-1`` form group ``g`` and all reset with ``seed + g`` (or ``tasks[g]``), so
a group starts G times from the identical state, as GRPO needs. Results therefore do not depend
on ``num_envs``.

Every finished trajectory is appended and flushed to ``out``; running again with the same
``out`` and the same run skips the episodes already there, so a crash loses only the episodes in
flight. An exception from an env's ``step`` ends that episode only: it is recorded on the
trajectory as ``error`` and the others carry on.
"""

from __future__ import annotations

import concurrent.futures as futures
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from palaestra.agents.base import Agent, respond_batch
from palaestra.agents.specs import AgentFactory
from palaestra.core.types import AgentTurn, ErrorInfo, Trajectory, read_jsonl, write_jsonl
from palaestra.errors import ConfigError
from palaestra.rollout.display import CollectProgress
from palaestra.rollout.recorder import EpisodeRecorder
from palaestra.rollout.workers import EnvWorker, LocalWorkers, RayWorkers, Workers

__all__ = ["EpisodePlan", "collect", "plan_episodes"]


@dataclass(frozen=True)
class EpisodePlan:
    """What one episode plays: its number, its group, and how its env is reset."""

    index: int
    group: int
    seed: int
    task_id: str | None


def plan_episodes(
    episodes: int | None, tasks: Sequence[str] | None, group_size: int, seed: int
) -> list[EpisodePlan]:
    """The episodes of a run, in order; ``tasks`` (one per group) cycle when there are fewer."""
    if group_size < 1:
        raise ConfigError(f"group_size must be at least 1, got {group_size}")
    if tasks is not None and not tasks:
        raise ConfigError("tasks is empty; pass task ids, or None to draw tasks from the seed")
    if episodes is None:
        if tasks is None:
            raise ConfigError("say how many episodes to play: pass episodes=N or tasks=[...]")
        episodes = len(tasks) * group_size
    if episodes < 1:
        raise ConfigError(f"episodes must be at least 1, got {episodes}")
    if episodes % group_size:
        raise ConfigError(
            f"episodes ({episodes}) must be a multiple of group_size ({group_size}): "
            "every group plays its task group_size times"
        )
    plans = []
    for index in range(episodes):
        group = index // group_size
        task_id = tasks[group % len(tasks)] if tasks is not None else None
        plans.append(EpisodePlan(index, group, seed + group, task_id))
    return plans


@dataclass
class _Slot:
    worker: EnvWorker
    agent: Agent
    plan: EpisodePlan | None = None
    recorder: EpisodeRecorder | None = None
    turn: AgentTurn | None = None
    future: futures.Future[Any] | None = None


def collect(
    env: str,
    agent: Agent | AgentFactory,
    episodes: int | None = None,
    *,
    tasks: Sequence[str] | None = None,
    num_envs: int = 8,
    group_size: int = 1,
    max_turns: int | None = None,
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
    out: str | Path | None = None,
    on_episode: Callable[[Trajectory], None] | None = None,
    progress: bool = False,
    step_threads: int | None = None,
    backend: Literal["local", "ray"] = "local",
    overlap: bool = False,
) -> list[Trajectory]:
    """Play episodes of ``env`` with ``agent``; return their trajectories in episode order.

    Args:
        env: A registered env id.
        agent: An agent shared by all episodes (its batch calls span them), or a factory that
            binds one agent to each env (the oracle).
        episodes: How many episodes; defaults to one group per entry of ``tasks``.
        tasks: Task ids, one per group, instead of tasks drawn from the seed.
        num_envs: Episodes in flight at once (the model's batch size).
        group_size: Episodes per group; a group starts each of them from the same state.
        max_turns: Turn limit per episode (passed to the env).
        seed: Group ``g`` resets with ``seed + g``.
        env_kwargs: Keyword arguments for ``gym.make`` (``split``, ``family``, ``remote``, ...).
        out: JSONL file: each trajectory is appended as its episode ends, and the episodes of
            this same run already in the file are skipped.
        on_episode: Called with each trajectory as its episode ends.
        progress: Show a live progress display (episodes, success so far, tokens/s).
        step_threads: Threads stepping envs here (default: one per env, none for one env).
        backend: ``"local"`` (envs in this process) or ``"ray"`` (one Ray actor per env).
        overlap: Ask the model for the episodes that are ready while slow env steps (sandboxes,
            remote envs) still run. Faster; but which episodes share a batch then depends on
            timing, so sampled replies are no longer reproducible run to run.
    """
    if num_envs < 1:
        raise ConfigError(f"num_envs must be at least 1, got {num_envs}")
    if backend not in ("local", "ray"):
        raise ConfigError(f"backend must be 'local' or 'ray', got {backend!r}")
    plans = plan_episodes(episodes, tasks, group_size, seed)
    kwargs = dict(env_kwargs or {})
    if max_turns is not None:
        kwargs["max_turns"] = max_turns
    shared = (
        cast(Agent, agent) if not isinstance(agent, type) and hasattr(agent, "act_batch") else None
    )
    run = _run_key(env, kwargs, seed, group_size, tasks, shared.name if shared else str(agent))
    results = _already_done(out, run, len(plans))
    pending = [plan for plan in plans if plan.index not in results]
    if not pending:
        return [results[i] for i in sorted(results)]

    count = min(num_envs, len(pending))
    workers: Workers = (
        RayWorkers(env, kwargs, count)
        if backend == "ray"
        else LocalWorkers(
            env, kwargs, count, count if step_threads is None and count > 1 else step_threads or 0
        )
    )
    display = CollectProgress(env, len(plans), done=len(results), enabled=progress)
    queue = iter(pending)
    slots = [
        _Slot(worker, shared or cast(AgentFactory, agent)(worker.env)) for worker in workers.workers
    ]

    def finish(slot: _Slot, trajectory: Trajectory) -> None:
        assert slot.plan is not None
        trajectory.metadata.update(episode=slot.plan.index, group=slot.plan.group, run=run)
        results[slot.plan.index] = trajectory
        if out is not None:
            write_jsonl([trajectory], out)
        display.episode_done(trajectory)
        if on_episode is not None:
            on_episode(trajectory)

    def begin(slot: _Slot) -> None:
        """Start resetting the slot onto the next planned episode (or retire it)."""
        slot.plan, slot.recorder, slot.turn = next(queue, None), None, None
        if slot.plan is not None:
            options = {"task_id": slot.plan.task_id} if slot.plan.task_id is not None else None
            slot.future = slot.worker.reset(slot.plan.seed, options)

    def land(slot: _Slot) -> None:
        """Take in a finished reset or step."""
        future, slot.future = slot.future, None
        assert future is not None and slot.plan is not None
        if slot.recorder is None:  # a reset: failures here are the run's, not one episode's
            observation, info = future.result()
            slot.recorder = EpisodeRecorder(
                env,
                observation,
                info,
                seed=slot.plan.seed,
                agent=slot.agent.name,
                model=getattr(slot.agent, "model_name", None),
            )
            return
        recorder, turn = slot.recorder, slot.turn
        assert turn is not None
        try:
            observation, reward, terminated, truncated, info = future.result()
        except Exception as exc:  # noqa: BLE001 - one broken env must not stop the others
            finish(slot, recorder.finish(ErrorInfo(type=type(exc).__name__, message=str(exc))))
            begin(slot)
            return
        recorder.record(turn, observation, float(reward), terminated, truncated, info)
        display.tokens(turn.completion_tokens)
        if recorder.done:
            finish(slot, recorder.finish())
            begin(slot)

    try:
        with display:
            for slot in slots:
                begin(slot)
            while any(slot.plan is not None for slot in slots):
                # Without overlap every in-flight step and reset lands before the model is
                # asked, so each turn's batch holds every episode; with it, the model serves
                # whichever episodes are ready while the others' steps still run.
                while busy := [slot.future for slot in slots if slot.future is not None]:
                    futures.wait(
                        busy,
                        return_when=futures.FIRST_COMPLETED if overlap else futures.ALL_COMPLETED,
                    )
                    for slot in slots:
                        if slot.future is not None and slot.future.done():
                            land(slot)
                    if overlap:
                        break
                waiting = [s for s in slots if s.recorder is not None and s.future is None]
                if waiting:
                    for slot, turn in zip(waiting, _ask(shared, waiting), strict=True):
                        slot.turn = turn
                        slot.future = slot.worker.step(turn.text)
    finally:
        workers.close()
    return [results[i] for i in sorted(results)]


def _ask(shared: Agent | None, active: list[_Slot]) -> list[AgentTurn]:
    """One batched call for a shared agent; one call per slot for env-bound agents."""
    if shared is not None:
        conversations = [s.recorder.conversation.messages for s in active]  # type: ignore[union-attr]
        tools = [s.recorder.tools for s in active]  # type: ignore[union-attr]
        return respond_batch(shared, conversations, tools)
    return [
        respond_batch(s.agent, [s.recorder.conversation.messages], [s.recorder.tools])[0]  # type: ignore[union-attr]
        for s in active
    ]


def _run_key(
    env: str,
    kwargs: Mapping[str, Any],
    seed: int,
    group_size: int,
    tasks: Sequence[str] | None,
    agent: str,
) -> str:
    """A fingerprint of what a run plays, so a resumed run skips only its own episodes."""
    described = json.dumps(
        [
            env,
            {k: repr(v) for k, v in sorted(kwargs.items())},
            seed,
            group_size,
            list(tasks or []),
            agent,
        ]
    )
    return hashlib.blake2b(described.encode(), digest_size=8).hexdigest()


def _already_done(out: str | Path | None, run: str, planned: int) -> dict[int, Trajectory]:
    """The episodes of this run that ``out`` already holds."""
    if out is None or not Path(out).is_file():
        return {}
    done = {}
    for trajectory in read_jsonl(out):
        episode = trajectory.metadata.get("episode")
        if trajectory.metadata.get("run") == run and isinstance(episode, int) and episode < planned:
            done[episode] = trajectory
    return done
