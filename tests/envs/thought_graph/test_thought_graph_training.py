"""ThoughtGraph-v0 with the agents, the rollout engine and a trainer, unchanged."""

from __future__ import annotations

import json

import pytest

from palaestra.agents import OracleAgent
from palaestra.cli import main
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


def test_palaestra_train_sft_runs_a_round_on_thought_graph(capsys, tiny_model_dir, tmp_path):
    out = tmp_path / "sft"
    args = ["train", "sft", "--env", "ThoughtGraph-v0", "--model", str(tiny_model_dir)]
    args += ["--rounds", "1", "--tasks", "1", "--group-size", "2", "--eval-episodes", "2"]
    args += ["--max-turns", "40", "--max-new-tokens", "4", "--warmup-episodes", "2"]
    args += ["--env-arg", "task=sorting", "--env-arg", "size=32", "--set", "max_steps=1"]
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
