"""Rollout throughput: generated tokens/s and episodes/s against the number of envs in flight.

    python bench/bench_rollout.py --out bench/results/rollout.json            # tiny model + SmolLM2
    python bench/bench_rollout.py --models tiny --out /tmp/rollout.json        # quick
    python bench/bench_rollout.py --models smollm2 --num-envs 1 8 --repeat 3 \
        --label static-cache --out bench/results/rollout_dev.json        # A/B, machine busy
    python bench/bench_rollout.py --memory --out bench/results/rollout_dev.json

Plays ToolUse-v0 (greedy, a short turn limit) with ``collect(num_envs=N)`` for N in 1, 4, 8, 16,
with a tiny random model (real SmolLM2 tokenizer) and with SmolLM2-135M-Instruct itself. With one
env every turn is a batch of one; with N envs one batched call serves every waiting episode. The
agent's system-prompt cache is warmed first, as it is after the first episodes of a long run.
Target (issue 5): at 8 envs, batched collection at least 4x the one-at-a-time throughput.
Writes JSON and a PNG chart.

Each row also says where the time went: seconds inside model forwards that read a prompt
(prefill) and that extend every reply by one token (decode), and the process's CPU seconds, a
steadier measure than wall time while other jobs share the cores. ``--repeat`` runs the sweep
again (1 and 8 back to back, say) and the speedup is the median of the per-sweep ratios.
``--label`` files the run under ``variants[label]`` of an existing output, so that variants of
the code measured one after another sit side by side.

``--memory`` measures instead the peak memory (max RSS, in a fresh process each) of one batch of
16 replies of 64 and of 512 tokens with the tiny model: it no longer grows with steps x vocab
(keeping every step's logits cost 16 x 512 x 49k floats, 1.6 GB).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from shared import command, machine, tiny_model_dir

from palaestra.rollout import collect, summarize

NUM_ENVS = (1, 4, 8, 16)


class ForwardClock:
    """Wall seconds inside the model's forwards, split into prefill and one-token decode steps."""

    def __init__(self, model: Any) -> None:
        self.seconds = {"prefill": 0.0, "decode": 0.0}
        self.decode_steps = 0
        self._started = 0.0
        model.register_forward_pre_hook(self._start, with_kwargs=True)
        model.register_forward_hook(self._stop, with_kwargs=True)

    def _start(self, module: Any, args: Any, kwargs: dict[str, Any]) -> None:
        self._started = time.perf_counter()

    def _stop(self, module: Any, args: Any, kwargs: dict[str, Any], output: Any) -> None:
        decode = kwargs["input_ids"].shape[1] == 1
        self.seconds["decode" if decode else "prefill"] += time.perf_counter() - self._started
        self.decode_steps += decode

    def reset(self) -> None:
        self.seconds = {"prefill": 0.0, "decode": 0.0}
        self.decode_steps = 0


def run(agent: Any, clock: ForwardClock, num_envs: int, episodes: int) -> dict[str, Any]:
    """One timed collection; the agent's batch size follows the number of envs."""
    agent.sampling = dataclasses.replace(agent.sampling, batch_size=num_envs)
    clock.reset()
    load = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    trajectories = collect("ToolUse-v0", agent, episodes, seed=0, num_envs=num_envs, max_turns=3)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    summary = summarize(trajectories)
    return {
        "num_envs": num_envs,
        "episodes": episodes,
        "seconds": seconds,
        "generated_tokens": summary.completion_tokens,
        "tokens_per_second": summary.completion_tokens / seconds,
        "episodes_per_second": episodes / seconds,
        "mean_turns": summary.mean_turns,
        "prefill_seconds": clock.seconds["prefill"],
        "decode_seconds": clock.seconds["decode"],
        "decode_steps": clock.decode_steps,
        "cpu_seconds": cpu_seconds,
        "tokens_per_cpu_second": summary.completion_tokens / cpu_seconds,
        "loadavg_1min": [load, os.getloadavg()[0]],
    }


