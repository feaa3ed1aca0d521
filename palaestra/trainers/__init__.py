"""Trainers: trajectories to tokens and masks, and the algorithms that learn from them."""

from palaestra.trainers.data import (
    PreferencePair,
    collate,
    preference_pairs,
    successful,
    tokenize_trajectory,
)

__all__ = ["PreferencePair", "collate", "preference_pairs", "successful", "tokenize_trajectory"]
