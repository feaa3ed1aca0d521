"""Learning curves of GRPO, RLOO and REINFORCE++ with SmolLM2 on ToolUse-v0 level-1 tasks.

    python bench/bench_rl_curves.py --minutes 30 --out bench/results/rl_curves.json
    python bench/bench_rl_curves.py --model tiny --minutes 2 --out /tmp/rl.json     # a quick look

SmolLM2-135M writes no valid tool call zero-shot, and a group whose episodes all fail teaches
policy gradients nothing; so the three estimators start from one shared warm-up (SFT on oracle
episodes of the domain's train split, LoRA merged), as AgentGym-RL and most agent RL recipes do,
or from a checkpoint given with ``--start``. Then
each estimator runs `train_loop` round by round (one round = ``--updates`` policy-gradient
updates on fresh groups, then a greedy evaluation on the same test sample) until its time budget
is spent; each later round resumes the same run directory. Writes the test success rate per
update for each estimator (JSON + PNG) with 95% intervals, and the before/after table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from shared import command, machine, tiny_model_dir

ESTIMATORS = ("grpo", "rloo", "reinforcepp")
console = Console()


def warm_up(args: argparse.Namespace, work: Path) -> str:
    """The shared starting model: SFT on oracle episodes (skipped when already saved)."""
    from palaestra.agents.scripted import OracleAgent
    from palaestra.rollout import collect
    from palaestra.trainers import SFTConfig, SFTTrainer

    if args.start:
        return str(args.start)
    out = work / "warmup"
    if (out / "training.json").is_file():
        return str(out)
    episodes = collect(
        "ToolUse-v0",
        OracleAgent,
        args.warmup_episodes,
        seed=10_000_000,
        env_kwargs={"domain": args.domain, "difficulty": 1, "split": "train"},
        max_turns=args.max_turns,
        out=work / "oracle.jsonl",
        progress=True,
    )
    config = SFTConfig(
        model=args.model,
        lora=True,
        learning_rate=2e-4,
        epochs=args.warmup_epochs,
        batch_size=2,
        output_dir=str(out),
    )
    SFTTrainer(config).train(episodes)
    return str(out)


def curve(args: argparse.Namespace, estimator: str, model: str, work: Path) -> dict[str, Any]:
    """Rounds of one estimator until the budget is spent; its stages and timings."""
    from palaestra.trainers import LoopConfig, train_loop

    out = work / estimator
    shared_baseline = work / "round-0"
    if shared_baseline.is_dir() and not (out / "round-0").exists():
        shutil.copytree(shared_baseline, out / "round-0")  # the same model on the same sample
    started, rounds, result = time.perf_counter(), 0, None
    while time.perf_counter() - started < args.minutes * 60 and rounds < args.max_rounds:
        rounds += 1
        config = LoopConfig(
            algorithm=estimator,
            model=model,
            env_kwargs={"domain": args.domain, "difficulty": 1},
            rounds=rounds,
            output_dir=str(out),
            tasks_per_round=args.tasks,
            group_size=args.group_size,
            updates_per_round=args.updates,
            max_turns=args.max_turns,
            max_new_tokens=args.max_new_tokens,
            num_envs=args.tasks * args.group_size,
            eval_episodes=args.eval_episodes,
            train={"lora": True, "learning_rate": args.learning_rate, "batch_size": 4},
        )
        result = train_loop(config, console=console)
    if not shared_baseline.exists():
        shutil.copytree(out / "round-0", shared_baseline)
    assert result is not None
    return {
        "estimator": estimator,
        "seconds": round(time.perf_counter() - started, 1),
        "stages": result.stages,
    }


def plot(runs: list[dict[str, Any]], updates_per_round: int, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for run in runs:
        stages = run["stages"]
        x = [index * updates_per_round for index in range(len(stages))]
        rates = [s["eval"]["success_rate"] for s in stages]
        low = [r - s["eval"]["success_ci95"][0] for r, s in zip(rates, stages, strict=True)]
        high = [s["eval"]["success_ci95"][1] - r for r, s in zip(rates, stages, strict=True)]
        axes.errorbar(x, rates, yerr=[low, high], marker="o", capsize=3, label=run["estimator"])
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("policy-gradient updates")
    axes.set_ylabel("test success rate (95% CI)")
    axes.set_ylim(-0.02, 1.02)
    axes.set_title(f"ToolUse-v0 level 1 · SmolLM2-135M from {title}", fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def save(
    args: argparse.Namespace,
    runs: list[dict[str, Any]],
    load_start: tuple[float, float, float],
    warmup_seconds: float,
    started: float,
) -> None:
    record = {
        "command": command(),
        "machine": machine(load_start),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "warmup_seconds": None if args.start else round(warmup_seconds, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    start = f"the checkpoint {args.start}" if args.start else "an oracle SFT warm-up"
    plot(runs, args.updates, start, args.out.with_suffix(".png"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2", help="smollm2, a directory, or 'tiny'.")
    parser.add_argument(
        "--domain", default="retail", help="ToolUse domain (retail has the shortest prompt)."
    )
    parser.add_argument("--minutes", type=float, default=30.0, help="Budget per estimator.")
    parser.add_argument("--max-rounds", type=int, default=50, help="Rounds per estimator at most.")
    parser.add_argument("--updates", type=int, default=1, help="Updates per round (per eval).")
    parser.add_argument("--tasks", type=int, default=4, help="Groups per update.")
    parser.add_argument("--group-size", type=int, default=4, help="Episodes per group (G).")
    parser.add_argument("--max-turns", type=int, default=3, help="Turn limit of every episode.")
    parser.add_argument("--max-new-tokens", type=int, default=96, help="Tokens per turn.")
    parser.add_argument("--learning-rate", type=float, default=2e-5, help="LoRA learning rate.")
    parser.add_argument("--eval-episodes", type=int, default=24, help="Test episodes per eval.")
    parser.add_argument("--warmup-episodes", type=int, default=24, help="Oracle SFT episodes.")
    parser.add_argument("--warmup-epochs", type=int, default=1, help="Passes of the warm-up.")
    parser.add_argument(
        "--start",
        type=Path,
        default=None,
        help="Start from this checkpoint instead of a warm-up (e.g. the demo's warm-up model).",
    )
    parser.add_argument("--estimators", default=",".join(ESTIMATORS), help="Comma-separated.")
    parser.add_argument("--work", type=Path, default=Path("runs/bench-rl"), help="Run dirs.")
    parser.add_argument("--out", type=Path, default=Path("bench/results/rl_curves.json"))
    args = parser.parse_args()
    estimators = [e for e in args.estimators.split(",") if e]
    if unknown := set(estimators) - set(ESTIMATORS):
        parser.error(f"unknown estimators {sorted(unknown)}; choose from {ESTIMATORS}")
    if args.start is not None and not (args.start / "config.json").is_file():
        parser.error(f"--start {args.start} is not a saved model directory (no config.json)")
    if args.model == "tiny":
        args.model = tiny_model_dir()
    load_start = os.getloadavg()
    started = time.perf_counter()
    args.work.mkdir(parents=True, exist_ok=True)
    console.rule("[bold]warm-up: SFT on oracle episodes")
    warm_started = time.perf_counter()
    model = warm_up(args, args.work)
    started_from = args.work / "start_model.txt"  # the shared baseline belongs to this model
    if started_from.is_file() and started_from.read_text().strip() != model:
        parser.error(f"{args.work} began from {started_from.read_text().strip()}; use a new --work")
    started_from.write_text(model + "\n")
    warmup_seconds = time.perf_counter() - warm_started
    runs: list[dict[str, Any]] = []
    for estimator in estimators:
        console.rule(f"[bold]{estimator}")
        runs.append(curve(args, estimator, model, args.work))
        save(args, runs, load_start, warmup_seconds, started)  # a partial run keeps its curves
    table = Table(title="RL on ToolUse-v0 level 1 (test split, greedy)")
    for column in ("estimator", "updates", "before", "after", "best", "minutes"):
        table.add_column(column, justify="left" if column == "estimator" else "right")
    for run in runs:
        first, last = run["stages"][0]["eval"], run["stages"][-1]["eval"]
        best = max(s["eval"]["success_rate"] for s in run["stages"])

        def rate(summary: dict[str, Any]) -> str:
            low, high = summary["success_ci95"]
            return f"{summary['success_rate']:.1%} ({low:.0%}-{high:.0%})"

        table.add_row(
            run["estimator"],
            str((len(run["stages"]) - 1) * args.updates),
            rate(first),
            rate(last),
            f"{best:.1%}",
            f"{run['seconds'] / 60:.1f}",
        )
    console.print(table)
    console.print(f"results: {args.out}   plot: {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
