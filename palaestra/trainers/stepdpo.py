"""Step-wise DPO (SPORT): DPO on pairs of steps taken from the same state.

`mine_step_pairs` branches every state of an episode and pairs the best step with worse ones;
this trains on those pairs with TRL's ``DPOTrainer``: the shared conversation prefix is the
prompt, the two actions are one assistant turn each. A SPORT round is mine, then train::

    trainer = StepDPOTrainer(StepDPOConfig(model="smollm2", output_dir="runs/sport"))
    policy = trainer.policy(temperature=1.0, max_new_tokens=128, seed=0)
    mined = mine_step_pairs("ToolUse-v0", policy, 8, k=4, max_turns=4)
    result = trainer.train(mined.pairs)          # trainer.model is now the new policy

Tokenization. Pairs are tokenized here, with `ChatTokenizer` (the path generation used), and
TRL is handed token ids. TRL's own chat-template path does not match ours on SmolLM2's template,
checked on the 118 states of 30 oracle ToolUse-v0 episodes with 4 candidates each: (1) it
tokenizes prompt + completion as one string and cuts at their longest common prefix, so when a
completion starts with whitespace, the prompt's last newline merges into it and the prompt loses
that token (every such candidate: 236 of 472; prompts matched for the others); (2) every
completion ends with the template's newline after ``<|im_end|>``, a token the model never
generates; (3) it re-tokenizes the text, not the ids that were sampled. Here the prompt is
exactly the ids the model generated from, and a completion is the sampled ids when they were
recorded (and decode to the pair's text), else its text tokenized as a turn, ending at the
end-of-turn token. TRL 1.16 re-tokenizes every dataset, so a small subclass lets tokenized ones
(``prompt_ids``, ``chosen_ids``, ``rejected_ids``) through.

The reference model is the policy as it was when `train` was called (each round's new start):
its log-probabilities are computed once before training, so no second model is kept (with LoRA,
the adapter is switched off instead).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from palaestra.agents.chat import ChatTokenizer
from palaestra.errors import ConfigError, NoTrainingDataError, require
from palaestra.trainers.engine import TrainingArgs
from palaestra.trainers.stepwise import StepPair

if TYPE_CHECKING:
    from datasets import Dataset

    from palaestra.agents.transformers_agent import TransformersAgent

__all__ = ["StepDPOConfig", "StepDPOResult", "StepDPOTrainer", "pair_example"]

LOSS_TYPES = frozenset(
    {
        "sigmoid", "hinge", "ipo", "exo_pair", "nca_pair", "robust", "bco_pair", "sppo_hard",
        "aot", "aot_unpaired", "apo_zero", "apo_down", "discopop", "sft", "sigmoid_norm",
    }
)  # fmt: skip
"""TRL 1.16's DPO loss types."""

SMOOTHED_LOSSES = frozenset({"robust", "exo_pair", "aot", "aot_unpaired"})
"""The loss types that read ``label_smoothing`` (TRL's plain ``sigmoid`` ignores it)."""


