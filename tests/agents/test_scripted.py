import gymnasium as gym
import pytest

from palaestra.agents import NoopAgent, OracleAgent, RandomAgent, ScriptedAgent, resolve_agent
from palaestra.core.types import Message
from palaestra.errors import AgentError


def test_scripted_agent_plays_its_script_by_turn():
    agent = ScriptedAgent(["first", "second"])
    conversation = [Message(role="user", content="hi")]
    assert agent.act(conversation) == "first"
    conversation += [Message(role="assistant", content="first"), Message(role="tool", content="ok")]
    assert agent.act(conversation) == "second"
    conversation += [
        Message(role="assistant", content="second"),
        Message(role="tool", content="ok"),
    ]
    assert agent.act(conversation) == "second"
    assert agent.act_batch([[{"role": "user", "content": "x"}], conversation]) == [
        "first",
        "second",
    ]
    assert (
        ScriptedAgent(lambda messages: messages[-1]["content"].upper()).act(
            [Message(role="user", content="ab")]
        )
        == "AB"
    )
    with pytest.raises(AgentError, match="at least one action"):
        ScriptedAgent([])


def test_random_agent_is_seeded_and_uses_the_tools():
    env = gym.make("ToolUse-v0")
    _, info = env.reset(seed=0)
    conversations = [[{"role": "user", "content": "x"}]] * 50
    first = RandomAgent(seed=3).act_batch(conversations, [info["tools"]] * 50)
    assert first == RandomAgent(seed=3).act_batch(conversations, [info["tools"]] * 50)
    names = {t["function"]["name"] for t in info["tools"]}
    assert any(any(f'"name": "{n}"' in a for n in names) for a in first)


def test_oracle_is_bound_to_its_env():
    env = gym.make("ToolUse-v0")
    env.reset(seed=9)
    oracle = OracleAgent(env)
    plan = env.unwrapped.oracle_actions()
    assert oracle.act([{"role": "user", "content": "task"}]) == plan[0]
    with pytest.raises(AgentError, match="no oracle"):
        OracleAgent(gym.make("CartPole-v1"))


def test_specs_resolve_and_bad_specs_explain():
    assert resolve_agent("oracle") is OracleAgent
    assert isinstance(resolve_agent("random", seed=1), RandomAgent)
    assert isinstance(resolve_agent("noop"), NoopAgent)
    for bad, match in [
        ("gpt", "unknown agent spec"),
        ("hf:", "names no model"),
        ("openai:http://x", "needs both parts"),
    ]:
        with pytest.raises(AgentError, match=match):
            resolve_agent(bad)
