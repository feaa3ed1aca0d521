"""DPO training throughput: palaestra's multi-turn DPO against TRL's DPOTrainer, same data, model.

    python bench/bench_dpo_vs_trl.py                                   # SmolLM2, ~8 min, 2 cores
    python bench/bench_dpo_vs_trl.py --model tiny --pairs 4 --out /tmp/dpo_vs_trl.json   # quick
    python bench/bench_dpo_vs_trl.py --lora                            # LoRA adapters in both

Data: ToolUse-v0 tasks played by the oracle (successes) and by a failing agent (random, or noop)
on the same task ids, paired with `preference_pairs` and tokenized by palaestra (`DPOTrainer.pairs`,
``max_length`` applied, start kept). TRL gets exactly those tokens, pre-tokenized: per pair, the
prompt is the shared prefix of the two sequences up to the first model-written token, chosen and
rejected are the rest (TRL 1.16 re-tokenizes datasets; `palaestra.trainers.stepdpo`'s
``_tokenized_dpo_trainer`` lets ``prompt_ids/chosen_ids/rejected_ids`` through). Both then see the
same padded sequences, so they push the same tokens through the model. What differs is the loss:
palaestra scores only the model-written tokens (the output layer runs only there), TRL scores the
whole completion, observations included; fine for a throughput comparison, and the JSON's
``data.loss_tokens_*`` say how many each scores. (On a CPU, TRL 1.16's fused LM head in fact runs
the output layer at every position of the batch; it keeps only completion positions on GPUs.)

Matched settings: one model checkpoint (a fresh copy each), fp32, no gradient checkpointing, full
fine-tuning unless ``--lora``, the same batch size, learning rate, warmup ratio and grad clipping,
epochs over the same pairs (so the same optimizer steps and the same tokens), reference log-probs
precomputed once before training in both (palaestra's default; TRL's
``precompute_ref_log_probs=True``). Each framework keeps its own AdamW (TRL's default is fused).

Measured: tokens/s = non-padding tokens of the training forward passes (sum of the attention masks
of the chosen + rejected sequences of every step) / wall time of the training loop. The loop is
palaestra's `TrainResult.seconds` (after the optimizer is built, to the end of the last step) and,
for TRL, the time from the ``on_train_begin`` to the ``on_train_end`` callback; model loading,
tokenization, reference scoring (timed on its own; TRL does it in ``__init__``) and saving are
outside both. Each model first runs one untimed warm-up forward + backward on the largest batch;
then each trainer runs ``--rounds`` timed epochs, each with a fresh optimizer, in ABBA order
(palaestra, TRL, TRL, palaestra), so a load that drifts (other jobs on the cores) falls on both
alike; throughput is total tokens over total loop time. "Steady" leaves the first step of each run
out; tokens per CPU-second (this process's user + system time over the loop) is less sensitive to
other jobs than wall time. Peak RSS is sampled during each loop. Target: palaestra >= 0.9x TRL.
Writes JSON and a PNG chart.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")  # TRL's reference pass and datasets' maps use tqdm
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
warnings.filterwarnings("ignore", category=FutureWarning)  # transformers 5 renames, not ours

from rich.console import Console  # noqa: E402
from rich.progress import (  # noqa: E402
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table  # noqa: E402
from shared import command, machine, tiny_model_dir  # noqa: E402

console = Console()


# ------------------------------------------------------------------------------ measurement
def cpu_seconds() -> float:
    """User + system CPU time of this process so far (all threads)."""
    times = os.times()
    return times.user + times.system


def rss_mb() -> float:
    """This process's resident set size now, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class PeakRSS:
    """Samples RSS every 50 ms in a thread while in the ``with`` block; ``peak_mb`` is the max."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, rss_mb())
            self._stop.wait(0.05)

    def __enter__(self) -> PeakRSS:
        self.start_mb = rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, rss_mb())


@dataclass
class Probe:
    """What the loss wrapper of each trainer sees: when each training step starts, its tokens."""

    starts: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    loop_begin: float | None = None
    loop_end: float | None = None
    cpu_begin: float = 0.0
    cpu_end: float = 0.0
    reference_seconds: float = 0.0

    def step(self, attention_mask: Any) -> None:
        self.starts.append(time.perf_counter())
        self.tokens.append(int(attention_mask.sum()))

    def summary(self, loop_seconds: float, end: float) -> dict[str, Any]:
        """Loop and steady-state (first step left out) throughput; per-step seconds."""
        steps = [b - a for a, b in zip(self.starts, self.starts[1:], strict=False)]
        steps.append(end - self.starts[-1])
        total = sum(self.tokens)
        steady_tokens = total - self.tokens[0]
        steady_seconds = end - self.starts[1] if len(self.starts) > 1 else float("nan")
        cpu = self.cpu_end - self.cpu_begin
        return {
            "steps_seen": len(self.starts),
            "tokens": total,
            "loop_seconds": loop_seconds,
            "tokens_per_second": total / loop_seconds,
            "loop_cpu_seconds": cpu,
            "tokens_per_cpu_second": total / cpu,
            "steady_tokens_per_second": steady_tokens / steady_seconds,
            "first_step_seconds": steps[0],
            "step_seconds": steps,
            "step_tokens": self.tokens,
        }


# ------------------------------------------------------------------------------------ data
def trajectories(tasks: int, failure_agent: str, seed: int) -> list[Any]:
    """Oracle successes and failures of the same ToolUse-v0 tasks."""
    from palaestra.agents import NoopAgent, OracleAgent, RandomAgent
    from palaestra.rollout import collect

    good = collect("ToolUse-v0", OracleAgent, tasks, seed=seed)
    ids = [t.task_id for t in good]
    failing = RandomAgent(seed=seed) if failure_agent == "random" else NoopAgent()
    bad = collect("ToolUse-v0", failing, tasks=ids, max_turns=3)
    return [t for t in good if t.success] + [t for t in bad if not t.success]


def trl_example(pair: Any) -> dict[str, list[int]]:
    """A palaestra pair as TRL ids: the shared prefix up to the first model token, then the rest."""
    chosen, rejected = pair.chosen, pair.rejected
    limit = min(chosen.assistant_mask.index(1), rejected.assistant_mask.index(1))
    prompt = 0
    while prompt < limit and chosen.input_ids[prompt] == rejected.input_ids[prompt]:
        prompt += 1
    return {
        "prompt_ids": chosen.input_ids[:prompt],
        "chosen_ids": chosen.input_ids[prompt:],
        "rejected_ids": rejected.input_ids[prompt:],
    }


def warm_up(model: Any, batch: dict[str, Any]) -> float:
    """One untimed forward + backward (gradients dropped): the process and kernels warm."""
    from palaestra.trainers.losses import sequence_logprobs

    started = time.perf_counter()
    model.train()
    sequence_logprobs(model, batch).sum().backward()
    model.zero_grad(set_to_none=True)
    return time.perf_counter() - started


# ---------------------------------------------------------------------------------- trainers
class Ours:
    """palaestra's DPOTrainer, its `train` taken apart so each phase is timed on its own.

    Setup loads the model, tokenizes the pairs and scores the reference once; each `run` is one
    `Engine.train` call (a fresh optimizer) over the same pairs.
    """

    name = "palaestra"

    def __init__(self, args: argparse.Namespace, model: str, data: list[Any]) -> None:
        from palaestra.trainers.dpo import DPOConfig, DPOTrainer

        self.args = args
        config = DPOConfig(
            model=model,
            beta=0.1,
            learning_rate=args.learning_rate,
            batch_size=args.batch_size,
            epochs=1,
            max_length=args.max_length or None,
            max_pairs_per_task=1,
            warmup_ratio=0.1,
            max_grad_norm=1.0,
            mixed_precision="no",
            gradient_checkpointing=False,
            lora=args.lora,
            merge_lora=False,  # keep the adapter between runs (merging is after the loop anyway)
            seed=args.seed,
            output_dir=None,  # no TensorBoard, no saving
            progress=False,  # the bench's own bar, for both trainers
        )
        started = time.perf_counter()
        self.trainer = DPOTrainer(config)
        self.setup: dict[str, Any] = {"load_seconds": time.perf_counter() - started}

        started = time.perf_counter()
        self.pairs = self.trainer.pairs(data)[: args.pairs]
        self.setup["tokenize_seconds"] = time.perf_counter() - started

        started = time.perf_counter()
        self.trainer.score_reference(self.pairs)
        self.setup["reference_seconds"] = time.perf_counter() - started

        largest = sorted(self.pairs, key=lambda p: len(p.chosen) + len(p.rejected))
        batch = self.trainer.collate(largest[-args.batch_size :])
        self.setup["warm_up_seconds"] = warm_up(self.trainer.model, batch)
        self.setup["trainable_parameters"] = sum(
            p.numel() for p in self.trainer.model.parameters() if p.requires_grad
        )
        self.examples = [trl_example(p) for p in self.pairs]

    def run(self, progress: Progress, label: str) -> dict[str, Any]:
        """One timed epoch over the pairs."""
        trainer, probe = self.trainer, Probe()
        task = progress.add_task(
            label, total=-(-len(self.pairs) // self.args.batch_size), status=""
        )
        loss = trainer.loss

        def timed_loss(model: Any, batch: dict[str, Any]) -> Any:
            probe.step(batch["attention_mask"])
            progress.update(task, completed=len(probe.starts), status=f"{sum(probe.tokens)} tok")
            return loss(model, batch)

        with PeakRSS() as rss:
            probe.cpu_begin = cpu_seconds()
            result = trainer.engine.train(
                self.pairs, trainer.collate, timed_loss, name="dpo", key_metric="reward_accuracy"
            )
            end = time.perf_counter()
            probe.cpu_end = cpu_seconds()
        progress.update(task, completed=result.steps)
        trainer.engine.accelerator.free_memory()  # drop the run's optimizer (its AdamW state)
        measured = probe.summary(result.seconds, end)
        if measured["tokens"] != result.tokens:
            raise SystemExit(
                f"token counts disagree: probe {measured['tokens']}, engine {result.tokens}"
            )
        return {
            "optimizer_steps": result.steps,
            "final_loss": result.final_loss,
            "rss_at_loop_start_mb": rss.start_mb,
            "peak_rss_in_loop_mb": rss.peak_mb,
            **measured,
        }


class TRL:
    """TRL's DPOTrainer on palaestra's token ids, reference precomputed in its constructor.

    Each `run` is one ``trainer.train()`` call (a fresh optimizer) over the same dataset.
    """

    name = "TRL"

    def __init__(self, args: argparse.Namespace, model_spec: str, examples: list[dict]) -> None:
        import dataclasses

        from datasets import Dataset
        from transformers import PrinterCallback, TrainerCallback
        from trl import DPOConfig

        from palaestra.agents.chat import TokenizedChat
        from palaestra.agents.models import load_model_and_tokenizer, prepare_tokenizer
        from palaestra.trainers.data import collate
        from palaestra.trainers.stepdpo import _tokenized_dpo_trainer

        self.args, self.examples = args, examples
        self.probe, self.reference_seconds = Probe(), 0.0
        self.on_step: Any = None
        bench = self

        class Timed(_tokenized_dpo_trainer()):  # type: ignore[misc]
            def _precompute_ref_logps(self, dataset: Any, name: str, batch_size: int) -> Any:
                started = time.perf_counter()
                try:
                    return super()._precompute_ref_logps(dataset, name, batch_size)
                finally:
                    bench.reference_seconds += time.perf_counter() - started

            def compute_loss(self, model: Any, inputs: Any, *a: Any, **kw: Any) -> Any:
                if model.training:
                    bench.probe.step(inputs["attention_mask"])
                    bench.on_step()
                return super().compute_loss(model, inputs, *a, **kw)

        class Clock(TrainerCallback):
            def on_train_begin(self, *a: Any, **kw: Any) -> None:
                bench.probe.loop_begin, bench.probe.cpu_begin = time.perf_counter(), cpu_seconds()

            def on_train_end(self, *a: Any, **kw: Any) -> None:
                bench.probe.loop_end, bench.probe.cpu_end = time.perf_counter(), cpu_seconds()

        started = time.perf_counter()
        model, tokenizer = load_model_and_tokenizer(model_spec, device="cpu", dtype="float32")
        prepare_tokenizer(tokenizer, model)
        self.setup: dict[str, Any] = {"load_seconds": time.perf_counter() - started}

        # The same warm-up batch palaestra's model got: the largest pairs, as whole sequences.
        def whole(e: dict, side: str) -> TokenizedChat:
            ids = e["prompt_ids"] + e[side]
            return TokenizedChat(ids, [0] * len(e["prompt_ids"]) + [1] * len(e[side]), [])

        def size(e: dict) -> int:
            return 2 * len(e["prompt_ids"]) + len(e["chosen_ids"]) + len(e["rejected_ids"])

        largest = sorted(examples, key=size)[-args.batch_size :]
        batch = collate(
            [whole(e, "chosen_ids") for e in largest] + [whole(e, "rejected_ids") for e in largest],
            tokenizer.pad_token_id,
        )
        self.setup["warm_up_seconds"] = warm_up(model, batch)

        fields = {f.name for f in dataclasses.fields(DPOConfig)}
        renamed = {
            "activation_checkpointing" if "activation_checkpointing" in fields
            else "gradient_checkpointing": False,
            "warmup_ratio" if "warmup_ratio" in fields else "warmup_steps": 0.1,
        }  # fmt: skip
        config = DPOConfig(
            output_dir=tempfile.mkdtemp(prefix="bench-trl-dpo-"),
            beta=0.1,
            loss_type=["sigmoid"],
            max_length=None,  # cut to max_length already, exactly as palaestra's sequences
            precompute_ref_log_probs=True,
            learning_rate=args.learning_rate,
            num_train_epochs=1,
            per_device_train_batch_size=args.batch_size,
            gradient_accumulation_steps=1,
            max_grad_norm=1.0,
            weight_decay=0.0,
            lr_scheduler_type="linear",
            bf16=False,
            fp16=False,
            seed=args.seed,
            logging_steps=1,
            report_to="none",
            save_strategy="no",
            disable_tqdm=True,
            dataloader_num_workers=0,
            dataloader_pin_memory=False,
            **renamed,
        )
        peft_config = None
        if args.lora:
            from peft import LoraConfig

            peft_config = LoraConfig(
                r=16,
                lora_alpha=32,
                lora_dropout=0.05,
                target_modules="all-linear",
                task_type="CAUSAL_LM",
            )
        columns = ("prompt_ids", "chosen_ids", "rejected_ids")
        dataset = Dataset.from_dict({c: [e[c] for e in examples] for c in columns})
        started = time.perf_counter()
        self.trainer = Timed(
            model=model,
            ref_model=None,
            args=config,
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=peft_config,
            callbacks=[Clock()],
        )
        init_seconds = time.perf_counter() - started
        self.trainer.remove_callback(PrinterCallback)  # its log lines would break the display
        self.setup |= {
            "reference_seconds": self.reference_seconds,
            "init_seconds": init_seconds,
            "init_other_seconds": init_seconds - self.reference_seconds,
            "trainable_parameters": sum(
                p.numel() for p in self.trainer.model.parameters() if p.requires_grad
            ),
            "optimizer": str(config.optim),
        }

    def run(self, progress: Progress, label: str) -> dict[str, Any]:
        """One timed epoch over the dataset."""
        trainer = self.trainer
        self.probe = probe = Probe()
        task = progress.add_task(
            label, total=-(-len(self.examples) // self.args.batch_size), status=""
        )
        self.on_step = lambda: progress.update(
            task, completed=len(probe.starts), status=f"{sum(probe.tokens)} tok"
        )
        counted = trainer._total_train_tokens
        trainer.optimizer, trainer.lr_scheduler = None, None  # a fresh optimizer, as ours gets
        with PeakRSS() as rss:
            started = time.perf_counter()
            output = trainer.train()
            train_call_seconds = time.perf_counter() - started
        trainer.optimizer = None
        trainer.accelerator.free_memory()
        progress.update(task, completed=trainer.state.global_step)
        if probe.loop_begin is None or probe.loop_end is None:
            raise SystemExit("TRL never called on_train_begin / on_train_end")
        measured = probe.summary(probe.loop_end - probe.loop_begin, probe.loop_end)
        if measured["tokens"] != trainer._total_train_tokens - counted:
            raise SystemExit(
                f"token counts disagree: probe {measured['tokens']}, "
                f"TRL {trainer._total_train_tokens - counted}"
            )
        return {
            "optimizer_steps": trainer.state.global_step,
            "final_loss": float(output.training_loss),
            "train_call_seconds": train_call_seconds,
            "rss_at_loop_start_mb": rss.start_mb,
            "peak_rss_in_loop_mb": rss.peak_mb,
            **measured,
        }


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over a trainer's runs: throughput is total tokens over total time."""
    tokens = sum(r["tokens"] for r in runs)
    steady_tokens = sum(r["tokens"] - r["step_tokens"][0] for r in runs)
    steady_seconds = sum(r["loop_seconds"] - r["first_step_seconds"] for r in runs)
    return {
        "run_count": len(runs),
        "optimizer_steps": sum(r["optimizer_steps"] for r in runs),
        "tokens": tokens,
        "loop_seconds": sum(r["loop_seconds"] for r in runs),
        "tokens_per_second": tokens / sum(r["loop_seconds"] for r in runs),
        "steady_tokens_per_second": steady_tokens / steady_seconds,
        "tokens_per_cpu_second": tokens / sum(r["loop_cpu_seconds"] for r in runs),
        "mean_step_seconds": sum(r["loop_seconds"] for r in runs)
        / sum(r["optimizer_steps"] for r in runs),
        "first_step_seconds": sum(r["first_step_seconds"] for r in runs) / len(runs),
        "peak_rss_in_loop_mb": max(r["peak_rss_in_loop_mb"] for r in runs),
        "final_loss": runs[-1]["final_loss"],
    }


