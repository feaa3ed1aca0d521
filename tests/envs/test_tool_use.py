"""ToolUse-v0: task supply, verification, and the guarantee that rejected calls change nothing."""

from __future__ import annotations

import json
from itertools import islice

import gymnasium as gym
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palaestra.agents import NoopAgent, OracleAgent, RandomAgent
from palaestra.core.types import ToolCall
from palaestra.envs.tool_use import DOMAINS, ToolUseEnv, ToolUseTasks
from palaestra.errors import ConfigError, TaskError
from palaestra.rollout import collect, summarize

DOMAIN_NAMES = sorted(DOMAINS)


@pytest.mark.parametrize("split", ["train", "test"])
def test_oracle_solves_every_sampled_task(split):
    trajectories = collect("ToolUse-v0", OracleAgent, 240, seed=1000, env_kwargs={"split": split})
    summary = summarize(trajectories)
    assert summary.success_rate == 1.0, [t.verdict for t in trajectories if not t.success][:3]
    assert summary.errors_by_type == {}
    assert {t.metadata["domain"] for t in trajectories} == set(DOMAINS)
    assert {t.metadata["difficulty"] for t in trajectories} == {1, 2, 3}


@pytest.mark.parametrize("domain", DOMAIN_NAMES)
@pytest.mark.parametrize("split", ["train", "test"])
def test_oracle_solves_each_domain_and_level(domain, split):
    tasks = ToolUseTasks(split=split)
    env = ToolUseEnv(split=split)
    for difficulty in (1, 2, 3):
        for found in islice(tasks.iterate(domain, difficulty), 40):
            env.reset(options={"task_id": found.id})
            for action in env.oracle_actions():
                *_, info = env.step(action)
            assert info["success"], (found.id, info["verdict"])


@pytest.mark.parametrize("agent", [NoopAgent(), RandomAgent(seed=7)], ids=["noop", "random"])
def test_baselines_solve_about_nothing(agent):
    summary = summarize(collect("ToolUse-v0", agent, 200, seed=0))
    assert summary.success_rate <= 0.02


@pytest.mark.parametrize("domain", DOMAIN_NAMES)
def test_levels_need_the_stated_number_of_calls(domain):
    tasks = ToolUseTasks()
    for difficulty, allowed in ((1, {1}), (2, {2, 3}), (3, set(range(4, 30)))):
        counts = {len(t.task.gold_actions) for t in islice(tasks.iterate(domain, difficulty), 60)}
        assert counts <= allowed, (difficulty, counts)


@pytest.mark.parametrize("domain", DOMAIN_NAMES)
def test_splits_are_disjoint_and_each_has_500_distinct_tasks(domain):
    prompts = {}
    for split in ("train", "test"):
        tasks = ToolUseTasks(split=split)
        found = [t for d in (1, 2, 3) for t in islice(tasks.iterate(domain, d), 200)]
        assert all(t.task.split == split for t in found)
        prompts[split] = {t.task.prompt for t in found}
        assert len(prompts[split]) >= 500, (split, len(prompts[split]))
    assert not prompts["train"] & prompts["test"]


def test_the_seed_picks_tasks_and_task_ids_pin_them():
    env = gym.make("ToolUse-v0")
    _, first = env.reset(seed=123)
    _, again = env.reset(seed=123)
    _, other = env.reset(seed=124)
    assert first["task_id"] == again["task_id"] != other["task_id"]
    obs, pinned = env.reset(options={"task_id": first["task_id"]})
    assert pinned["task_id"] == first["task_id"]


def test_bad_configuration_and_task_ids_are_clear_errors():
    with pytest.raises(ConfigError, match="domain must be one of"):
        gym.make("ToolUse-v0", domain="banking")
    with pytest.raises(ConfigError, match="difficulty must be one of"):
        gym.make("ToolUse-v0", difficulty=4)
    with pytest.raises(ConfigError, match="split must be"):
        gym.make("ToolUse-v0", split="validation")
    env = gym.make("ToolUse-v0", split="train")
    with pytest.raises(TaskError, match="not a ToolUse task id"):
        env.reset(options={"task_id": "retail-9-x"})
    test_task = next(ToolUseTasks(split="test").iterate("retail", 1))
    with pytest.raises(TaskError, match="belongs to the test split"):
        env.reset(options={"task_id": test_task.id})


def test_domain_and_difficulty_filters():
    env = gym.make("ToolUse-v0", domain="retail", difficulty=[1, 2])
    for seed in range(30):
        _, info = env.reset(seed=seed)
        assert info["domain"] == "retail" and info["difficulty"] in (1, 2)


def _answer_task(tasks, domain):
    return next(
        t for d in (1, 2, 3) for t in islice(tasks.iterate(domain, d), 200) if t.task.answer
    )


def _action_task(tasks, domain):
    return next(t for t in tasks.iterate(domain, 1) if not t.task.answer)


