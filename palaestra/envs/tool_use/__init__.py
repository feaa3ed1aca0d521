"""ToolUse-v0: simulated services with typed tools, verified by final state."""

from palaestra.envs.tool_use.env import ToolUseEnv
from palaestra.envs.tool_use.tasks import DOMAINS, ToolUseTasks

__all__ = ["DOMAINS", "ToolUseEnv", "ToolUseTasks"]
