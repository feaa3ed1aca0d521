"""Infrastructure failures are not rewards: an episode whose sandbox died is marked, and ignored.

The sandbox of one episode in a group is killed for real (SIGKILL to its container, from the
host, mid-episode). That episode must come back with the status ``infra_failure``, be counted in
the summary, and be left out of every trainer's data: GRPO's group baselines, DPO pairs, KTO
labels and SFT's successes.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import pytest

from palaestra.agents.base import BaseAgent, as_dicts
from palaestra.core.types import AgentTurn, ToolCall
from palaestra.envs.code_interpreter import CodeInterpreterEnv
from palaestra.errors import EnvStateError, SandboxError
from palaestra.rollout import collect, summarize
from palaestra.trainers.advantages import turn_advantages
from palaestra.trainers.data import preference_pairs, successful
from palaestra.trainers.grpo import GRPOConfig, GRPOTrainer
from palaestra.trainers.kto import KTOConfig, KTOTrainer

ENV = "KillableCodeInterpreter-v0"
WRONG = "The answer is \\boxed{-987654321}."


def run(source: str) -> str:
    return ToolCall(name="python", arguments={"code": source}).to_text()


def kill_container(env: CodeInterpreterEnv) -> None:
    """SIGKILL the sandbox's container from the host, as an OOM killer or a crash would."""
    assert env.sandbox is not None
    container = env.sandbox._container
    assert container.alive() and container.init_pid is not None
    os.kill(container.init_pid, signal.SIGKILL)  # the namespace's first process: all go with it
    container.process.wait(timeout=60)


class KillableCodeInterpreter(CodeInterpreterEnv):
    """CodeInterpreter-v0 whose first episode to reach its second turn loses its sandbox."""

    victims: list[str] = []
    lock = threading.Lock()

    def step(self, action: Any) -> Any:
        with self.lock:
            strike = self._turn == 1 and not self.victims and self.sandbox is not None
            if strike:
                self.victims.append(self._task.id)
                kill_container(self)
        return super().step(action)


class Player(BaseAgent):
    """Runs code twice, then answers: right when ``good``, wrong otherwise."""

    def __init__(self, env: gym.Env[Any, Any], good: bool) -> None:
        self.env = env.unwrapped
        self.good = good
        self.name = "good" if good else "bad"

    def respond_batch(
        self, conversations: Sequence[Any], tools: Sequence[Any] | None = None
    ) -> list[AgentTurn]:
        replies = []
        for messages in conversations:
            turn = sum(1 for m in as_dicts(messages) if m["role"] == "assistant")
            if turn == 0:
                replies.append(run("x = 41"))
            elif turn == 1:
                replies.append(run("print(x + 1)"))
            else:
                replies.append(self.env.oracle_actions()[-1] if self.good else WRONG)
        return [AgentTurn(text=text) for text in replies]


@pytest.fixture(scope="module")
def group():
    """One group of 4 (two right, two wrong answers) in which one sandbox is killed."""
    gym.register(ENV, entry_point=KillableCodeInterpreter)
    KillableCodeInterpreter.victims.clear()
    made = iter([True, False, True, False])
    trajectories = collect(
        ENV,
        lambda env: Player(env, next(made)),
        4,
        group_size=4,
        num_envs=4,
        seed=11,
        env_kwargs={"family": "math"},
    )
    yield trajectories
    gym.registry.pop(ENV, None)


def test_the_killed_episode_is_an_infra_failure_not_a_failed_answer(group):
    assert len(KillableCodeInterpreter.victims) == 1
    statuses = [t.status for t in group]
    assert statuses.count("infra_failure") == 1, statuses
    victim = next(t for t in group if t.status == "infra_failure")
    assert victim.error is not None and victim.error.type == "SandboxError"
    assert "container" in victim.error.message
    assert victim.reward == 0.0 and not victim.success and victim.num_turns == 1
    others = sorted(t.status for t in group if t is not victim)
    assert len(others) == 3 and set(others) <= {"success", "failure"}
    summary = summarize(group)
    assert summary.failed_episodes == 1 and summary.episodes == 4


def test_the_group_baseline_is_computed_without_the_killed_episode(group, tiny_model_dir):
    trainer = GRPOTrainer(
        GRPOConfig(
            model=str(tiny_model_dir), env=ENV, group_size=4, output_dir=None, progress=False
        )
    )
    rollouts = trainer.examples(group)
    survivors = [t for t in group if t.status != "infra_failure"]
    assert len(rollouts) == len(survivors) == 3
    key = [(t.seed, t.task_id) for t in survivors]
    expected = turn_advantages([[s.reward for s in t.steps] for t in survivors], key)
    for rollout, trajectory, per_turn in zip(rollouts, survivors, expected, strict=True):
        sequence = rollout.sequence
        for (start, end), value in zip(sequence.turn_spans, per_turn, strict=False):
            assert rollout.advantages[start:end] == pytest.approx([value] * (end - start))
        assert trajectory.status in ("success", "failure")
    # Counting the killed episode as a failure would have moved every survivor's baseline.
    everyone = [[s.reward for s in t.steps] for t in group]
    as_failures = turn_advantages(everyone, [(t.seed, t.task_id) for t in group])
    survivor_rows = [row for row, t in zip(as_failures, group, strict=True) if t in survivors]
    assert [r[-1] for r in survivor_rows] != pytest.approx([r[-1] for r in expected])


def test_pairs_labels_and_sft_data_leave_the_killed_episode_out(group, tiny_model_dir):
    victim = next(t for t in group if t.status == "infra_failure")
    pairs = preference_pairs(group)
    assert pairs and all(victim not in (p.chosen, p.rejected) for p in pairs)
    assert victim not in successful(group)
    kto = KTOTrainer(KTOConfig(model=str(tiny_model_dir), max_length=None, output_dir=None))
    labelled = kto.examples(group)
    assert len(labelled) == 3
    assert sorted(e.desirable for e in labelled) == sorted(
        t.success for t in group if t is not victim
    )


def test_an_env_whose_sandbox_died_refuses_to_go_on():
    env = CodeInterpreterEnv(family="math")
    try:
        env.reset(seed=3)
        env.step(run("x = 1"))
        kill_container(env)
        with pytest.raises(SandboxError, match="container"):
            env.step(run("print(x)"))
        with pytest.raises(EnvStateError, match="call reset"):
            env.step(run("print(x)"))
        assert "infrastructure failure" in env.render()
        env.reset(seed=3)  # a new episode gets a new sandbox
        _, _, _, _, info = env.step(run("print(6 * 7)"))
        assert info["error"] is None and "42" in env.render()
    finally:
        env.close()


def test_code_that_kills_all_it_can_leaves_the_container_and_the_episode_goes_on():
    env = CodeInterpreterEnv(family="math")
    try:
        env.reset(seed=3)
        env.step(run("x = 1"))
        observation, *_ = env.step(run("import os\nos.kill(os.getppid(), 9)"))  # the keeper
        assert "PermissionError" in observation, observation
        _, _, terminated, _, _ = env.step(run("import os\nos.kill(-1, 9)"))  # all it may kill
        assert not terminated
        assert env.sandbox is not None and env.sandbox._container.alive()
        _, _, _, _, info = env.step(run("print(6 * 7)"))
        assert info["error"] is None
    finally:
        env.close()
