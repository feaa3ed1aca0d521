"""Multi-turn KTO on whole trajectories (M-KTO).

Kahneman-Tversky Optimisation (Ethayarajh et al. 2024) needs no pairs: each trajectory is
desirable (it solved its task) or undesirable (it failed), and the policy is pushed to raise the
log-ratio ``log pi(y) - log ref(y)`` of the first above a reference point ``z`` and lower the
second below it. As in M-DPO (Xiong et al. 2024), a trajectory's log-probability sums the tokens
the model produced in all of its turns; observations are context, never scored.

The reference point is the KL estimate of TRL's KTO: the log-ratio of mismatched pairs, each
trajectory's task (its system and user messages) followed by the turns and observations of
another task's trajectory, averaged over the batch and the processes, clamped at 0 and not
differentiated. The mismatched partner of each example is fixed once, before training (the next
example, in the given order, whose task differs), so reference log-probs of both are computed
once, with no second model in memory during training.

    trainer = KTOTrainer(KTOConfig(beta=0.1, lora=True), model="runs/sft")
    result = trainer.train(trajectories)        # labels -> reference log-probs -> steps -> save
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from palaestra.agents.chat import TokenizedChat
from palaestra.core.types import Trajectory
from palaestra.errors import ConfigError, NoTrainingDataError
from palaestra.trainers.data import collate
from palaestra.trainers.engine import Engine, TrainingArgs, TrainResult, fit_length
from palaestra.trainers.losses import kto_loss, sequence_logprobs

__all__ = ["KTOConfig", "KTOTrainer", "mismatched"]


@dataclass
class KTOConfig(TrainingArgs):
    """Multi-turn KTO: every `TrainingArgs` field, the KTO ones, and KTO defaults."""

    # KTO
    beta: float = 0.1
    """Strength of the tie to the reference: the implicit reward is ``beta * log ratio``."""
    desirable_weight: float = 1.0
    """Loss weight of successful trajectories (lambda_D)."""
    undesirable_weight: float = 1.0
    """Loss weight of failed trajectories (lambda_U). Keep ``desirable_weight * successes /
    (undesirable_weight * failures)`` in about [1, 4/3], as the KTO paper advises."""
    reference: str = "initial"
    """``"initial"`` (the policy before training) or a model spec or path to score against."""

    # Optimisation
    learning_rate: float = 1e-6
    """Peak AdamW learning rate (LoRA usually wants about 10x more)."""

    # Output
    output_dir: str | None = "runs/kto"
    """Where the model, the tokenizer, ``training.json`` and ``tensorboard/`` go; None: nowhere."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.beta <= 0:
            raise ConfigError(f"beta must be > 0, got {self.beta}; 0.1 is the usual value")
        for name in ("desirable_weight", "undesirable_weight"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)}")
        if not self.reference.strip():
            raise ConfigError("reference is empty: use 'initial' or a model path or spec")


@dataclass
class Labelled:
    """One example: a trajectory, its mismatched partner, its label and reference log-probs."""

    sequence: TokenizedChat
    kl_sequence: TokenizedChat
    desirable: bool
    reference: float = 0.0
    reference_kl: float = 0.0


def mismatched(prompt_of: TokenizedChat, turns_of: TokenizedChat) -> TokenizedChat:
    """The task of one trajectory (all before its first turn) followed by another's turns."""
    cut, start = prompt_of.turn_spans[0][0], turns_of.turn_spans[0][0]
    shift = cut - start
    return TokenizedChat(
        prompt_of.input_ids[:cut] + turns_of.input_ids[start:],
        [0] * cut + turns_of.assistant_mask[start:],
        [(s + shift, e + shift) for s, e in turns_of.turn_spans],
    )


