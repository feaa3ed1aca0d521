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
register(
    EnvEntry(
        id="CodeInterpreter-v0",
        entry_point="palaestra.envs.code_interpreter.env:CodeInterpreterEnv",
        description="Solve math, programming and data problems by running Python in a sandbox",
        max_episode_steps=8,
    )
)
register(
    EnvEntry(
        id="WebNav-v0",
        entry_point="palaestra.envs.web_nav.env:WebNavEnv",
        description="Navigate shop, wiki and forms sites to answer questions and get things done",
        max_episode_steps=30,
    )
)
register(
    EnvEntry(
        id="MLE-v0",
        entry_point="palaestra.envs.mle.env:MLEEnv",
        description="Win offline Kaggle-style ML competitions by running code in a sandbox",
        max_episode_steps=12,
    )
)
register(
    EnvEntry(
        id="ThoughtGraph-v0",
        entry_point="palaestra.envs.thought_graph.env:ThoughtGraphEnv",
        description="Reason by transforming a graph of thoughts; a reasoner carries each step out",
        max_episode_steps=40,
    )
)