@dataclass
class StepDPOConfig(TrainingArgs):
    """Step DPO: every `TrainingArgs` field, the DPO ones, and defaults for a small model."""

    # Model
    device: str | None = None
    """Where to load the model; default CUDA when available, else CPU."""

    # DPO
    beta: float = 0.1
    """Strength of the pull toward the reference: higher stays closer to it."""
    loss_type: str = "sigmoid"
    """A TRL DPO loss: ``"sigmoid"`` (DPO), ``"robust"`` (rDPO, for noisy step labels),
    ``"ipo"``, ``"hinge"``, ... (see TRL's ``DPOConfig.loss_type``)."""
    label_smoothing: float = 0.0
    """Probability that a pair's label is wrong, in [0, 0.5); read by ``"robust"``,
    ``"exo_pair"``, ``"aot"`` and ``"aot_unpaired"`` only."""
    max_length: int | None = 4096
    """Pairs whose prompt plus completion is longer are left out (a cut completion teaches
    nothing about its step); None keeps every pair."""

    # Optimisation
    batch_size: int = 2
    """Pairs per forward pass."""
    warmup_ratio: float = 0.0
    """Fraction of the optimizer steps spent warming the learning rate up from 0."""
    weight_decay: float = 0.0
    """AdamW decoupled weight decay."""

    # Output
    output_dir: str | None = "runs/stepdpo"
    """Where `train` saves the model, the tokenizer, ``training.json`` and ``tensorboard/`` (the
    iterative loop gives each round its own); None: save nothing."""

    def __post_init__(self) -> None:
        super().__post_init__()
        problems = [
            (self.beta <= 0, f"beta must be > 0, got {self.beta}"),
            (
                self.loss_type not in LOSS_TYPES,
                f"loss_type must be one of {', '.join(sorted(LOSS_TYPES))}; got {self.loss_type!r}",
            ),
            (
                not 0 <= self.label_smoothing < 0.5,
                f"label_smoothing must be in [0, 0.5), got {self.label_smoothing}",
            ),
            (
                self.label_smoothing != 0 and self.loss_type not in SMOOTHED_LOSSES,
                f"loss_type {self.loss_type!r} ignores label_smoothing={self.label_smoothing}; use "
                "loss_type='robust' (rDPO) for noisy labels, or set label_smoothing=0",
            ),
            (
                self.loss_type == "exo_pair" and self.label_smoothing == 0,
                "loss_type 'exo_pair' needs label_smoothing > 0 (the EXO paper uses 1e-3)",
            ),
            (self.weight_decay < 0, f"weight_decay must be >= 0, got {self.weight_decay}"),
        ]
        for failed, message in problems:
            if failed:
                raise ConfigError(message)


@dataclass
class StepDPOResult:
    """What one `StepDPOTrainer.train` call did."""

    steps: int
    """Optimizer steps taken."""
    pairs: int
    """Pairs trained on."""
    dropped: int
    """Pairs left out for exceeding ``max_length``."""
    history: list[dict[str, float]] = field(default_factory=list)
    """TRL's logs: ``loss``, ``rewards/margins``, ``rewards/accuracies``, ... per logging step."""
    before: dict[str, float] = field(default_factory=dict)
    """Metrics on ``eval_pairs`` before training (``eval_loss``, ``eval_rewards/margins``, ...)."""
    after: dict[str, float] = field(default_factory=dict)
    """The same metrics after training."""
    output_dir: Path | None = None
    """Where the model was saved, or None."""
    seconds: float = 0.0
    """Wall time of the call, saving included."""


def completion_ids(
    chat: ChatTokenizer,
    prompt: list[dict[str, str]],
    tools: list[dict[str, Any]],
    text: str,
    recorded: Sequence[int] | None,
) -> list[int]:
    """The ids of one assistant turn, through its end-of-turn token.

    The recorded ids when they decode to ``text`` (ids of another model's tokenizer do not),
    with the end-of-turn token added when generation stopped at its length limit (the env took
    the reply as a whole turn); else ``text`` tokenized as the turn that follows ``prompt``.
    """
    sequence = chat.tokenize([*prompt, {"role": "assistant", "content": text}], tools or None)
    start, end = sequence.turn_spans[-1]
    turn = sequence.input_ids[start:end]
    if recorded:
        stopped = recorded[-1] in chat.stop_ids
        body = list(recorded[:-1] if stopped else recorded)
        if chat.tokenizer.decode(body, skip_special_tokens=False) == text:
            return list(recorded) if stopped else body + turn[-1:]
    return turn


def pair_example(pair: StepPair, chat: ChatTokenizer) -> dict[str, list[int]]:
    """A pair as a tokenized TRL preference example: prompt, chosen and rejected ids.

    ``prompt_ids`` are the ids the model generated both actions from.
    """
    prompt, tools = pair.prompt_messages, pair.tools
    return {
        "prompt_ids": chat.prompt_ids(prompt, tools or None),
        "chosen_ids": completion_ids(chat, prompt, tools, pair.chosen, pair.chosen_ids),
        "rejected_ids": completion_ids(chat, prompt, tools, pair.rejected, pair.rejected_ids),
    }


