"""The demo: an agent in a verifiable env, trained by a bundled loop, measured before and after.

``make demo`` (``palaestra demo``) evaluates SmolLM2-135M-Instruct on a fixed ToolUse-v0 test
sample, warms it up with SFT on oracle episodes of the train split, runs the training loop,
evaluates again on the same sample, and writes ``report.md`` (numbers, settings, time, example
transcripts before and after), ``curve.png`` (success per stage) and ``results.json`` next to
the loop's checkpoints. ``make demo QUICK=1`` (``--quick``) is the same pipeline, smaller.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from palaestra.core.types import Trajectory, read_jsonl
from palaestra.trainers.loop import LoopConfig, LoopResult, train_loop

__all__ = ["DemoConfig", "demo_loop_config", "run_demo"]

WHY = (
    "Zero-shot, SmolLM2-135M writes almost no valid tool call, so every episode of a group fails "
    "alike: preference pairs, step pairs and group advantages are all empty (measured: 0 step "
    "pairs from 32 candidates in `bench/results/sport_round.json`). Format has to be learned "
    "first, and SFT on oracle episodes teaches it directly; a round of rejection-sampling SFT on "
    "the model's own successes then reinforces what it already solves. Of the bundled loops this "
    "is the one that moves the success rate within minutes on two CPU cores."
)
"""Why the demo trains as it does (see bench/results for the measurements)."""


@dataclass
class DemoConfig:
    """What the demo runs; `quick` shrinks every count for a first look."""

    quick: bool = False
    """The 3-minute version: fewer episodes everywhere."""
    model: str = "smollm2"
    """The policy to train."""
    output_dir: str = "runs/demo"
    """Where the checkpoints, report.md, curve.png and results.json go."""
    algorithm: str = "sft"
    """The loop that runs after the warm-up (see `WHY`)."""
    warmup: bool = True
    """Warm up with SFT on oracle episodes of the train split first."""
    progress: bool = True
    """Show progress and the final table."""


def demo_loop_config(config: DemoConfig) -> LoopConfig:
    """The loop settings of the demo: level-1 tasks, short episodes, LoRA."""
    quick = config.quick
    return LoopConfig(
        algorithm=config.algorithm,
        env="ToolUse-v0",
        env_kwargs={"domain": "retail", "difficulty": 1},  # the shortest prompt: ~600 tokens
        model=config.model,
        rounds=0 if quick else 1,
        output_dir=config.output_dir,
        tasks_per_round=8,
        group_size=2,
        max_turns=3,
        num_envs=16,
        temperature=0.7,
        max_new_tokens=96,
        eval_episodes=8 if quick else 24,
        warmup_episodes=(8 if quick else 24) if config.warmup else 0,
        sft={"lora": True, "learning_rate": 2e-4, "epochs": 1 if quick else 2, "batch_size": 2},
        train={"lora": True, "learning_rate": 1e-4, "batch_size": 2},
        progress=config.progress,
    )


def run_demo(config: DemoConfig, *, console: Console | None = None) -> LoopResult:
    """Run (or resume) the demo and write its report; returns the loop's result."""
    console = console or Console()
    loop = demo_loop_config(config)
    out = Path(loop.output_dir)
    settings = out / "loop.json"
    wanted = json.loads(json.dumps(loop.to_dict()))
    if settings.is_file() and _differs(json.loads(settings.read_text()), wanted):
        console.print(f"[yellow]{out} holds a demo with other settings: starting it over")
        shutil.rmtree(out)
    started = time.perf_counter()
    result = train_loop(loop, console=console)
    seconds = time.perf_counter() - started
    report = render_report(config, loop, result, seconds)
    (out / "report.md").write_text(report)
    if config.progress:
        console.print(before_after_table(result))
        console.print(f"report: {out / 'report.md'}   plot: {out / 'curve.png'}")
    return result


def before_after_table(result: LoopResult) -> Table:
    """Test success before training and after it, with the gain in points."""
    first, last = result.stages[0]["eval"], result.stages[-1]["eval"]
    table = Table(title="ToolUse-v0 test sample: before and after training")
    for column in ("", "episodes", "solved", "success (95% CI)"):
        table.add_column(column, justify="left" if not column else "right")
    for name, summary in (("before", first), ("after", last)):
        table.add_row(name, str(summary["episodes"]), str(summary["successes"]), _rate(summary))
    gain = 100 * (last["success_rate"] - first["success_rate"])
    table.add_row("gain", "", "", f"{gain:+.1f} points")
    return table


