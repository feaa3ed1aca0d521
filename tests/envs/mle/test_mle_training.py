"""MLE-v0 with the agents, the rollout engine and a trainer, unchanged: a user's first run."""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")

from palaestra.agents import OracleAgent  # noqa: E402
from palaestra.rollout import collect, summarize  # noqa: E402

SMALL = {"competition": "breast-cancer-diagnosis"}


def test_collect_with_the_oracle_and_a_model_agent(tiny_agent):
    oracle = collect("MLE-v0", OracleAgent, episodes=2, num_envs=2, env_kwargs=SMALL)
    assert summarize(oracle).success_rate == 1.0
    assert all(t.reward == 1.0 for t in oracle)
    played = collect("MLE-v0", tiny_agent, episodes=2, num_envs=2, max_turns=2, env_kwargs=SMALL)
    assert summarize(played).success_rate == 0.0
    assert all(
        t.messages[0].role == "system" and "execute_code" in t.messages[0].content for t in played
    )


def test_palaestra_train_sft_runs_a_round_on_mle(sft_round):
    sft_round("MLE-v0", {"competition": "breast-cancer-diagnosis"}, max_turns=3)
