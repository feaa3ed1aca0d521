"""The thought graph: nodes, refusals that name the problem, the cap, the table, copies."""

import pytest

from palaestra.envs.thought_graph.graph import ThoughtGraph
from palaestra.errors import ToolError


def graph_with_parts():
    graph = ThoughtGraph.start([3, 1, 2, 0], "[3, 1, 2, 0]", max_nodes=6)
    problem = graph.node(0)
    left = graph.add("split", [3, 1], "[3, 1]", [problem])
    right = graph.add("split", [2, 0], "[2, 0]", [problem])
    merged = graph.add("aggregate", [0, 1, 2, 3], "[0, 1, 2, 3]", [left, right])
    return graph, merged


def test_nodes_record_parents_and_depth():
    graph, merged = graph_with_parts()
    assert merged.id == 3 and merged.parents == (1, 2) and merged.depth == 2
    assert graph.node(1).depth == 1 and graph.node(0).kind == "problem"


@pytest.mark.parametrize(
    ("node_id", "message"),
    [(9, "no node 9"), (-1, "no node -1"), ("1", "whole number"), (True, "whole number")],
)
def test_bad_node_ids_are_clear_refusals(node_id, message):
    graph, _ = graph_with_parts()
    with pytest.raises(ToolError, match=message):
        graph.node(node_id)


def test_lists_of_nodes_are_checked():
    graph, _ = graph_with_parts()
    with pytest.raises(ToolError, match="at least one"):
        graph.nodes_of([])
    with pytest.raises(ToolError, match="once"):
        graph.nodes_of([1, 1])
    assert [n.id for n in graph.nodes_of([2, 1])] == [2, 1]


def test_the_cap_refuses_before_anything_is_added():
    graph, _ = graph_with_parts()
    assert graph.room() == 2
    with pytest.raises(ToolError, match="at most 6"):
        graph.require_room(3)
    assert len(graph.nodes) == 4


def test_pruned_nodes_leave_the_table_but_keep_their_ids():
    graph, merged = graph_with_parts()
    graph.node(1).pruned = True
    merged.score = 0
    table = graph.table()
    assert "\n1 | split" not in table and "3 | aggregate | 1,2 | 2 | 0 |" in table
    assert "3 of 6 nodes in use, 1 pruned" in table
    assert graph.room() == 3  # pruning made room
    with pytest.raises(ToolError, match="pruned"):
        graph.node(1)


def test_long_contents_are_cut_in_the_table():
    graph = ThoughtGraph.start(list(range(100)), str(list(range(100))))
    line = graph.table(content_chars=20).splitlines()[1]
    assert line.endswith("...") and len(line.split(" | ")[-1]) == 20


def test_copies_are_independent():
    graph, merged = graph_with_parts()
    clone = graph.copy()
    clone.node(3).score = 5
    clone.add("refine", [0, 1, 2, 3], "[0, 1, 2, 3]", [clone.node(3)])
    assert merged.score is None and len(graph.nodes) == 4 and len(clone.nodes) == 5
