"""Step-wise preference mining (SPORT): branch each state, follow the best step, pair the rest.

At each turn of an episode the env is forked once per candidate, the policy proposes ``k``
candidate actions (one batched call: the same conversation ``k`` times, sampled), identical
candidates are dropped, each candidate is stepped in its own fork, a `StepVerifier` scores the
branches, the episode goes on from the best one and the other branches are closed. Every
(best, worse) pair whose scores differ by at least ``min_gap`` becomes a `StepPair`: the shared
conversation prefix is the prompt, the two actions are the chosen and rejected completions.

    state ──fork──> branch 1: action 1 -> observation 1 ─┐
          ├─fork──> branch 2: action 2 -> observation 2 ─┼─ verifier ─> follow the best,
          └─fork──> branch k: action k -> observation k ─┘               pair it with the others

Episodes run ``num_envs`` at a time and share the calls: one policy call per turn for all their
``k`` candidates, one verifier call for all their branches. Cost per state, with ``u <= k``
distinct candidates: ``k`` generations, ``u`` forks and ``u`` env steps, plus the verifier's
(nothing for the env signal, ``u * n`` rollouts of up to ``max_turns`` turns for Monte Carlo,
one judge call for the judge). A state whose candidates are all identical is stepped in place,
without forks or the verifier.

The followed paths are recorded as trajectories, so mining is also a rollout of the policy
improved by one step of search.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
from pydantic import BaseModel, ConfigDict

from palaestra.agents.base import Agent, respond_batch
from palaestra.core.fork import fork
from palaestra.core.types import AgentTurn, ErrorInfo, Trajectory
from palaestra.errors import ConfigError
from palaestra.rollout.collect import EpisodePlan, plan_episodes
from palaestra.rollout.recorder import EpisodeRecorder
from palaestra.trainers.verifiers import Branch, EnvSignalVerifier, StepVerifier

__all__ = ["MinedSteps", "StepPair", "mine_step_pairs", "step_pairs"]


class StepPair(BaseModel):
    """Two actions taken from the same state: the better one (chosen) and a worse one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env_id: str
    task_id: str
    episode: int
    turn: int
    """The turn the two actions compete for, counted from 1."""
    prompt_messages: list[dict[str, str]]
    """The conversation before the step, shared by both actions (system, user, assistant, tool)."""
    tools: list[dict[str, Any]]
    chosen: str
    rejected: str
    chosen_score: float
    rejected_score: float
    chosen_observation: str
    rejected_observation: str
    chosen_ids: list[int] | None = None
    """The ids the model generated for ``chosen`` (end-of-turn token included), if recorded."""
    rejected_ids: list[int] | None = None
    verifier: str

    @property
    def gap(self) -> float:
        """How much better the chosen action scored."""
        return self.chosen_score - self.rejected_score


@dataclass
class MinedSteps:
    """What a mining run produced, and what it cost."""

    pairs: list[StepPair]
    trajectories: list[Trajectory]
    """The followed path of every episode, in episode order."""
    states: int = 0
    """States branched (turns with at least two distinct candidates)."""
    candidates: int = 0
    """Candidate actions sampled."""
    duplicates: int = 0
    """Candidates dropped because an earlier candidate of the same state had the same text."""
    failed_branches: int = 0
    """Branches whose env step raised (infrastructure failures); they are dropped."""
    seconds: float = 0.0
    """Wall time of the run."""

    @property
    def pairs_per_episode(self) -> float:
        """Mean number of pairs an episode gave."""
        return len(self.pairs) / max(len(self.trajectories), 1)


def step_pairs(
    branches: Sequence[Branch], scores: Sequence[float], best: int, min_gap: float
) -> list[tuple[Branch, Branch, float, float]]:
    """(chosen, rejected, chosen score, rejected score) of the best branch against each worse one.

    A pair needs a strictly better score by at least ``min_gap``: ties give no pair.
    """
    top = scores[best]
    return [
        (branches[best], branch, top, score)
        for index, (branch, score) in enumerate(zip(branches, scores, strict=True))
        if index != best and top - score > 0 and top - score >= min_gap
    ]