@functools.cache
def _tokenized_dpo_trainer() -> type:
    """TRL's ``DPOTrainer``, taking datasets that are already tokenized as they are."""
    from trl import DPOTrainer

    class TokenizedDPOTrainer(DPOTrainer):
        def _prepare_dataset(self, dataset: Any, *args: Any, **kwargs: Any) -> Any:
            if "prompt_ids" in next(iter(dataset)):
                return dataset
            return super()._prepare_dataset(dataset, *args, **kwargs)

    return TokenizedDPOTrainer


class StepDPOTrainer:
    """Trains a policy with DPO on step pairs; call `train` once per SPORT round.

    Args:
        config: How to train.
        model: A loaded causal LM to train (default: load ``config.model``).
        tokenizer: Its tokenizer (required with ``model``).

    Attributes:
        model: The policy; after each `train`, the trained one.
        tokenizer: Its tokenizer.
        chat: The `ChatTokenizer` pairs are tokenized with (the one generation uses).
        rounds: `train` calls so far.
    """

    def __init__(self, config: StepDPOConfig, model: Any = None, tokenizer: Any = None) -> None:
        for module, extra in (("torch", "hf"), ("transformers", "hf"), ("trl", "train")):
            require(module, extra)
        if config.lora:
            require("peft", "train")
        self.config = config
        if model is None:
            if tokenizer is not None:
                raise ConfigError("a tokenizer was passed without its model; pass both or neither")
            from palaestra.agents.models import load_model_and_tokenizer

            model, tokenizer = load_model_and_tokenizer(config.model, device=config.device)
        elif tokenizer is None:
            raise ConfigError("a loaded model needs its tokenizer: pass tokenizer=...")
        self.model: Any = model
        self.tokenizer: Any = tokenizer
        self.chat = ChatTokenizer(tokenizer, model)
        self.rounds = 0

    def policy(self, **sampling: Any) -> TransformersAgent:
        """A `TransformersAgent` that samples from the model being trained.

        It shares the model object, which `train` updates in place (a merged LoRA adapter
        included), so the same agent samples from each round's new policy. ``sampling`` holds
        `SamplingConfig` fields: ``temperature``, ``max_new_tokens``, ``seed``, ...
        """
        from palaestra.agents.transformers_agent import TransformersAgent

        return TransformersAgent(self.model, self.tokenizer, **sampling)

    # -------------------------------------------------------------------------------- data
    def dataset(self, pairs: Sequence[StepPair]) -> tuple[Dataset, int]:
        """The pairs as a tokenized preference dataset, and how many were too long to keep."""
        from datasets import Dataset

        examples = [pair_example(pair, self.chat) for pair in pairs]
        limit = self.config.max_length
        kept = [
            e
            for e in examples
            if limit is None
            or len(e["prompt_ids"]) + max(len(e["chosen_ids"]), len(e["rejected_ids"])) <= limit
        ]
        columns = ("prompt_ids", "chosen_ids", "rejected_ids")
        return Dataset.from_dict({c: [e[c] for e in kept] for c in columns}), len(examples) - len(
            kept
        )

    # ------------------------------------------------------------------------------- train
    def train(
        self, pairs: Sequence[StepPair], eval_pairs: Sequence[StepPair] | None = None
    ) -> StepDPOResult:
        """One round of DPO on ``pairs``; ``eval_pairs`` are scored before and after."""
        started = time.perf_counter()
        train_set, dropped = self.dataset(pairs)
        if len(train_set) == 0:
            raise NoTrainingDataError(
                f"no pair to train on ({len(pairs)} given, {dropped} longer than max_length="
                f"{self.config.max_length}); mine more episodes, raise k or max_length"
            )
        eval_set = self.dataset(eval_pairs)[0] if eval_pairs else None
        self.rounds += 1
        out = Path(self.config.output_dir) if self.config.output_dir else None
        trainer = _tokenized_dpo_trainer()(
            model=self.model,
            ref_model=None,
            args=self._dpo_args(out),
            train_dataset=train_set,
            eval_dataset=eval_set if eval_set is not None and len(eval_set) else None,
            processing_class=self.tokenizer,
            peft_config=self._lora(),
            callbacks=self._tensorboard(out),
        )
        before = trainer.evaluate() if trainer.eval_dataset is not None else {}
        trainer.train()
        after = trainer.evaluate() if trainer.eval_dataset is not None else {}
        model = trainer.model
        if self.config.lora and self.config.merge_lora:
            model = model.merge_and_unload()
        self.model = model.eval()
        history = [dict(entry) for entry in trainer.state.log_history]
        result = StepDPOResult(
            steps=trainer.state.global_step,
            pairs=len(train_set),
            dropped=dropped,
            history=history,
            before=before,
            after=after,
            output_dir=out,
        )
        if out is not None:
            self._save(out, result)
        result.seconds = time.perf_counter() - started
        return result

    def _dpo_args(self, out: Path | None) -> Any:
        import torch
        from trl import DPOConfig

        config = self.config
        # Names transformers 5 changed: one is gone (warmup_ratio), one warns (checkpointing).
        fields = {f.name for f in dataclasses.fields(DPOConfig)}
        renamed: dict[str, Any] = {
            "activation_checkpointing" if "activation_checkpointing" in fields
            else "gradient_checkpointing": config.gradient_checkpointing,
            "warmup_ratio" if "warmup_ratio" in fields else "warmup_steps": config.warmup_ratio,
        }  # fmt: skip
        return DPOConfig(
            output_dir=str(out or Path("runs") / "stepdpo-unsaved"),
            beta=config.beta,
            loss_type=[config.loss_type],
            label_smoothing=config.label_smoothing,
            max_length=None,  # pairs over the limit were left out whole
            precompute_ref_log_probs=True,  # the reference is the policy as this round starts
            learning_rate=config.learning_rate,
            num_train_epochs=config.epochs,
            max_steps=config.max_steps or -1,
            per_device_train_batch_size=config.batch_size,
            per_device_eval_batch_size=config.batch_size,
            gradient_accumulation_steps=config.gradient_accumulation_steps,
            max_grad_norm=config.max_grad_norm or 0.0,  # 0: no clipping
            weight_decay=config.weight_decay,
            lr_scheduler_type="linear",
            bf16=config.mixed_precision == "bf16",
            fp16=config.mixed_precision == "fp16",
            seed=config.seed,
            logging_steps=config.log_every,
            report_to="none",  # TensorBoard through our own callback, into round-<i>/tensorboard
            save_strategy="no",
            disable_tqdm=not config.progress,
            dataloader_num_workers=0,
            dataloader_pin_memory=torch.cuda.is_available(),
            **renamed,
        )

    def _lora(self) -> Any:
        from peft import PeftModel

        if not self.config.lora or isinstance(self.model, PeftModel):
            return None  # full training, or the same adapter again (TRL copies it as reference)
        from peft import LoraConfig

        target = self.config.lora_target_modules
        return LoraConfig(
            r=self.config.lora_r,
            lora_alpha=self.config.lora_alpha,
            lora_dropout=self.config.lora_dropout,
            target_modules=target if isinstance(target, str) else list(target),
            task_type="CAUSAL_LM",
        )

    def _tensorboard(self, out: Path | None) -> list[Any]:
        if out is None:
            return []
        from transformers.integrations import TensorBoardCallback

        callback = TensorBoardCallback()
        callback.logging_dir = str(
            out / "tensorboard"
        )  # also where the evaluation after training goes
        return [callback]

    def _save(self, out: Path, result: StepDPOResult) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(out)
        self.tokenizer.save_pretrained(out)
        record = {
            "config": dataclasses.asdict(self.config),
            "steps": result.steps,
            "pairs": result.pairs,
            "dropped": result.dropped,
            "before": result.before,
            "after": result.after,
            "history": result.history,
        }
        (out / "training.json").write_text(json.dumps(record, indent=1, default=str) + "\n")
