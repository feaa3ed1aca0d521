"""Trainers: trajectories to tokens and masks, and the algorithms that learn from them.

Each algorithm is a documented ``XConfig`` dataclass and an ``XTrainer`` in its own module:
`SFTTrainer` (rejection-sampling fine-tuning), `DPOTrainer` and `KTOTrainer` (multi-turn, on
whole trajectories), `StepDPOTrainer` (step-wise pairs that `mine_step_pairs` finds by forking
the env), and `GRPOTrainer` (multi-turn RL: GRPO, RLOO, REINFORCE++ with a growing turn
horizon). `train_loop` iterates collect -> train -> evaluate over rounds, with checkpoints and
resume. Importing this package loads neither torch nor transformers; the trainers do when they
start.
"""

from __future__ import annotations

from typing import Any

from palaestra.trainers.data import (
    PreferencePair,
    collate,
    preference_pairs,
    successful,
    tokenize_trajectory,
)

__all__ = [
    "DPOConfig",
    "DPOTrainer",
    "Engine",
    "GRPOConfig",
    "GRPOTrainer",
    "KTOConfig",
    "KTOTrainer",
    "LoopConfig",
    "LoopResult",
    "PreferencePair",
    "RLOOConfig",
    "ReinforcePPConfig",
    "SFTConfig",
    "SFTTrainer",
    "StepDPOConfig",
    "StepDPOTrainer",
    "StepPair",
    "TrainResult",
    "TrainingArgs",
    "collate",
    "mine_step_pairs",
    "preference_pairs",
    "successful",
    "tokenize_trajectory",
    "train_loop",
]

_LAZY = {
    "Engine": "palaestra.trainers.engine",
    "TrainingArgs": "palaestra.trainers.engine",
    "TrainResult": "palaestra.trainers.engine",
    "SFTConfig": "palaestra.trainers.sft",
    "SFTTrainer": "palaestra.trainers.sft",
    "DPOConfig": "palaestra.trainers.dpo",
    "DPOTrainer": "palaestra.trainers.dpo",
    "KTOConfig": "palaestra.trainers.kto",
    "KTOTrainer": "palaestra.trainers.kto",
    "StepDPOConfig": "palaestra.trainers.stepdpo",
    "StepDPOTrainer": "palaestra.trainers.stepdpo",
    "StepPair": "palaestra.trainers.stepwise",
    "mine_step_pairs": "palaestra.trainers.stepwise",
    "GRPOConfig": "palaestra.trainers.grpo",
    "GRPOTrainer": "palaestra.trainers.grpo",
    "RLOOConfig": "palaestra.trainers.grpo",
    "ReinforcePPConfig": "palaestra.trainers.grpo",
    "LoopConfig": "palaestra.trainers.loop",
    "LoopResult": "palaestra.trainers.loop",
    "train_loop": "palaestra.trainers.loop",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
