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

    def act(name: str, **arguments: Any) -> tuple[float, bool, dict[str, Any]]:
        _, reward, terminated, truncated, info = env.step(
            ToolCall(name=name, arguments=arguments).to_text()
        )
        return reward, terminated or truncated, info

    def new_ids(before: int) -> list[int]:
        return [node.id for node in graph.nodes[before:] if not node.pruned]

    def best_of(ids: list[int], n: int = 1) -> list[int]:
        act("score", nodes=[i for i in ids if graph.nodes[i].score is None])
        act("keep_best", nodes=ids, n=n)
        return [i for i in ids if not graph.nodes[i].pruned]

    def best(ids: list[int]) -> int:
        return best_of(ids)[0]

    if name == "io":
        before = len(graph.nodes)
        act("solve", node=0, n=1)
        return act("submit", node=new_ids(before)[0])[2]
    if name == "cot" and env.unwrapped._kind == "programming":
        before = len(graph.nodes)
        act("solve", node=0, n=1)
        first = new_ids(before)[0]
        act("score", nodes=[first])
        before = len(graph.nodes)
        act("refine", node=first, n=1)
        return act("submit", node=new_ids(before)[0])[2]
    if name == "cot":
        parts = env.unwrapped._problem_size // 16
        before = len(graph.nodes)
        act("split", node=0, k=parts)
        inputs = new_ids(before)
        before = len(graph.nodes)
        for part in inputs:
            act("solve", node=part, n=1)
        answers = new_ids(before)
        before = len(graph.nodes)
        act("aggregate", nodes=answers, n=1)
        return act("submit", node=new_ids(before)[0])[2]
    if name == "tot":
        before = len(graph.nodes)
        act("solve", node=0, n=width)
        top = best(new_ids(before))
        for _ in range(depth):
            before = len(graph.nodes)
            act("refine", node=top, n=width)
            top = best([top, *new_ids(before)])
        return act("submit", node=top)[2]
    if name == "got" and env.unwrapped._kind == "programming":
        before = len(graph.nodes)
        act("solve", node=0, n=5)
        pair = best_of(new_ids(before), n=2)
        before = len(graph.nodes)
        act("aggregate", nodes=pair, n=5)
        top = best([*pair, *new_ids(before)])
        before = len(graph.nodes)
        act("refine", node=top, n=5)
        top = best([top, *new_ids(before)])
        return act("submit", node=top)[2]
    if name == "got":
        size = env.unwrapped._problem_size
        before = len(graph.nodes)
        act("split", node=0, k=max(2, size // 32))
        parts = new_ids(before)
        kept = []
        for part in parts:
            before = len(graph.nodes)
            act("solve", node=part, n=5)
            kept.append(best(new_ids(before)))
        while len(kept) > 1:
            before = len(graph.nodes)
            act("aggregate", nodes=kept[:2], n=min(10, graph.room() // 2))
            kept = [best(new_ids(before)), *kept[2:]]
        before = len(graph.nodes)
        act("refine", node=kept[0], n=min(10, graph.room()))
        return act("submit", node=best([kept[0], *new_ids(before)]))[2]
    raise ValueError(f"unknown schedule {name!r}; known: {', '.join(SCHEDULES)}")
