"""The training loop every palaestra-written trainer shares.

A trainer turns trajectories into examples and says what the loss of a batch is; `Engine` does
the rest, in this order: load the model (a spec like ``"smollm2"``, a path, or a loaded model),
wrap it in a LoRA adapter when asked, build AdamW with a linear warmup and decay, run the loop under
`accelerate.Accelerator` (``accelerate launch`` gives data parallelism over GPUs and machines;
two CPU processes: ``ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes 2``),
show a rich progress bar, log to TensorBoard, and save the model and tokenizer.

    engine = Engine(args, model, tokenizer)
    sequences = [engine.tokenize(t) for t in trajectories]  # max_length applied, or None
    reference = engine.logprobs(sequences, model=None)      # no gradients; before training
    result = engine.train(examples, collate, loss)          # loss(model, batch) -> (loss, {..})

A trainer that learns from data it keeps making (RL: collect, train, collect again) calls
`train` once per batch inside one run, so the optimizer state, the learning-rate schedule, the
step count and the TensorBoard log carry on from call to call:

    engine.begin(total_steps)                               # the schedule spans the whole run
    for update in ...: engine.train(batch, collate, loss)   # continues the run
    engine.end(result)                                      # unwrap (merge LoRA) and save
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from palaestra.agents.chat import ChatTokenizer, TokenizedChat
from palaestra.core.types import Trajectory
from palaestra.errors import ConfigError, NoTrainingDataError, require
from palaestra.trainers.data import collate, tokenize_trajectory
from palaestra.trainers.losses import sequence_logprobs

__all__ = ["Engine", "TrainResult", "TrainingArgs", "fit_length", "linear_warmup_decay"]

Loss = Callable[[Any, dict[str, Any]], tuple[Any, dict[str, Any]]]


@dataclass
class TrainingArgs:
    """What every trainer shares: the model, the optimiser, LoRA, the data and the output."""

    # Model
    model: str = "smollm2"
    """Model spec used when the trainer is given no model: ``"smollm2"``, a path or a hub id."""

    # Optimisation
    learning_rate: float = 1e-5
    """Peak AdamW learning rate, reached after warmup and decayed linearly to 0."""
    epochs: int = 1
    """Passes over the examples."""
    max_steps: int | None = None
    """Stop after this many optimizer steps (the schedule is planned for them); None: no cap."""
    batch_size: int = 4
    """Examples per forward pass on each process (a DPO example is a pair)."""
    gradient_accumulation_steps: int = 1
    """Forward passes whose gradients add up to one optimizer step."""
    max_grad_norm: float | None = 1.0
    """Clip the global gradient norm to this; None: no clipping."""
    warmup_ratio: float = 0.1
    """Fraction of the optimizer steps spent warming the learning rate up from 0."""
    mixed_precision: str = "no"
    """``"no"``, ``"bf16"`` or ``"fp16"`` autocast (weights stay float32)."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass: less memory for long trajectories."""

    # LoRA
    lora: bool = False
    """Train a LoRA adapter (peft) instead of every weight."""
    lora_r: int = 16
    """Rank of the adapter matrices."""
    lora_alpha: int = 32
    """Adapter scale numerator: updates are scaled by ``lora_alpha / lora_r``."""
    lora_dropout: float = 0.05
    """Dropout on the adapter's input."""
    lora_target_modules: str | tuple[str, ...] = "all-linear"
    """Module names that get an adapter, or ``"all-linear"`` (every linear but the head)."""
    merge_lora: bool = True
    """True: merge the adapter into the weights and save a plain model (loads like any
    checkpoint). False: keep the peft model and save the adapter alone (loads with peft)."""

    # Data
    max_length: int | None = None
    """Truncate longer sequences to this many tokens, keeping the start (the task and the early
    turns); a sequence left with no model token is dropped. None: keep everything."""
    seed: int = 0
    """Seeds the adapter's initialisation, the shuffling and dropout: same seed, same run (CPU)."""

    # Output
    output_dir: str | None = "runs/train"
    """Where the model, the tokenizer, ``training.json`` and ``tensorboard/`` go; None: nowhere."""
    log_every: int = 1
    """Write TensorBoard scalars every this many optimizer steps."""
    progress: bool = True
    """Show a rich progress bar (main process only)."""

    def __post_init__(self) -> None:
        problems = [
            (self.learning_rate <= 0, f"learning_rate must be > 0, got {self.learning_rate}"),
            *[
                (getattr(self, n) < 1, f"{n} must be at least 1, got {getattr(self, n)}")
                for n in ("epochs", "batch_size", "gradient_accumulation_steps", "lora_r")
            ],
            (self.log_every < 1, f"log_every must be at least 1, got {self.log_every}"),
            (
                self.max_steps is not None and self.max_steps < 1,
                f"max_steps must be at least 1 (or None: no cap), got {self.max_steps}",
            ),
            (
                self.max_grad_norm is not None and self.max_grad_norm <= 0,
                f"max_grad_norm must be > 0 (or None: no clipping), got {self.max_grad_norm}",
            ),
            (
                not 0 <= self.warmup_ratio < 1,
                f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}",
            ),
            (
                self.mixed_precision not in ("no", "bf16", "fp16"),
                f"mixed_precision must be 'no', 'bf16' or 'fp16', got {self.mixed_precision!r}",
            ),
            (self.lora_alpha <= 0, f"lora_alpha must be > 0, got {self.lora_alpha}"),
            (
                not 0 <= self.lora_dropout < 1,
                f"lora_dropout must be in [0, 1), got {self.lora_dropout}",
            ),
            (
                not self.lora_target_modules,
                "lora_target_modules is empty: name modules ('q_proj', ...) or use 'all-linear'",
            ),
            (
                self.max_length is not None and self.max_length < 2,
                f"max_length must be at least 2 tokens (or None: no limit), got {self.max_length}",
            ),
        ]
        for failed, message in problems:
            if failed:
                raise ConfigError(message)


