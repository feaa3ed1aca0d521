"""Sandbox costs: start, warm run, state, fork, concurrency, against the usual baselines.

    python bench/bench_sandbox.py --out bench/results/sandbox.json

Measured in one run (min / median / p95, milliseconds):
- LocalSandbox start (until it answers) and close;
- ``reset()`` to a fresh container: without spares (``pool_size=0``), with a spare ready
  (the default pool given time to refill), and back to back (each episode a few runs, as an
  oracle CodeInterpreter-v0 episode, then reset at once: the refill must keep up) with the
  default pool and with 1 to 4 spares;
- a warm ``run("print(1)")``;
- a run in a session holding 100 MB of state, and one that reads all of it;
- ``fork()`` of a session holding 100 MB;
- 32 concurrent sessions, each holding state, all answering at once on this machine;
- baselines: ``subprocess.run([python, "-c", code])`` per call (what GEM and SkyRL-gym do), and a
  Jupyter kernel's start and warm execute (what E2B and OpenHands run), when jupyter_client and
  ipykernel are installed.
Targets (issue 3): warm run >= 50x faster than subprocess per call, start < 60 ms, fork of a
100 MB session < 15 ms, 32 concurrent sessions without error; (issue 16) reset with a spare < 10 ms.
Writes JSON and a PNG chart.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from shared import command, machine  # bench/ is on sys.path

from palaestra.sandbox import LocalSandbox, SandboxConfig

HUNDRED_MB = 100 * 1024 * 1024


def stats(samples: list[float]) -> dict[str, float]:
    ms = np.asarray(samples) * 1000
    return {
        "n": int(ms.size),
        "min_ms": float(ms.min()),
        "median_ms": float(np.median(ms)),
        "p95_ms": float(np.percentile(ms, 95)),
    }


def timed(action: Callable[[], object], repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def bench_start_and_close(repeats: int) -> dict[str, dict[str, float]]:
    LocalSandbox().close()  # the first start probes the machine once per process
    starts, closes = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        sandbox = LocalSandbox()
        starts.append(time.perf_counter() - started)
        started = time.perf_counter()
        sandbox.close()
        closes.append(time.perf_counter() - started)
    return {"start": stats(starts), "close": stats(closes)}


EPISODE = ("import math\nx = math.factorial(20)", "x % 1000", "print(x)")
"""A short episode's runs (an oracle math episode runs about this much)."""


def bench_reset(repeats: int) -> dict[str, dict[str, float]]:
    """Reset latency without spares, with a spare ready, and with episodes back to back."""

    def resets(pool_size: int, *, wait_for_spare: bool) -> list[float]:
        samples = []
        with LocalSandbox(SandboxConfig(pool_size=pool_size)) as sandbox:
            sandbox.reset()  # the pool starts at the first reset
            for _ in range(repeats):
                for code in EPISODE:
                    sandbox.run(code)
                pool = sandbox._pool
                while wait_for_spare and pool is not None and pool.ready < pool_size:
                    time.sleep(0.001)
                started = time.perf_counter()
                sandbox.reset()
                samples.append(time.perf_counter() - started)
        return samples

    return {
        "reset_no_pool": stats(resets(0, wait_for_spare=False)),
        "reset_spare_ready": stats(resets(SandboxConfig().pool_size, wait_for_spare=True)),
        "reset_back_to_back": stats(resets(SandboxConfig().pool_size, wait_for_spare=False)),
        **{
            f"reset_back_to_back_pool_{size}": stats(resets(size, wait_for_spare=False))
            for size in (1, 2, 3, 4)
        },
    }


