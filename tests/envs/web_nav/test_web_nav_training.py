"""WebNav-v0 with the agents, the rollout engine and a trainer, unchanged: a user's first run."""

from __future__ import annotations

import pytest

pytest.importorskip("lxml")
pytest.importorskip("starlette")

from palaestra.agents import OracleAgent  # noqa: E402
from palaestra.rollout import collect, summarize  # noqa: E402


def test_collect_with_the_oracle_and_a_model_agent(tiny_agent):
    oracle = collect("WebNav-v0", OracleAgent, episodes=6, num_envs=3, env_kwargs={"site": "wiki"})
    assert summarize(oracle).success_rate == 1.0
    assert all(t.messages[-1].role == "assistant" for t in oracle)
    played = collect("WebNav-v0", tiny_agent, episodes=3, num_envs=3, max_turns=2)
    assert summarize(played).success_rate == 0.0
    assert all(
        t.messages[0].role == "system" and "click [id]" in t.messages[0].content for t in played
    )


def test_palaestra_train_sft_runs_a_round_on_web_nav(sft_round):
    sft_round("WebNav-v0", {"site": "wiki", "difficulty": "1"}, max_turns=8)
