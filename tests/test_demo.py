"""The demo pipeline in its quick form, on a tiny model: every artifact, and honest numbers."""

from __future__ import annotations

import json

from palaestra.core.types import read_jsonl
from palaestra.demo import DemoConfig, demo_loop_config, run_demo
from palaestra.rollout import summarize


def rate(summary) -> str:
    low, high = summary.success_ci95
    return f"{summary.success_rate:.1%} ({low:.1%}-{high:.1%})"


def test_the_quick_demo_writes_every_artifact_with_the_numbers_it_measured(
    tiny_model_dir, tmp_path
):
    out = tmp_path / "demo"
    config = DemoConfig(quick=True, model=str(tiny_model_dir), output_dir=str(out), progress=False)
    result = run_demo(config)

    assert [s["stage"] for s in result.stages] == ["round-0", "warmup"]
    report = (out / "report.md").read_text()
    for file in ("curve.png", "results.json", "loop.json", "round-0/eval.jsonl"):
        assert (out / file).is_file(), file
    assert (out / "warmup" / "model" / "config.json").is_file()
    before = summarize(list(read_jsonl(out / "round-0" / "eval.jsonl")))
    after = summarize(list(read_jsonl(out / "warmup" / "eval.jsonl")))
    assert before.episodes == after.episodes == demo_loop_config(config).eval_episodes == 8
    assert f"| before | 8 | {before.successes} | {rate(before)} |" in report
    assert f"| after | 8 | {after.successes} | {rate(after)} |" in report
    gain = 100 * (after.success_rate - before.success_rate)
    assert f"**Gain: {gain:+.1f} points**" in report
    assert "SFT warm-up on oracle episodes: **ran**" in report
    assert "### Before (round-0)" in report and "### After (warmup)" in report
    results = json.loads((out / "results.json").read_text())
    assert results["stages"][-1]["eval"]["successes"] == after.successes

    # Run again: everything is there, nothing is redone; other settings start it over.
    stamp = (out / "warmup" / "model" / "model.safetensors").stat().st_mtime_ns
    run_demo(config)
    assert (out / "warmup" / "model" / "model.safetensors").stat().st_mtime_ns == stamp
    run_demo(
        DemoConfig(
            quick=True, model=str(tiny_model_dir), output_dir=str(out), warmup=False, progress=False
        )
    )
    assert not (out / "warmup").exists()
    assert "SFT warm-up on oracle episodes: **did not run**" in (out / "report.md").read_text()
