"""Agent specs, as the CLI takes them.

``oracle``, ``random``, ``noop``, ``smollm2``, ``hf:<model id or path>``,
``openai:<base url>#<model>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym

from palaestra.agents.base import Agent
from palaestra.agents.scripted import NoopAgent, OracleAgent, RandomAgent
from palaestra.errors import AgentError

__all__ = ["AgentFactory", "SPEC_HELP", "resolve_agent"]

AgentFactory = Callable[[gym.Env[Any, Any]], Agent]
"""Builds an agent bound to one env (the oracle reads that env's ground truth)."""

SPEC_HELP = "oracle, random, noop, smollm2, hf:<model id or path>, openai:<base url>#<model>"


def resolve_agent(spec: str, *, seed: int = 0, **options: Any) -> Agent | AgentFactory:
    """The agent a spec names; ``options`` such as ``max_new_tokens`` go to model agents.

    ``oracle`` resolves to a factory, since an oracle is bound to one env.
    """
    if spec == "oracle":
        return OracleAgent
    if spec == "random":
        return RandomAgent(seed=seed)
    if spec == "noop":
        return NoopAgent()
    if spec == "smollm2" or spec.startswith("hf:"):
        from palaestra.agents.transformers_agent import TransformersAgent

        model = spec if spec == "smollm2" else spec.removeprefix("hf:")
        if not model:
            raise AgentError(f"agent spec {spec!r} names no model; write hf:<model id or path>")
        return TransformersAgent(model, seed=seed, **options)
    if spec.startswith("openai:"):
        from palaestra.agents.openai_agent import OpenAIAgent

        base_url, _, model = spec.removeprefix("openai:").partition("#")
        if not base_url or not model:
            raise AgentError(f"agent spec {spec!r} needs both parts: openai:<base url>#<model>")
        if "max_new_tokens" in options:  # one option name for every model agent
            options["max_tokens"] = options.pop("max_new_tokens")
        return OpenAIAgent(base_url, model, seed=seed, **options)
    raise AgentError(f"unknown agent spec {spec!r}; expected one of: {SPEC_HELP}")
