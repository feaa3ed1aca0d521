"""CodeInterpreter-v0 costs: oracle episodes per second per family, fork inside an episode, and
where an episode's time goes (the sandbox or palaestra's own code).

    python bench/bench_code_interpreter.py --episodes 30 --out bench/results/code_interpreter.json

Time "in the sandbox" is wall time inside sandbox calls seen from the host: starting and wiping
sessions, uploads, runs, grading sandboxes; everything else in ``reset`` and ``step`` is
palaestra's (parsing, prompts, verification logic, recording). Episodes run back to back, so
``sandbox_reset_ms`` (each new episode's ``Sandbox.reset``, median and p95) shows whether the
spare containers (``--pool-size``, SandboxConfig.pool_size) are refilled in time. Writes JSON and
a PNG chart.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from shared import command, machine  # bench/ is on sys.path

import palaestra
from palaestra.sandbox import SandboxConfig, session

FAMILIES = ("math", "programming", "data")
_SANDBOX_TIME: dict[str, float] = defaultdict(float)
_SANDBOX_CALLS: dict[str, list[float]] = defaultdict(list)


def _instrument() -> None:
    """Count the wall time spent inside every sandbox method the env uses."""
    from palaestra.sandbox import local

    def wrap(owner: Any, name: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                _SANDBOX_TIME[name] += elapsed
                _SANDBOX_CALLS[name].append(elapsed)

        setattr(owner, name, timed)

    for name in ("run", "reset", "upload", "fork", "close"):
        wrap(session.ChannelSandbox, name)
    wrap(local.LocalSandbox, "__init__")


def bench_family(family: str, episodes: int, pool_size: int | None) -> dict[str, Any]:
    options = {} if pool_size is None else {"sandbox_config": {"pool_size": pool_size}}
    env = gym.make("CodeInterpreter-v0", family=family, split="test", **options)
    _SANDBOX_TIME.clear()
    _SANDBOX_CALLS.clear()
    durations, successes = [], 0
    started = time.perf_counter()
    for episode in range(episodes):
        began = time.perf_counter()
        env.reset(seed=episode)
        for action in env.unwrapped.oracle_actions():
            *_, terminated, truncated, info = env.step(action)
        durations.append(time.perf_counter() - began)
        successes += int(info["success"])
    wall = time.perf_counter() - started
    sandbox = sum(_SANDBOX_TIME.values())
    breakdown = {name: seconds / episodes * 1000 for name, seconds in _SANDBOX_TIME.items()}
    resets = np.asarray(_SANDBOX_CALLS["reset"]) * 1000
    env.close()
    ms = np.asarray(durations) * 1000
    return {
        "episodes": episodes,
        "sandbox_reset_ms": {
            "n": int(resets.size),
            "median": float(np.median(resets)),
            "p95": float(np.percentile(resets, 95)),
        },
        "success_rate": successes / episodes,
        "episodes_per_second": episodes / wall,
        "episode_ms": {"median": float(np.median(ms)), "p95": float(np.percentile(ms, 95))},
        "sandbox_share": sandbox / wall,
        "sandbox_ms_per_episode": breakdown,
    }


def bench_fork(repeats: int) -> dict[str, float]:
    env = gym.make("CodeInterpreter-v0", family="data", split="test")  # no reset: no pool
    env.reset(seed=0)
    env.step(env.unwrapped.oracle_actions()[0])  # a live session with the task's state
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        branch = palaestra.fork(env)
        samples.append(time.perf_counter() - started)
        branch.close()
    env.close()
    ms = np.asarray(samples) * 1000
    return {
        "min_ms": float(ms.min()),
        "median_ms": float(np.median(ms)),
        "p95_ms": float(np.percentile(ms, 95)),
    }


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families = list(result["families"])
    sandbox = [result["families"][f]["sandbox_share"] * 100 for f in families]
    own = [100 - s for s in sandbox]
    rates = [result["families"][f]["episodes_per_second"] for f in families]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    bars = left.bar(families, rates, color="#2b7bba")
    left.bar_label(bars, labels=[f"{r:.1f}/s" for r in rates])
    left.set_ylabel("oracle episodes per second")
    left.set_title("Throughput (one env, one core)")
    right.bar(families, sandbox, color="#7fb3d5", label="in the sandbox")
    right.bar(families, own, bottom=sandbox, color="#999999", label="palaestra's own code")
    right.set_ylabel("share of episode time, %")
    right.set_title("Where the time goes")
    right.legend(loc="lower right")
    fig.suptitle(
        f"CodeInterpreter-v0 · fork inside an episode: {result['fork']['median_ms']:.1f} ms"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    load_start = os.getloadavg()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=30)
    parser.add_argument("--forks", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("bench/results/code_interpreter.json"))
    parser.add_argument(
        "--pool-size", type=int, default=None, help="SandboxConfig.pool_size (default: its own)"
    )
    args = parser.parse_args()
    _instrument()
    bench_family("math", 2, args.pool_size)  # warm the imports (reasoning-gym, math-verify)
    result: dict[str, Any] = {
        "command": command(),
        "pool_size": SandboxConfig().pool_size if args.pool_size is None else args.pool_size,
        "families": {
            family: bench_family(family, args.episodes, args.pool_size) for family in FAMILIES
        },
        "fork": bench_fork(args.forks),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result["machine"] = machine(load_start)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.out.with_suffix(".png"))
    print(f"pool_size {result['pool_size']}; episodes back to back")
    print(
        f"{'family':14}{'episodes/s':>12}{'median ms':>12}{'reset median':>14}{'p95':>8}"
        f"{'sandbox share':>16}{'solved':>8}"
    )
    for family, row in result["families"].items():
        reset = row["sandbox_reset_ms"]
        print(
            f"{family:14}{row['episodes_per_second']:>12.1f}{row['episode_ms']['median']:>12.1f}"
            f"{reset['median']:>14.2f}{reset['p95']:>8.1f}"
            f"{row['sandbox_share']:>15.0%}{row['success_rate']:>8.0%}"
        )
        parts = ", ".join(
            f"{k} {v:.1f} ms" for k, v in sorted(row["sandbox_ms_per_episode"].items())
        )
        print(f"{'':14}sandbox per episode: {parts}")
    fork = result["fork"]
    print(f"fork inside an episode: median {fork['median_ms']:.1f} ms (p95 {fork['p95_ms']:.1f})")
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