def distinct(turns: Sequence[AgentTurn]) -> list[AgentTurn]:
    """The turns with distinct texts, first occurrence kept, in order."""
    seen: set[str] = set()
    unique = []
    for turn in turns:
        if turn.text not in seen:
            seen.add(turn.text)
            unique.append(turn)
    return unique


@dataclass
class _Episode:
    plan: EpisodePlan
    env: gym.Env[str, str]
    recorder: EpisodeRecorder
    branches: list[Branch] = field(default_factory=list)


def mine_step_pairs(
    env_id: str,
    agent: Agent,
    episodes: int | None = None,
    *,
    k: int = 4,
    verifier: StepVerifier | None = None,
    tasks: Sequence[str] | None = None,
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
    max_turns: int | None = None,
    min_gap: float = 0.0,
    num_envs: int = 8,
    on_branches: Callable[[list[Branch], list[float]], None] | None = None,
) -> MinedSteps:
    """Play episodes, branching every state ``k`` ways, and mine step-wise preference pairs.

    Args:
        env_id: A registered env id.
        agent: The policy proposing candidates; it must sample (temperature > 0), or every
            state's candidates are identical and give no pair.
        episodes: How many episodes; defaults to one per entry of ``tasks``.
        k: Candidates sampled per state (at least 2).
        verifier: Scores the branches of each state; default `EnvSignalVerifier()`.
        tasks: Task ids to play (cycled), instead of tasks drawn from the seed.
        seed: Episode ``i`` resets with ``seed + i``.
        env_kwargs: Keyword arguments for ``gym.make``.
        max_turns: Turn limit per episode (passed to the env).
        min_gap: Least score difference that makes a pair (ties never do).
        num_envs: Episodes played at once; their candidates share one policy call per turn.
        on_branches: Called with each branched state's branches and scores, before the branches
            that are not followed are closed.
    """
    if k < 2:
        raise ConfigError(f"k must be at least 2 to compare candidate steps, got {k}")
    if min_gap < 0:
        raise ConfigError(f"min_gap must be >= 0 (0 pairs any strictly better step), got {min_gap}")
    if num_envs < 1:
        raise ConfigError(f"num_envs must be at least 1, got {num_envs}")
    if getattr(getattr(agent, "sampling", None), "greedy", False):
        raise ConfigError(
            f"agent {agent.name!r} decodes greedily, so its {k} candidates would be identical; "
            "give it a sampling temperature > 0 (e.g. TransformersAgent(..., temperature=1.0))"
        )
    scorer: StepVerifier = verifier or EnvSignalVerifier()
    kwargs = dict(env_kwargs or {})
    if max_turns is not None:
        kwargs["max_turns"] = max_turns
    started = time.perf_counter()
    plans = iter(plan_episodes(episodes, tasks, 1, seed))
    result = MinedSteps(pairs=[], trajectories=[])
    finished: dict[int, Trajectory] = {}
    active: list[_Episode] = []

    def begin() -> None:
        plan = next(plans, None)
        if plan is None:
            return
        env = gym.make(env_id, **kwargs)
        options = {"task_id": plan.task_id} if plan.task_id is not None else None
        observation, info = env.reset(seed=plan.seed, options=options)
        model = getattr(agent, "model_name", None)
        recorder = EpisodeRecorder(
            env_id, observation, info, seed=plan.seed, agent=agent.name, model=model
        )
        active.append(_Episode(plan, env, recorder))

    def finish(episode: _Episode, error: ErrorInfo | None = None) -> None:
        episode.env.close()
        trajectory = episode.recorder.finish(error)
        trajectory.metadata.update(
            episode=episode.plan.index, mining={"k": k, "verifier": scorer.name}
        )
        finished[episode.plan.index] = trajectory
        active.remove(episode)

    try:
        for _ in range(num_envs):
            begin()
        while active:
            # 1. Candidates: one call, each episode's conversation k times.
            conversations = [e.recorder.conversation.messages for e in active for _ in range(k)]
            tools = [e.recorder.tools for e in active for _ in range(k)]
            turns = respond_batch(agent, conversations, tools)
            result.candidates += len(turns)
            # 2. Branches: each distinct candidate stepped in its own fork of the state.
            for group, episode in enumerate(active):
                unique = distinct(turns[group * k : (group + 1) * k])
                result.duplicates += k - len(unique)
                episode.branches = _branch(group, episode, unique, result)
            # 3. Scores: one verifier call for every state with a choice to make.
            contested = [b for e in active for b in e.branches if len(e.branches) > 1]
            scores = dict(zip(map(id, contested), scorer.score(contested), strict=True))
            # 4. Follow the best branch of each state, pair it with the worse ones, close the rest.
            for episode in list(active):
                if not episode.branches:
                    finish(episode, ErrorInfo(type="BranchError", message="every branch failed"))
                    begin()
                    continue
                if _follow(episode, scores, min_gap, scorer.name, result, on_branches):
                    finish(episode)
                    begin()
    finally:
        for episode in active:
            episode.env.close()
            for branch in episode.branches:
                if branch.env is not episode.env:
                    branch.env.close()
    result.trajectories = [finished[i] for i in sorted(finished)]
    result.pairs.sort(key=lambda pair: (pair.episode, pair.turn))  # the same for any num_envs
    result.seconds = time.perf_counter() - started
    return result


