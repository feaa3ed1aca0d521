"""The env contract of DESIGN.md, checked on every registered env, local and remote.

Every test that makes an env runs twice: on the local env, and on a `RemoteEnv` bound to a session
on a test server (``gym.make(env_id, remote=base_url)``). The server is privileged, so
``env.unwrapped.oracle_actions()`` reaches the ground truth in tests; by default a server refuses.
"""

from __future__ import annotations

import json
import subprocess
import sys

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import palaestra
from palaestra.core.registration import catalog
from palaestra.errors import ConfigError, EnvStateError

ENV_IDS = [entry.id for entry in catalog()]


@pytest.fixture(params=ENV_IDS)
def env_id(request):
    return request.param


@pytest.fixture(scope="module")
def server():
    pytest.importorskip("fastapi")
    from palaestra.server.runner import BackgroundServer

    with BackgroundServer(privileged=True) as running:
        yield running
    assert len(running.manager) == 0, "the contract tests leaked server sessions"


@pytest.fixture(params=["local", "remote"])
def where(request):
    """``{}`` for local envs, ``{"remote": base_url}`` for remote ones: extra gym.make kwargs."""
    if request.param == "local":
        return {}
    return {"remote": request.getfixturevalue("server").base_url}


@pytest.fixture
def make(where):
    """``gym.make`` on this test's side (local or remote); closes what it made afterwards."""
    made = []

    def make_env(env_id, **kwargs):
        return track(gym.make(env_id, **where, **kwargs))

    def track(env):  # also close this one (a fork) afterwards
        made.append(env)
        return env

    make_env.track = track
    yield make_env
    for env in made:
        env.close()


def play(env, actions):
    transcript = []
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        # Measured timings (keys ending in _seconds) are the one part of info that may vary.
        stable = {k: v for k, v in info.items() if not k.endswith("_seconds")}
        transcript.append((obs, reward, terminated, truncated, json.dumps(stable, sort_keys=True)))
        if terminated or truncated:
            break
    return transcript


def test_registered_when_palaestra_is_imported():
    assert "ToolUse-v0" in ENV_IDS
    for env_id in ENV_IDS:
        assert env_id in gym.registry


