"""ThoughtGraph-v0's programming task: candidates run in the sandbox, hidden tests decide.

Each of these runs real code in bubblewrap: a score is one sandboxed run of the example, a
verdict one run of the hidden tests.
"""

from __future__ import annotations

import random

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import palaestra
from palaestra.envs.thought_graph.schedules import SCHEDULES, play_schedule
from palaestra.sandbox import LocalSandbox
from palaestra.tasks.programming import GraderLimits
from palaestra.tasks.thought_graph.coding import (
    coding_problem,
    coding_problems,
    hidden_verdict,
    render,
    visible_check,
)

LIMITS = GraderLimits()


@pytest.fixture
def env():
    made = gym.make("ThoughtGraph-v0", task="programming")
    yield made
    made.close()


def sample(split: str, n: int) -> list[str]:
    return [p.id for p in coding_problems() if p.split == split][:n]


def state(env):
    unwrapped = env.unwrapped
    nodes = [(n.id, n.kind, n.score, n.pruned) for n in unwrapped.graph.nodes]
    return nodes, unwrapped.reasoner.calls


def test_check_env_passes_and_reset_shows_the_function(env):
    check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=0)
    problem = coding_problem(info["task_id"])
    assert problem.problem.signature in obs and "Example:" in obs
    assert info["task"] == "programming" and info["size"] is None
    assert problem.problem.reference.strip() not in obs  # the solution stays out
    assert "cases" not in str(info)


@pytest.mark.parametrize("split", ["train", "test"])
def test_the_oracle_solves_problems_and_a_non_answer_does_not(split):
    env = gym.make("ThoughtGraph-v0", task="programming", split=split)
    for task_id in sample(split, 2):
        env.reset(options={"task_id": task_id})
        for action in env.unwrapped.oracle_actions():
            obs, reward, terminated, truncated, info = env.step(action)
        assert terminated and reward == 1.0 and info["success"], info["verdict"]
        assert "hidden tests passed" in info["verdict"]
        env.reset(options={"task_id": task_id})
        *_, reward, terminated, _, info = env.step("I cannot write this function.")
        assert terminated and reward == 0.0 and not info["success"]
    env.close()


def test_split_is_refused_and_aggregate_combines_candidates(env):
    env.reset(seed=1)
    env.step("solve(0, 3)")
    before = state(env)
    obs, *_, info = env.step("split(0, 2)")
    assert "not split" in obs and info["error"] is not None and state(env) == before
    obs, *_, info = env.step("aggregate([1, 2, 3], 2)")
    assert info["error"] is None
    assert [n.kind for n in env.unwrapped.graph.nodes[4:]] == ["aggregate", "aggregate"]
    assert env.unwrapped.graph.nodes[4].parents == (1, 2, 3)
    obs, *_, info = env.step("score([1, 2, 3, 4, 5])")
    scores = [env.unwrapped.graph.nodes[i].score for i in range(1, 6)]
    assert all(score in (0, 1) for score in scores)
    # A candidate the simulated reasoner wrote without a bug passes the example.
    for node in env.unwrapped.graph.nodes[1:6]:
        if node.data.bugs == frozenset():
            assert node.score == 0 and node.feedback == "passes the example"