@dataclass
class TrainResult:
    """What a training run did."""

    steps: int
    """Optimizer steps taken."""
    final_loss: float
    """Loss of the last optimizer step (mean over its batches and processes)."""
    history: list[dict[str, float]] = field(default_factory=list)
    """Per optimizer step: ``step``, ``epoch``, ``lr``, ``grad_norm``, ``loss`` and the metrics."""
    output_dir: Path | None = None
    """Where the model was saved, or None."""
    examples: int = 0
    """Training examples after filtering."""
    seconds: float = 0.0
    """Wall-clock time of the loop (not loading, reference scoring or saving)."""
    tokens: int = 0
    """Tokens processed in forward passes, all processes together (padding excluded)."""

    @property
    def steps_per_second(self) -> float:
        """Optimizer steps per second."""
        return self.steps / self.seconds if self.seconds else 0.0

    @property
    def tokens_per_second(self) -> float:
        """Tokens of forward passes per second."""
        return self.tokens / self.seconds if self.seconds else 0.0


def fit_length(sequence: TokenizedChat, max_length: int | None) -> TokenizedChat | None:
    """The sequence cut to ``max_length`` tokens (start kept), or None if no model token remains."""
    if max_length is not None and len(sequence) > max_length:
        spans = [(s, min(e, max_length)) for s, e in sequence.turn_spans if s < max_length]
        sequence = TokenizedChat(
            sequence.input_ids[:max_length], sequence.assistant_mask[:max_length], spans
        )
    return sequence if any(sequence.assistant_mask) else None


def linear_warmup_decay(step: int, warmup: int, total: int) -> float:
    """Learning-rate factor of optimizer step ``step`` (0-based) of ``total``.

    Rises linearly over ``warmup`` steps, (s+1)/(warmup+1), then falls linearly,
    (total-s)/(total-warmup): no step is wasted at a zero learning rate.
    """
    if step < warmup:
        return (step + 1) / (warmup + 1)
    return max(0.0, (total - step) / max(1, total - warmup))