@pytest.mark.parametrize("domain", DOMAIN_NAMES)
def test_an_answer_task_needs_the_answer(domain):
    found = _answer_task(ToolUseTasks(), domain)
    env = ToolUseEnv()
    env.reset(options={"task_id": found.id})
    for action in env.oracle_actions()[:-1]:
        env.step(action)
    *_, reward, terminated, _, info = env.step("Done, all handled.")
    assert terminated and reward == 0.0
    assert "does not state the requested information" in info["verdict"]


@pytest.mark.parametrize("domain", DOMAIN_NAMES)
def test_doing_nothing_fails_an_action_task_and_says_what_differs(domain):
    found = _action_task(ToolUseTasks(), domain)
    env = ToolUseEnv()
    env.reset(options={"task_id": found.id})
    *_, reward, terminated, _, info = env.step("All done!")
    assert terminated and reward == 0.0 and info["success"] is False
    assert "final state differs" in info["verdict"]


def test_an_extra_side_effect_fails_the_task():
    tasks = ToolUseTasks()
    found = next(
        t
        for t in tasks.iterate("retail", 1)
        if t.task.gold_actions[0].name == "cancel_order"
        and sum(o["status"] == "pending" for o in t.initial_state["orders"].values()) > 1
    )
    other = next(
        o["id"]
        for o in found.initial_state["orders"].values()
        if o["status"] == "pending" and o["id"] != found.task.gold_actions[0].arguments["order_id"]
    )
    env = ToolUseEnv()
    env.reset(options={"task_id": found.id})
    gold = env.oracle_actions()
    env.step(gold[0])
    *_, info = env.step(
        ToolCall(name="cancel_order", arguments={"order_id": other, "reason": "no longer needed"})
    )
    assert info["error"] is None
    *_, reward, _, _, info = env.step(gold[-1])
    assert reward == 0.0 and f"orders.{other}.status" in info["verdict"]


# ---------------------------------------------------------------- arbitrary actions (hypothesis)
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 10_000)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _world_ids(state):
    """Every id in a world's state, so random calls hit real records and their preconditions."""
    ids = []
    for table in state.values():
        if isinstance(table, dict):
            ids.extend(table)
    return sorted(ids)


def _tool_call_actions(domain, ids):
    toolbox = DOMAINS[domain].world.toolbox()
    names = st.sampled_from(sorted(toolbox.tools)) | st.text(max_size=10)
    values = _json_values | st.sampled_from(ids) | st.lists(st.sampled_from(ids), max_size=3)

    @st.composite
    def action(draw):
        name = draw(names)
        schema = toolbox.tools[name].spec.parameters["properties"] if name in toolbox.tools else {}
        keys = draw(
            st.lists(st.sampled_from(sorted(schema) or ["x"]) | st.text(max_size=5), max_size=4)
        )
        arguments = {k: draw(values) for k in keys}
        return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>"

    return action()


def _typed_value(schema, ids):
    """A value of the type the schema asks for, so calls pass validation and reach the tool."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "integer":
        return st.integers(-3, 40)
    if kind == "number":
        return st.floats(-10, 1000, allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(_typed_value(schema.get("items", {}), ids), max_size=4)
    return (
        st.sampled_from(ids) | st.text(max_size=12) | st.sampled_from(["09:00", "2026-03-02", "1A"])
    )


def _typed_tool_calls(domain, ids):
    toolbox = DOMAINS[domain].world.toolbox()

    @st.composite
    def action(draw):
        tool = toolbox.tools[draw(st.sampled_from(sorted(toolbox.tools)))]
        properties = tool.spec.parameters.get("properties", {})
        arguments = {k: draw(_typed_value(schema, ids)) for k, schema in properties.items()}
        return ToolCall(name=tool.name, arguments=arguments).to_text()

    return action()


def _actions(domain, ids):
    return (
        _typed_tool_calls(domain, ids)
        | _tool_call_actions(domain, ids)
        | st.text(max_size=60)
        | st.text(max_size=30).map(lambda t: f"<tool_call>{t}</tool_call>")
        | st.binary(max_size=20)
        | st.integers()
    )


@pytest.mark.parametrize("domain", DOMAIN_NAMES)
def test_arbitrary_actions_never_raise_and_rejected_calls_change_nothing(domain):
    env = ToolUseEnv(domain=domain, max_turns=50)
    rejected = []

    @settings(
        max_examples=500,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(seed=st.integers(0, 50), data=st.data())
    def check(seed, data):
        env.reset(seed=seed)
        actions = data.draw(
            st.lists(_actions(domain, _world_ids(env.world.state)), min_size=1, max_size=4)
        )
        for action in actions:
            before = env.world.snapshot()
            obs, reward, terminated, truncated, info = env.step(action)
            assert isinstance(obs, str) and env.observation_space.contains(obs)
            error = info["error"]
            if error is not None and (
                error["type"] != "tool_error" or len(info["tool_calls"]) == 1
            ):
                rejected.append(error["type"])
                assert env.world.snapshot() == before, (action, error)
                assert error["message"] and not terminated
            if terminated or truncated:
                break

    check()
    assert len(rejected) > 200
    assert {"invalid_arguments", "malformed_tool_call", "invalid_action", "tool_error"} <= set(
        rejected
    )
