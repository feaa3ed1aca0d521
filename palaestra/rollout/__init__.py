"""Running episodes at scale and recording them as trajectories."""

from palaestra.rollout.collect import EpisodePlan, collect, plan_episodes
from palaestra.rollout.display import CollectProgress, print_summary
from palaestra.rollout.recorder import EpisodeRecorder
from palaestra.rollout.summary import Summary, summarize, wilson_interval

__all__ = [
    "CollectProgress",
    "EpisodePlan",
    "EpisodeRecorder",
    "Summary",
    "collect",
    "plan_episodes",
    "print_summary",
    "summarize",
    "wilson_interval",
]
