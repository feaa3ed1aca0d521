"""The static baselines of Graph of Thoughts, as policies that play ThoughtGraph-v0's actions.

- ``io``: one solve of the whole problem, submitted as it is;
- ``cot``: a chain of thought as a chain of nodes, no branching and no checking: the problem cut
  in parts of 16 items, each solved once, all merged once, submitted (programming: a solve, its
  example run, one revision submitted);
- ``tot``: Tree of Thoughts: ``width`` solves, the best kept, then ``depth`` rounds of ``width``
  refinements of the best, the best kept each round;
- ``got``: Graph of Thoughts' schedule: split the problem in parts of about 32 items (2 for
  sorting 64, as the paper's sorting 32 does with 16), 5 solves per part, the best of each kept,
  10 merges, the best kept, 10 refinements, the best kept, submitted. A function is not split:
  for programming it is 5 solves, the best 2 kept and combined 5 times, the best of all kept,
  5 refinements, the best kept, submitted.

Each reads only what the agent sees (the graph) and returns the episode's last ``info``; they
are the yardstick a trained policy is compared with.
"""

from __future__ import annotations

from typing import Any

from palaestra.core.types import ToolCall

__all__ = ["SCHEDULES", "play_schedule"]

SCHEDULES = ("io", "cot", "tot", "got")


def play_schedule(env: Any, name: str, *, width: int = 5, depth: int = 2) -> dict[str, Any]:
    """Play a static schedule to the end on a reset env; the last step's info.

    Args:
        env: A ThoughtGraph-v0 env (wrapped or not), just reset.
        name: ``io``, ``cot``, ``tot`` or ``got``.
        width: Branching of ``tot``.
        depth: Refinement rounds of ``tot``.
    """
    graph = env.unwrapped.graph

    def act(name: str, **arguments: Any) -> dict[str, Any]:
        *_, info = env.step(ToolCall(name=name, arguments=arguments).to_text())
        return info

    def make(name: str, **arguments: Any) -> list[int]:
        """Act; the ids of the live nodes the action made."""
        before = len(graph.nodes)
        act(name, **arguments)
        return [node.id for node in graph.nodes[before:] if not node.pruned]

    def best_of(ids: list[int], n: int = 1) -> list[int]:
        act("score", nodes=[i for i in ids if graph.nodes[i].score is None])
        act("keep_best", nodes=ids, n=n)
        return [i for i in ids if not graph.nodes[i].pruned]

    def best(ids: list[int]) -> int:
        return best_of(ids)[0]

    programming = env.unwrapped._kind == "programming"
    if name == "io":
        return act("submit", node=make("solve", node=0, n=1)[0])
    if name == "cot" and programming:
        first = make("solve", node=0, n=1)[0]
        act("score", nodes=[first])
        return act("submit", node=make("refine", node=first, n=1)[0])
    if name == "cot":
        inputs = make("split", node=0, k=env.unwrapped._problem_size // 16)
        answers = [make("solve", node=part, n=1)[0] for part in inputs]
        return act("submit", node=make("aggregate", nodes=answers, n=1)[0])
    if name == "tot":
        top = best(make("solve", node=0, n=width))
        for _ in range(depth):
            top = best([top, *make("refine", node=top, n=width)])
        return act("submit", node=top)
    if name == "got" and programming:
        pair = best_of(make("solve", node=0, n=5), n=2)
        top = best([*pair, *make("aggregate", nodes=pair, n=5)])
        top = best([top, *make("refine", node=top, n=5)])
        return act("submit", node=top)
    if name == "got":
        parts = make("split", node=0, k=max(2, env.unwrapped._problem_size // 32))
        kept = [best(make("solve", node=part, n=5)) for part in parts]
        while len(kept) > 1:
            merged = make("aggregate", nodes=kept[:2], n=min(10, graph.room() // 2))
            kept = [best(merged), *kept[2:]]
        top = kept[0]
        return act("submit", node=best([top, *make("refine", node=top, n=min(10, graph.room()))]))
    raise ValueError(f"unknown schedule {name!r}; known: {', '.join(SCHEDULES)}")
