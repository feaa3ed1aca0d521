"""The retail domain of ToolUse-v0: its world and tools, and its task templates."""

from palaestra.envs.tool_use.retail.templates import RETAIL
from palaestra.envs.tool_use.retail.world import RetailWorld

__all__ = ["RETAIL", "RetailWorld"]
