"""The env families. Importing this package registers every env with gymnasium."""

from palaestra.core.registration import EnvEntry, register

__all__: list[str] = []

register(
    EnvEntry(
        id="ToolUse-v0",
        entry_point="palaestra.envs.tool_use.env:ToolUseEnv",
        description="Serve requests in simulated retail, calendar and travel services via tools",
        max_episode_steps=16,
    )
)
