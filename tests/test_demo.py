"""The demo pipeline in its quick form, on a tiny model: every artifact, and honest numbers."""

from __future__ import annotations

import json

import pytest

from palaestra.core.types import read_jsonl
from palaestra.demo import DemoConfig, demo_loop_config, render_report, run_demo
from palaestra.errors import ConfigError
from palaestra.rollout import summarize
from palaestra.trainers.loop import LoopResult


def rate(summary) -> str:
    low, high = summary.success_ci95
    return f"{summary.success_rate:.1%} ({low:.1%}-{high:.1%})"


def test_the_quick_demo_writes_every_artifact_with_the_numbers_it_measured(
    tiny_model_dir, tmp_path, monkeypatch
):
    out = tmp_path / "demo"
    config = DemoConfig(quick=True, model=str(tiny_model_dir), output_dir=str(out), progress=False)
    result = run_demo(config)

    assert [s["stage"] for s in result.stages] == ["round-0", "warmup", "round-1"]
    report = (out / "report.md").read_text()
    for file in ("curve.png", "results.json", "loop.json", "round-0/eval.jsonl"):
        assert (out / file).is_file(), file
    assert (out / "warmup" / "model" / "config.json").is_file()
    # The "after" numbers are the last evaluation that ran: round 1's, or the warm-up's when the
    # tiny model gave DPO no pair to learn from (the report then says why round 1 trained nothing).
    round_1 = result.stages[-1]
    evaluated = "warmup" if round_1.get("eval_reused") else "round-1"
    if round_1.get("skipped"):
        assert f"0: {round_1['skipped']}" in report
    before = summarize(list(read_jsonl(out / "round-0" / "eval.jsonl")))
    after = summarize(list(read_jsonl(out / evaluated / "eval.jsonl")))
    assert before.episodes == after.episodes == demo_loop_config(config).eval_episodes == 8
    assert f"| before | 8 | {before.successes} | {rate(before)} |" in report
    assert f"| after | 8 | {after.successes} | {rate(after)} |" in report
    gain = 100 * (after.success_rate - before.success_rate)
    assert f"**Gain: {gain:+.1f} points**" in report
    assert "SFT warm-up on oracle episodes: **ran**" in report
    assert "Training loop after it: `dpo`, 1 round(s)." in report
    assert "### Before (round-0)" in report and f"### After ({evaluated})" in report
    results = json.loads((out / "results.json").read_text())
    assert results["stages"][-1]["eval"]["successes"] == after.successes

    # Run again: everything is there, nothing is redone; other settings start it over.
    stamp = (out / "warmup" / "model" / "model.safetensors").stat().st_mtime_ns
    records = [(out / s["stage"] / "round.json").read_text() for s in result.stages]
    run_demo(config)
    assert (out / "warmup" / "model" / "model.safetensors").stat().st_mtime_ns == stamp
    assert [(out / s["stage"] / "round.json").read_text() for s in result.stages] == records
    monkeypatch.chdir(tmp_path)  # the same directory spelled another way resumes too
    run_demo(DemoConfig(quick=True, model=str(tiny_model_dir), output_dir="demo", progress=False))
    assert (out / "warmup" / "model" / "model.safetensors").stat().st_mtime_ns == stamp
    run_demo(
        DemoConfig(
            quick=True, model=str(tiny_model_dir), output_dir=str(out), warmup=False, progress=False
        )
    )
    assert not (out / "warmup").exists()
    assert "SFT warm-up on oracle episodes: **did not run**" in (out / "report.md").read_text()


def test_the_demo_refuses_to_overwrite_a_training_run_that_is_not_a_demo(tmp_path):
    run = tmp_path / "my-dpo-run"
    (run / "round-1").mkdir(parents=True)
    (run / "loop.json").write_text('{"algorithm": "dpo"}\n')
    (run / "round-1" / "round.json").write_text("{}\n")

    with pytest.raises(ConfigError, match="not a demo"):
        run_demo(DemoConfig(quick=True, output_dir=str(run), progress=False))
    assert (run / "round-1" / "round.json").read_text() == "{}\n"
    assert not (run / "demo.json").exists()


def _stage(name, successes, **extra):
    low, high = (0.1, 0.6)
    summary = {"episodes": 8, "successes": successes, "success_rate": successes / 8}
    return {"stage": name, "eval": {**summary, "success_ci95": [low, high]}, "seconds": 60, **extra}


def test_a_round_that_trained_nothing_is_reported_with_its_reason_and_the_last_evaluation(
    tmp_path,
):
    config = DemoConfig(quick=True, warmup=False, output_dir=str(tmp_path), progress=False)
    loop = demo_loop_config(config)
    skipped = _stage("round-1", 3, data={"episodes": 8, "successes": 0}, train=None)
    skipped |= {"skipped": "no preference pair among 8 trajectories", "eval_reused": True}
    result = LoopResult([_stage("round-0", 3), skipped], tmp_path)

    report = render_report(config, loop, result)

    reason = "0: no preference pair among 8 trajectories"
    assert f"| round-1 | 8 episodes, 0 solved | {reason} |" in report
    assert "**Gain: +0.0 points**" in report
    assert "SFT warm-up on oracle episodes: **did not run**." in report
    assert "Training loop: `dpo`, 1 round(s)." in report
    assert "2.0 minutes" in report  # the stages' own times, however often the run resumed
    assert "The same test task" not in report  # nothing after round-0 was evaluated
