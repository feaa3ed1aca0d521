"""Running episodes at scale and recording them as trajectories."""

from palaestra.rollout.collect import collect
from palaestra.rollout.recorder import EpisodeRecorder
from palaestra.rollout.summary import Summary, summarize, wilson_interval

__all__ = ["EpisodeRecorder", "Summary", "collect", "summarize", "wilson_interval"]
