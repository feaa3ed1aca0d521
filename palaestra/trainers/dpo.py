"""Multi-turn DPO on whole trajectories (M-DPO).

Xiong et al. 2024, "Building Math Agents with Multi-Turn Iterative Preference Learning". A pair
is a successful and a failed trajectory of the same task (`preference_pairs`). Each trajectory's
log-probability is the sum over the tokens the model produced in all of its turns; the
observations between turns are context, never scored (the environment, not the policy, wrote
them, so their likelihood ratio against the reference cancels out of the trajectory's ratio).

The reference is the starting policy (``reference="initial"``), a checkpoint path or spec, or a
loaded model (the iterative loop passes the previous round's model). Its log-probabilities are
computed once, before the first step: "initial" is scored by the policy itself, a path is loaded,
scored and freed, so training never holds a second model.

    trainer = DPOTrainer(DPOConfig(beta=0.1, lora=True), model="runs/sft")
    result = trainer.train(trajectories)        # pairs -> reference log-probs -> steps -> save
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from palaestra.agents.chat import TokenizedChat
from palaestra.core.types import Trajectory
from palaestra.errors import ConfigError, NoTrainingDataError
from palaestra.trainers.data import collate, preference_pairs
from palaestra.trainers.engine import Engine, TrainingArgs, TrainResult
from palaestra.trainers.losses import dpo_loss, sequence_logprobs

__all__ = ["DPOConfig", "DPOTrainer"]


@dataclass
class DPOConfig(TrainingArgs):
    """Multi-turn DPO: every `TrainingArgs` field, the DPO ones, and DPO defaults."""

    # DPO
    beta: float = 0.1
    """Strength of the KL tie to the reference: the implicit reward is ``beta * log ratio``."""
    label_smoothing: float = 0.0
    """Probability that a preference label is wrong (conservative DPO); 0 is plain DPO."""
    reference: str = "initial"
    """``"initial"`` (the policy before training) or a model spec or path to score against."""
    max_pairs_per_task: int = 4
    """Most (success, failure) pairs drawn from one task's trajectories."""

    # Optimisation
    learning_rate: float = 1e-6
    """Peak AdamW learning rate (LoRA usually wants about 10x more)."""

    # Output
    output_dir: str | None = "runs/dpo"
    """Where the model, the tokenizer, ``training.json`` and ``tensorboard/`` go; None: nowhere."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.beta <= 0:
            raise ConfigError(f"beta must be > 0, got {self.beta}; 0.1 is the usual value")
        if not 0 <= self.label_smoothing < 0.5:
            raise ConfigError(
                f"label_smoothing must be in [0, 0.5), got {self.label_smoothing}; at 0.5 and "
                "above the labels say nothing (or the opposite)"
            )
        if not self.reference.strip():
            raise ConfigError("reference is empty: use 'initial' or a model path or spec")
        if self.max_pairs_per_task < 1:
            raise ConfigError(
                f"max_pairs_per_task must be at least 1, got {self.max_pairs_per_task}"
            )


@dataclass
class Pair:
    """One training example: the two tokenized trajectories and their reference log-probs."""

    chosen: TokenizedChat
    rejected: TokenizedChat
    reference_chosen: float = 0.0
    reference_rejected: float = 0.0


class DPOTrainer:
    """Multi-turn DPO from successful and failed trajectories of the same tasks.

    Args:
        config: The run's settings.
        model: A loaded model, a model spec or path (default: ``config.model``).
        tokenizer: The loaded model's tokenizer (loaded with the model from a spec).
        reference: A loaded reference model; overrides ``config.reference``.
    """

    def __init__(
        self,
        config: DPOConfig | None = None,
        *,
        model: Any = None,
        tokenizer: Any = None,
        reference: Any = None,
    ) -> None:
        self.config = config or DPOConfig()
        self.engine = Engine(self.config, model, tokenizer)
        self.reference = reference

    @property
    def model(self) -> Any:
        """The policy; after `train`, the trained model."""
        return self.engine.model

    @property
    def tokenizer(self) -> Any:
        """The policy's tokenizer."""
        return self.engine.tokenizer

    def train(self, trajectories: Iterable[Trajectory]) -> TrainResult:
        """Pair, score the reference, train, save: the whole run."""
        pairs = self.pairs(trajectories)
        self.score_reference(pairs)
        return self.engine.train(
            pairs, self.collate, self.loss, name="dpo", key_metric="reward_accuracy"
        )

    def pairs(self, trajectories: Iterable[Trajectory]) -> list[Pair]:
        """Tokenized (success, failure) pairs of the same task; pairs cut to nothing are dropped."""
        trajectories = list(trajectories)
        found = preference_pairs(trajectories, max_pairs_per_task=self.config.max_pairs_per_task)
        if not found:
            tasks = len({t.task_id for t in trajectories})
            raise NoTrainingDataError(
                f"no preference pair among {len(trajectories)} trajectories of {tasks} tasks: a "
                "pair needs a success and a failure of the same task; collect several episodes "
                "per task (group_size > 1, sampling temperature > 0) or add oracle successes"
            )
        pairs = []
        for pair in found:
            chosen, rejected = (
                self.engine.tokenize(pair.chosen),
                self.engine.tokenize(pair.rejected),
            )
            if chosen is not None and rejected is not None:
                pairs.append(Pair(chosen, rejected))
        if not pairs:
            raise NoTrainingDataError(
                f"every pair loses all model tokens when cut to max_length="
                f"{self.config.max_length}; raise max_length"
            )
        return pairs

    def score_reference(self, pairs: list[Pair]) -> None:
        """Fill in each pair's reference log-probs (before the first step)."""
        reference = self.reference
        if reference is None and self.config.reference != "initial":
            reference = self.config.reference
        sequences = [p.chosen for p in pairs] + [p.rejected for p in pairs]
        scores = self.engine.logprobs(sequences, reference)
        chosen_scores, rejected_scores = scores[: len(pairs)], scores[len(pairs) :]
        for pair, chosen, rejected in zip(pairs, chosen_scores, rejected_scores, strict=True):
            pair.reference_chosen, pair.reference_rejected = chosen, rejected

    def collate(self, pairs: list[Pair]) -> dict[str, Any]:
        """One padded batch: the chosen sequences, then the rejected; and reference log-probs."""
        import torch

        batch = collate([p.chosen for p in pairs] + [p.rejected for p in pairs], self.engine.pad_id)
        batch["reference_chosen"] = torch.tensor([p.reference_chosen for p in pairs])
        batch["reference_rejected"] = torch.tensor([p.reference_rejected for p in pairs])
        return batch

    def loss(self, model: Any, batch: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """M-DPO: DPO with each trajectory's log-ratio summed over the turns the model wrote.

        log r(tau) = sum_h [log pi(a_h | s_h) - log ref(a_h | s_h)]    (model tokens of turn h)
        L = -(1 - eps) log sigmoid(beta (log r(tau_w) - log r(tau_l)))
            - eps log sigmoid(-beta (log r(tau_w) - log r(tau_l)))
        """
        logps = sequence_logprobs(model, batch)
        count = batch["reference_chosen"].shape[0]
        losses, chosen, rejected = dpo_loss(
            logps[:count],
            logps[count:],
            batch["reference_chosen"],
            batch["reference_rejected"],
            beta=self.config.beta,
            label_smoothing=self.config.label_smoothing,
        )
        return losses.mean(), {
            "reward_margin": (chosen - rejected).mean(),
            "reward_accuracy": (chosen > rejected).float().mean(),
            "reward_chosen": chosen.mean(),
            "reward_rejected": rejected.mean(),
        }