_MEMORY_PROBE = """
import resource, sys
from palaestra.agents import TransformersAgent
agent = TransformersAgent(sys.argv[1], max_new_tokens=int(sys.argv[2]), temperature=0.0,
                          batch_size=16, prefix_cache_size=0, device="cpu")
turns = agent.respond_batch([[{"role": "user", "content": f"Count to {i}."}] for i in range(16)])
steps = max(len(t.completion_ids) for t in turns)
print(steps, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def memory(steps: tuple[int, ...] = (64, 512)) -> list[dict[str, Any]]:
    """Peak RSS of one batch of 16 replies of each length, each in a fresh process."""
    model = tiny_model_dir()
    rows = []
    for new_tokens in steps:
        out = subprocess.run(
            [sys.executable, "-c", _MEMORY_PROBE, model, str(new_tokens)],
            check=True,
            capture_output=True,
            text=True,
            cwd=tempfile.gettempdir(),  # not the checkout: PYTHONPATH picks the code measured
        ).stdout.split()
        rows.append(
            {
                "batch": 16,
                "max_new_tokens": new_tokens,
                "steps": int(out[-2]),
                "max_rss_mb": float(out[-1]),
            }
        )
        print(f"memory: 16 replies x {out[-2]} steps: peak RSS {float(out[-1]):.0f} MB")
    return rows


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
    parser.add_argument("--num-envs", nargs="+", type=int, default=list(NUM_ENVS))
    parser.add_argument("--repeat", type=int, default=1, help="sweeps over --num-envs")
    parser.add_argument("--label", help="file the run under variants[LABEL] of --out")
    parser.add_argument("--memory", action="store_true", help="peak memory against reply length")
    args = parser.parse_args()
    from palaestra.cli import _quiet_model_loading

    _quiet_model_loading()
    if args.memory:
        result: dict[str, Any] = {"command": command(), "memory": memory()}
        result["machine"] = machine(load_start)
        save(args.out, result, args.label or "memory")
        return
    plans = {
        "tiny": (tiny_model_dir, 32, lambda n: max(16, 2 * n)),
        "smollm2": (lambda: "smollm2", 48, lambda n: max(8, n)),
    }
    result = {"command": command(), "models": {}, "speedup_at_8": {}}
    for name in args.models:
        make_model, max_new_tokens, episodes_for = plans[name]
        agent = warmed_agent(make_model(), max_new_tokens)
        clock = ForwardClock(agent.model)
        rows = []
        for _ in range(args.repeat):
            for num_envs in args.num_envs:
                row = run(agent, clock, num_envs, episodes_for(num_envs))
                rows.append(row)
                print(
                    f"{name:8} envs {num_envs:>2}: {row['tokens_per_second']:7.1f} tok/s "
                    f"{row['episodes_per_second']:6.2f} episodes/s ({row['episodes']} episodes, "
                    f"{row['seconds']:.1f} s: prefill {row['prefill_seconds']:.1f} s, "
                    f"decode {row['decode_seconds']:.1f} s in {row['decode_steps']} steps; "
                    f"{row['tokens_per_cpu_second']:.1f} tok/cpu-s, "
                    f"load {row['loadavg_1min'][0]:.1f})"
                )
        result["models"][name] = rows
        if {1, 8} <= set(args.num_envs):
            sweeps = [
                rows[i : i + len(args.num_envs)] for i in range(0, len(rows), len(args.num_envs))
            ]
            ratios = []
            for sweep in sweeps:
                by_envs = {r["num_envs"]: r for r in sweep}
                ratios.append(by_envs[8]["tokens_per_second"] / by_envs[1]["tokens_per_second"])
            result["speedup_at_8"][name] = statistics.median(ratios)
            if args.repeat > 1:
                result.setdefault("speedups_at_8", {})[name] = ratios
            speedup = result["speedup_at_8"][name]
            print(f"{name}: batched at 8 envs is {speedup:.1f}x one at a time (target >= 4x)")
    result["machine"] = machine(load_start)
    save(args.out, result, args.label)
    if args.label is None:
        plot(result, args.out.with_suffix(".png"))
        print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


def save(out: Path, result: dict[str, Any], label: str | None) -> None:
    """Write ``result``, or file it under ``variants[label]`` of what ``out`` already holds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if label is not None:
        whole = json.loads(out.read_text()) if out.exists() else {}
        whole.setdefault("variants", {})[label] = result
        result = whole
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}" + (f" (variants[{label!r}])" if label else ""))


if __name__ == "__main__":
    main()
