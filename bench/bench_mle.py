"""MLE-v0's costs and its yardstick in one run: resets, execute overhead, oracle episodes,
scripted policies' HumanRank, and the size of the data.

    python bench/bench_mle.py --out bench/results/mle.json

Measures, on this machine (a plot of HumanRank per policy and competition goes next to the JSON):
- reset: p50/p95 of warm resets through gym.make over every competition (variants prepared and
  boards loaded once before), and the cold preparation of every variant into an empty cache;
- execute_code overhead: the same code run bare in a LocalSandbox and through env.step, for a
  run that writes no submission and for one that writes a new submission.csv (scored);
- the oracle episode of every competition (variant 0): wall time and reward;
- the HumanRank of each scripted policy (palaestra.envs.mle.scripted) on every competition;
- data: the shipped leaderboards, the package's MLE code and data, the prepared cache.

Anchors: MLE-Dojo runs each execution as a fresh subprocess with a 10-step, multi-hour budget;
MLE-bench Lite needs 158 GB of data. Targets: reset under 100 ms, execute overhead under 10 ms,
every oracle episode under 60 s on these 2 cores, the package's data under 60 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from shared import command, machine, stats_ms  # bench/ is on sys.path

import palaestra  # noqa: F401  (registers the envs)
from palaestra.core.types import ToolCall
from palaestra.envs.mle.scripted import POLICIES, scripted_actions
from palaestra.sandbox import LocalSandbox, SandboxConfig
from palaestra.tasks.mle import catalog
from palaestra.tasks.mle.leaderboard import SHIPPED_DIR, load_leaderboard
from palaestra.tasks.mle.prepare import VARIANTS, mle_cache, prepare

ANCHORS = {
    "mle_dojo": "a fresh subprocess per execution; 10 steps, hours of budget",
    "mle_bench_lite_data_gb": 158,
}
TARGETS = {
    "reset_p50_ms": 100.0,
    "execute_overhead_ms": 10.0,
    "oracle_episode_s": 60.0,
    "package_data_mb": 60.0,
}
console = Console()


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def call(name: str, **arguments: Any) -> str:
    return ToolCall(name=name, arguments=arguments).to_text()


def bench_cold_prepare() -> dict[str, Any]:
    """Every variant prepared into an empty cache (the first use on a new machine)."""
    seconds = []
    with tempfile.TemporaryDirectory() as scratch:
        previous = os.environ.get("PALAESTRA_CACHE")
        os.environ["PALAESTRA_CACHE"] = scratch
        try:
            for competition in catalog.COMPETITIONS:
                for variant in (*VARIANTS["train"], *VARIANTS["test"]):
                    start = time.perf_counter()
                    prepare(competition, variant)
                    seconds.append(time.perf_counter() - start)
        finally:
            if previous is None:
                del os.environ["PALAESTRA_CACHE"]
            else:
                os.environ["PALAESTRA_CACHE"] = previous
    return {
        "variants": len(seconds),
        "median_s": statistics.median(seconds),
        "max_s": max(seconds),
        "total_s": sum(seconds),
    }


def bench_reset(rounds: int) -> dict[str, Any]:
    env = gym.make("MLE-v0")
    for seed in range(200):  # prepare and load everything this split can draw
        env.reset(seed=seed)
    samples = []
    for seed in range(rounds):
        start = time.perf_counter()
        env.reset(seed=1000 + seed)
        samples.append(time.perf_counter() - start)
    env.close()
    return stats_ms(samples)


def bench_execute_overhead(repeats: int) -> dict[str, Any]:
    competition = catalog.COMPETITIONS[0].name
    quiet = "x = sum(range(1000))"
    # A new submission every run: the first prediction is nudged by the run's counter.
    scored = (
        "import csv\n"
        "n = globals().get('n', 0) + 1\n"
        "rows = list(csv.reader(open('sample_submission.csv')))\n"
        "rows[1][1] = str(float(rows[1][1]) * (1 - n * 1e-6))\n"
        "csv.writer(open('submission.csv', 'w', newline='')).writerows(rows)"
    )
    env = gym.make("MLE-v0", competition=competition, max_turns=4 * repeats + 8)
    env.reset(seed=0)
    public = env.unwrapped.prepared.public_files()
    results: dict[str, Any] = {"competition": competition}
    with LocalSandbox(SandboxConfig()) as sandbox:
        for name, content in public.items():
            sandbox.upload(content, name)
        for label, code in (("no_submission", quiet), ("new_submission", scored)):
            env.step(call("execute_code", code=code))  # warm both sides
            sandbox.run(code)
            bare, stepped = [], []
            for _ in range(repeats):
                start = time.perf_counter()
                sandbox.run(code)
                bare.append(time.perf_counter() - start)
                start = time.perf_counter()
                env.step(call("execute_code", code=code))
                stepped.append(time.perf_counter() - start)
            results[label] = {
                "bare": stats_ms(bare),
                "env_step": stats_ms(stepped),
                "overhead_p50_ms": (np.median(stepped) - np.median(bare)) * 1000,
            }
    env.close()
    return results


def play(env: Any, actions: list[str]) -> dict[str, Any]:
    info: dict[str, Any] = {}
    for action in actions:
        _, reward, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    board = info.get("leaderboard", {})
    return {
        "reward": float(reward),
        "medal": board.get("medal"),
        "private_score": board.get("private_score"),
    }


def bench_policies(progress: Progress) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    task = progress.add_task("policies", total=len(catalog.COMPETITIONS) * len(POLICIES))
    for competition in catalog.COMPETITIONS:
        env = gym.make("MLE-v0", competition=competition.name)
        row: dict[str, Any] = {"metric": competition.metric}
        for policy in POLICIES:
            progress.update(task, description=f"{competition.name}: {policy}")
            env.reset(options={"task_id": f"mle-{competition.name}-v0"})
            prepared = env.unwrapped.prepared
            actions = scripted_actions(policy, prepared, env.unwrapped.oracle_actions())
            start = time.perf_counter()
            outcome = play(env, actions)
            outcome["episode_s"] = time.perf_counter() - start
            row[policy] = outcome
            progress.advance(task)
        board = load_leaderboard(competition, 0)
        row["board"] = {
            "entries": len(board.entries),
            "best": board.best.private,
            "median": board.median,
            "dummy": board.dummy.private,
        }
        rows[competition.name] = row
        env.close()
    return rows


def data_sizes() -> dict[str, float]:
    package = Path(catalog.__file__).parent
    return {
        "shipped_leaderboards_mb": size_mb(SHIPPED_DIR),
        "package_mle_mb": size_mb(package),
        "prepared_cache_mb": size_mb(mle_cache()),
    }


def plot(policies: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(policies)
    fig, (left, right) = plt.subplots(1, 2, figsize=(15, 6), gridspec_kw={"width_ratios": [3, 1]})
    positions = np.arange(len(names))
    width = 0.8 / len(POLICIES)
    for index, policy in enumerate(POLICIES):
        ranks = [policies[name][policy]["reward"] for name in names]
        left.bar(positions + index * width, ranks, width, label=policy)
    left.set_xticks(positions + 0.4 - width / 2, names, rotation=75, ha="right", fontsize=8)
    left.set_ylabel("HumanRank (private leaderboard)")
    left.set_title("Scripted policies on every competition (variant 0)")
    left.set_ylim(0, 1.15)
    left.legend(fontsize=8, loc="upper center", ncol=len(POLICIES))
    means = [np.mean([policies[name][policy]["reward"] for name in names]) for policy in POLICIES]
    right.plot(range(len(POLICIES)), means, marker="o")
    right.set_xticks(range(len(POLICIES)), POLICIES, rotation=30, ha="right")
    right.set_ylim(0, 1.05)
    right.set_title("Mean HumanRank")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results/mle.json"))
    parser.add_argument("--resets", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()
    load_start = os.getloadavg()

    with Progress(console=console) as progress:
        step = progress.add_task("boards and variants", total=len(catalog.COMPETITIONS))
        for competition in catalog.COMPETITIONS:
            for variant in (*VARIANTS["train"], *VARIANTS["test"]):
                load_leaderboard(competition, variant)
            progress.advance(step)
        cold = bench_cold_prepare()
        reset = bench_reset(args.resets)
        overhead = bench_execute_overhead(args.repeats)
        policies = bench_policies(progress)
    sizes = data_sizes()

    oracle_s = {name: row["oracle"]["episode_s"] for name, row in policies.items()}
    mean_rank = {
        policy: float(np.mean([row[policy]["reward"] for row in policies.values()]))
        for policy in POLICIES
    }
    results = {
        "command": command(),
        "machine": machine(load_start),
        "anchors": ANCHORS,
        "targets": TARGETS,
        "competitions": len(catalog.COMPETITIONS),
        "reset_warm": reset,
        "prepare_cold": cold,
        "execute_overhead": overhead,
        "oracle_episode_s": {"max": max(oracle_s.values()), "per_competition": oracle_s},
        "oracle_always_rank_1": all(row["oracle"]["reward"] == 1.0 for row in policies.values()),
        "mean_human_rank": mean_rank,
        "policies": policies,
        "data": sizes,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    plot(policies, args.out.with_suffix(".png"))

    table = Table(title=f"MLE-v0 on this machine ({len(catalog.COMPETITIONS)} competitions)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_row("warm reset p50", f"{reset['p50_ms']:.1f} ms", "< 100 ms")
    table.add_row("cold prepare (median variant)", f"{cold['median_s']:.2f} s", "")
    for label in ("no_submission", "new_submission"):
        table.add_row(
            f"execute overhead ({label})",
            f"{overhead[label]['overhead_p50_ms']:.2f} ms",
            "< 10 ms",
        )
    table.add_row("slowest oracle episode", f"{max(oracle_s.values()):.1f} s", "< 60 s")
    for policy, rank in mean_rank.items():
        table.add_row(f"mean HumanRank: {policy}", f"{rank:.3f}", "rising")
    table.add_row("package MLE data", f"{sizes['package_mle_mb']:.2f} MB", "< 60 MB")
    table.add_row("prepared cache", f"{sizes['prepared_cache_mb']:.1f} MB", "")
    console.print(table)
    console.print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
