import threading

import gymnasium as gym
import pytest

from palaestra.agents import OracleAgent, RandomAgent, ScriptedAgent
from palaestra.core.types import read_jsonl
from palaestra.envs.tool_use import ToolUseEnv
from palaestra.errors import ConfigError
from palaestra.rollout import collect, plan_episodes, summarize, wilson_interval


def key(trajectory):
    return (
        trajectory.task_id,
        trajectory.seed,
        [m.content for m in trajectory.messages],
        [s.reward for s in trajectory.steps],
        trajectory.metadata["episode"],
    )


def test_one_env_and_eight_envs_give_identical_trajectories(tmp_path):
    agent = RandomAgent(seed=3)
    one = collect("ToolUse-v0", RandomAgent(seed=3), 24, seed=5, num_envs=1)
    eight = collect("ToolUse-v0", agent, 24, seed=5, num_envs=8, out=tmp_path / "r.jsonl")
    # The random agent draws from one stream, so its actions depend on the batch order; compare
    # with a scripted agent, whose actions depend only on the conversation.
    assert [t.metadata["episode"] for t in eight] == list(range(24))
    assert [t.task_id for t in one] == [t.task_id for t in eight]
    scripted = ScriptedAgent(lambda messages: f"<tool_call>bad {len(messages)}</tool_call>")
    a = collect("ToolUse-v0", scripted, 24, seed=5, num_envs=1, max_turns=3)
    b = collect("ToolUse-v0", scripted, 24, seed=5, num_envs=8, max_turns=3)
    assert [key(t) for t in a] == [key(t) for t in b]
    on_disk = sorted(read_jsonl(tmp_path / "r.jsonl"), key=lambda t: t.metadata["episode"])
    assert [key(t) for t in on_disk] == [key(t) for t in eight]


def test_groups_start_from_the_identical_state():
    trajectories = collect("ToolUse-v0", OracleAgent, 12, seed=9, group_size=4, num_envs=5)
    for group in range(3):
        members = [t for t in trajectories if t.metadata["group"] == group]
        assert len(members) == 4
        assert len({t.task_id for t in members}) == 1
        assert len({t.messages[1].content for t in members}) == 1
    assert len({t.task_id for t in trajectories}) == 3


def test_tasks_pin_groups_and_cycle():
    ids = [t.task_id for t in collect("ToolUse-v0", OracleAgent, 3, seed=0)]
    pinned = collect("ToolUse-v0", ScriptedAgent(["I give up."]), tasks=ids, group_size=2)
    assert [t.task_id for t in pinned] == [ids[0], ids[0], ids[1], ids[1], ids[2], ids[2]]
    cycled = collect("ToolUse-v0", ScriptedAgent(["No."]), 4, tasks=ids[:2])
    assert [t.task_id for t in cycled] == [ids[0], ids[1], ids[0], ids[1]]


def test_a_rerun_skips_what_is_done(tmp_path):
    out = tmp_path / "run.jsonl"
    first = collect("ToolUse-v0", OracleAgent, 6, seed=1, num_envs=2, out=out)
    assert len(out.read_text().splitlines()) == 6
    calls = []
    again = collect(
        "ToolUse-v0", OracleAgent, 10, seed=1, num_envs=2, out=out, on_episode=calls.append
    )
    assert [key(t) for t in again[:6]] == [key(t) for t in first]
    assert len(calls) == 4 and len(out.read_text().splitlines()) == 10
    other = collect("ToolUse-v0", OracleAgent, 2, seed=2, out=out)  # another run, same file
    assert [t.metadata["episode"] for t in other] == [0, 1]
    assert len(out.read_text().splitlines()) == 12


def test_a_crash_loses_only_the_episodes_in_flight(tmp_path):
    out = tmp_path / "crash.jsonl"

    class Crash(Exception):
        pass

    def explode_after_five(trajectory, seen=[]):  # noqa: B006 - a counter across calls
        seen.append(trajectory)
        if len(seen) == 5:
            raise Crash

    with pytest.raises(Crash):
        collect(
            "ToolUse-v0",
            OracleAgent,
            12,
            seed=4,
            num_envs=3,
            out=out,
            on_episode=explode_after_five,
        )
    assert len(out.read_text().splitlines()) == 5
    resumed = collect("ToolUse-v0", OracleAgent, 12, seed=4, num_envs=3, out=out)
    assert len(resumed) == 12 and summarize(resumed).success_rate == 1.0
    assert len(out.read_text().splitlines()) == 12


def test_env_steps_run_concurrently():
    seen_threads = set()

    class Slow(ToolUseEnv):
        def step(self, action):
            seen_threads.add(threading.get_ident())
            barrier.wait(timeout=60)  # every env of the batch must be inside step at once
            return super().step(action)

    barrier = threading.Barrier(4)
    gym.register("SlowToolUse-v0", entry_point=Slow, max_episode_steps=16)
    trajectories = collect("SlowToolUse-v0", ScriptedAgent(["Done."]), 4, num_envs=4)
    assert len(trajectories) == 4 and len(seen_threads) == 4