def pair_stats(pairs: list[Any], examples: list[dict]) -> dict[str, Any]:
    """Sizes of the data both trainers see, and where each one's loss is computed."""
    sequences = [p.chosen for p in pairs] + [p.rejected for p in pairs]
    return {
        "pairs": len(pairs),
        "tokens_per_epoch": sum(len(s) for s in sequences),
        "mean_sequence_tokens": sum(len(s) for s in sequences) / len(sequences),
        "max_sequence_tokens": max(len(s) for s in sequences),
        "mean_prompt_tokens": sum(len(e["prompt_ids"]) for e in examples) / len(examples),
        "loss_tokens_ours": sum(sum(s.assistant_mask) for s in sequences),
        "loss_tokens_trl": sum(len(e["chosen_ids"]) + len(e["rejected_ids"]) for e in examples),
    }


# ------------------------------------------------------------------------------------ output
def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ours, trl = result["ours"], result["trl"]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    xs = [0, 1]
    width = 0.27
    for offset, key, label, color in (
        (-width, "tokens_per_second", "tokens/s, whole loop", "#2b7bba"),
        (0, "steady_tokens_per_second", "tokens/s, first steps left out", "#7fb3d5"),
        (width, "tokens_per_cpu_second", "tokens per CPU-second", "#999999"),
    ):
        values = [ours[key], trl[key]]
        bars = ax.bar([x + offset for x in xs], values, width, label=label, color=color)
        ax.bar_label(bars, labels=[f"{v:.0f}" for v in values])
    ax.set_xticks(xs, ["palaestra DPOTrainer", "TRL DPOTrainer"])
    ax.set_ylabel("training tokens")
    ax.set_title(
        f"DPO on {result['settings']['model']} · {result['data']['pairs']} ToolUse-v0 pairs x "
        f"{result['settings']['rounds']} runs · ratio {result['ratio']:.2f}x (target >= 0.9x)",
        fontsize=10,
    )
    ax.legend(loc="upper right", fontsize=8)
    top = max(ours[k] for k in ("tokens_per_second", "steady_tokens_per_second"))
    ax.set_ylim(0, max(top, trl["tokens_per_second"], trl["steady_tokens_per_second"]) * 1.45)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def summary_table(result: dict[str, Any]) -> Table:
    ours, trl = result["ours"], result["trl"]
    cpus = result["machine"]["cpus"]
    table = Table(title=f"DPO throughput on {result['settings']['model']} ({cpus}-core CPU)")
    table.add_column("")
    table.add_column("palaestra", justify="right")
    table.add_column("TRL", justify="right")
    table.add_column("ours / TRL", justify="right")
    rows = [
        ("tokens/s (loop)", "tokens_per_second", "{:.1f}"),
        ("tokens/s (steady)", "steady_tokens_per_second", "{:.1f}"),
        ("tokens/CPU-s (loop)", "tokens_per_cpu_second", "{:.1f}"),
        ("loop seconds (all runs)", "loop_seconds", "{:.1f}"),
        ("mean step seconds", "mean_step_seconds", "{:.1f}"),
        ("mean first step seconds", "first_step_seconds", "{:.1f}"),
        ("timed runs", "run_count", "{}"),
        ("optimizer steps (all runs)", "optimizer_steps", "{}"),
        ("tokens", "tokens", "{}"),
        ("reference seconds", "reference_seconds", "{:.1f}"),
        ("model load seconds", "load_seconds", "{:.1f}"),
        ("peak RSS in loop (MB)", "peak_rss_in_loop_mb", "{:.0f}"),
        ("final loss", "final_loss", "{:.4f}"),
    ]
    for label, key, fmt in rows:
        ratio = ""
        if key in ("tokens_per_second", "steady_tokens_per_second", "tokens_per_cpu_second"):
            ratio = f"{ours[key] / trl[key]:.2f}x"
        table.add_row(label, fmt.format(ours[key]), fmt.format(trl[key]), ratio)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--model", default="smollm2", help="'smollm2', 'tiny' (2-layer random Llama), or a path"
    )
    parser.add_argument("--pairs", type=int, default=6, help="preference pairs to train on")
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="timed epochs per trainer, in ABBA order (palaestra, TRL, TRL, palaestra, ...)",
    )
    parser.add_argument(
        "--tasks", type=int, default=None, help="ToolUse-v0 tasks to play (default: 2x --pairs)"
    )
    parser.add_argument(
        "--failure-agent", choices=["random", "noop"], default="random",
        help="who plays the failed trajectories (random: up to 3 turns; noop: gives up at once)",
    )  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=2, help="pairs per step, both trainers")
    parser.add_argument(
        "--max-length", type=int, default=1024, help="cut sequences to this many tokens; 0: none"
    )
    parser.add_argument("--learning-rate", type=float, default=1e-6)
    parser.add_argument("--lora", action="store_true", help="LoRA (r=16, all-linear) in both")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("bench/results/dpo_vs_trl.json"))
    args = parser.parse_args()
    if args.batch_size < 1 or args.pairs < 2 * args.batch_size:
        parser.error(
            f"--pairs must be at least twice --batch-size ({args.batch_size}): the steady-state "
            "rate leaves each run's first step out, so a run needs two steps or more"
        )

    import transformers
    import trl
    from datasets.utils.logging import disable_progress_bar
    from transformers.utils import logging as hf_logging

    from palaestra.trainers.losses import HEAD_CHUNK_SIZE

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    disable_progress_bar()

    load_start = os.getloadavg()
    model_spec = tiny_model_dir() if args.model == "tiny" else args.model
    data = trajectories(args.tasks or 2 * args.pairs, args.failure_agent, args.seed)
    columns = (
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
    )  # fmt: skip
    console.print(f"{len(data)} trajectories; setting up palaestra's DPOTrainer")
    ours = Ours(args, model_spec, data)
    if len(ours.pairs) < args.pairs:
        console.print(
            f"[yellow]only {len(ours.pairs)} pairs survive max_length={args.max_length}; "
            "raise --tasks for more"
        )
    console.print("setting up TRL's DPOTrainer on the same token ids (reference pass included)")
    theirs = TRL(args, model_spec, ours.examples)
    # ABBA...: palaestra, TRL, TRL, palaestra, ... so that a drifting load falls on both alike.
    order = [
        trainer
        for r in range(args.rounds)
        for trainer in ((ours, theirs) if r % 2 == 0 else (theirs, ours))
    ]
    runs: dict[str, list[dict[str, Any]]] = {ours.name: [], theirs.name: []}
    with Progress(*columns, console=console) as progress:
        for trainer in order:
            label = f"{trainer.name} run {len(runs[trainer.name]) + 1}"
            runs[trainer.name].append(
                {"position": len(runs["palaestra"]) + len(runs["TRL"]) + 1}
                | trainer.run(progress, label)
            )

    result: dict[str, Any] = {
        "command": command(),
        "machine": machine(load_start, transformers=transformers.__version__, trl=trl.__version__),
        "settings": {
            "model": args.model,
            "pairs": args.pairs,
            "failure_agent": args.failure_agent,
            "batch_size": args.batch_size,
            "max_length": args.max_length or None,
            "learning_rate": args.learning_rate,
            "lora": args.lora,
            "dtype": "float32",
            "gradient_checkpointing": False,
            "epochs_per_run": 1,
            "rounds": args.rounds,
            "order": [t.name for t in order],
            "reference": "precomputed before training in both",
            "head_chunk_size": HEAD_CHUNK_SIZE,
        },
        "data": pair_stats(ours.pairs, ours.examples),
        "ours": {**ours.setup, **aggregate(runs["palaestra"]), "runs": runs["palaestra"]},
        "trl": {**theirs.setup, **aggregate(runs["TRL"]), "runs": runs["TRL"]},
        "notes": [
            "Both trainers see the same token ids (palaestra's tokenization, max_length applied) "
            "and the same number of optimizer steps; the token counts match.",
            "palaestra's loss covers the model-written tokens only; TRL's covers the whole "
            "completion (observations included): see data.loss_tokens_ours / loss_tokens_trl.",
            "Loop time excludes model loading, tokenization, reference scoring (TRL does it in "
            "__init__: trl.reference_seconds) and saving. Each model had one untimed warm-up "
            "forward+backward first; 'steady' also leaves the first step of each run out. Each "
            "trainer runs `rounds` timed epochs (a fresh optimizer each) in ABBA order; its "
            "throughput is total tokens over total loop time.",
            "Other processes may share the 2 cores: see machine.loadavg_start/end. Tokens per "
            "CPU-second (user + system time of this process over the loop) is less sensitive to "
            "them than wall time.",
            "On a CPU, TRL 1.16's fused LM head (trl/trainer/utils.py add_fused_lm_head) scores "
            "every position of the batch (prompt and padding too); it keeps only the completion "
            "positions on Triton (GPU) devices. palaestra runs the output layer only where a "
            "model-written token is predicted (logits_to_keep), head_chunk_size positions at a "
            "time, each chunk's logits recomputed in the backward pass rather than kept.",
        ],
    }
    for key, name in (
        ("tokens_per_second", "ratio"),
        ("steady_tokens_per_second", "steady_ratio"),
        ("tokens_per_cpu_second", "cpu_ratio"),
    ):
        result[name] = result["ours"][key] / result["trl"][key]
    result["ratio_per_round"] = [
        a["tokens_per_second"] / b["tokens_per_second"]
        for a, b in zip(runs["palaestra"], runs["TRL"], strict=True)
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.out.with_suffix(".png"))

    console.print(summary_table(result))
    stats = result["data"]
    console.print(
        f"{stats['pairs']} pairs, {stats['tokens_per_epoch']} tokens per epoch (mean sequence "
        f"{stats['mean_sequence_tokens']:.0f}); loss tokens: palaestra "
        f"{stats['loss_tokens_ours']}, TRL {stats['loss_tokens_trl']} (whole completions)"
    )
    console.print(
        f"palaestra / TRL: {result['ratio']:.2f}x over the loop, "
        f"{result['steady_ratio']:.2f}x steady, {result['cpu_ratio']:.2f}x per CPU-second "
        f"(target >= 0.9x); load average "
        f"{load_start[0]:.2f} -> {result['machine']['loadavg_end'][0]:.2f}"
    )
    for name, key in (("palaestra", "ours"), ("TRL", "trl")):
        console.print(
            f"{name} runs (position: tokens/s): "
            + ", ".join(
                f"{r['position']}: {r['tokens_per_second']:.1f}" for r in result[key]["runs"]
            )
        )
    console.print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
