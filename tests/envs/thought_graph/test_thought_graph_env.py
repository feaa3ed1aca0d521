"""ThoughtGraph-v0: transformations with checked preconditions, the verdict, the baselines."""

from __future__ import annotations

import random

import gymnasium as gym
import numpy as np
import pytest

from palaestra.core.types import ToolCall
from palaestra.envs.thought_graph.schedules import SCHEDULES, play_schedule
from palaestra.errors import ConfigError


def call(name, **arguments):
    return ToolCall(name=name, arguments=arguments).to_text()


@pytest.fixture
def env():
    made = gym.make("ThoughtGraph-v0", task="sorting", size=32)
    yield made
    made.close()


def state(env):
    unwrapped = env.unwrapped
    nodes = [(n.id, n.score, n.pruned) for n in unwrapped.graph.nodes]
    return nodes, unwrapped.reasoner.calls, unwrapped.reasoner.tokens


def test_reset_shows_the_problem_and_the_table(env):
    obs, info = env.reset(seed=0)
    assert "sort" in obs.lower() and "id | kind | parents | depth | score | content" in obs
    assert "0 | problem | - | 0 | - | [" in obs
    assert info["task"] == "sorting" and info["size"] == 32
    assert "split(node, k)" in info["instructions"] or "split" in info["instructions"]


def test_commands_and_tool_calls_do_the_same(env):
    env.reset(seed=0)
    obs, *_, info = env.step("split(0, 2)\nsolve(1, 2)")
    assert info["error"] is None and "[split] split node 0 into nodes 1, 2" in obs
    assert "3 | solve | 1 | 2 |" in obs and "reasoner calls: 3" in obs


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        (["split(0, 2)", "solve(1, 1)", "refine(3, 1)"], "no score yet"),
        (["split(0, 2)", "solve(1, 2)", call("aggregate", nodes=[3, 4])], "same part"),
        (["split(0, 2)", "solve(1, 1)", call("aggregate", nodes=[3])], "two or more"),
        (["split(0, 2)", "solve(1, 1)", "solve(3, 1)"], "is an answer"),
        (["split(0, 2)", call("score", nodes=[1])], "is an input"),
        (["split(0, 2)", "solve(1, 2)", call("keep_best", nodes=[3, 4], n=1)], "score these"),
        ([call("prune", nodes=[0])], "cannot be pruned"),
        (["split(0, 9)"], "between 2 and 8"),
        (["split(0, 8)", "split(1, 8)"], "k"),
        (["solve(0, 11)"], "between 1 and 10"),
        (["solve(42, 1)"], "no node 42"),
        ([call("submit", node=0)], "is an input"),
    ],
)
def test_preconditions_are_checked_and_a_refusal_changes_nothing(env, actions, message):
    env.reset(seed=0)
    for action in actions[:-1]:
        *_, info = env.step(action)
        assert info["error"] is None, info["error"]
    before = state(env)
    obs, reward, terminated, truncated, info = env.step(actions[-1])
    assert info["error"] is not None and message in obs and not terminated
    assert state(env) == before


def test_the_node_cap_refuses_whole_actions():
    env = gym.make("ThoughtGraph-v0", task="sorting", size=32, max_nodes=8)
    env.reset(seed=0)
    env.step("solve(0, 6)")
    before = state(env)
    obs, *_, info = env.step("solve(0, 2)")
    assert "at most 8" in obs and state(env) == before
    env.close()


def test_submit_scores_the_node_against_the_ground_truth(env):
    env.reset(seed=0)
    for action in env.unwrapped.oracle_actions():
        obs, reward, terminated, truncated, info = env.step(action)
    assert terminated and reward == 1.0 and info["success"]
    assert info["usage"]["reasoner_calls"] > 1 and info["usage"]["reasoner_tokens"] > 0


def test_a_cost_per_call_lowers_the_reward():
    free = gym.make("ThoughtGraph-v0", task="sorting", size=32)
    costly = gym.make("ThoughtGraph-v0", task="sorting", size=32, cost_per_call=0.01)
    rewards = []
    for made in (free, costly):
        made.reset(seed=0)
        for action in made.unwrapped.oracle_actions():
            *_, reward, _, _, info = made.step(action)
        rewards.append(reward)
        made.close()
    calls = info["usage"]["reasoner_calls"]
    assert rewards[0] == 1.0 and rewards[1] == pytest.approx(1.0 - 0.01 * calls)


def test_a_plain_answer_is_scored_like_a_submit(env):
    obs, info = env.reset(seed=0)
    truth = sorted(env.unwrapped.graph.nodes[0].data)
    *_, reward, terminated, _, info = env.step("[" + ", ".join(map(str, truth)) + "]")
    assert terminated and reward == 1.0  # a model that sorts in its head is not stopped
    env.reset(seed=0)
    *_, reward, terminated, _, info = env.step("I do not know.")
    assert terminated and reward == 0.0 and not info["success"]


@pytest.mark.parametrize("size", [64, 128])
def test_the_got_schedule_beats_io_on_long_sorting(size):
    env = gym.make("ThoughtGraph-v0", task="sorting", size=size)
    accuracy = {}
    for name in ("io", "got"):
        solved = []
        for seed in range(30):
            env.reset(seed=seed)
            solved.append(play_schedule(env, name)["success"])
        accuracy[name] = float(np.mean(solved))
    env.close()
    assert accuracy["got"] > accuracy["io"] + 0.4, accuracy


