"""A policy trained on ThoughtGraph-v0 against the static schedules, on the same simulated reasoner.

    python bench/bench_thought_graph_policy.py                       # SmolLM2, sorting 32
    python bench/bench_thought_graph_policy.py --model tiny --train-episodes 4 --eval-episodes 4 \\
        --out /tmp/tg_policy.json                                     # a quick look

What it does, on this machine (CPU):
1. plays oracle episodes of the train split (the oracle plans on a private fork: it refines
   each answer until its score is 0, then submits it) and keeps ``--train-episodes`` of them,
   half where the first answer was exact and half where it had to be refined: unbalanced (two
   thirds need no refining on sorting 32) the policy learned to submit its first answer always
   (the first run of this bench: IO's accuracy at twice its calls);
2. fine-tunes the model on them with `SFTTrainer` (LoRA; loss on the assistant turns only);
3. plays ``--eval-episodes`` test episodes with the trained model (greedy) and, on the same
   test seeds, every static schedule: IO, CoT, ToT(width, depth) for several widths and depths, and
   GoT's schedule; reads accuracy (exact answers) and reasoner calls per episode (from each
   episode's ``info["usage"]``);
4. reports whether the policy is above the static front: more accurate than every static
   schedule that makes no more reasoner calls (the issue's target).

Writes JSON (and an accuracy-vs-calls PNG next to it). Anchors: ARIES reports +29% accuracy at
-35% cost against static schedules; on sorting 32 with Llama-3.1-405B, ToT about 96%, GoT
50-82%, an LLM policy 81%.
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
from shared import command, machine, tiny_model_dir  # bench/ is on sys.path

import palaestra  # noqa: F401  (registers the envs)
from palaestra.agents import OracleAgent
from palaestra.core.types import Trajectory
from palaestra.envs.thought_graph.schedules import play_schedule
from palaestra.rollout import collect
from palaestra.trainers.sft import SFTConfig, SFTTrainer

console = Console()
ENV = "ThoughtGraph-v0"
TOT_SHAPES = ((1, 1), (2, 1), (3, 1), (3, 2), (5, 1), (5, 2))
"""ToT(width, depth) settings swept for the static front (ToT(5, 2) is bench_thought_graph's)."""


def balanced_oracle_episodes(env_kwargs: dict[str, Any], wanted: int) -> list[Trajectory]:
    """Oracle episodes of the train split, half with a refinement (more than two turns)."""
    short: list[Trajectory] = []
    long: list[Trajectory] = []
    seed = 10_000
    while len(short) < wanted // 2 or len(long) < wanted - wanted // 2:
        batch = collect(ENV, OracleAgent, episodes=wanted, seed=seed, env_kwargs=env_kwargs)
        seed += wanted
        for trajectory in batch:
            (long if len(trajectory.steps) > 2 else short).append(trajectory)
    chosen = short[: wanted // 2] + long[: wanted - wanted // 2]
    return [chosen[i] for i in np.random.default_rng(0).permutation(len(chosen))]


def static_schedules(env_kwargs: dict[str, Any], seeds: list[int]) -> dict[str, dict[str, float]]:
    """Accuracy and calls of every static schedule on the test seeds."""
    rows: dict[str, dict[str, float]] = {}
    env = gym.make(ENV, split="test", **env_kwargs)
    shapes: list[tuple[str, str, dict[str, int]]] = [("io", "io", {}), ("cot", "cot", {})]
    shapes += [(f"tot({w},{d})", "tot", {"width": w, "depth": d}) for w, d in TOT_SHAPES]
    shapes.append(("got", "got", {}))
    for label, name, options in shapes:
        outcomes = []
        for seed in seeds:
            env.reset(seed=seed)
            outcomes.append(play_schedule(env, name, **options))
        rows[label] = {
            "accuracy": float(np.mean([o["success"] for o in outcomes])),
            "calls": float(np.mean([o["usage"]["reasoner_calls"] for o in outcomes])),
        }
    env.close()
    return rows


def outcome(trajectories: list[Trajectory]) -> dict[str, float]:
    """Accuracy, calls per episode and format errors of played episodes."""
    calls = [t.metadata.get("usage", {}).get("reasoner_calls", 0) for t in trajectories]
    errors = sum(1 for t in trajectories for step in t.steps if step.error is not None)
    return {
        "accuracy": float(np.mean([t.success for t in trajectories])),
        "calls": float(np.mean(calls)),
        "submitted": float(np.mean([t.terminated for t in trajectories])),
        "action_errors_per_episode": errors / max(1, len(trajectories)),
        "turns": float(np.mean([len(t.steps) for t in trajectories])),
    }


def best_static_within(calls: float, rows: dict[str, dict[str, float]]) -> tuple[str, float]:
    """The most accurate static schedule that makes no more calls; ("none", 0) if none does."""
    within = [(row["accuracy"], name) for name, row in rows.items() if row["calls"] <= calls]
    accuracy, name = max(within, default=(0.0, "none"))
    return name, accuracy


def plot(rows: dict[str, dict[str, float]], policies: dict[str, dict[str, float]], path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(7, 4.5))
    for name, row in rows.items():
        axis.scatter(row["calls"], row["accuracy"], color="tab:gray")
        axis.annotate(name, (row["calls"], row["accuracy"]), fontsize=8)
    for (name, row), color in zip(
        policies.items(), ("tab:red", "tab:blue", "tab:green"), strict=False
    ):
        axis.scatter(row["calls"], row["accuracy"], color=color, marker="*", s=160, label=name)
    axis.set_xscale("log")
    axis.set_xlabel("reasoner calls per episode")
    axis.set_ylabel("accuracy (exact answers)")
    axis.set_title("ThoughtGraph-v0: trained policy vs static schedules (simulated reasoner)")
    axis.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2", help="smollm2, tiny, or a model path")
    parser.add_argument("--task", default="sorting")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--train-episodes", type=int, default=64)
    parser.add_argument("--eval-episodes", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--max-new-tokens", type=int, default=160)
    parser.add_argument("--work", type=Path, default=Path("runs/bench-thought-graph-policy"))
    parser.add_argument("--out", type=Path, default=Path("bench/results/thought_graph_policy.json"))
    args = parser.parse_args()
    load_start = os.getloadavg()
    env_kwargs = {"task": args.task, "size": args.size}
    model = tiny_model_dir() if args.model == "tiny" else args.model
    seeds = list(range(args.eval_episodes))

    started = time.perf_counter()
    oracle = balanced_oracle_episodes(env_kwargs, args.train_episodes)
    config = SFTConfig(
        model=model,
        lora=True,
        learning_rate=args.learning_rate,
        epochs=args.epochs,
        batch_size=2,
        output_dir=str(args.work / "policy"),
    )
    trainer = SFTTrainer(config)
    trained = trainer.train(oracle)
    train_s = time.perf_counter() - started

    from palaestra.agents.transformers_agent import TransformersAgent

    agent = TransformersAgent(
        trainer.model, trainer.tokenizer, temperature=0, max_new_tokens=args.max_new_tokens
    )
    started = time.perf_counter()
    played = collect(
        ENV,
        agent,
        episodes=args.eval_episodes,
        num_envs=8,
        seed=0,
        env_kwargs={**env_kwargs, "split": "test"},
        out=args.work / "eval.jsonl",
        progress=True,
    )
    eval_s = time.perf_counter() - started
    policy = outcome(played)
    oracle_test = outcome(
        collect(
            ENV,
            OracleAgent,
            episodes=args.eval_episodes,
            seed=0,
            env_kwargs={**env_kwargs, "split": "test"},
        )
    )
    rows = static_schedules(env_kwargs, seeds)
    rival, rival_accuracy = best_static_within(policy["calls"], rows)
    above = policy["accuracy"] > rival_accuracy
    results = {
        "command": command(),
        "machine": machine(load_start),
        "env": ENV,
        "env_kwargs": env_kwargs,
        "model": args.model,
        "train": {
            "oracle_episodes": args.train_episodes,
            "epochs": args.epochs,
            "learning_rate": args.learning_rate,
            "steps": trained.steps,
            "tokens_per_second": trained.tokens_per_second,
            "seconds": train_s,
        },
        "eval_seconds": eval_s,
        "eval_episodes": args.eval_episodes,
        "policy": policy,
        "oracle": oracle_test,
        "schedules": rows,
        "best_static_within_policy_calls": {"schedule": rival, "accuracy": rival_accuracy},
        "policy_above_static_front": above,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    plot(rows, {"trained policy": policy, "oracle": oracle_test}, args.out.with_suffix(".png"))

    table = Table(title=f"{ENV} {args.task}-{args.size}: {args.eval_episodes} test episodes")
    for column in ("player", "accuracy", "calls / episode"):
        table.add_column(column, justify="right" if column != "player" else "left")
    table.add_row("trained policy", f"{policy['accuracy']:.2f}", f"{policy['calls']:.1f}")
    table.add_row(
        "oracle (fork plan)", f"{oracle_test['accuracy']:.2f}", f"{oracle_test['calls']:.1f}"
    )
    for name, row in rows.items():
        table.add_row(name, f"{row['accuracy']:.2f}", f"{row['calls']:.1f}")
    console.print(table)
    verdict = "above" if above else "not above"
    console.print(
        f"trained policy: {verdict} the static front (best static schedule within its calls: "
        f"{rival}, accuracy {rival_accuracy:.2f}); trained {train_s:.0f} s, "
        f"evaluated {eval_s:.0f} s"
    )
    console.print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
