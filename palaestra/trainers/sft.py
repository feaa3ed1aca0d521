"""Rejection-sampling fine-tuning: supervised learning on the episodes that solved their task.

Collect episodes, keep the successful ones (`successful`: solved, no infrastructure error), and
maximise the likelihood of the model's own tokens in them, every assistant turn of each
trajectory; system, user and tool tokens are context only (RAFT, Dong et al. 2023; the
rejection-sampling step of Xiong et al. 2024 before their preference rounds).

    trainer = SFTTrainer(SFTConfig(lora=True, output_dir="runs/sft"), model="smollm2")
    result = trainer.train(trajectories)        # a TrainResult; the model is in runs/sft
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from palaestra.agents.chat import TokenizedChat
from palaestra.core.types import Trajectory
from palaestra.errors import NoTrainingDataError
from palaestra.trainers.data import collate, successful
from palaestra.trainers.engine import Engine, TrainingArgs, TrainResult
from palaestra.trainers.losses import sft_loss

__all__ = ["SFTConfig", "SFTTrainer"]


@dataclass
class SFTConfig(TrainingArgs):
    """Rejection-sampling SFT: every `TrainingArgs` field, with SFT defaults."""

    # Optimisation
    learning_rate: float = 2e-5
    """Peak AdamW learning rate (LoRA usually wants about 10x more)."""

    # Output
    output_dir: str | None = "runs/sft"
    """Where the model, the tokenizer, ``training.json`` and ``tensorboard/`` go; None: nowhere."""


class SFTTrainer:
    """Fine-tune a causal LM on the successful trajectories it (or any agent) produced.

    Args:
        config: The run's settings.
        model: A loaded model, a model spec or path (default: ``config.model``).
        tokenizer: The loaded model's tokenizer (loaded with the model from a spec).
    """

    def __init__(
        self, config: SFTConfig | None = None, *, model: Any = None, tokenizer: Any = None
    ) -> None:
        self.config = config or SFTConfig()
        self.engine = Engine(self.config, model, tokenizer)

    @property
    def model(self) -> Any:
        """The policy; after `train`, the trained model."""
        return self.engine.model

    @property
    def tokenizer(self) -> Any:
        """The policy's tokenizer."""
        return self.engine.tokenizer

    def train(self, trajectories: Iterable[Trajectory]) -> TrainResult:
        """Select, tokenize, train, save: the whole run."""
        examples = self.examples(trajectories)
        return self.engine.train(examples, self.collate, self.loss, name="sft")

    def examples(self, trajectories: Iterable[Trajectory]) -> list[TokenizedChat]:
        """The successful trajectories as token ids with their model-token masks."""
        trajectories = list(trajectories)
        chosen = successful(trajectories)
        if not chosen:
            raise NoTrainingDataError(
                f"no successful trajectory among the {len(trajectories)} given: SFT learns from "
                "successes only (rejection sampling); collect more episodes, or use an easier "
                "task split or a stronger agent (the oracle) to make some"
            )
        sequences = [s for s in map(self.engine.tokenize, chosen) if s is not None]
        if not sequences:
            raise NoTrainingDataError(
                f"all {len(chosen)} successful trajectories lose every model token when cut to "
                f"max_length={self.config.max_length}; raise max_length"
            )
        return sequences

    def collate(self, sequences: list[TokenizedChat]) -> dict[str, Any]:
        """A right-padded batch with the model-token mask as ``loss_mask``."""
        return collate(sequences, self.engine.pad_id)

    def loss(self, model: Any, batch: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Mean negative log-likelihood of the model's tokens (RAFT; Dong et al. 2023).

        L = -(1 / |M|) sum_{t in M} log pi(y_t | y_<t), M = the tokens of all assistant turns
        """
        loss = sft_loss(model, batch)
        return loss, {"model_tokens": float(batch["loss_mask"].sum())}