class WritesThisCode:
    """A stand-in model that always answers with the same function."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.prompts: list[str] = []

    def act(self, messages, tools=None):
        self.prompts.append(messages[-1]["content"])
        return f"Here it is:\n```python\n{self.code}\n```"


def passes_example_fails_hidden():
    """A one-bug variant of a built-in problem that the example cannot catch."""
    for problem in coding_problems():
        for site in range(problem.sites):
            program = render(problem, frozenset([site]))
            failed, _ = visible_check(problem, program.code, LocalSandbox, LIMITS)
            if failed:
                continue
            hidden_failed, total, _ = hidden_verdict(problem, program.code, LocalSandbox, LIMITS)
            if 0 < hidden_failed < total:
                return problem, program.code, hidden_failed, total
    raise AssertionError("every visible-passing mutant also passed the hidden tests")


def test_hidden_tests_decide_the_reward_not_the_visible_score():
    problem, code, failed, total = passes_example_fails_hidden()
    model = WritesThisCode(code)
    env = gym.make("ThoughtGraph-v0", task="programming", split=problem.split, reasoner=model)
    env.reset(options={"task_id": problem.id})
    env.step("solve(0, 1)")
    env.step("score([1])")
    assert env.unwrapped.graph.nodes[1].score == 0  # the example passes
    *_, reward, terminated, _, info = env.step("submit(1)")
    assert terminated and not info["success"]
    assert reward == pytest.approx(0.9 * (1 - failed / total))
    assert problem.problem.entry_point in model.prompts[0]
    assert info["usage"]["reasoner_calls"] == 1  # running the example is not a reasoner call
    env.close()


@pytest.mark.parametrize("name", SCHEDULES)
def test_every_schedule_plays_a_programming_problem_to_a_verdict(env, name):
    env.reset(seed=4)
    info = play_schedule(env, name)
    assert "hidden tests passed" in info["verdict"]
    assert info["usage"]["reasoner_calls"] >= 1


def test_fork_replays_the_same_candidates(env):
    env.reset(seed=2)
    env.step("solve(0, 2)")
    branch = palaestra.fork(env)
    first = env.step("refine(1, 1)")
    assert "Error" in first[0]  # node 1 is not scored yet
    env.step("score([1, 2])")
    branch.step("score([1, 2])")
    a = env.step("refine(1, 2)")[0]
    b = branch.step("refine(1, 2)")[0]
    # The same candidates; only the turns left differ (the env spent one on the refused refine).
    assert a.split("turns left")[0] == b.split("turns left")[0]
    assert [n.data for n in env.unwrapped.graph.nodes] == [
        n.data for n in branch.unwrapped.graph.nodes
    ]
    branch.close()


def test_arbitrary_actions_never_raise_and_rejections_change_nothing():
    env = gym.make("ThoughtGraph-v0", task="programming", max_turns=10_000)
    rng = random.Random(1)
    env.reset(seed=0)
    names = ["split", "solve", "refine", "score", "keep_best", "aggregate", "prune", "submit"]
    rejected = 0
    for _ in range(150):
        name = rng.choice([*names, "nope"])
        first = rng.choice(["0", "1", "2", "5", "-1", "x", "[1, 2]", "[]", "[3, 3]"])
        action = (
            f"{name}({first}, {rng.randrange(0, 4)})" if rng.random() < 0.6 else f"{name}({first})"
        )
        before = state(env)
        obs, reward, terminated, truncated, info = env.step(action)
        assert 0.0 <= reward <= 1.0 and isinstance(obs, str)
        if info["error"] is not None and not terminated:
            rejected += 1
            assert state(env) == before, action
        if terminated or truncated:
            env.reset(seed=rng.randrange(100))
    assert rejected > 40
    env.close()


def test_bad_programming_arguments_are_clear_errors():
    from palaestra.errors import ConfigError, TaskError

    with pytest.raises(ConfigError, match="no size"):
        gym.make("ThoughtGraph-v0", task="programming", size=32)
    with pytest.raises(ConfigError, match="sandbox must be"):
        gym.make("ThoughtGraph-v0", task="programming", sandbox="vm")
    env = gym.make("ThoughtGraph-v0", task="programming", split="train")
    with pytest.raises(TaskError, match="test split"):
        env.reset(options={"task_id": sample("test", 1)[0]})
    with pytest.raises(TaskError, match="no programming problem"):
        env.reset(options={"task_id": "programming-nope"})
    sorting = gym.make("ThoughtGraph-v0", task="sorting")
    with pytest.raises(TaskError, match="not one this env plays"):
        sorting.reset(options={"task_id": sample("train", 1)[0]})
    env.close()
    sorting.close()


def test_the_oracle_solves_through_the_server():
    pytest.importorskip("fastapi")
    from palaestra.server.runner import BackgroundServer

    task_id = sample("train", 1)[0]
    with BackgroundServer(privileged=True) as running:
        env = gym.make("ThoughtGraph-v0", remote=running.base_url, task="programming")
        env.reset(options={"task_id": task_id})
        for action in env.unwrapped.oracle_actions():
            *_, reward, terminated, _, info = env.step(action)
        assert terminated and reward == 1.0 and info["success"]
        env.close()
