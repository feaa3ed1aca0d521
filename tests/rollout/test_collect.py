import pytest

from palaestra.agents import OracleAgent, ScriptedAgent
from palaestra.core.types import read_jsonl
from palaestra.envs.tool_use import ToolUseEnv
from palaestra.errors import ConfigError
from palaestra.rollout import collect, summarize, wilson_interval


def test_results_do_not_depend_on_batch_size(tmp_path):
    small = collect("ToolUse-v0", OracleAgent, 12, seed=5, batch_size=1)
    large = collect("ToolUse-v0", OracleAgent, 12, seed=5, batch_size=5, out=tmp_path / "o.jsonl")
    key = lambda t: (t.task_id, t.seed, [m.content for m in t.messages], t.reward)  # noqa: E731
    assert [key(t) for t in small] == [key(t) for t in large]
    assert [t.metadata["episode"] for t in large] == list(range(12))
    on_disk = sorted(read_jsonl(tmp_path / "o.jsonl"), key=lambda t: t.metadata["episode"])
    assert [key(t) for t in on_disk] == [key(t) for t in large]


def test_trajectory_records_the_conversation_and_steps():
    (trajectory,) = collect("ToolUse-v0", OracleAgent, 1, seed=3)
    roles = [m.role for m in trajectory.messages]
    assert roles[:2] == ["system", "user"]
    assert roles[2:] == ["assistant", "tool"] * (trajectory.num_turns - 1) + ["assistant"]
    assert trajectory.success and trajectory.reward == 1.0 and trajectory.terminated
    assert trajectory.steps[0].tool_calls and trajectory.steps[-1].terminated
    assert trajectory.metadata["domain"] in {"retail", "calendar", "travel"}


def test_task_ids_pin_episodes():
    ids = [t.task_id for t in collect("ToolUse-v0", OracleAgent, 3, seed=0)]
    again = collect("ToolUse-v0", ScriptedAgent(["I give up."]), 3, seed=99, task_ids=ids)
    assert [t.task_id for t in again] == ids


class _Exploding(ToolUseEnv):
    def step(self, action):
        if self._task.task.difficulty == 2:
            raise RuntimeError("sandbox died")
        return super().step(action)


def test_an_env_failure_is_recorded_and_the_others_carry_on():
    import gymnasium as gym

    gym.register("Exploding-v0", entry_point=_Exploding, max_episode_steps=16)
    trajectories = collect("Exploding-v0", OracleAgent, 30, seed=0, batch_size=4)
    failed = [t for t in trajectories if t.error is not None]
    assert failed and all(
        t.error.type == "RuntimeError" and "sandbox died" in t.error.message for t in failed
    )
    assert all(t.success for t in trajectories if t.error is None)
    assert summarize(trajectories).failed_episodes == len(failed)


def test_bad_arguments():
    with pytest.raises(ConfigError, match="episodes must be at least 1"):
        collect("ToolUse-v0", OracleAgent, 0)
    with pytest.raises(ConfigError, match="need 3 task ids"):
        collect("ToolUse-v0", OracleAgent, 3, task_ids=["a"])


def test_wilson_interval():
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and 0.25 < high < 0.35
    low, high = wilson_interval(10, 10)
    assert high == 1.0 and 0.65 < low < 0.75
    low, high = wilson_interval(50, 100)
    assert low == pytest.approx(0.404, abs=0.002) and high == pytest.approx(0.596, abs=0.002)
