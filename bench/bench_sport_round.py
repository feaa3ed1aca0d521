"""One SPORT round on ToolUse-v0 with SmolLM2: wall time of step-pair mining, then step-wise DPO.

    python bench/bench_sport_round.py                # SmolLM2: ~1.5 min mining (+ ~4 min training)
    python bench/bench_sport_round.py --episodes 2 --k 2 --max-new-tokens 32 --out /tmp/sport.json
    python bench/bench_sport_round.py --policy random --episodes 2 --max-steps 1 --out /tmp/s.json

A round is what ``palaestra train stepdpo`` repeats: `mine_step_pairs` plays episodes with the
policy (``StepDPOTrainer(...).policy(temperature=1.0, max_new_tokens=128, seed=0)``), branches
every state ``k`` ways in forks of the env, scores the branches with `EnvSignalVerifier`
(success > valid tool call > failed final answer > error) and pairs the best step with each worse
one; `StepDPOTrainer.train` then runs TRL's DPO on those pairs (LoRA by default, cheaper on a
CPU), its reference log-probs precomputed, and saves the merged model under a temporary
directory. Measured: model loading, mining (of which model generation), training (TRL's
reference pass, steps and saving included) and the whole round; the mining counts (states
branched, candidates, duplicates, pairs, failed branches) and the generated tokens. SmolLM2 rarely
writes a valid tool call, so a round may find no pair (all candidates of a state score alike); the
mining is timed all the same and training is skipped with a note. ``--policy random`` proposes
candidates with `RandomAgent` instead, which makes pairs at once: a check, and a timing, of the
training phase on the same model. Writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
warnings.filterwarnings("ignore", category=FutureWarning)  # transformers 5 renames, not ours

from rich.console import Console  # noqa: E402
from rich.progress import (  # noqa: E402
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table  # noqa: E402
from shared import command, machine  # noqa: E402

console = Console()


def counting(agent: Any, totals: dict[str, float]) -> None:
    """Wrap the agent's batched replies: count calls, replies, generated tokens and seconds."""
    respond = agent.respond_batch

    def respond_batch(conversations: Any, tools: Any = None) -> Any:
        started = time.perf_counter()
        turns = respond(conversations, tools)
        totals["calls"] += 1
        totals["replies"] += len(turns)
        totals["generated_tokens"] += sum(len(t.completion_ids or ()) for t in turns)
        totals["seconds"] += time.perf_counter() - started
        return turns

    agent.respond_batch = respond_batch


def _kind(branch: Any) -> str:
    """What a candidate step did: a tool call, an error, a final answer, or the turn limit."""
    if branch.info.get("error"):
        return "error"
    if branch.info.get("tool_calls"):
        return "tool_call"
    if branch.terminated:
        return "final_answer_solved" if branch.reward >= 1 else "final_answer_failed"
    return "truncated" if branch.truncated else "other"


