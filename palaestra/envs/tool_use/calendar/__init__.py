"""The calendar domain of ToolUse-v0: its world and tools, and its task templates."""

from palaestra.envs.tool_use.calendar.templates import CALENDAR
from palaestra.envs.tool_use.calendar.world import CalendarWorld

__all__ = ["CALENDAR", "CalendarWorld"]
