"""Model agents driving real envs end to end: the tiny local model, and an OpenAI-style server."""

from __future__ import annotations

import gymnasium as gym
import pytest

from palaestra.rollout import collect, summarize


@pytest.fixture(scope="module")
def tiny_trajectories(tiny_agent):
    return collect("ToolUse-v0", tiny_agent, 5, seed=0, num_envs=3, env_kwargs={"max_turns": 3})


def test_tiny_model_episodes_are_well_formed(tiny_trajectories, tiny_agent):
    assert len(tiny_trajectories) == 5
    for trajectory in tiny_trajectories:
        assert trajectory.error is None
        assert trajectory.agent == tiny_agent.name
        assert trajectory.terminated or trajectory.truncated
        assert 1 <= trajectory.num_turns <= 3
        roles = [m.role for m in trajectory.messages]
        assert roles[:2] == ["system", "user"]
        assert roles[2:] == ["assistant", "tool"] * (trajectory.num_turns - 1) + ["assistant"]
        for step, message in zip(trajectory.steps, trajectory.messages[2::2], strict=True):
            assert message.content == step.action
            assert step.completion_ids and step.prompt_ids
            assert len(step.logprobs) == len(step.completion_ids) <= 12
            assert all(lp <= 0.0 for lp in step.logprobs)
        assert trajectory.completion_tokens == sum(len(s.completion_ids) for s in trajectory.steps)
        assert trajectory.prompt_tokens == sum(len(s.prompt_ids) for s in trajectory.steps)


def test_tiny_model_prompts_carry_the_conversation(tiny_trajectories, tiny_agent):
    tokenizer = tiny_agent.tokenizer
    trajectory = max(tiny_trajectories, key=lambda t: t.num_turns)
    first_prompt = tokenizer.decode(trajectory.steps[0].prompt_ids)
    assert trajectory.messages[1].content in first_prompt
    if trajectory.num_turns > 1:
        second_prompt = tokenizer.decode(trajectory.steps[1].prompt_ids)
        assert trajectory.messages[3].content[:40] in second_prompt
        assert len(trajectory.steps[1].prompt_ids) > len(trajectory.steps[0].prompt_ids)


def test_random_model_solves_nothing_but_is_recorded_with_errors(tiny_trajectories):
    summary = summarize(tiny_trajectories)
    assert summary.success_rate == 0.0
    assert summary.episodes == 5 and summary.completion_tokens > 0


def test_greedy_runs_repeat_exactly(tiny_agent, tiny_trajectories):
    again = collect("ToolUse-v0", tiny_agent, 5, seed=0, num_envs=2, env_kwargs={"max_turns": 3})
    assert [[s.action for s in t.steps] for t in again] == [
        [s.action for s in t.steps] for t in tiny_trajectories
    ]


def test_env_obs_and_info_feed_the_agent_directly(tiny_agent):
    env = gym.make("ToolUse-v0")
    obs, info = env.reset(seed=1)
    reply = tiny_agent.act(
        [{"role": "system", "content": info["instructions"]}, {"role": "user", "content": obs}],
        info["tools"],
    )
    obs, reward, terminated, truncated, info = env.step(reply)
    assert isinstance(obs, str) and reward in (0.0, 1.0)
