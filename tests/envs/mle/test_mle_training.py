"""MLE-v0 with the agents, the rollout engine and a trainer, unchanged: a user's first run."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("sklearn")

from palaestra.agents import OracleAgent  # noqa: E402
from palaestra.cli import main  # noqa: E402
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


def test_palaestra_train_sft_runs_a_round_on_mle(capsys, tiny_model_dir, tmp_path):
    out = tmp_path / "sft"
    args = ["train", "sft", "--env", "MLE-v0", "--model", str(tiny_model_dir)]
    args += ["--rounds", "1", "--tasks", "1", "--group-size", "2", "--eval-episodes", "2"]
    args += ["--max-turns", "3", "--max-new-tokens", "4", "--warmup-episodes", "2"]
    args += ["--env-arg", "competition=breast-cancer-diagnosis", "--set", "max_steps=1"]
    args += ["--out", str(out)]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    assert exit_info.value.code == 0, captured.err
    results = json.loads((out / "results.json").read_text())
    stages = {s["stage"]: s for s in results["stages"]}
    assert "warmup" in stages and stages["warmup"]["train"]["steps"] >= 1
    oracle = [json.loads(line) for line in (out / "warmup" / "oracle.jsonl").open()]
    assert len(oracle) == 2 and all(t["success"] for t in oracle)
