"""Agents: anything that turns a conversation into the next action.

Model agents (`TransformersAgent`, `OpenAIAgent`) load on first use, so importing this package
needs neither torch nor transformers.
"""

from __future__ import annotations

from typing import Any

from palaestra.agents.base import Agent, BaseAgent, respond_batch
from palaestra.agents.scripted import NoopAgent, OracleAgent, RandomAgent, ScriptedAgent
from palaestra.agents.specs import AgentFactory, resolve_agent

__all__ = [
    "Agent",
    "AgentFactory",
    "BaseAgent",
    "NoopAgent",
    "OpenAIAgent",
    "OracleAgent",
    "RandomAgent",
    "SamplingConfig",
    "ScriptedAgent",
    "TransformersAgent",
    "resolve_agent",
    "respond_batch",
]

_LAZY = {
    "TransformersAgent": "palaestra.agents.transformers_agent",
    "SamplingConfig": "palaestra.agents.transformers_agent",
    "OpenAIAgent": "palaestra.agents.openai_agent",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
