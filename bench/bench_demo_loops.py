"""Which training loop should the demo run? One round of each, from the demo's own warm-up.

    python bench/bench_demo_loops.py                                  # sft, dpo, grpo, stepdpo
    python bench/bench_demo_loops.py --algorithms sft,grpo --work runs/bench-demo-loops
    python bench/bench_demo_loops.py --model tiny --work /tmp/loops --out /tmp/loops.json  # a look

The demo (`palaestra demo`) evaluates SmolLM2 on a fixed ToolUse-v0 test sample, warms it up with
SFT on oracle episodes and then runs one round of a training loop. This script runs the demo's
baseline and warm-up once, then from that one warm-up checkpoint one round of each candidate loop
with the demo's settings (the same train tasks per round, the same evaluation sample), and
reports each round's gain on the test sample (seeds from ``--eval-seed``) and its time. The demo
runs the loop that gained most and reports its own gain on other test seeds
(``palaestra.demo.SELECTION_EPISODES`` on); `palaestra/demo.py` says which loop and why.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from shared import command, machine, tiny_model_dir

from palaestra.demo import DemoConfig, demo_loop_config
from palaestra.trainers.loop import ALGORITHMS, train_loop

console = Console()


def start(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The demo's baseline and warm-up, run once (resumed when already there)."""
    loop = demo_loop_config(DemoConfig(model=args.model, output_dir=str(args.work / "start")))
    loop = dataclasses.replace(loop, rounds=0, eval_seed=args.eval_seed)
    return train_loop(loop, console=console).stages


def one_round(args: argparse.Namespace, algorithm: str) -> dict[str, Any]:
    """One round of `algorithm` after the shared warm-up: its record and its wall time."""
    out = args.work / algorithm
    for stage in ("round-0", "warmup"):  # finished stages: the loop reads them, runs nothing
        if not (out / stage / "round.json").is_file():
            (out / stage).mkdir(parents=True, exist_ok=True)
            for name in ("eval.jsonl", "round.json"):  # round.json last: it marks a stage done
                if (args.work / "start" / stage / name).is_file():
                    shutil.copy(args.work / "start" / stage / name, out / stage / name)
    loop = demo_loop_config(DemoConfig(model=args.model, algorithm=algorithm, output_dir=str(out)))
    loop = dataclasses.replace(loop, eval_seed=args.eval_seed)
    stages = train_loop(loop, console=console).stages
    return {"algorithm": algorithm, "wall_seconds": stages[-1]["seconds"], **stages[-1]}


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = [("before", result["stages"][0]["eval"]), ("warm-up", result["stages"][-1]["eval"])]
    bars += [(r["algorithm"], r["eval"]) for r in result["rounds"]]
    rates = [summary["success_rate"] for _, summary in bars]
    errors = [
        [r - s["success_ci95"][0] for r, (_, s) in zip(rates, bars, strict=True)],
        [s["success_ci95"][1] - r for r, (_, s) in zip(rates, bars, strict=True)],
    ]
    colors = ["#999999", "#7f7f7f"] + ["#2b7bba"] * len(result["rounds"])
    figure, axes = plt.subplots(figsize=(7, 4))
    axes.bar([name for name, _ in bars], rates, yerr=errors, capsize=4, color=colors)
    for index, row in enumerate(result["rounds"], start=2):
        axes.annotate(f"{row['wall_seconds'] / 60:.1f} min", (index, 0.02), ha="center", color="w")
    axes.set_ylabel("test success rate (95% CI)")
    axes.set_ylim(0, 1)
    axes.set_title("ToolUse-v0 retail level 1 · one round of each loop after the warm-up")
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    load_start = os.getloadavg()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2", help="smollm2, a directory, or 'tiny'.")
    parser.add_argument("--algorithms", default="sft,dpo,grpo,stepdpo", help="Comma-separated.")
    parser.add_argument(
        "--eval-seed",
        type=int,
        default=0,
        help="First test seed of the comparison; the demo itself reports on seeds from "
        "palaestra.demo.SELECTION_EPISODES on, so its gain is not the one it was chosen by.",
    )
    parser.add_argument("--work", type=Path, default=Path("runs/bench-demo-loops"))
    parser.add_argument("--out", type=Path, default=Path("bench/results/demo_loops.json"))
    args = parser.parse_args()
    algorithms = [a for a in args.algorithms.split(",") if a]
    if unknown := sorted(set(algorithms) - set(ALGORITHMS)):
        parser.error(f"unknown algorithms {unknown}; choose from {', '.join(ALGORITHMS)}")
    if args.model == "tiny":
        args.model = tiny_model_dir()
    args.work = args.work.resolve()  # the copied stages name their models: valid from any cwd
    started = time.perf_counter()
    console.rule("[bold]the demo's baseline and warm-up")
    result: dict[str, Any] = {"command": command(), "stages": start(args), "rounds": []}
    for algorithm in algorithms:
        console.rule(f"[bold]one round of {algorithm}")
        result["rounds"].append(one_round(args, algorithm))
        result["seconds"] = round(time.perf_counter() - started, 1)
        result["machine"] = machine(load_start)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")  # a partial run keeps its rows
        plot(result, args.out.with_suffix(".png"))
    warm = result["stages"][-1]["eval"]
    table = Table(title="One round after the demo's warm-up (ToolUse-v0 test sample, greedy)")
    for column in ("loop", "trained on", "steps", "test success (95% CI)", "gain", "minutes"):
        table.add_column(column, justify="left" if column == "loop" else "right")
    for row in result["rounds"]:
        data = row.get("data") or {}
        summary = row["eval"]
        low, high = summary["success_ci95"]
        table.add_row(
            row["algorithm"],
            ", ".join(f"{k} {v}" for k, v in data.items() if isinstance(v, int)),
            str((row.get("train") or {}).get("steps", 0)),
            f"{summary['success_rate']:.1%} ({low:.0%}-{high:.0%})",
            f"{100 * (summary['success_rate'] - warm['success_rate']):+.1f}",
            f"{row['wall_seconds'] / 60:.1f}",
        )
    console.print(table)
    console.print(f"results: {args.out}   plot: {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
