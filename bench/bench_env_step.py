"""In-process env step cost: ToolUse-v0 driven by its oracle, against CartPole-v1 as the floor.

    python bench/bench_env_step.py --episodes 2000 --out bench/results/env_step.json

Measures, in one run on one machine: ToolUse-v0 steps per second and p50/p90 microseconds per
step (through the wrappers gym.make adds, as users get it), reset cost, the same for CartPole-v1,
and the wall time of `import palaestra` plus `gym.make` in a fresh interpreter. Writes JSON and a
PNG bar chart next to it. Targets (issue 2): ToolUse step within 10x of CartPole; import + make
under 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
from shared import command, machine  # bench/ is on sys.path

import palaestra  # noqa: F401  (registers the envs)


def percentiles(samples_ns: list[int]) -> dict[str, float]:
    us = np.asarray(samples_ns) / 1000.0
    return {
        "n": int(us.size),
        "mean_us": float(us.mean()),
        "p50_us": float(np.percentile(us, 50)),
        "p90_us": float(np.percentile(us, 90)),
        "p99_us": float(np.percentile(us, 99)),
        "per_second": float(1e6 / us.mean()),
    }


def bench_tool_use(episodes: int) -> dict[str, dict[str, float]]:
    env = gym.make("ToolUse-v0")
    steps, resets = [], []
    for episode in range(episodes):
        start = time.perf_counter_ns()
        env.reset(seed=episode)
        resets.append(time.perf_counter_ns() - start)
        for action in env.unwrapped.oracle_actions():
            start = time.perf_counter_ns()
            _, _, terminated, truncated, info = env.step(action)
            steps.append(time.perf_counter_ns() - start)
            if terminated or truncated:
                break
        if not info.get("success"):
            raise SystemExit(f"oracle failed on episode {episode}: {info.get('verdict')}")
    return {"step": percentiles(steps), "reset": percentiles(resets)}


def bench_cartpole(num_steps: int) -> dict[str, dict[str, float]]:
    env = gym.make("CartPole-v1")
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(num_steps)]
    steps, resets = [], []
    start = time.perf_counter_ns()
    env.reset(seed=0)
    resets.append(time.perf_counter_ns() - start)
    for action in actions:
        start = time.perf_counter_ns()
        _, _, terminated, truncated, _ = env.step(action)
        steps.append(time.perf_counter_ns() - start)
        if terminated or truncated:
            start = time.perf_counter_ns()
            env.reset()
            resets.append(time.perf_counter_ns() - start)
    return {"step": percentiles(steps), "reset": percentiles(resets)}


def bench_import(repeats: int) -> dict[str, float]:
    code = (
        "import time; t = time.perf_counter()\n"
        "import gymnasium as gym, palaestra\n"
        "gym.make('ToolUse-v0')\n"
        "print(time.perf_counter() - t)"
    )
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True, text=True
            ).stdout
        )
        for _ in range(repeats)
    ]
    return {
        "median_ms": statistics.median(runs) * 1000,
        "min_ms": min(runs) * 1000,
        "runs": len(runs),
    }


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = ["CartPole-v1 step", "ToolUse-v0 step", "ToolUse-v0 reset"]
    values = [
        result["cartpole"]["step"]["p50_us"],
        result["tool_use"]["step"]["p50_us"],
        result["tool_use"]["reset"]["p50_us"],
    ]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    bars = ax.barh(labels, values, color=["#999999", "#2b7bba", "#7fb3d5"])
    ax.axvline(10 * values[0], color="#c0392b", linestyle="--", label="target: 10x CartPole step")
    ax.bar_label(bars, labels=[f"{v:.1f} us" for v in values], padding=3)
    ax.set_xlabel("p50 microseconds (lower is better)")
    ax.set_title(f"In-process env cost · ratio {result['ratio_p50']:.1f}x CartPole")
    ax.legend(loc="lower right")
    ax.set_xlim(0, max(values) * 1.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    load_start = os.getloadavg()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=2000, help="ToolUse episodes to play")
    parser.add_argument("--cartpole-steps", type=int, default=50_000)
    parser.add_argument("--import-repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("bench/results/env_step.json"))
    args = parser.parse_args()

    result = {
        "command": command(),
        "tool_use": bench_tool_use(args.episodes),
        "cartpole": bench_cartpole(args.cartpole_steps),
        "import_and_make": bench_import(args.import_repeats),
    }
    result["ratio_p50"] = (
        result["tool_use"]["step"]["p50_us"] / result["cartpole"]["step"]["p50_us"]
    )
    result["ratio_mean"] = (
        result["tool_use"]["step"]["mean_us"] / result["cartpole"]["step"]["mean_us"]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result["machine"] = machine(load_start)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.out.with_suffix(".png"))

    tu, cp = result["tool_use"], result["cartpole"]
    print(f"{'':24}{'p50 us':>10}{'mean us':>10}{'per s':>12}")
    for name, row in (
        ("ToolUse-v0 step", tu["step"]),
        ("ToolUse-v0 reset", tu["reset"]),
        ("CartPole-v1 step", cp["step"]),
    ):
        print(f"{name:24}{row['p50_us']:>10.1f}{row['mean_us']:>10.1f}{row['per_second']:>12,.0f}")
    print(
        f"ToolUse/CartPole step ratio: p50 {result['ratio_p50']:.1f}x, "
        f"mean {result['ratio_mean']:.1f}x (target <= 10x)"
    )
    print(
        f"import palaestra + gym.make: median {result['import_and_make']['median_ms']:.0f} ms "
        "(target < 300 ms)"
    )
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