def summary_table(result: dict[str, Any]) -> Table:
    mining, training = result["mining"], result["training"]
    table = Table(title=f"One SPORT round on ToolUse-v0 with {result['settings']['model']}")
    table.add_column("phase")
    table.add_column("value", justify="right")
    rows = [
        ("model load s", f"{result['load_seconds']:.1f}"),
        ("mining s", f"{mining['seconds']:.1f}"),
        ("  of which generation s", f"{mining['generation_seconds']:.1f}"),
        ("  generated tokens/s", f"{mining['generated_tokens_per_second']:.1f}"),
        ("episodes", str(mining["episodes"])),
        ("states branched", str(mining["states"])),
        ("candidates", str(mining["candidates"])),
        ("duplicates", str(mining["duplicates"])),
        ("failed branches", str(mining["failed_branches"])),
        ("pairs", str(mining["pairs"])),
        ("branch kinds", ", ".join(f"{k} {v}" for k, v in sorted(mining["branch_kinds"].items()))),
    ]
    if training["skipped"]:
        rows.append(("training", "skipped: no pair"))
    else:
        rows += [
            ("training s", f"{training['seconds']:.1f}"),
            ("  of which reference s", f"{training['reference_seconds']:.1f}"),
            ("training steps", str(training["steps"])),
            (
                "pairs trained / mined / dropped",
                f"{training['pairs']} / {training['pairs_mined']} / {training['dropped']}",
            ),
        ]
    rows.append(("round s (mining + training)", f"{result['round_seconds']:.1f}"))
    for name, value in rows:
        table.add_row(name, value)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2", help="'smollm2', a path or a hub id")
    parser.add_argument("--episodes", type=int, default=8, help="episodes mined")
    parser.add_argument("--k", type=int, default=4, help="candidate steps sampled per state")
    parser.add_argument("--max-turns", type=int, default=4, help="turn limit per episode")
    parser.add_argument(
        "--max-new-tokens", type=int, default=128, help="token limit of one candidate"
    )
    parser.add_argument("--temperature", type=float, default=1.0, help="policy sampling")
    parser.add_argument(
        "--policy",
        choices=["model", "random"],
        default="model",
        help="who proposes candidates: the model being trained (a SPORT round), or RandomAgent "
        "(a quick check of the training path: it makes pairs at once)",
    )
    parser.add_argument(
        "--num-envs", type=int, default=8, help="episodes mined at once (one policy call a turn)"
    )
    parser.add_argument(
        "--lora",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="train a LoRA adapter (merged after the round) instead of every weight",
    )
    parser.add_argument(
        "--max-pairs",
        type=int,
        default=8,
        help="train on at most this many of the mined pairs (a seeded sample; 0: all). TRL's DPO "
        "takes ~45 s a step (2 pairs, LoRA) on 2 CPU cores, so all of a round's pairs can take "
        "far longer",
    )
    parser.add_argument(
        "--max-steps", type=int, default=None, help="cap on optimizer steps (default: one epoch)"
    )
    parser.add_argument("--batch-size", type=int, default=2, help="pairs per optimizer step")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("bench/results/sport_round.json"))
    args = parser.parse_args()

    import transformers
    import trl
    from transformers.utils import logging as hf_logging

    from palaestra.trainers.stepdpo import StepDPOConfig, StepDPOTrainer
    from palaestra.trainers.stepwise import mine_step_pairs
    from palaestra.trainers.verifiers import EnvSignalVerifier

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    load_start = os.getloadavg()
    output_dir = tempfile.mkdtemp(prefix="bench-sport-")

    started = time.perf_counter()
    config = StepDPOConfig(
        model=args.model,
        lora=args.lora,
        batch_size=args.batch_size,
        max_steps=args.max_steps,
        seed=args.seed,
        output_dir=output_dir,
        progress=True,  # TRL's own bars while training
    )
    trainer = StepDPOTrainer(config)
    if args.policy == "model":
        policy = trainer.policy(
            temperature=args.temperature, max_new_tokens=args.max_new_tokens, seed=args.seed
        )
    else:
        from palaestra.agents import RandomAgent

        policy = RandomAgent(seed=args.seed)
    load_seconds = time.perf_counter() - started
    generation: dict[str, float] = Counter()  # type: ignore[assignment]
    counting(policy, generation)

    gaps: Counter[str] = Counter()
    kinds: Counter[str] = Counter()  # what the distinct candidates of branched states were
    state_scores: list[list[float]] = []
    samples: list[str] = []
    states = 0
    columns = (SpinnerColumn(), TextColumn("[bold]{task.description}"),
               TextColumn("{task.fields[status]}"), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(
            f"mining {args.episodes} episodes, k={args.k}", total=None, status="starting"
        )

        def on_branches(branches: list[Any], scores: list[float]) -> None:
            nonlocal states
            states += 1
            state_scores.append(scores)
            for branch in branches:
                kinds[_kind(branch)] += 1
                if len(samples) < 4:
                    samples.append(branch.action[:200])
            progress.update(
                task,
                status=f"{states} states branched, {int(generation['generated_tokens'])} tokens "
                f"generated, scores {sorted(scores, reverse=True)}",
            )

        mined = mine_step_pairs(
            "ToolUse-v0",
            policy,
            args.episodes,
            k=args.k,
            verifier=EnvSignalVerifier(),
            seed=args.seed,
            max_turns=args.max_turns,
            num_envs=args.num_envs,
            on_branches=on_branches,
        )
        progress.update(task, status=f"done: {len(mined.pairs)} pairs")
    for pair in mined.pairs:
        gaps[f"{pair.chosen_score:g}>{pair.rejected_score:g}"] += 1
    mining = {
        "seconds": mined.seconds,
        "episodes": len(mined.trajectories),
        "states": mined.states,
        "candidates": mined.candidates,
        "duplicates": mined.duplicates,
        "failed_branches": mined.failed_branches,
        "pairs": len(mined.pairs),
        "pairs_per_episode": mined.pairs_per_episode,
        "pair_scores": dict(gaps),
        "policy_calls": int(generation["calls"]),
        "generated_tokens": int(generation["generated_tokens"]),
        "generation_seconds": generation["seconds"],
        "generated_tokens_per_second": generation["generated_tokens"]
        / max(generation["seconds"], 1e-9),
        "branch_kinds": dict(kinds),
        "state_scores": state_scores,
        "sample_candidates": samples,
        "followed_turns": sum(len(t.steps) for t in mined.trajectories),
        "followed_successes": sum(bool(t.success) for t in mined.trajectories),
    }
    console.print(
        f"mined {mining['pairs']} pairs from {mining['states']} branched states in "
        f"{mining['seconds']:.1f} s"
    )

    training: dict[str, Any] = {"skipped": not mined.pairs}
    train_pairs = list(mined.pairs)
    if args.max_pairs and len(train_pairs) > args.max_pairs:
        train_pairs = random.Random(args.seed).sample(train_pairs, args.max_pairs)
    if train_pairs:
        from palaestra.trainers import stepdpo

        # Time TRL's reference pass (in its constructor) apart from the steps: wrap the class
        # StepDPOTrainer builds, without changing what it does.
        base = stepdpo._tokenized_dpo_trainer()
        reference = {"seconds": 0.0}

        class Timed(base):  # type: ignore[misc,valid-type]
            def _precompute_ref_logps(self, *a: Any, **kw: Any) -> Any:
                began = time.perf_counter()
                try:
                    return super()._precompute_ref_logps(*a, **kw)
                finally:
                    reference["seconds"] += time.perf_counter() - began

        original = stepdpo._tokenized_dpo_trainer
        stepdpo._tokenized_dpo_trainer = lambda: Timed  # type: ignore[assignment]
        try:
            console.print(
                f"training on {len(train_pairs)} of {len(mined.pairs)} pairs "
                f"(TRL DPO, lora={args.lora})"
            )
            began = time.perf_counter()
            result = trainer.train(train_pairs)
            train_wall = time.perf_counter() - began
        finally:
            stepdpo._tokenized_dpo_trainer = original
        losses = [h["loss"] for h in result.history if "loss" in h]
        training |= {
            "seconds": result.seconds,
            "wall_seconds": train_wall,
            "reference_seconds": reference["seconds"],
            "steps": result.steps,
            "pairs_mined": len(mined.pairs),
            "pairs": result.pairs,
            "dropped": result.dropped,
            "first_loss": losses[0] if losses else None,
            "last_loss": losses[-1] if losses else None,
            "train_runtime": next(
                (h["train_runtime"] for h in result.history if "train_runtime" in h), None
            ),
            "saved_to": str(result.output_dir) + " (deleted after the run)",
        }
    else:
        training["note"] = (
            "no pair: every branched state's candidates scored alike under EnvSignalVerifier "
            "(see mining.branch_kinds and state_scores), so there was nothing to train on; the "
            "mining is timed all the same"
        )

    result_json: dict[str, Any] = {
        "command": command(),
        "machine": machine(load_start, transformers=transformers.__version__, trl=trl.__version__),
        "settings": {
            "model": args.model,
            "env": "ToolUse-v0",
            "episodes": args.episodes,
            "k": args.k,
            "max_turns": args.max_turns,
            "max_new_tokens": args.max_new_tokens,
            "temperature": args.temperature,
            "policy": args.policy,
            "num_envs": args.num_envs,
            "verifier": "EnvSignalVerifier",
            "lora": args.lora,
            "batch_size": args.batch_size,
            "max_pairs": args.max_pairs or None,
            "max_steps": args.max_steps,
            "seed": args.seed,
        },
        "load_seconds": load_seconds,
        "mining": mining,
        "training": training,
        "round_seconds": mining["seconds"] + training.get("seconds", 0.0),
        "notes": [
            "round_seconds = mining + training (training: StepDPOTrainer.train, dataset building, "
            "TRL's reference pass, the steps, merging the adapter and saving included); model "
            "loading is apart. Training uses at most max_pairs of the mined pairs (a seeded "
            "sample), so that the default run fits in about 15 minutes on 2 cores.",
            "Other processes may share the 2 cores: see machine.loadavg_start/end.",
        ],
    }
    shutil.rmtree(output_dir, ignore_errors=True)  # the saved round's model: ~0.5 GB
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result_json, indent=2) + "\n")
    console.print(summary_table(result_json))
    console.print(
        f"load average {load_start[0]:.2f} -> {result_json['machine']['loadavg_end'][0]:.2f}; "
        f"wrote {args.out}"
    )


if __name__ == "__main__":
    main()
