"""ThoughtGraph-v0 with the agents, the rollout engine and a trainer, unchanged."""

from __future__ import annotations

from palaestra.agents import OracleAgent
from palaestra.rollout import collect, summarize

SMALL = {"task": "sorting", "size": 32}


def test_collect_with_the_oracle_and_a_model_agent(tiny_agent):
    oracle = collect("ThoughtGraph-v0", OracleAgent, episodes=4, num_envs=2, env_kwargs=SMALL)
    assert summarize(oracle).success_rate == 1.0
    played = collect(
        "ThoughtGraph-v0", tiny_agent, episodes=2, num_envs=2, max_turns=2, env_kwargs=SMALL
    )
    assert summarize(played).success_rate == 0.0
    assert all("split" in t.messages[0].content for t in played)


def test_palaestra_train_sft_runs_a_round_on_thought_graph(sft_round):
    sft_round("ThoughtGraph-v0", {"task": "sorting", "size": "32"}, max_turns=40)