def test_palaestra_prefix_imports_the_package_for_the_user():
    code = (
        "import sys, gymnasium as gym\n"
        "env = gym.make('palaestra:ToolUse-v0')\n"
        "obs, info = env.reset(seed=1)\n"
        "assert obs and info['task_id']\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'heavy import'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_check_env_passes(env_id, make):
    env = make(env_id)
    check_env(env.unwrapped, skip_render_check=False)


def test_reset_info_and_no_ground_truth_leak(env_id, make):
    env = make(env_id)
    obs, info = env.reset(seed=5)
    for key in ("task_id", "instructions", "tools", "max_turns"):
        assert key in info
    assert isinstance(obs, str) and obs
    gold = env.unwrapped.oracle_actions()
    visible = obs + json.dumps(info)
    tool_calls = [a for a in gold if a.startswith("<tool_call>")]
    assert tool_calls, "the oracle should need at least one tool call"
    for action in tool_calls:
        assert action not in visible
    assert not any("gold" in key or "answer" in key for key in info)
    obs, reward, terminated, truncated, step_info = env.step(gold[0])
    assert {"turn", "tool_calls", "error"} <= set(step_info)
    assert not any("gold" in key for key in step_info)
    assert all(
        a not in obs + json.dumps(step_info) for a in gold[1:] if a.startswith("<tool_call>")
    )


def test_oracle_solves_and_reward_is_terminal(env_id, make):
    env = make(env_id)
    env.reset(seed=11)
    rewards = []
    for action in env.unwrapped.oracle_actions():
        obs, reward, terminated, truncated, info = env.step(action)
        rewards.append(reward)
    assert terminated and not truncated
    assert info["success"] is True and rewards[-1] == 1.0 and sum(rewards[:-1]) == 0.0
    assert "verdict" in info


def test_same_seed_and_actions_give_the_same_transcript(env_id, make):
    def run():
        env = make(env_id)
        obs, info = env.reset(seed=42)
        actions = ["<tool_call>{bad json</tool_call>", *env.unwrapped.oracle_actions()]
        return obs, json.dumps(info, sort_keys=True), play(env, actions), env.unwrapped.render()

    assert run() == run()


def test_bad_input_never_raises_and_explains(env_id, make):
    env = make(env_id, max_turns=50)
    env.reset(seed=3)
    for action in [
        "",
        "x" * 2_000_000,
        "\x00\x01",
        "<tool_call>{",
        7,
        None,
        {"name": 3},
        ["x"],
        '<tool_call>{"name": "no_such_tool", "arguments": {}}</tool_call>',
    ]:
        obs, reward, terminated, truncated, info = env.step(action)
        assert info["error"] is not None, action
        assert obs.startswith("Error: ") and info["error"]["message"] in obs
        assert not terminated and reward == 0.0


def test_step_out_of_order_is_a_clear_error(env_id, make):
    env = make(env_id).unwrapped
    with pytest.raises(EnvStateError, match="reset"):
        env.step("hello")
    env.reset(seed=0)
    env.step("I give up.")
    with pytest.raises(EnvStateError, match="episode has ended"):
        env.step("again")
    with pytest.raises(ConfigError, match="unknown reset option"):
        env.reset(options={"tsak_id": "x"})


def test_turn_limit_truncates_with_a_verdict(env_id, make):
    env = make(env_id, max_turns=3)
    env.reset(seed=0)
    read = env.unwrapped.oracle_actions()[0]
    outcomes = [
        env.step(read) if i < 2 else env.step("<tool_call>{oops</tool_call>") for i in range(3)
    ]
    *_, (obs, reward, terminated, truncated, info) = outcomes
    assert truncated and not terminated and reward == 0.0
    assert info["success"] is False and "turn limit" in info["verdict"]
    assert all(not o[3] for o in outcomes[:2])


def test_gym_time_limit_agrees_with_max_turns(env_id, make):
    env = make(env_id)
    assert env.spec.max_episode_steps == env.unwrapped.max_turns


def reset_to_multi_step_task(env):
    """Reset to a task the oracle needs several turns for, preferring three or more."""
    for wanted in (3, 2):
        for seed in range(40):
            env.reset(seed=seed)
            if len(env.unwrapped.oracle_actions()) >= wanted:
                return env.unwrapped.oracle_actions()
    raise AssertionError("no multi-step task in 40 seeds")


def test_fork_is_independent(env_id, make):
    env = make(env_id)
    gold = reset_to_multi_step_task(env)
    env.step(gold[0])
    branch = make.track(palaestra.fork(env))
    assert branch.unwrapped.render() == env.unwrapped.render()
    assert branch.unwrapped is not env.unwrapped
    # The branch gives up; the original finishes the task and is unaffected.
    *_, info_branch = branch.step("I cannot do this.")
    assert info_branch["success"] is False
    for action in gold[1:]:
        *_, info = env.step(action)
    assert info["success"] is True
    assert "I cannot do this." not in env.unwrapped.render()


def test_fork_keeps_wrappers_and_elapsed_turns(env_id, make):
    env = make(env_id, max_episode_steps=4)
    env.reset(seed=2)
    read = env.unwrapped.oracle_actions()[0]
    env.step(read)
    env.step(read)
    branch = make.track(palaestra.fork(env))
    assert type(branch) is type(env)
    assert branch._elapsed_steps == env._elapsed_steps == 2
    branch.step(read)
    assert env._elapsed_steps == 2 and branch._elapsed_steps == 3


def test_replay_fork_matches_fast_fork(env_id, make, where):
    env = make(env_id).unwrapped
    env.reset(seed=4)
    env.step(env.oracle_actions()[0])
    fork = make.track(env.fork())
    if where:  # a RemoteEnv's fork is the server env's fast fork; replay is local internals
        assert fork.render() == env.render()
    else:
        assert env._replay().render() == fork.render() == env.render()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_make_vec(env_id, mode, where):
    envs = gym.make_vec(env_id, num_envs=4, vectorization_mode=mode, **where)
    try:
        obs, infos = envs.reset(seed=[0, 1, 2, 3])
        assert len(obs) == 4 and all(isinstance(o, str) and o for o in obs)
        assert len(set(infos["task_id"])) == 4
        obs, rewards, terminated, truncated, infos = envs.step(["I give up."] * 4)
        assert terminated.all() and (rewards == 0.0).all()
        obs, rewards, terminated, truncated, infos = envs.step(["next"] * 4)  # autoreset step
        assert all(isinstance(o, str) for o in obs)
    finally:
        envs.close()


def test_import_is_light():
    # What makes the import slow is a heavy dependency pulled in; its time is bench_env_step's
    # to measure, since a wall-clock limit here fails on a loaded machine.
    code = (
        "import sys\n"
        "import gymnasium as gym, palaestra\n"
        "env = gym.make('ToolUse-v0')\n"
        "heavy = ('torch', 'transformers', 'trl', 'docker', 'fastapi')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == ""
