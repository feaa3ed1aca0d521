"""ThoughtGraph-v0's costs and its static baselines: step cost with the simulated reasoner, and
the accuracy and reasoner calls of each static schedule per task and size.

    python bench/bench_thought_graph.py --out bench/results/thought_graph.json

Measures, on this machine (an accuracy-vs-calls plot goes next to the JSON):
- step cost: p50/p95 of env.step over the oracle's episodes (simulated reasoner);
- for every task (sorting, set intersection, keyword counting) and size (32, 64, 128): the
  accuracy (exact answers), reasoner calls and tokens of IO, CoT, ToT(5, 2) and GoT's schedule,
  and of the oracle (a plan made on a private fork: the ceiling);
- the same for programming (``--programming-episodes`` episodes drawn by seed from the test
  split's problems: every score and verdict runs code in the sandbox), and its step cost.

Anchors: ARIES reports +29% accuracy at -35% cost against static schedules; on sorting 32 with
Llama-3.1-405B, ToT scores about 96%, GoT 50-82%, an LLM policy 81%. A trained policy against
these schedules: bench/bench_thought_graph_policy.py.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from rich.console import Console
from rich.table import Table
from shared import command, machine, stats_ms  # bench/ is on sys.path

import palaestra  # noqa: F401  (registers the envs)
from palaestra.envs.thought_graph.env import KINDS, SIZES
from palaestra.envs.thought_graph.schedules import SCHEDULES, play_schedule

console = Console()


def play_oracle(env: Any, steps: list[float]) -> dict[str, Any]:
    info: dict[str, Any] = {}
    for action in env.unwrapped.oracle_actions():
        start = time.perf_counter()
        _, _, terminated, truncated, info = env.step(action)
        steps.append(time.perf_counter() - start)
        if terminated or truncated:
            break
    return info


def play_cell(env: Any, episodes: int, steps: list[float]) -> dict[str, Any]:
    """Every schedule and the oracle on the same test seeds of one env."""
    row: dict[str, Any] = {}
    for name in (*SCHEDULES, "oracle"):
        outcomes = []
        for seed in range(episodes):
            env.reset(seed=seed)
            if name == "oracle":
                info = play_oracle(env, steps)
            else:
                info = play_schedule(env, name)
            outcomes.append(info)
        row[name] = {
            "accuracy": float(np.mean([o["success"] for o in outcomes])),
            "calls": float(np.mean([o["usage"]["reasoner_calls"] for o in outcomes])),
            "tokens": float(np.mean([o["usage"]["reasoner_tokens"] for o in outcomes])),
        }
    return row


def bench(episodes: int, programming_episodes: int) -> tuple[dict[str, Any], dict[str, Any]]:
    rows: dict[str, Any] = {}
    steps: list[float] = []
    for kind in KINDS:
        for size in SIZES:
            env = gym.make("ThoughtGraph-v0", task=kind, size=size, split="test")
            rows[f"{kind}-{size}"] = play_cell(env, episodes, steps)
            env.close()
    program_steps: list[float] = []
    env = gym.make("ThoughtGraph-v0", task="programming", split="test")
    rows["programming"] = play_cell(env, programming_episodes, program_steps)
    env.close()
    return rows, {"simulated": stats_ms(steps), "programming": stats_ms(program_steps)}


def plot(rows: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(KINDS) + 1, figsize=(19, 4.5), sharey=True)
    for name, marker in zip((*SCHEDULES, "oracle"), "oDs^*", strict=True):
        row = rows["programming"][name]
        axes[-1].scatter(row["calls"], row["accuracy"], marker=marker, label=name)
    axes[-1].set_xscale("log")
    axes[-1].set_title("programming")
    axes[-1].set_xlabel("reasoner calls per episode")
    for axis, kind in zip(axes, KINDS, strict=False):
        for name, marker in zip((*SCHEDULES, "oracle"), "oDs^*", strict=True):
            calls = [rows[f"{kind}-{size}"][name]["calls"] for size in SIZES]
            accuracy = [rows[f"{kind}-{size}"][name]["accuracy"] for size in SIZES]
            axis.plot(calls, accuracy, marker=marker, label=name)
            for size, x, y in zip(SIZES, calls, accuracy, strict=True):
                axis.annotate(str(size), (x, y), fontsize=7)
        axis.set_xscale("log")
        axis.set_title(kind)
        axis.set_xlabel("reasoner calls per episode")
    axes[0].set_ylabel("accuracy (exact answers)")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results/thought_graph.json"))
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--programming-episodes", type=int, default=22)
    args = parser.parse_args()
    load_start = os.getloadavg()
    rows, step = bench(args.episodes, args.programming_episodes)
    results = {
        "command": command(),
        "machine": machine(load_start),
        "episodes_per_cell": args.episodes,
        "programming_episodes": args.programming_episodes,
        "step_simulated_reasoner": step["simulated"],
        "step_programming": step["programming"],
        "schedules": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    plot(rows, args.out.with_suffix(".png"))
    table = Table(title=f"ThoughtGraph-v0 static schedules ({args.episodes} test episodes each)")
    table.add_column("task")
    for name in (*SCHEDULES, "oracle"):
        table.add_column(f"{name}: acc / calls", justify="right")
    for key, row in rows.items():
        table.add_row(
            key,
            *(f"{row[n]['accuracy']:.2f} / {row[n]['calls']:.0f}" for n in (*SCHEDULES, "oracle")),
        )
    console.print(table)
    simulated, programming = step["simulated"], step["programming"]
    console.print(
        f"step p50 {simulated['p50_ms']:.3f} ms, p95 {simulated['p95_ms']:.3f} ms (simulated); "
        f"programming p50 {programming['p50_ms']:.0f} ms (sandboxed runs)"
    )
    console.print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