def _branch(
    group: int, episode: _Episode, candidates: list[AgentTurn], result: MinedSteps
) -> list[Branch]:
    """Step each candidate in its own fork of the episode's state; the state itself is closed.

    A single candidate is stepped in place: there is nothing to compare it with.
    """
    parent = episode.env
    prompt = episode.recorder.conversation.as_dicts()
    tools = episode.recorder.tools
    envs = [parent] if len(candidates) == 1 else [fork(parent) for _ in candidates]
    if len(candidates) > 1:
        result.states += 1
        parent.close()
    branches = []
    for env, turn in zip(envs, candidates, strict=True):
        try:
            observation, reward, terminated, truncated, info = env.step(turn.text)
        except Exception:  # noqa: BLE001 - a broken branch is dropped, the others go on
            result.failed_branches += 1
            env.close()
            continue
        branches.append(
            Branch(
                group=group,
                env=env,
                turn=turn,
                prompt=prompt,
                tools=tools,
                observation=observation,
                reward=float(reward),
                terminated=bool(terminated),
                truncated=bool(truncated),
                info=dict(info),
            )
        )
    return branches


def _follow(
    episode: _Episode,
    scores: Mapping[int, float],
    min_gap: float,
    verifier: str,
    result: MinedSteps,
    on_branches: Callable[[list[Branch], list[float]], None] | None,
) -> bool:
    """Record the pairs of the episode's state and move it onto its best branch; True when done."""
    branches = episode.branches
    values = [scores.get(id(b), 0.0) for b in branches]
    best = max(range(len(branches)), key=lambda i: values[i])  # the first of equals: deterministic
    if len(branches) > 1:
        if on_branches is not None:
            on_branches(branches, values)
        recorder = episode.recorder
        for chosen, rejected, chosen_score, rejected_score in step_pairs(
            branches, values, best, min_gap
        ):
            result.pairs.append(
                StepPair(
                    env_id=recorder.env_id,
                    task_id=recorder.task_id,
                    episode=episode.plan.index,
                    turn=len(recorder.steps) + 1,
                    prompt_messages=chosen.prompt,
                    tools=chosen.tools,
                    chosen=chosen.action,
                    rejected=rejected.action,
                    chosen_score=chosen_score,
                    rejected_score=rejected_score,
                    chosen_observation=chosen.observation,
                    rejected_observation=rejected.observation,
                    chosen_ids=chosen.turn.completion_ids,
                    rejected_ids=rejected.turn.completion_ids,
                    verifier=verifier,
                )
            )
        for index, branch in enumerate(branches):
            if index != best:
                branch.env.close()
    followed = branches[best]
    episode.env, episode.branches = followed.env, []
    episode.recorder.record(
        followed.turn,
        followed.observation,
        followed.reward,
        followed.terminated,
        followed.truncated,
        followed.info,
    )
    return episode.recorder.done
