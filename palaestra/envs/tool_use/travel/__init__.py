"""The travel domain of ToolUse-v0: its world and tools, and its task templates."""

from palaestra.envs.tool_use.travel.templates import TRAVEL
from palaestra.envs.tool_use.travel.world import TravelWorld

__all__ = ["TRAVEL", "TravelWorld"]
