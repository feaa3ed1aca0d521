"""palaestra: Gym-style sandboxed environments for LLM agents, with multi-turn trainers.

Importing palaestra registers its envs with gymnasium::

    import gymnasium as gym
    import palaestra

    env = gym.make("ToolUse-v0")
"""

from palaestra import envs as _envs  # noqa: F401  (registers the envs)
from palaestra.core import (
    Conversation,
    TextEnv,
    ToolCall,
    Trajectory,
    fork,
    read_jsonl,
    write_jsonl,
)
from palaestra.core.registration import catalog
from palaestra.errors import PalaestraError

__version__ = "0.1.0"

__all__ = [
    "Conversation",
    "PalaestraError",
    "TextEnv",
    "ToolCall",
    "Trajectory",
    "__version__",
    "catalog",
    "fork",
    "read_jsonl",
    "write_jsonl",
]
