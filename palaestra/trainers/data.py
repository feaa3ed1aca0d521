"""Trajectories to training data: token sequences with model-token masks, and preference pairs.

Every trainer gets its tokens here, through `ChatTokenizer` (the path generation used), and its
pairs here too: a successful and a failed trajectory of the same task for multi-turn DPO, a
label per trajectory for KTO, successful ones alone for rejection-sampling SFT.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from palaestra.agents.chat import ChatTokenizer, TokenizedChat
from palaestra.core.types import Trajectory
from palaestra.errors import ConfigError

__all__ = ["PreferencePair", "collate", "preference_pairs", "successful", "tokenize_trajectory"]


def tokenize_trajectory(trajectory: Trajectory, chat: ChatTokenizer) -> TokenizedChat:
    """The trajectory's conversation as ids and mask; recorded generated ids are used as is."""
    messages = [m.model_dump() for m in trajectory.messages]
    turns = sum(1 for m in messages if m["role"] == "assistant")
    completions = [step.completion_ids for step in trajectory.steps][:turns]
    recorded = any(completions) and len(completions) == turns
    return chat.tokenize(messages, trajectory.tools or None, completions if recorded else None)


def successful(trajectories: Iterable[Trajectory]) -> list[Trajectory]:
    """The trajectories that solved their task (rejection sampling)."""
    return [t for t in trajectories if t.success and t.error is None]


@dataclass(frozen=True)
class PreferencePair:
    """A better and a worse trajectory of the same task."""

    chosen: Trajectory
    rejected: Trajectory


def preference_pairs(
    trajectories: Iterable[Trajectory], *, max_pairs_per_task: int = 4
) -> list[PreferencePair]:
    """Pairs of a successful and a failed trajectory of the same task.

    Each task contributes up to ``max_pairs_per_task`` pairs, matching its successes and failures
    in turn, so no trajectory is paired far more often than the others. Episodes cut short by an
    infrastructure failure are left out: they say nothing about the policy.
    """
    if max_pairs_per_task < 1:
        raise ConfigError(f"max_pairs_per_task must be at least 1, got {max_pairs_per_task}")
    by_task: dict[str, tuple[list[Trajectory], list[Trajectory]]] = defaultdict(lambda: ([], []))
    for trajectory in trajectories:
        if trajectory.error is None:
            by_task[trajectory.task_id][0 if trajectory.success else 1].append(trajectory)
    pairs = []
    for good, bad in by_task.values():
        if good and bad:
            count = min(max_pairs_per_task, max(len(good), len(bad)))
            pairs += [
                PreferencePair(g, b)
                for g, b in itertools.islice(
                    zip(itertools.cycle(good), itertools.cycle(bad)), count
                )
            ]
    return pairs


def collate(sequences: Sequence[TokenizedChat], pad_id: int) -> dict[str, Any]:
    """Right-padded tensors: ``input_ids``, ``attention_mask`` and ``loss_mask`` (model tokens)."""
    import torch

    if not sequences:
        raise ConfigError("cannot collate an empty batch")
    width = max(len(s) for s in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(sequences), width), dtype=torch.long)
    loss_mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        n = len(sequence)
        input_ids[row, :n] = torch.tensor(sequence.input_ids)
        attention[row, :n] = 1
        loss_mask[row, :n] = torch.tensor(sequence.assistant_mask)
    return {"input_ids": input_ids, "attention_mask": attention, "loss_mask": loss_mask}
