"""An LLM as ThoughtGraph-v0's reasoner: any palaestra Agent, prompted for each sub-problem.

The simulated reasoner stands in for a model; this one is the model. Each transformation becomes
one chat prompt (the task of that node, its input and, to refine, the error count the scorer
found), and the reply is read with the task's own answer parser (an unreadable reply is an empty
answer, which the scorer then counts as wrong). Splitting and scoring stay exact, as in Graph of
Thoughts, where both are done by code for these tasks. Tokens are counted as the words read and
written, the same unit the simulated reasoner reports. For programming the agent writes, refines
and combines functions (its reply's first code fence is the candidate); the env runs them.

The agent is shared, not copied, by `fork`: a forked episode's reasoner calls reach the same
model, so branches are independent only as far as the model's sampling is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol, cast

from palaestra.errors import ConfigError
from palaestra.tasks.thought_graph.coding import CodingProblem, Program, program_of
from palaestra.tasks.thought_graph.problems import (
    InputData,
    Result,
    format_answer,
    local_error,
    parse_answer,
)
from palaestra.tasks.thought_graph.reasoner import Question, SimulatedReasoner, Thought

__all__ = ["AgentReasoner", "ReasonerAgent"]

_TASKS = {
    "sorting": "Sort this list of digits in ascending order, keeping every repeat.",
    "set_intersection": "List the numbers that are in both sets, in ascending order.",
    "keyword_counting": (
        "Count how often each country is mentioned in the text. Answer with a JSON object "
        'such as {"France": 2, "Peru": 1}.'
    ),
}
_MERGES = {
    "sorting": "Merge these sorted lists into one sorted list, keeping every repeat.",
    "set_intersection": "Join these lists into one ascending list without repeats.",
    "keyword_counting": "Add up these country counts into one JSON object.",
}


class ReasonerAgent(Protocol):
    """What the reasoner needs of an agent: palaestra's `Agent.act`."""

    def act(self, messages: list[dict[str, Any]], tools: Any = None) -> str:  # noqa: D102
        ...


class AgentReasoner:
    """Runs transformations by prompting an agent; counts calls and tokens.

    Args:
        agent: Any object with ``act(messages, tools) -> str`` (every palaestra Agent).
    """

    def __init__(self, agent: ReasonerAgent) -> None:
        self.agent = agent
        self.calls = 0
        self.tokens = 0
        self._exact = SimulatedReasoner(seed=0)  # splits exactly; its counters are not ours

    def solve(self, kind: str, input_data: Question) -> tuple[Thought, int]:
        """The agent's answer to one input."""
        if isinstance(input_data, CodingProblem):
            return self._ask(kind, f"{_specification(input_data)}\n\n{_FENCE_ONLY}")
        prompt = f"{_TASKS[kind]}\n\nInput: {_show(input_data)}\n\nAnswer only."
        return self._ask(kind, prompt)

    def split(self, kind: str, input_data: Question, k: int) -> tuple[list[InputData], int]:
        """Exact contiguous parts (as the simulated reasoner makes them), at no model cost."""
        parts, _ = self._exact.split(kind, input_data, k)
        return parts, 0

    def merge(
        self, kind: str, parts: Sequence[Thought], input_data: Question | None = None
    ) -> tuple[Thought, int]:
        """The agent's merge of partial answers (for programming, of candidate functions)."""
        if isinstance(input_data, CodingProblem):
            shown = "\n\n".join(f"```python\n{_code(part)}\n```" for part in parts)
            prompt = (
                f"{_specification(input_data)}\n\nCandidate solutions:\n\n{shown}\n\nCombine their "
                f"best parts into one correct function. {_FENCE_ONLY}"
            )
            return self._ask(kind, prompt)
        shown = "\n".join(f"- {format_answer(kind, cast(Result, part))}" for part in parts)
        return self._ask(kind, f"{_MERGES[kind]}\n\n{shown}\n\nAnswer only.")

    def refine(self, kind: str, input_data: Question, candidate: object) -> tuple[Thought, int]:
        """The agent's corrected answer, told how many errors the scorer found."""
        if isinstance(input_data, CodingProblem):
            prompt = (
                f"{_specification(input_data)}\n\nA first solution:\n\n```python\n"
                f"{_code(candidate)}\n```\n\nFind and fix its bugs. {_FENCE_ONLY}"
            )
            return self._ask(kind, prompt)
        errors = local_error(kind, input_data, candidate)
        shown = "(no answer)"
        if isinstance(candidate, (list, dict)):
            shown = format_answer(kind, candidate)
        prompt = (
            f"{_TASKS[kind]}\n\nInput: {_show(input_data)}\n\nA first answer: {shown}\n"
            f"It has {errors} errors. Give the corrected answer only."
        )
        return self._ask(kind, prompt)

    def score(self, kind: str, input_data: Question, candidate: object) -> tuple[int, int]:
        """The exact error count, as Graph of Thoughts scores these tasks."""
        if isinstance(input_data, CodingProblem):
            raise ConfigError(
                "programming candidates are scored by running them, not by a reasoner"
            )
        self.calls += 1
        return local_error(kind, input_data, candidate), 0

    def fork(self) -> AgentReasoner:
        """A reasoner with the same agent and counters."""
        clone = AgentReasoner(self.agent)
        clone.calls, clone.tokens = self.calls, self.tokens
        return clone

    def _ask(self, kind: str, prompt: str) -> tuple[Thought, int]:
        reply = self.agent.act([{"role": "user", "content": prompt}], None)
        used = len(prompt.split()) + len(str(reply).split())
        self.calls += 1
        self.tokens += used
        if kind == "programming":
            return program_of(str(reply)), used
        parsed = parse_answer(kind, str(reply))
        if parsed is None:
            parsed = {} if kind == "keyword_counting" else []
        return parsed, used


_FENCE_ONLY = "Reply with the complete function in one ```python block."


def _specification(problem: CodingProblem) -> str:
    """The function to write, as the reasoner reads it (not the graph's instructions)."""
    spec = problem.problem
    return f"Write the Python function `{spec.entry_point}`:\n\n```python\n{spec.statement()}\n```"


def _code(candidate: object) -> str:
    return candidate.code if isinstance(candidate, Program) else str(candidate)


def _show(input_data: InputData) -> str:
    if isinstance(input_data, tuple):
        first, second = input_data
        return f"set A = {json.dumps(first)}, set B = {json.dumps(second)}"
    if isinstance(input_data, list):
        return json.dumps(input_data)
    return str(input_data)
