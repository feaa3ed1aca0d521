"""Rollout throughput: generated tokens/s and episodes/s against the number of envs in flight.

    python bench/bench_rollout.py --out bench/results/rollout.json            # tiny model + SmolLM2
    python bench/bench_rollout.py --models tiny --out /tmp/rollout.json        # quick

Plays ToolUse-v0 (greedy, a short turn limit) with ``collect(num_envs=N)`` for N in 1, 4, 8, 16,
with a tiny random model (real SmolLM2 tokenizer) and with SmolLM2-135M-Instruct itself. With one
env every turn is a batch of one; with N envs one batched call serves every waiting episode. The
agent's system-prompt cache is warmed first, as it is after the first episodes of a long run.
Target (issue 5): at 8 envs, batched collection at least 4x the one-at-a-time throughput.
Writes JSON and a PNG chart.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

from shared import command, machine, tiny_model_dir

from palaestra.rollout import collect, summarize

NUM_ENVS = (1, 4, 8, 16)


def run(agent: Any, num_envs: int, episodes: int) -> dict[str, Any]:
    """One timed collection; the agent's batch size follows the number of envs."""
    agent.sampling = dataclasses.replace(agent.sampling, batch_size=num_envs)
    started = time.perf_counter()
    trajectories = collect("ToolUse-v0", agent, episodes, seed=0, num_envs=num_envs, max_turns=3)
    seconds = time.perf_counter() - started
    summary = summarize(trajectories)
    return {
        "num_envs": num_envs,
        "episodes": episodes,
        "seconds": seconds,
        "generated_tokens": summary.completion_tokens,
        "tokens_per_second": summary.completion_tokens / seconds,
        "episodes_per_second": episodes / seconds,
        "mean_turns": summary.mean_turns,
    }


def warmed_agent(model: str, max_new_tokens: int) -> Any:
    """An agent whose system-prompt cache already holds every domain, as in a long run."""
    from palaestra.agents import TransformersAgent

    agent = TransformersAgent(model, max_new_tokens=max_new_tokens, temperature=0.0)
    collect("ToolUse-v0", agent, 12, seed=10_000, num_envs=4, max_turns=1)
    return agent


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(result["models"]), figsize=(4.5 * len(result["models"]), 3.4))
    axes = axes if len(result["models"]) > 1 else [axes]
    for ax, (name, rows) in zip(axes, result["models"].items(), strict=True):
        xs = [r["num_envs"] for r in rows]
        rates = [r["tokens_per_second"] for r in rows]
        bars = ax.bar([str(x) for x in xs], rates, color="#2b7bba")
        ax.bar_label(bars, labels=[f"{r:.0f}" for r in rates])
        ax.set_xlabel("envs in flight (one batched model call per turn)")
        ax.set_ylabel("generated tokens / s")
        speedup = result["speedup_at_8"][name]
        ax.set_title(f"{name}: {speedup:.1f}x at 8 envs")
    fig.suptitle("Rollout throughput on ToolUse-v0 (2 CPU cores)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    load_start = os.getloadavg()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--models", nargs="+", default=["tiny", "smollm2"], choices=["tiny", "smollm2"]
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results/rollout.json"))
    args = parser.parse_args()
    from palaestra.cli import _quiet_model_loading

    _quiet_model_loading()
    plans = {
        "tiny": (tiny_model_dir, 32, lambda n: max(16, 2 * n)),
        "smollm2": (lambda: "smollm2", 48, lambda n: max(8, n)),
    }
    result: dict[str, Any] = {"command": command(), "models": {}, "speedup_at_8": {}}
    for name in args.models:
        make_model, max_new_tokens, episodes_for = plans[name]
        agent = warmed_agent(make_model(), max_new_tokens)
        rows = []
        for num_envs in NUM_ENVS:
            row = run(agent, num_envs, episodes_for(num_envs))
            rows.append(row)
            print(
                f"{name:8} envs {num_envs:>2}: {row['tokens_per_second']:7.1f} tok/s "
                f"{row['episodes_per_second']:6.2f} episodes/s ({row['episodes']} episodes, "
                f"{row['seconds']:.1f} s, {row['mean_turns']:.1f} turns)"
            )
        result["models"][name] = rows
        by_envs = {r["num_envs"]: r for r in rows}
        result["speedup_at_8"][name] = (
            by_envs[8]["tokens_per_second"] / by_envs[1]["tokens_per_second"]
        )
        speedup = result["speedup_at_8"][name]
        print(f"{name}: batched at 8 envs is {speedup:.1f}x one at a time (target >= 4x)")
    result["machine"] = machine(load_start)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