@pytest.mark.parametrize("name", SCHEDULES)
@pytest.mark.parametrize("task", ["sorting", "set_intersection", "keyword_counting"])
def test_every_schedule_plays_to_a_verdict_without_a_refused_action(task, name):
    env = gym.make("ThoughtGraph-v0", task=task, size=64)
    env.reset(seed=3)
    steps = []
    step = env.step

    def recording_step(action):
        steps.append(result := step(action))
        return result

    env.step = recording_step
    info = play_schedule(env, name)
    assert "success" in info and steps[-1][2]  # terminated by its submit
    assert all(result[4]["error"] is None for result in steps), name
    env.close()


def test_bad_arguments_are_clear_errors():
    for kwargs, message in [
        ({"task": "poetry"}, "task must be one of"),
        ({"size": 100}, "size must be one of"),
        ({"split": "dev"}, "split"),
        ({"cost_per_call": -1}, "cost_per_call"),
        ({"max_nodes": 2}, "max_nodes"),
    ]:
        with pytest.raises(ConfigError, match=message):
            gym.make("ThoughtGraph-v0", **kwargs)


def random_action(rng):
    names = ["split", "solve", "refine", "score", "keep_best", "aggregate", "prune", "submit"]
    name = rng.choice(names + ["nope"])
    node = rng.choice([0, 1, 2, 3, 5, 8, 13, -1, 99, "x", None, 2.5])
    many = rng.choice([[1, 2], [3], [], [0, 0], [4, 5, 6], "all", [None]])
    arguments = rng.choice(
        [
            {"node": node, "k": rng.randrange(-1, 10)},
            {"node": node, "n": rng.randrange(0, 12)},
            {"nodes": many},
            {"nodes": many, "n": rng.randrange(0, 4)},
            {"node": node},
            {},
        ]
    )
    if rng.random() < 0.3:
        return f"{name}({node}, {rng.randrange(0, 5)})"
    return call(name, **arguments)


def test_arbitrary_actions_never_raise_and_rejections_change_nothing():
    env = gym.make("ThoughtGraph-v0", max_turns=10_000)
    rng = random.Random(0)
    env.reset(seed=0)
    rejected = 0
    for _ in range(800):
        before = state(env)
        action = random_action(rng)
        obs, reward, terminated, truncated, info = env.step(action)
        assert 0.0 <= reward <= 1.0 and isinstance(obs, str)
        if info["error"] is not None and not terminated:
            rejected += 1
            if info["error"]["type"] != "tool_error" or "\n" not in str(action):
                assert state(env) == before, action
        if terminated or truncated:
            env.reset(seed=rng.randrange(1000))
    assert rejected > 200
    env.close()


class SortsShortLists:
    """A stand-in model: exact on up to 8 items, drops the last item of longer inputs."""

    def __init__(self):
        self.prompts = []

    def act(self, messages, tools=None):
        import json as json_module
        import re

        prompt = messages[-1]["content"]
        self.prompts.append(prompt)
        lists = [json_module.loads(m) for m in re.findall(r"\[[0-9, ]*\]", prompt)]
        items = sorted(x for found in lists[:1] if "Input:" in prompt for x in found)
        if "Merge" in prompt:
            items = sorted(x for found in lists for x in found)
        if len(items) > 8 and "errors" not in prompt:
            items = items[:-1]
        return "[" + ", ".join(map(str, items)) + "]"


def test_an_agent_can_be_the_reasoner():
    model = SortsShortLists()
    env = gym.make("ThoughtGraph-v0", task="sorting", size=32, reasoner=model)
    env.reset(seed=0)
    *_, info = env.step("solve(0, 1)")
    *_, info = env.step(call("score", nodes=[1]))
    assert env.unwrapped.graph.nodes[1].score == 1  # one item dropped
    env.step("split(0, 4)")
    env.step("solve(2, 1)\nsolve(3, 1)")
    *_, info = env.step(call("score", nodes=[6, 7]))
    assert [env.unwrapped.graph.nodes[i].score for i in (6, 7)] == [0, 0]
    assert "Sort this list" in model.prompts[0] and info["error"] is None
    with pytest.raises(ConfigError, match="reasoner must be"):
        gym.make("ThoughtGraph-v0", reasoner="gpt-5")
    env.close()


def test_an_agent_spec_names_the_reasoner(tiny_model_dir):
    env = gym.make("ThoughtGraph-v0", task="sorting", size=32, reasoner=f"hf:{tiny_model_dir}")
    env.reset(seed=0)
    obs, *_, info = env.step("solve(0, 2)")
    assert info["error"] is None and info["usage"]["reasoner_calls"] == 2
    assert [n.kind for n in env.unwrapped.graph.nodes] == ["problem", "solve", "solve"]
    twin = gym.make("ThoughtGraph-v0", task="sorting", size=32, reasoner=f"hf:{tiny_model_dir}")
    twin.reset(seed=0)
    assert twin.unwrapped.reasoner.agent is env.unwrapped.reasoner.agent  # one model per process
    with pytest.raises(ConfigError, match="names no model"):
        gym.make("ThoughtGraph-v0", reasoner="hf:").reset(seed=0)
    env.close()
    twin.close()