def render_report(config: DemoConfig, loop: LoopConfig, result: LoopResult, seconds: float) -> str:
    """The demo's report.md: numbers, settings, time, transcripts before and after."""
    stages = result.stages
    first, last = stages[0], stages[-1]
    gain = 100 * (last["eval"]["success_rate"] - first["eval"]["success_rate"])
    warmed = any(s["stage"] == "warmup" for s in stages)
    lines = [
        f"# palaestra demo{' (quick)' if config.quick else ''}",
        "",
        f"{_now()} · {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}) · "
        f"model `{loop.model}` · ToolUse-v0 retail, level 1 · {seconds / 60:.1f} minutes",
        "",
        "## Before and after",
        "",
        "| | test episodes | solved | success (95% CI) |",
        "|---|---:|---:|---:|",
        f"| before | {_counts(first)} | {_rate(first['eval'])} |",
        f"| after | {_counts(last)} | {_rate(last['eval'])} |",
        "",
        f"**Gain: {gain:+.1f} points** on the same {last['eval']['episodes']} test episodes "
        f"(greedy decoding, seeds {loop.eval_seed} to {loop.eval_seed + loop.eval_episodes - 1}).",
        "",
        "## Stages",
        "",
        "| stage | trained on | optimizer steps | test success (95% CI) | seconds |",
        "|---|---|---:|---:|---:|",
    ]
    for stage in stages:
        data = stage.get("data") or {}
        trained = (
            f"{data.get('episodes', 0)} episodes, {data.get('successes', 0)} solved"
            if data
            else "-"
        )
        steps = (stage.get("train") or {}).get("steps", "-")
        lines.append(
            f"| {stage['stage']} | {trained} | {steps} | {_rate(stage['eval'])} | "
            f"{stage['seconds']:.0f} |"
        )
    lines += [
        "",
        f"SFT warm-up on oracle episodes: **{'ran' if warmed else 'did not run'}**"
        + (f" ({loop.warmup_episodes} episodes of the train split)." if warmed else "."),
        f"Training loop after it: `{loop.algorithm}`, {loop.rounds} round(s).",
        "",
        "## Why this loop",
        "",
        WHY,
        "",
        "![success per stage](curve.png)",
        "",
        "## Settings",
        "",
        "```json",
        json.dumps({"demo": asdict(config), "loop": loop.to_dict()}, indent=1),
        "```",
        "",
    ]
    out = Path(loop.output_dir)
    before = _episodes(out / first["stage"] / "eval.jsonl")
    after = _episodes(out / last["stage"] / "eval.jsonl")
    if before and after:
        index = next((i for i, t in enumerate(after) if t.success), 0)
        lines += [
            "## The same test task, before and after",
            "",
            f"### Before ({first['stage']})",
            "",
            transcript(before[index]),
            f"### After ({last['stage']})",
            "",
            transcript(after[index]),
        ]
    return "\n".join(lines) + "\n"


def transcript(trajectory: Trajectory, *, max_chars: int = 1200) -> str:
    """A trajectory as Markdown: each message a quoted block (long ones cut), then the verdict."""
    parts = [
        f"Task `{trajectory.task_id}` · {'solved' if trajectory.success else 'not solved'} · "
        f"{trajectory.num_turns} turns",
        "",
    ]
    for message in trajectory.messages:
        if message.role == "system":
            continue
        text = message.content
        if len(text) > max_chars:
            text = text[:max_chars] + f" … ({len(message.content) - max_chars} more characters)"
        parts += [f"**{message.role}**", "", "```text", text, "```", ""]
    if trajectory.verdict:
        parts += [f"Verdict: {trajectory.verdict}", ""]
    return "\n".join(parts)


def _differs(saved: dict[str, Any], wanted: dict[str, Any]) -> bool:
    ignored = {"progress"}
    return {k: v for k, v in saved.items() if k not in ignored} != {
        k: v for k, v in wanted.items() if k not in ignored
    }


def _episodes(path: Path) -> list[Trajectory]:
    return list(read_jsonl(path)) if path.is_file() else []


def _rate(summary: dict[str, Any]) -> str:
    low, high = summary["success_ci95"]
    return f"{summary['success_rate']:.1%} ({low:.1%}-{high:.1%})"


def _counts(stage: dict[str, Any]) -> str:
    return f"{stage['eval']['episodes']} | {stage['eval']['successes']}"


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