class KTOTrainer:
    """Multi-turn KTO from trajectories labelled by success.

    Args:
        config: The run's settings.
        model: A loaded model, a model spec or path (default: ``config.model``).
        tokenizer: The loaded model's tokenizer (loaded with the model from a spec).
        reference: A loaded reference model; overrides ``config.reference``.
    """

    def __init__(
        self,
        config: KTOConfig | None = None,
        *,
        model: Any = None,
        tokenizer: Any = None,
        reference: Any = None,
    ) -> None:
        self.config = config or KTOConfig()
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
        """Label, score the reference, train, save: the whole run."""
        examples = self.examples(trajectories)
        self.score_reference(examples)
        return self.engine.train(
            examples, self.collate, self.loss, name="kto", key_metric="reward_margin"
        )

    def examples(self, trajectories: Iterable[Trajectory]) -> list[Labelled]:
        """Each usable trajectory, labelled, with its mismatched partner for the KL estimate.

        Episodes cut short by an infrastructure failure are left out, as are trajectories that
        ``max_length`` leaves without model tokens.
        """
        trajectories = [t for t in trajectories if t.error is None]
        kept = [(t, s) for t in trajectories if (s := self.engine.tokenize(t)) is not None]
        if not kept:
            raise NoTrainingDataError(
                f"no usable trajectory among the {len(trajectories)} given (without an error, "
                f"with model tokens within max_length={self.config.max_length}); collect episodes"
            )
        examples = []
        for index, (trajectory, sequence) in enumerate(kept):
            prompt = sequence.input_ids[: sequence.turn_spans[0][0]]
            others = kept[index + 1 :] + kept[:index]
            partner = next(
                (s for _, s in others if s.input_ids[: s.turn_spans[0][0]] != prompt), sequence
            )
            pair = fit_length(mismatched(sequence, partner), self.config.max_length) or sequence
            examples.append(Labelled(sequence, pair, trajectory.success))
        return examples

    def score_reference(self, examples: list[Labelled]) -> None:
        """Fill in the reference log-probs of each example and of its mismatched partner."""
        reference = self.reference
        if reference is None and self.config.reference != "initial":
            reference = self.config.reference
        sequences = [e.sequence for e in examples] + [e.kl_sequence for e in examples]
        scores = self.engine.logprobs(sequences, reference)
        own, kl = scores[: len(examples)], scores[len(examples) :]
        for example, value, kl_value in zip(examples, own, kl, strict=True):
            example.reference, example.reference_kl = value, kl_value

    def collate(self, examples: list[Labelled]) -> dict[str, Any]:
        """The sequences as one padded batch, their partners as another, labels, reference."""
        import torch

        batch = collate([e.sequence for e in examples], self.engine.pad_id)
        kl = collate([e.kl_sequence for e in examples], self.engine.pad_id)
        batch |= {f"kl_{key}": value for key, value in kl.items()}
        batch["desirable"] = torch.tensor([e.desirable for e in examples])
        batch["reference"] = torch.tensor([e.reference for e in examples])
        batch["reference_kl"] = torch.tensor([e.reference_kl for e in examples])
        return batch

    def loss(self, model: Any, batch: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """M-KTO on the batch (Ethayarajh et al. 2024, eq. 8, on whole trajectories).

        r(tau) = sum_h [log pi(a_h | s_h) - log ref(a_h | s_h)]       (model tokens of turn h)
        z = max(0, mean over mismatched (x, tau') of r(tau' | x))      (no gradient)
        L = w_D (1 - sigmoid(beta (r - z))) if tau succeeded, else w_U (1 - sigmoid(beta (z - r)))
        """
        import torch

        kl_batch = {key[3:]: value for key, value in batch.items() if key.startswith("kl_")}
        with torch.no_grad():
            kl_logps = sequence_logprobs(model, kl_batch)
        kl = (kl_logps - batch["reference_kl"]).mean()
        kl = self.engine.accelerator.reduce(kl, "mean")
        losses, rewards = kto_loss(
            sequence_logprobs(model, batch),
            batch["reference"],
            batch["desirable"],
            kl,
            beta=self.config.beta,
            desirable_weight=self.config.desirable_weight,
            undesirable_weight=self.config.undesirable_weight,
        )
        desirable = batch["desirable"]
        chosen, rejected = rewards[desirable].mean(), rewards[~desirable].mean()  # NaN if none
        return losses.mean(), {
            "kl": kl,
            "reward_chosen": chosen,
            "reward_rejected": rejected,
            "reward_margin": chosen - rejected,
        }