class Engine:
    """A model, its tokenizer and the accelerator, with the loop that trains them.

    Attributes:
        model: The policy (a peft model while a LoRA adapter is being trained); after `train`, the
            trained model (merged into a plain model when ``merge_lora``).
        tokenizer: Its tokenizer; ``pad_id`` pads batches.
        chat: The `ChatTokenizer` every trajectory is tokenized with.
        accelerator: The `accelerate.Accelerator` (``process_index``, ``num_processes``, ...).
    """

    def __init__(self, args: TrainingArgs, model: Any = None, tokenizer: Any = None) -> None:
        for module, extra in (("torch", "hf"), ("transformers", "hf"), ("accelerate", "hf")):
            require(module, extra)
        if args.lora:
            require("peft", "train")
        from accelerate import Accelerator
        from accelerate.utils import DataLoaderConfiguration, set_seed

        from palaestra.agents.models import load_model_and_tokenizer, prepare_tokenizer

        self.args = args
        self.accelerator = Accelerator(
            gradient_accumulation_steps=args.gradient_accumulation_steps,
            mixed_precision=args.mixed_precision,
            dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True),
        )
        set_seed(args.seed)
        if model is None or isinstance(model, str):
            spec = args.model if model is None else model
            model, tokenizer = load_model_and_tokenizer(
                spec, device=self.accelerator.device, dtype="float32"
            )
        elif tokenizer is None:
            raise ConfigError("a loaded model needs its tokenizer: pass tokenizer= as well")
        prepare_tokenizer(tokenizer, model)
        model.to(self.accelerator.device)
        if args.gradient_checkpointing:
            model.gradient_checkpointing_enable({"use_reentrant": False})
        if args.lora:
            from peft import LoraConfig, get_peft_model

            target = args.lora_target_modules
            adapter = LoraConfig(
                r=args.lora_r,
                lora_alpha=args.lora_alpha,
                lora_dropout=args.lora_dropout,
                target_modules=target if isinstance(target, str) else list(target),
                task_type="CAUSAL_LM",
            )
            model = get_peft_model(model, adapter)
        self.model, self.tokenizer = model, tokenizer
        self.chat = ChatTokenizer(tokenizer, model)
        self.pad_id: int = tokenizer.pad_token_id
        self._run: _Run | None = None

    @property
    def is_main_process(self) -> bool:
        """True on the process that logs and saves."""
        return bool(self.accelerator.is_main_process)

    # ------------------------------------------------------------------------------------ data
    def tokenize(self, trajectory: Trajectory) -> TokenizedChat | None:
        """The trajectory's ids and model-token mask, cut to ``max_length`` (None: nothing left)."""
        return fit_length(tokenize_trajectory(trajectory, self.chat), self.args.max_length)

    def logprobs(self, sequences: Sequence[TokenizedChat], model: Any = None) -> list[float]:
        """``sum_t log p(y_t | ...)`` over each sequence's model tokens, without gradients.

        ``model`` is None (the policy as it is now: before training, the initial policy, so a
        reference costs no second model), a loaded model, or a spec/path loaded for this call and
        freed after. The work is split across processes and gathered, in the given order.
        """
        import torch
        from accelerate.utils import gather_object

        from palaestra.agents.models import load_model_and_tokenizer

        if isinstance(model, str):
            loaded, tokenizer = load_model_and_tokenizer(
                model, device=self.accelerator.device, dtype="float32"
            )
            if tokenizer.get_vocab() != self.tokenizer.get_vocab():
                raise ConfigError(f"the reference model {model!r} has a different tokenizer")
            return self.logprobs(sequences, loaded)
        scorer = self.model if model is None else model.to(self.accelerator.device)
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        width, scored = self.args.batch_size * 2, list[tuple[int, float]]()
        was_training = scorer.training
        scorer.eval()
        with self.accelerator.split_between_processes(order) as mine:
            with torch.no_grad(), self.accelerator.autocast():
                for start in range(0, len(mine), width):
                    chunk = mine[start : start + width]
                    batch = collate([sequences[i] for i in chunk], self.pad_id)
                    batch = {k: v.to(self.accelerator.device) for k, v in batch.items()}
                    scored += zip(
                        chunk, sequence_logprobs(scorer, batch).float().tolist(), strict=True
                    )
        scorer.train(was_training)
        if self.accelerator.num_processes > 1:
            scored = gather_object(scored)
        by_index = dict(scored)
        return [by_index[i] for i in range(len(sequences))]

    # ------------------------------------------------------------------------------------ loop
    def begin(self, total_steps: int) -> None:
        """Start a run that later `train` calls continue, until `end`.

        One AdamW, one warmup-and-decay schedule planned for ``total_steps`` optimizer steps
        (capped by ``max_steps``, which then stops training), one step count and one TensorBoard
        writer serve every call: what an RL trainer needs, which trains once per batch it
        collects. Without `begin`, each `train` call is a run of its own.
        """
        import torch

        if self._run is not None:
            raise ConfigError("a training run has already begun; end() it first")
        if total_steps < 1:
            raise ConfigError(f"total_steps must be at least 1, got {total_steps}")
        args, accelerator = self.args, self.accelerator
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=args.learning_rate, weight_decay=0.0)
        model, optimizer = accelerator.prepare(self.model, optimizer)
        total = min(total_steps, args.max_steps or total_steps)
        warmup = int(args.warmup_ratio * total)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer.optimizer, lambda s: linear_warmup_decay(s, warmup, total)
        )
        self._run = _Run(model, optimizer, scheduler, self._writer(), total)

    def end(self, result: TrainResult) -> TrainResult:
        """End the run `begin` started: unwrap (and merge) the model, save it with ``result``."""
        if self._run is None:
            raise ConfigError("no training run has begun")
        run, self._run = self._run, None
        if run.writer is not None:
            run.writer.close()
        return self._finish(run.model, result)

    def log(self, scalars: dict[str, float], step: int) -> None:
        """Write scalars (``"group/name": value``) to the run's TensorBoard log at ``step``."""
        writer = self._run.writer if self._run is not None else None
        if writer is not None:
            for key, value in scalars.items():
                writer.add_scalar(key, value, step)

    def train(
        self,
        examples: Sequence[Any],
        collate_fn: Callable[[list[Any]], dict[str, Any]],
        loss_fn: Loss,
        *,
        name: str = "train",
        key_metric: str | None = None,
        epochs: int | None = None,
    ) -> TrainResult:
        """Optimise ``loss_fn(model, batch) -> (loss, metrics)`` over shuffled batches of examples.

        Each batch is ``collate_fn(examples)``, moved to the device; it should hold an
        ``attention_mask`` (tokens are counted from it). Metrics are scalars (tensors or
        floats), averaged over an optimizer step's batches and the processes, NaNs ignored.
        ``epochs`` overrides ``args.epochs``. Outside a run (`begin`), the call is a run of its
        own: it plans its schedule, then unwraps and saves the model.
        """
        import torch
        from torch.utils.data import DataLoader

        args, accelerator = self.args, self.accelerator
        epochs = args.epochs if epochs is None else epochs
        if not examples:
            raise NoTrainingDataError(f"{name}: no training examples")
        if epochs < 1:
            raise ConfigError(f"epochs must be at least 1, got {epochs}")
        own_run = self._run is None
        loader: Any = DataLoader(
            list(examples),  # type: ignore[arg-type]
            batch_size=args.batch_size,
            shuffle=True,
            collate_fn=collate_fn,
            # Each call of a run shuffles differently; a lone call as it always has.
            generator=torch.Generator().manual_seed(
                args.seed + (0 if self._run is None else self._run.calls)
            ),
        )
        loader = accelerator.prepare(loader)
        if self._run is None:
            self.begin(math.ceil(len(loader) / args.gradient_accumulation_steps) * epochs)
        run = self._run
        assert run is not None
        run.calls += 1
        started = time.perf_counter()
        try:
            history, tokens = self._optimise(
                run, loader, loss_fn, epochs, name, key_metric, transient=not own_run
            )
        except BaseException:
            if own_run:  # a failed lone call leaves no run behind
                self._run = None
                if run.writer is not None:
                    run.writer.close()
            raise
        seconds = time.perf_counter() - started
        tokens = int(accelerator.reduce(torch.tensor(tokens, device=accelerator.device), "sum"))
        result = TrainResult(
            steps=len(history),
            final_loss=history[-1]["loss"] if history else float("nan"),
            history=history,
            examples=len(examples),
            seconds=seconds,
            tokens=tokens,
        )
        return self.end(result) if own_run else result

    def _optimise(
        self,
        run: _Run,
        loader: Any,
        loss_fn: Loss,
        epochs: int,
        name: str,
        key_metric: str | None,
        *,
        transient: bool,
    ) -> tuple[list[dict[str, float]], int]:
        """The loop itself: the step records of this call and the tokens it processed here.

        Within a run the progress bar is transient: one line per call would flood the console.
        """
        args, accelerator = self.args, self.accelerator
        model, optimizer, scheduler, writer = run.model, run.optimizer, run.scheduler, run.writer
        history: list[dict[str, float]] = []
        rows: list[dict[str, Any]] = []
        tokens, grad_norm = 0, float("nan")
        model.train()
        with _progress_bar(args.progress and self.is_main_process, transient=transient) as bar:
            task = bar.add_task(name, total=run.total, completed=run.steps, status="")
            for epoch in range(epochs):
                for batch in loader:
                    if run.steps >= run.total:  # max_steps reached: drain the loader, untouched
                        continue
                    with accelerator.accumulate(model):
                        loss, metrics = loss_fn(model, batch)
                        accelerator.backward(loss)
                        if accelerator.sync_gradients and args.max_grad_norm is not None:
                            grad_norm = float(
                                accelerator.clip_grad_norm_(model.parameters(), args.max_grad_norm)
                            )
                        optimizer.step()
                        optimizer.zero_grad()
                    rows.append({"loss": loss.detach(), **_detached(metrics)})
                    tokens += int(batch["attention_mask"].sum()) if "attention_mask" in batch else 0
                    if not accelerator.sync_gradients:
                        continue
                    lr = float(scheduler.get_last_lr()[0])
                    scheduler.step()
                    run.steps += 1
                    record: dict[str, float] = {"step": run.steps, "epoch": epoch, "lr": lr}
                    record |= {"grad_norm": grad_norm, **self._mean(rows)}
                    history.append(record)
                    rows = []
                    status = f"loss {record['loss']:.4f}"
                    if key_metric in record:
                        status += f"  {key_metric} {record[key_metric]:.3f}"
                    bar.update(task, advance=1, status=status)
                    if writer is not None and (record["step"] % args.log_every == 0):
                        for key, value in record.items():
                            writer.add_scalar(f"{name}/{key}", value, record["step"])
        return history, tokens

    def _mean(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        """Each metric averaged over the step's batches and every process, NaNs left out."""
        import torch

        names = list(rows[0])
        local = torch.tensor(
            [[float(row[n]) for n in names] for row in rows], device=self.accelerator.device
        )
        gathered = self.accelerator.gather(local)
        return dict(zip(names, torch.nanmean(gathered, dim=0).tolist(), strict=True))

    def _writer(self) -> Any:
        if self.args.output_dir is None or not self.is_main_process:
            return None
        require("tensorboard", "train")
        from torch.utils.tensorboard import SummaryWriter

        return SummaryWriter(str(Path(self.args.output_dir) / "tensorboard"))

    def _finish(self, prepared: Any, result: TrainResult) -> TrainResult:
        """Unwrap (and merge) the trained model; save it with the tokenizer on the main process."""
        accelerator = self.accelerator
        accelerator.wait_for_everyone()
        model = accelerator.unwrap_model(prepared)
        if self.args.lora and self.args.merge_lora:
            model = model.merge_and_unload()
        self.model = model.eval()
        if self.args.output_dir is None:
            return result
        out = Path(self.args.output_dir)
        if self.is_main_process:
            out.mkdir(parents=True, exist_ok=True)
            model.save_pretrained(out)
            self.tokenizer.save_pretrained(out)
            record = {"args": asdict(self.args), "steps": result.steps, "history": result.history}
            (out / "training.json").write_text(json.dumps(record, indent=1, default=str) + "\n")
        accelerator.wait_for_everyone()
        return replace(result, output_dir=out)


@dataclass
class _Run:
    """What the `train` calls of one run share."""

    model: Any
    """The model as the accelerator prepared it (wrapped for data parallelism)."""
    optimizer: Any
    scheduler: Any
    writer: Any
    total: int
    """Optimizer steps the schedule is planned for; training stops there."""
    steps: int = 0
    calls: int = 0


def _detached(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v.detach() if hasattr(v, "detach") else v for k, v in metrics.items()}


def _progress_bar(show: bool, *, transient: bool = False) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    status = TextColumn("{task.fields[status]}")
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), status)
    return Progress(*columns, TimeElapsedColumn(), disable=not show, transient=transient)
