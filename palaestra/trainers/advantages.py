"""Advantages without a value model: returns compared with the other episodes of a group or batch.

Every estimator turns returns into advantages by subtracting a baseline and, for some, dividing by
a spread; the baseline never depends on the action it judges (except GRPO's, which includes the
episode itself), so the policy gradient keeps its expectation and loses variance:

    grpo         A_i = (R_i - mean_group R) / (std_group R + eps)       (Shao et al. 2024, eq. 3)
                 with ``scale=False``: A_i = R_i - mean_group R          (Dr. GRPO, Liu et al. 2025)
    rloo         A_i = R_i - 1/(G-1) sum_{j != i, same group} R_j        (Ahmadian et al. 2024)
    reinforce++  A_i = (R_i - mean_batch R) / (std_batch R + eps)        (Hu 2025)

A group is the G episodes played from the identical initial state; the batch is every episode of
an update. Spreads are sample standard deviations (n - 1), as TRL computes them; a group or batch
whose returns are all equal gives advantages of 0.

When the env rewards steps, not only the end, each turn is credited with what followed it: turn h
of an episode gets ``G_h = sum_{k >= h} gamma^(k-h) r_k`` (the discounted return from that turn
on) minus the episode's baseline, over its spread. The baseline and the spread come from the
episodes' whole returns ``G_0``, so with a terminal reward only and ``gamma = 1`` every turn gets
the episode's advantage, exactly the outcome-reward estimator above.

Pure functions on lists; no torch needed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Literal

from palaestra.errors import ConfigError

__all__ = [
    "ESTIMATORS",
    "Estimator",
    "baselines",
    "discounted_returns",
    "episode_advantages",
    "turn_advantages",
]

Estimator = Literal["grpo", "rloo", "reinforce++"]
ESTIMATORS: tuple[str, ...] = ("grpo", "rloo", "reinforce++")
"""The advantage estimators, by the names configs use."""


def discounted_returns(rewards: Sequence[float], gamma: float = 1.0) -> list[float]:
    """Each turn's discounted return: ``G_h = r_h + gamma G_(h+1)``, ``G_H = 0`` after the end."""
    if not 0 <= gamma <= 1:
        raise ConfigError(f"gamma must be in [0, 1], got {gamma}")
    returns, following = [], 0.0
    for reward in reversed(rewards):
        following = float(reward) + gamma * following
        returns.append(following)
    return returns[::-1]


def baselines(
    returns: Sequence[float],
    groups: Sequence[Hashable],
    *,
    estimator: Estimator | str = "grpo",
    scale: bool = True,
    eps: float = 1e-4,
) -> tuple[list[float], list[float]]:
    """Each episode's baseline ``b_i`` and divisor ``s_i``: its advantage is ``(R_i - b_i) / s_i``.

    Args:
        returns: One return per episode.
        groups: One key per episode; episodes with the same key started from the same state.
        estimator: ``"grpo"``, ``"rloo"`` or ``"reinforce++"``.
        scale: Divide by the spread (grpo: the group's, reinforce++: the batch's); False keeps
            the raw difference (Dr. GRPO). RLOO never divides.
        eps: Added to the spread so that a group of equal returns divides by no zero.
    """
    if len(returns) != len(groups):
        raise ConfigError(f"{len(returns)} returns but {len(groups)} group keys")
    if estimator not in ESTIMATORS:
        raise ConfigError(f"estimator must be one of {', '.join(ESTIMATORS)}; got {estimator!r}")
    if estimator == "reinforce++":
        mean, spread = _mean_std(returns)
        divisor = spread + eps if scale else 1.0
        return [mean] * len(returns), [divisor] * len(returns)
    members: dict[Hashable, list[int]] = defaultdict(list)
    for index, key in enumerate(groups):
        members[key].append(index)
    base, divisors = [0.0] * len(returns), [1.0] * len(returns)
    for key, indices in members.items():
        values = [float(returns[i]) for i in indices]
        if estimator == "rloo":
            if len(values) < 2:
                raise ConfigError(
                    f"rloo needs at least 2 episodes per group for a leave-one-out baseline; "
                    f"group {key!r} has {len(values)}"
                )
            total = sum(values)
            for i, value in zip(indices, values, strict=True):
                base[i] = (total - value) / (len(values) - 1)
        else:
            mean, spread = _mean_std(values)
            for i in indices:
                base[i], divisors[i] = mean, (spread + eps if scale else 1.0)
    return base, divisors


def episode_advantages(
    returns: Sequence[float],
    groups: Sequence[Hashable],
    *,
    estimator: Estimator | str = "grpo",
    scale: bool = True,
    eps: float = 1e-4,
) -> list[float]:
    """One advantage per episode from its return: ``(R_i - b_i) / s_i`` (see `baselines`)."""
    base, divisors = baselines(returns, groups, estimator=estimator, scale=scale, eps=eps)
    return [(r - b) / s for r, b, s in zip(returns, base, divisors, strict=True)]


def turn_advantages(
    rewards: Sequence[Sequence[float]],
    groups: Sequence[Hashable],
    *,
    estimator: Estimator | str = "grpo",
    gamma: float = 1.0,
    scale: bool = True,
    eps: float = 1e-4,
) -> list[list[float]]:
    """One advantage per turn of each episode, from its per-turn rewards.

    ``A_(i,h) = (G_(i,h) - b_i) / s_i``: the return from turn h on, against the baseline and
    spread of the episodes' whole returns ``G_(i,0)`` (see the module docs). An episode with no
    turn gets an empty list and takes no part in the baselines.
    """
    if len(rewards) != len(groups):
        raise ConfigError(f"{len(rewards)} episodes of rewards but {len(groups)} group keys")
    returns = [discounted_returns(r, gamma) for r in rewards]
    played = [i for i, r in enumerate(returns) if r]
    base, divisors = baselines(
        [returns[i][0] for i in played],
        [groups[i] for i in played],
        estimator=estimator,
        scale=scale,
        eps=eps,
    )
    advantages: list[list[float]] = [[] for _ in rewards]
    for i, b, s in zip(played, base, divisors, strict=True):
        advantages[i] = [(g - b) / s for g in returns[i]]
    return advantages


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for fewer than two values)."""
    if not values:
        return 0.0, 0.0
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