def test_trajectory_records_the_conversation_and_steps():
    (trajectory,) = collect("ToolUse-v0", OracleAgent, 1, seed=3)
    roles = [m.role for m in trajectory.messages]
    assert roles[:2] == ["system", "user"]
    assert roles[2:] == ["assistant", "tool"] * (trajectory.num_turns - 1) + ["assistant"]
    assert trajectory.success and trajectory.reward == 1.0 and trajectory.terminated
    assert trajectory.steps[0].tool_calls and trajectory.steps[-1].terminated
    assert trajectory.metadata["domain"] in {"retail", "calendar", "travel"}


class _Exploding(ToolUseEnv):
    def step(self, action):
        if self._task.task.difficulty == 2:
            raise RuntimeError("sandbox died")
        return super().step(action)


def test_an_env_failure_is_recorded_and_the_others_carry_on():
    gym.register("Exploding-v0", entry_point=_Exploding, max_episode_steps=16)
    trajectories = collect("Exploding-v0", OracleAgent, 30, seed=0, num_envs=4)
    failed = [t for t in trajectories if t.error is not None]
    assert failed
    assert all(t.error.type == "RuntimeError" and "sandbox died" in t.error.message for t in failed)
    assert all(t.success for t in trajectories if t.error is None)
    assert summarize(trajectories).failed_episodes == len(failed)


def test_bad_arguments():
    with pytest.raises(ConfigError, match="episodes must be at least 1"):
        collect("ToolUse-v0", OracleAgent, 0)
    with pytest.raises(ConfigError, match="multiple of group_size"):
        collect("ToolUse-v0", OracleAgent, 5, group_size=2)
    with pytest.raises(ConfigError, match="say how many episodes"):
        collect("ToolUse-v0", OracleAgent)
    with pytest.raises(ConfigError, match="num_envs must be at least 1"):
        collect("ToolUse-v0", OracleAgent, 2, num_envs=0)
    with pytest.raises(ConfigError, match="backend must be"):
        collect("ToolUse-v0", OracleAgent, 2, backend="spark")
    assert [p.seed for p in plan_episodes(4, None, 2, 10)] == [10, 10, 11, 11]


def test_wilson_interval():
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and 0.25 < high < 0.35
    low, high = wilson_interval(10, 10)
    assert high == 1.0 and 0.65 < low < 0.75
    low, high = wilson_interval(50, 100)
    assert low == pytest.approx(0.404, abs=0.002) and high == pytest.approx(0.596, abs=0.002)


@pytest.mark.slow
def test_ray_backend_gives_the_local_trajectories():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        scripted = ScriptedAgent(lambda messages: f"<tool_call>bad {len(messages)}</tool_call>")
        local = collect("ToolUse-v0", scripted, 8, seed=2, num_envs=4, max_turns=3)
        remote = collect("ToolUse-v0", scripted, 8, seed=2, num_envs=4, max_turns=3, backend="ray")
        assert [key(t) for t in remote] == [key(t) for t in local]
        oracle = collect("ToolUse-v0", OracleAgent, 4, seed=3, num_envs=2, backend="ray")
        assert summarize(oracle).success_rate == 1.0
    finally:
        ray.shutdown()


def test_overlap_serves_ready_episodes_while_slow_steps_run():
    import time

    from palaestra.agents import BaseAgent
    from palaestra.core.types import AgentTurn

    class Sleepy(ToolUseEnv):
        def step(self, action):
            if self._reset_seed_is_even:
                time.sleep(0.5)  # far longer than a ToolUse step, even on a busy machine
            return super().step(action)

        def reset(self, *, seed=None, options=None):
            self._reset_seed_is_even = seed is not None and seed % 2 == 0
            return super().reset(seed=seed, options=options)

    class Counting(BaseAgent):
        name = "counting"

        def __init__(self):
            self.batches = []

        def respond_batch(self, conversations, tools=None):
            self.batches.append(len(conversations))
            return [AgentTurn(text=f"<tool_call>bad {len(c)}</tool_call>") for c in conversations]

    gym.register("SleepyToolUse-v0", entry_point=Sleepy, max_episode_steps=16)
    steady, eager = Counting(), Counting()
    a = collect("SleepyToolUse-v0", steady, 8, num_envs=4, max_turns=3)
    b = collect("SleepyToolUse-v0", eager, 8, num_envs=4, max_turns=3, overlap=True)
    assert [key(t) for t in a] == [key(t) for t in b], "overlap changes batching, not episodes"
    assert max(steady.batches) == 4 and min(eager.batches) < 4