def bench_runs(repeats: int) -> dict[str, dict[str, float]]:
    config = SandboxConfig(memory_mb=1024)
    with LocalSandbox(config) as sandbox:
        warm = timed(lambda: sandbox.run("print(1)"), repeats)
        result = sandbox.run(f"data = bytearray(b'\\x01' * {HUNDRED_MB})\nlen(data)")
        assert result.value == str(HUNDRED_MB), result
        holding = timed(lambda: sandbox.run("data[12345]"), repeats)
        scanning = timed(lambda: sandbox.run("data.count(1)"), max(10, repeats // 20))
        forks = []
        for _ in range(max(10, repeats // 10)):
            started = time.perf_counter()
            child = sandbox.fork()
            forks.append(time.perf_counter() - started)
            assert child.run("len(data)").value == str(HUNDRED_MB)
            child.close()
    return {
        "warm_run_print": stats(warm),
        "run_holding_100mb": stats(holding),
        "run_scanning_100mb": stats(scanning),
        "fork_100mb": stats(forks),
    }


def bench_concurrent(sessions: int, calls: int) -> dict[str, object]:
    sandboxes = [LocalSandbox(SandboxConfig(memory_mb=256)) for _ in range(sessions)]
    try:
        for index, sandbox in enumerate(sandboxes):
            sandbox.run(f"state = list(range(100_000))\nsession = {index}")
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def worker(index: int, sandbox: LocalSandbox) -> None:
            for call in range(calls):
                started = time.perf_counter()
                result = sandbox.run("session, state[-1] + 1")
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if result.value != f"({index}, 100000)":
                        errors.append(f"session {index} call {call}: {result}")

        threads = [threading.Thread(target=worker, args=(i, s)) for i, s in enumerate(sandboxes)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        for sandbox in sandboxes:
            sandbox.close()
    return {
        "sessions": sessions,
        "calls": sessions * calls,
        "errors": len(errors),
        "first_errors": errors[:3],
        "calls_per_second": sessions * calls / wall,
        "latency": stats(latencies),
    }


def bench_subprocess(repeats: int) -> dict[str, float]:
    command = [sys.executable, "-c", "print(1)"]
    return stats(timed(lambda: subprocess.run(command, capture_output=True, check=True), repeats))


def bench_jupyter(starts: int, repeats: int) -> dict[str, object]:
    try:
        from jupyter_client.manager import start_new_kernel
    except ImportError:
        return {"skipped": "jupyter_client and ipykernel are not installed"}
    start_times = []
    for _ in range(starts):
        started = time.perf_counter()
        manager, client = start_new_kernel(kernel_name="python3")
        start_times.append(time.perf_counter() - started)
        manager.shutdown_kernel(now=True)
        client.stop_channels()
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        client.execute_interactive("print(1)", timeout=30)

        def execute() -> None:
            client.execute_interactive("print(1)", timeout=30, output_hook=lambda message: None)

        warm = timed(execute, repeats)
    finally:
        manager.shutdown_kernel(now=True)
        client.stop_channels()
    return {"start": stats(start_times), "warm_execute": stats(warm)}


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [
        ("palaestra warm run", result["runs"]["warm_run_print"]["median_ms"], "#2b7bba"),
        ("palaestra run, 100 MB held", result["runs"]["run_holding_100mb"]["median_ms"], "#2b7bba"),
        ("palaestra fork, 100 MB", result["runs"]["fork_100mb"]["median_ms"], "#2b7bba"),
        ("palaestra start", result["lifecycle"]["start"]["median_ms"], "#2b7bba"),
        ("reset, spare ready", result["lifecycle"]["reset_spare_ready"]["median_ms"], "#2b7bba"),
        ("reset, back to back", result["lifecycle"]["reset_back_to_back"]["median_ms"], "#2b7bba"),
        ("subprocess per call", result["baselines"]["subprocess_per_call"]["median_ms"], "#999999"),
    ]
    jupyter = result["baselines"]["jupyter"]
    if "warm_execute" in jupyter:
        rows.append(("Jupyter warm execute", jupyter["warm_execute"]["median_ms"], "#999999"))
        rows.append(("Jupyter kernel start", jupyter["start"]["median_ms"], "#999999"))
    labels, values, colours = zip(*rows, strict=True)
    fig, ax = plt.subplots(figsize=(8, 3.8))
    bars = ax.barh(labels, values, color=colours)
    ax.set_xscale("log")
    ax.bar_label(bars, labels=[f"{v:.2f} ms" for v in values], padding=3)
    ax.set_xlabel("median milliseconds, log scale (lower is better)")
    speedup = result["warm_run_speedup_vs_subprocess"]
    ax.set_title(f"Sandbox costs · warm run {speedup:.0f}x faster than a subprocess per call")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    load_start = os.getloadavg()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--starts", type=int, default=30, help="starts, and resets of each kind")
    parser.add_argument("--sessions", type=int, default=32)
    parser.add_argument("--out", type=Path, default=Path("bench/results/sandbox.json"))
    args = parser.parse_args()

    probe = LocalSandbox()
    capabilities = probe.capabilities()
    probe.close()
    result: dict[str, object] = {
        "command": command(),
        "enforced": capabilities.enforced(),
        "lifecycle": {**bench_start_and_close(args.starts), **bench_reset(args.starts)},
        "runs": bench_runs(args.repeats),
        "concurrent": bench_concurrent(args.sessions, 20),
        "baselines": {
            "subprocess_per_call": bench_subprocess(max(20, args.repeats // 10)),
            "jupyter": bench_jupyter(3, max(20, args.repeats // 5)),
        },
    }
    runs, lifecycle = result["runs"], result["lifecycle"]
    subprocess_ms = result["baselines"]["subprocess_per_call"]["median_ms"]  # type: ignore[index]
    result["warm_run_speedup_vs_subprocess"] = subprocess_ms / runs["warm_run_print"]["median_ms"]  # type: ignore[index]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result["machine"] = machine(load_start)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.out.with_suffix(".png"))

    def row(name: str, s: dict[str, float]) -> None:
        print(f"{name:34}{s['min_ms']:>10.2f}{s['median_ms']:>10.2f}{s['p95_ms']:>10.2f}")

    print(f"{'':34}{'min ms':>10}{'median':>10}{'p95':>10}")
    row("start (until it answers)", lifecycle["start"])  # type: ignore[index]
    row("close", lifecycle["close"])  # type: ignore[index]
    for key, name in (
        ("reset_no_pool", "reset, pool_size=0"),
        ("reset_spare_ready", "reset, a spare ready"),
        ("reset_back_to_back", "reset, back to back (default pool)"),
        *((f"reset_back_to_back_pool_{n}", f"reset, back to back, pool {n}") for n in range(1, 5)),
    ):
        row(name, lifecycle[key])  # type: ignore[index]
    for key, name in (
        ("warm_run_print", "warm run print(1)"),
        ("run_holding_100mb", "run, 100 MB held"),
        ("run_scanning_100mb", "run reading all 100 MB"),
        ("fork_100mb", "fork of a 100 MB session"),
    ):
        row(name, runs[key])  # type: ignore[index]
    concurrent = result["concurrent"]
    row(f"{concurrent['sessions']} concurrent sessions, per call", concurrent["latency"])  # type: ignore[index]
    row("subprocess.run per call", result["baselines"]["subprocess_per_call"])  # type: ignore[index]
    jupyter = result["baselines"]["jupyter"]
    if "start" in jupyter:  # type: ignore[operator]
        row("Jupyter kernel start", jupyter["start"])  # type: ignore[index]
        row("Jupyter warm execute", jupyter["warm_execute"])  # type: ignore[index]
    print(
        f"concurrent: {concurrent['calls']} calls, {concurrent['errors']} errors, "  # type: ignore[index]
        f"{concurrent['calls_per_second']:.0f} calls/s"
    )  # type: ignore[index]
    speedup = result["warm_run_speedup_vs_subprocess"]
    print(f"warm run is {speedup:.0f}x faster than a subprocess per call (target >= 50x)")
    print(f"enforced: {', '.join(capabilities.enforced())}")
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
