"""The state of a ThoughtGraph-v0 episode: a capped graph of thoughts, shown as a compact table.

Graph of Thoughts keeps every intermediate result (a thought) as a node whose parents are the
thoughts it was made from; ARIES lets a policy choose the next transformation from the graph's
state. Here node 0 is the problem; every other node records how it was made (``kind``), from
what (``parents``), how deep it sits, its score once scored (an error count: lower is better)
and the reasoner's feedback. Agents read the graph as a short table, one line per live node,
with long contents cut, never as a JSON dump.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from palaestra.errors import ToolError

__all__ = ["Node", "NodeKind", "ThoughtGraph"]

NodeKind = Literal["problem", "split", "solve", "refine", "aggregate"]


@dataclass
class Node:
    """One thought.

    Attributes:
        id: Its number, in order of creation (0 is the problem).
        kind: The transformation that made it.
        data: The content as data (a list of numbers, counts by keyword, ...).
        text: The content as the agent reads it.
        parents: The nodes it was made from.
        depth: 0 for the problem, else one more than its deepest parent.
        score: The error count once scored (0 is exact), else None.
        feedback: What the reasoner said about it, if anything.
        pruned: Pruned nodes stay in the record but leave the table and take no actions.
        question: The input this node's content is about: the node's own data for an input
            (the problem, a part), the input it answers for an answer.
    """

    id: int
    kind: NodeKind
    data: Any
    text: str
    parents: tuple[int, ...] = ()
    depth: int = 0
    score: int | None = None
    feedback: str = ""
    pruned: bool = False
    question: Any = None


@dataclass
class ThoughtGraph:
    """A graph of thoughts with at most ``max_nodes`` live (unpruned) nodes."""

    max_nodes: int = 64
    nodes: list[Node] = field(default_factory=list)

    @classmethod
    def start(cls, data: Any, text: str, max_nodes: int = 64) -> ThoughtGraph:
        """A graph holding the problem as node 0."""
        graph = cls(max_nodes=max_nodes)
        graph.nodes.append(Node(id=0, kind="problem", data=data, text=text, question=data))
        return graph

    def node(self, node_id: Any) -> Node:
        """A live node by id; a clear refusal for anything else."""
        if isinstance(node_id, bool) or not isinstance(node_id, int):
            raise ToolError(f"a node id is a whole number, got {node_id!r}")
        if not 0 <= node_id < len(self.nodes):
            raise ToolError(f"there is no node {node_id}; the nodes are 0 to {len(self.nodes) - 1}")
        found = self.nodes[node_id]
        if found.pruned:
            raise ToolError(f"node {node_id} was pruned")
        return found

    def nodes_of(self, node_ids: Iterable[Any]) -> list[Node]:
        """Live nodes by id, each once, in the order given; refuses an empty list."""
        ids = list(node_ids)
        if not ids:
            raise ToolError("name at least one node")
        if len(set(map(repr, ids))) != len(ids):
            raise ToolError("name each node once")
        return [self.node(node_id) for node_id in ids]

    def room(self) -> int:
        """How many nodes can still be added: pruning one makes room for another."""
        return self.max_nodes - len(self.live())

    def require_room(self, wanted: int) -> None:
        """Refuse a transformation that would make more nodes than the cap allows."""
        if wanted > self.room():
            raise ToolError(
                f"that would add {wanted} nodes, but the graph holds at most {self.max_nodes} "
                f"live nodes and has room for {self.room()}; prune or submit"
            )

    def add(
        self, kind: NodeKind, data: Any, text: str, parents: Iterable[Node], question: Any = None
    ) -> Node:
        """A new node made by ``kind`` from ``parents`` (room must have been checked)."""
        parent_nodes = list(parents)
        node = Node(
            id=len(self.nodes),
            kind=kind,
            data=data,
            text=text,
            parents=tuple(parent.id for parent in parent_nodes),
            depth=1 + max((parent.depth for parent in parent_nodes), default=0),
            question=data if question is None else question,
        )
        self.nodes.append(node)
        return node

    def live(self) -> list[Node]:
        """The nodes that are not pruned."""
        return [node for node in self.nodes if not node.pruned]

    def table(self, content_chars: int = 60) -> str:
        """One line per live node: id, kind, parents, depth, score, content (cut)."""
        lines = ["id | kind | parents | depth | score | content"]
        for node in self.live():
            parents = ",".join(map(str, node.parents)) or "-"
            score = "-" if node.score is None else str(node.score)
            text = (
                node.text
                if len(node.text) <= content_chars
                else node.text[: content_chars - 3] + "..."
            )
            line = f"{node.id} | {node.kind} | {parents} | {node.depth} | {score} | {text}"
            if node.feedback:
                line += f" ({node.feedback})"
            lines.append(line)
        live = len(self.live())
        pruned = len(self.nodes) - live
        lines.append(
            f"{live} of {self.max_nodes} nodes in use" + (f", {pruned} pruned" if pruned else "")
        )
        return "\n".join(lines)

    def copy(self) -> ThoughtGraph:
        """An independent copy (for fork)."""
        return copy.deepcopy(self)
