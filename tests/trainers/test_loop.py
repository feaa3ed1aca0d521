"""The iterative loop: stages, checkpoints, resuming after a crash, and bad settings."""

from __future__ import annotations

import json

import pytest

from palaestra.core.types import read_jsonl
from palaestra.errors import ConfigError
from palaestra.rollout import summarize
from palaestra.trainers.loop import LoopConfig, changed_settings, train_loop

RETAIL = {"domain": "retail", "difficulty": 1}  # the shortest system prompt


def config(tiny_model_dir, out, **options) -> LoopConfig:
    settings = {
        "algorithm": "kto",  # learns from failures too: the tiny model never succeeds
        "model": str(tiny_model_dir),
        "env_kwargs": RETAIL,
        "rounds": 1,
        "tasks_per_round": 2,
        "group_size": 2,
        "num_envs": 4,
        "max_turns": 2,
        "max_new_tokens": 6,
        "eval_episodes": 3,
        "train": {"max_steps": 1, "batch_size": 2, "learning_rate": 1e-3},
        "output_dir": str(out),
        "progress": False,
    }
    return LoopConfig(**(settings | options))


def lines(path) -> int:
    return sum(1 for line in path.read_text().splitlines() if line.strip())


def test_a_run_writes_every_stage_and_resumes_without_redoing_work(tiny_model_dir, tmp_path):
    out = tmp_path / "loop"
    warm = {"warmup_episodes": 2, "sft": {"max_steps": 1, "learning_rate": 1e-3}}
    result = train_loop(config(tiny_model_dir, out, **warm))

    assert [s["stage"] for s in result.stages] == ["round-0", "warmup", "round-1"]
    for stage in result.stages:
        directory = out / stage["stage"]
        assert json.loads((directory / "round.json").read_text()) == stage
        episodes = list(read_jsonl(directory / "eval.jsonl"))
        assert len(episodes) == 3
        assert stage["eval"] == json.loads(json.dumps(summarize(episodes).to_dict()))
    warmup, first = result.stages[1], result.stages[2]
    assert all(t.success for t in read_jsonl(out / "warmup" / "oracle.jsonl")), "oracle episodes"
    assert warmup["train"]["steps"] == 1 and (out / "warmup" / "model" / "config.json").is_file()
    assert first["data"]["episodes"] == lines(out / "round-1" / "train.jsonl") == 4
    assert first["train"]["steps"] == 1 and first["model"] == str(out / "round-1" / "model")
    assert (out / "curve.png").stat().st_size > 1000
    saved = json.loads((out / "results.json").read_text())
    assert saved["stages"] == result.stages and saved["config"]["algorithm"] == "kto"

    # More rounds: the finished stages are read back, round 2 starts from round 1's model.
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/*.jsonl")}
    more = train_loop(config(tiny_model_dir, out, rounds=2, **warm))
    assert more.stages[:3] == result.stages
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps, "finished stages untouched"
    assert more.stages[3]["train"]["steps"] == 1

    # A crash during round 2's evaluation: the model is kept, the evaluation resumes.
    (out / "round-2" / "round.json").unlink()
    evaluation = out / "round-2" / "eval.jsonl"
    evaluation.write_text(evaluation.read_text().splitlines(keepends=True)[0])
    trained = (out / "round-2" / "model" / "model.safetensors").stat().st_mtime_ns
    again = train_loop(config(tiny_model_dir, out, rounds=2, **warm))
    assert (out / "round-2" / "model" / "model.safetensors").stat().st_mtime_ns == trained
    assert lines(evaluation) == 3, "the finished test episode was not played again"
    untimed = [
        {k: v for k, v in r.stages[3]["eval"].items() if k != "mean_duration_s"}
        for r in (again, more)
    ]
    assert untimed[0] == untimed[1], "greedy: the same evaluation"


def test_a_round_without_training_data_keeps_the_model_and_its_evaluation(tiny_model_dir, tmp_path):
    result = train_loop(config(tiny_model_dir, tmp_path / "sft", algorithm="sft"))
    base, first = result.stages
    assert first["train"] is None and "no successful trajectory" in first["skipped"]
    assert first["eval"] == base["eval"] and first["eval_reused"]
    assert first["model"] == str(tiny_model_dir)
    assert not (tmp_path / "sft" / "round-1" / "model").exists()


def test_a_resumed_run_must_keep_its_settings(tiny_model_dir, tmp_path):
    out = tmp_path / "loop"
    out.mkdir()
    (out / "loop.json").write_text(json.dumps(config(tiny_model_dir, out).to_dict()))
    with pytest.raises(ConfigError, match="other settings .*algorithm"):
        train_loop(config(tiny_model_dir, out, algorithm="sft"))
    assert json.loads((out / "loop.json").read_text())["algorithm"] == "kto", "left as it was"


def test_rl_rounds_follow_the_horizon_schedule_and_alternate_with_sft(tiny_model_dir, tmp_path):
    out = tmp_path / "grpo"
    options = {"algorithm": "grpo", "rounds": 3, "updates_per_round": 1, "horizons": (1, 2)}
    options |= {"updates_per_horizon": 1}
    result = train_loop(
        config(tiny_model_dir, out, sft_every=3, max_new_tokens=4, eval_episodes=1, **options)
    )
    base, first, second, third = result.stages
    assert [first["algorithm"], second["algorithm"], third["algorithm"]] == ["grpo", "grpo", "sft"]
    assert first["data"]["horizons"] == [1] and second["data"]["horizons"] == [2]
    for stage, horizon in ((first, 1), (second, 2)):
        played = list(read_jsonl(out / stage["stage"] / "model" / "rollouts.jsonl"))
        assert len(played) == stage["data"]["episodes"] == 4, "2 tasks x groups of 2"
        assert max(t.num_turns for t in played) <= horizon
        assert stage["train"] is not None and (out / stage["stage"] / "model").is_dir()
    assert third["train"] is None and "no successful trajectory" in third["skipped"]
    assert lines(out / "round-3" / "train.jsonl") == 4, "the SFT round collects its own episodes"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"algorithm": "ppo"}, "algorithm must be one of sft, dpo, kto, stepdpo"),
        ({"train": {"learning_rat": 1e-5}}, "does not know: learning_rat; known: .*learning_rate"),
        ({"train": {"output_dir": "x"}}, "may not set output_dir"),
        ({"train": {"merge_lora": False}}, "needs a whole model"),
        ({"train": {"beta": -1}}, "beta must be > 0"),
        ({"warmup_episodes": 2, "sft": {"beta": 0.1}}, "SFTConfig does not know: beta"),
        ({"rounds": -1}, "rounds must be >= 0"),
        ({"temperature": 0.0}, "temperature must be > 0"),
        ({"algorithm": "dpo", "group_size": 1}, "group_size must be at least 2"),
        ({"algorithm": "stepdpo", "reference": "start"}, "reference='start' is for dpo and kto"),
        ({"verifier": "oracle"}, "verifier must be 'env', 'montecarlo' or 'judge:"),
        ({"env_kwargs": {"split": "test"}}, "may not set split"),
        ({"horizons": (2, 4)}, "horizons are for the RL algorithms"),
        ({"algorithm": "grpo", "horizons": (4, 2)}, "horizons must grow"),
        (
            {"algorithm": "grpo", "horizons": (2, 4), "updates_per_horizon": 3},
            "need 4 updates to reach the last; 1 rounds of 2 make 2",
        ),
        ({"algorithm": "grpo", "train": {"group_size": 8}}, "may not set group_size"),
        ({"algorithm": "rloo", "train": {"clip_epsilon": 2}}, "clip_epsilon must be in"),
    ],
)
def test_bad_settings_say_what_was_expected(tiny_model_dir, tmp_path, options, message):
    with pytest.raises(ConfigError, match=message):
        config(tiny_model_dir, tmp_path, **options)


@pytest.mark.slow  # TRL's DPO on a CPU
def test_a_step_dpo_round_mines_pairs_and_trains_on_them(tiny_model_dir, tmp_path, monkeypatch):
    from palaestra.trainers.verifiers import EnvSignalVerifier

    # The tiny model's replies all fail alike, so the env's signal ties them; rank by length
    # instead (shorter is better), a verifier that separates the candidates.
    monkeypatch.setattr(
        EnvSignalVerifier, "score", lambda self, branches: [-len(b.action) for b in branches]
    )
    out = tmp_path / "sport"
    options = {"algorithm": "stepdpo", "k": 3, "max_new_tokens": 12, "temperature": 1.5}
    result = train_loop(config(tiny_model_dir, out, **options))
    first = result.stages[1]
    pairs_file = out / "round-1" / "pairs.jsonl"
    mined = [json.loads(line) for line in pairs_file.read_text().splitlines()]
    assert first["data"]["pairs"] == len(mined) > 0
    assert all(len(p["chosen"]) < len(p["rejected"]) for p in mined)
    assert first["data"]["episodes"] == lines(out / "round-1" / "train.jsonl") == 2
    assert first["train"]["steps"] == 1 and (out / "round-1" / "model" / "training.json").is_file()


def test_a_saved_run_differs_only_in_what_changed_not_in_how_json_spells_it():
    config = LoopConfig(algorithm="grpo", horizons=(2, 4), rounds=2, updates_per_round=1)
    saved = json.loads(json.dumps(config.to_dict()))  # loop.json: the horizons come back a list

    assert changed_settings(saved, config) == []
    assert changed_settings(saved | {"rounds": 5, "progress": False}, config) == []
    assert changed_settings(saved | {"max_turns": 2, "horizons": [2]}, config) == [
        "horizons",
        "max_turns",
    ]
