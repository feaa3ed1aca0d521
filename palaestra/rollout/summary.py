"""What a run adds up to: success with its interval, reward, turns, tokens, errors."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from palaestra.core.types import Trajectory

__all__ = ["Summary", "summarize", "wilson_interval"]


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval for a success rate (95% for z = 1.96); sound at 0 and n."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Summary:
    """Aggregates over a run's trajectories."""

    episodes: int
    successes: int
    success_rate: float
    success_ci95: tuple[float, float]
    mean_reward: float
    mean_turns: float
    prompt_tokens: int
    completion_tokens: int
    mean_duration_s: float
    errors_by_type: dict[str, int] = field(default_factory=dict)
    failed_episodes: int = 0
    """Episodes cut short by an infrastructure failure (not agent mistakes)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return asdict(self)


def summarize(trajectories: Sequence[Trajectory]) -> Summary:
    """Summarise a run; agent mistakes are counted by their error type."""
    n = len(trajectories)
    successes = sum(t.success for t in trajectories)
    errors = Counter(e.type for t in trajectories for e in t.step_errors)
    return Summary(
        episodes=n,
        successes=successes,
        success_rate=successes / n if n else 0.0,
        success_ci95=wilson_interval(successes, n),
        mean_reward=sum(t.reward for t in trajectories) / n if n else 0.0,
        mean_turns=sum(t.num_turns for t in trajectories) / n if n else 0.0,
        prompt_tokens=sum(t.prompt_tokens for t in trajectories),
        completion_tokens=sum(t.completion_tokens for t in trajectories),
        mean_duration_s=sum(t.duration_s for t in trajectories) / n if n else 0.0,
        errors_by_type=dict(errors.most_common()),
        failed_episodes=sum(t.error is not None for t in trajectories),
    )
