"""ThoughtGraph-v0: reasoning as actions over an interactive graph of thoughts (ARIES-style).

Graph of Thoughts runs a fixed schedule of transformations (split, solve, score, keep the best,
merge, refine) over a graph of partial results; ARIES lets a policy choose the next one. Here
the agent is that policy: each action transforms the graph, a reasoner executes the
transformation (a seeded simulated reasoner by default, cheap enough to train policies on a
CPU), and ``submit(node)`` ends the episode with that node's content as the answer. The reward is
1 for an exact answer, else Graph of Thoughts' error count turned into a partial score
(`palaestra.tasks.thought_graph.problems.partial_score`), minus an optional cost per reasoner
call. No action reveals the ground truth: ``score`` measures a node against its own input.

``task="programming"`` plays the built-in programming problems (`palaestra.tasks.thought_graph.
coding`): thoughts are candidate functions, ``score`` runs the statement's example in a sandbox,
and the reward is the fraction of hidden unit tests passed at submit, run in a fresh sandbox.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from palaestra.core.env import TextEnv
from palaestra.core.tools import Toolbox, tool
from palaestra.core.types import ToolCall, Verdict
from palaestra.envs.thought_graph.agent_reasoner import AgentReasoner
from palaestra.envs.thought_graph.graph import Node, ThoughtGraph
from palaestra.errors import AgentError, ConfigError, TaskError, ToolError
from palaestra.sandbox import SandboxConfig, env_sandbox_settings, make_sandbox
from palaestra.tasks import Split
from palaestra.tasks.programming import GraderLimits
from palaestra.tasks.thought_graph.coding import (
    CodingProblem,
    Program,
    coding_problem,
    coding_problems,
    hidden_verdict,
    visible_check,
)
from palaestra.tasks.thought_graph.problems import (
    KINDS,
    SIZES,
    ThoughtProblem,
    error_count,
    make_problem,
    parse_answer,
    partial_score,
    score_of_errors,
)
from palaestra.tasks.thought_graph.reasoner import SimulatedReasoner

__all__ = ["KINDS", "SIZES", "TASKS", "ThoughtGraphEnv"]

TASKS = (*KINDS, "programming")
"""What ``task=`` takes: the three synthetic tasks, then programming."""
_SEEDS_PER_SPLIT = 10_000
_REASONER_SPECS = ("smollm2", "hf:", "openai:", "random", "noop")
"""Agent specs (as `palaestra.agents.resolve_agent` takes them) that can be the reasoner."""
_ORACLE_PART = 64
"""The oracle solves parts of up to this many items: as long as refining still pays."""

_INSTRUCTIONS = """\
You solve a problem by building a graph of thoughts. Node 0 is the problem. Each action \
transforms the graph and a reasoner carries it out; you see the graph as a table after every \
turn. Scores are error counts of a node against its own input (0 is exact, lower is better).

Actions (several per message allowed, one per line or as tool calls):
{tools}

Example: split(0, 2) then solve(1, 3) and solve(2, 3), score([3, 4, 5, 6, 7, 8]), \
keep_best([3, 4, 5], 1), keep_best([6, 7, 8], 1), aggregate([3, 6], 2), score([9, 10]), \
refine(9, 2), ..., submit(9).
Every reasoner call costs; the graph holds at most {max_nodes} nodes."""


@dataclass(frozen=True)
class GraphTask:
    """One episode's task: a problem of a kind and size, from a seed."""

    id: str
    problem: ThoughtProblem | CodingProblem


class _Actions:
    """The transformations, as tools; ThoughtGraphEnv carries them out."""

    @tool
    def split(self, node: int, k: int) -> None:
        """Split an input (the problem or a part) into k contiguous parts.

        Args:
            node: The input to split.
            k: How many parts (2 to 8).
        """

    @tool
    def solve(self, node: int, n: int = 1) -> None:
        """Ask the reasoner for n answers to an input (the problem or a part).

        Args:
            node: The input to answer.
            n: How many independent answers (1 to 10).
        """

    @tool
    def refine(self, node: int, n: int = 1) -> None:
        """Ask for n improved versions of a scored answer.

        Args:
            node: A scored answer.
            n: How many refinements (1 to 10).
        """

    @tool
    def score(self, nodes: list[int]) -> None:
        """Score answers: each one's error count against its own input.

        For programming, a score is the number of visible checks (the example) a candidate
        fails, run in the sandbox.

        Args:
            nodes: The answers to score.
        """

    @tool
    def keep_best(self, nodes: list[int], n: int) -> None:
        """Keep the n best of these scored answers and prune the others.

        Args:
            nodes: Scored answers.
            n: How many to keep.
        """

    @tool
    def aggregate(self, nodes: list[int], n: int = 1) -> None:
        """Merge answers of different parts into n answers of the parts together.

        Args:
            nodes: Answers of distinct parts (two or more).
            n: How many merged answers (1 to 10).
        """

    @tool
    def prune(self, nodes: list[int]) -> None:
        """Remove nodes from the graph (not the problem).

        Args:
            nodes: The nodes to prune.
        """

    @tool(ends_episode=True)
    def submit(self, node: int) -> str:
        """End the episode with this node's content as the answer.

        Args:
            node: An answer to the whole problem.
        """
        return ""


class ThoughtGraphEnv(TextEnv):
    """Build a graph of thoughts, transformed by a reasoner, and submit the best answer.

    Args:
        task: ``sorting``, ``set_intersection``, ``keyword_counting`` or ``programming``;
            None draws one of the first three (programming runs code, so it is asked for).
        size: 32, 64 or 128; None draws one. Programming problems have no size.
        split: ``"train"`` or ``"test"`` (disjoint seeds).
        reasoner: ``"simulated"`` (seeded, cheap: the default), an agent spec as the CLI takes
            them (``smollm2``, ``hf:<model>``, ``openai:<base url>#<model>``: made at the first
            reset, once per process) or an agent (any object with ``act(messages, tools) ->
            str``, such as a palaestra Agent) prompted for each transformation.
        reasoner_seed: Seed of the simulated reasoner (mixed with the episode seed).
        cost_per_call: Subtracted from the reward for each reasoner call (0 by default).
        max_nodes: The most nodes a graph may hold.
        sandbox: Where programming runs candidates: ``"local"`` (bubblewrap) or ``"docker"``.
        sandbox_config: Its `SandboxConfig` (or the fields as a dict).
        max_turns: Turn limit (defaults to the registered ``max_episode_steps``, 40).
        render_mode: ``"ansi"`` or None.
    """

    default_max_turns = 40
    text_commands = True
    max_observation_chars = 32_768

    def __init__(
        self,
        *,
        task: str | None = None,
        size: int | None = None,
        split: Split = "train",
        reasoner: Any = "simulated",
        reasoner_seed: int = 0,
        cost_per_call: float = 0.0,
        max_nodes: int = 64,
        sandbox: str = "local",
        sandbox_config: SandboxConfig | dict[str, Any] | None = None,
        max_turns: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(max_turns=max_turns, render_mode=render_mode)
        if task is not None and task not in TASKS:
            raise ConfigError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
        if size is not None and size not in SIZES:
            raise ConfigError(f"size must be one of {SIZES}, got {size!r}")
        if task == "programming" and size is not None:
            raise ConfigError("programming problems have no size: leave size out")
        if split not in ("train", "test"):
            raise ConfigError(f"split must be 'train' or 'test', got {split!r}")
        if not isinstance(cost_per_call, (int, float)) or not 0 <= cost_per_call <= 1:
            raise ConfigError(f"cost_per_call must be in [0, 1], got {cost_per_call!r}")
        if not isinstance(max_nodes, int) or max_nodes < 8:
            raise ConfigError(f"max_nodes must be an integer of at least 8, got {max_nodes!r}")
        if isinstance(reasoner, str):
            if reasoner != "simulated" and not reasoner.startswith(_REASONER_SPECS):
                raise ConfigError(
                    f"reasoner must be 'simulated', an agent spec ({', '.join(_REASONER_SPECS)}"
                    f"...) or an agent with act(messages, tools), got {reasoner!r}"
                )
        elif not callable(getattr(reasoner, "act", None)):
            raise ConfigError(
                f"reasoner must be 'simulated', an agent spec or an agent with "
                f"act(messages, tools), got {reasoner!r}"
            )
        self.reasoner_spec = reasoner
        self.kinds: tuple[str, ...] = (task,) if task else KINDS
        self.grader_limits = GraderLimits()
        self.sandbox_kind = sandbox
        # The grader gives each run its own deadline; this one is only the config's fallback.
        self.sandbox_config = env_sandbox_settings(
            sandbox, sandbox_config, self.grader_limits.total_timeout_s
        )
        self.sizes = (size,) if size else SIZES
        self.split: Split = split
        self.reasoner_seed = reasoner_seed
        self.cost_per_call = float(cost_per_call)
        self.max_nodes = max_nodes
        self.toolbox = Toolbox.of(_Actions)
        self.graph = ThoughtGraph(max_nodes=max_nodes)
        self.reasoner: SimulatedReasoner | AgentReasoner | None = None
        self._problem: ThoughtProblem | CodingProblem | None = None
        self._plan: list[str] | None = None

    # ----------------------------------------------------------------------------- episodes
    def _select_task(self, task_id: str | None) -> GraphTask:
        if task_id is not None and task_id.startswith("programming-"):
            if "programming" not in self.kinds:
                raise TaskError(f"task {task_id!r} is not one this env plays")
            coding = coding_problem(task_id)
            if coding.split != self.split:
                raise TaskError(f"task {task_id!r} is in the {coding.split} split")
            return GraphTask(coding.id, coding)
        if task_id is not None:
            kind, size, seed = _parse_task_id(task_id)
            if kind not in self.kinds or size not in self.sizes:
                raise TaskError(f"task {task_id!r} is not one this env plays")
            problem = make_problem(kind, size, seed)
            if problem.split != self.split:
                raise TaskError(f"task {task_id!r} is in the {problem.split} split")
            return GraphTask(problem.id, problem)
        kind = self.kinds[int(self.np_random.integers(len(self.kinds)))]
        if kind == "programming":
            pool = [p for p in coding_problems() if p.split == self.split]
            chosen = pool[int(self.np_random.integers(len(pool)))]
            return GraphTask(chosen.id, chosen)
        size = self.sizes[int(self.np_random.integers(len(self.sizes)))]
        while True:  # about one seed in five is a test statement
            seed = int(self.np_random.integers(_SEEDS_PER_SPLIT * 5))
            problem = make_problem(kind, size, seed)
            if problem.split == self.split:
                return GraphTask(problem.id, problem)

    def _start(self, task: GraphTask) -> tuple[str, dict[str, Any]]:
        problem = task.problem
        self._problem = problem
        if self.reasoner_spec == "simulated":
            self.reasoner = SimulatedReasoner(seed=_mix(self.reasoner_seed, problem.id))
        elif isinstance(self.reasoner_spec, str):
            self.reasoner = AgentReasoner(_spec_agent(self.reasoner_spec))
        else:
            self.reasoner = AgentReasoner(self.reasoner_spec)
        self.graph = ThoughtGraph.start(
            problem.input_data, _show(problem.input_data), self.max_nodes
        )
        self._plan = None
        observation = f"{problem.statement}\n\n{self.graph.table()}"
        size = problem.size if isinstance(problem, ThoughtProblem) else None
        return observation, {"task": problem.kind, "size": size}

    def _instructions(self) -> str:
        assert self.toolbox is not None
        return _INSTRUCTIONS.format(tools=self.toolbox.describe(), max_nodes=self.max_nodes)

    # ------------------------------------------------------------------------------- actions
    def _call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        try:
            return getattr(self, f"_do_{name}")(**arguments)
        except ConfigError as exc:  # the reasoner refused (a part too small to split so far)
            raise ToolError(str(exc)) from exc

    def _do_split(self, node: int, k: int) -> str:
        source = self._input_node(node)
        if not 2 <= k <= 8:
            raise ToolError("k must be between 2 and 8")
        self.graph.require_room(k)
        parts, tokens = self._reasoner().split(self._kind, source.data, k)
        made = [self._add("split", part, part, [source]) for part in parts]
        return f"split node {node} into nodes {_ids(made)}"

    def _do_solve(self, node: int, n: int = 1) -> str:
        source = self._input_node(node)
        self._check_count(n)
        made = []
        for _ in range(n):
            answer, _tokens = self._reasoner().solve(self._kind, source.data)
            made.append(self._add("solve", answer, source.data, [source]))
        return f"solved node {node}: nodes {_ids(made)}"

    def _do_refine(self, node: int, n: int = 1) -> str:
        source = self._answer_node(node)
        if source.score is None:
            raise ToolError(f"node {node} has no score yet: score it before refining")
        self._check_count(n)
        made = []
        for _ in range(n):
            answer, _tokens = self._reasoner().refine(self._kind, _question(source), source.data)
            made.append(self._add("refine", answer, _question(source), [source]))
        return f"refined node {node}: nodes {_ids(made)}"

    def _do_score(self, nodes: list[int]) -> str:
        chosen = self._answer_nodes(nodes)
        if isinstance(self._problem, CodingProblem):
            for node in chosen:
                node.score, node.feedback = visible_check(
                    self._problem, _content(node.data), self._new_sandbox, self.grader_limits
                )
            return _scored(chosen)
        for node in chosen:
            error, _tokens = self._reasoner().score(self._kind, _question(node), node.data)
            node.score = int(error)
        return _scored(chosen)

    def _do_keep_best(self, nodes: list[int], n: int) -> str:
        chosen = self._answer_nodes(nodes)
        unscored = [node.id for node in chosen if node.score is None]
        if unscored:
            raise ToolError(f"score these first: {unscored}")
        if not 1 <= n <= len(chosen):
            raise ToolError(f"n must be between 1 and {len(chosen)}")
        ranked = sorted(chosen, key=lambda node: (node.score, node.id))
        for node in ranked[n:]:
            node.pruned = True
        return f"kept {_ids(ranked[:n])}, pruned {_ids(ranked[n:]) or 'none'}"

    def _do_aggregate(self, nodes: list[int], n: int = 1) -> str:
        chosen = self._answer_nodes(nodes)
        if len(chosen) < 2:
            raise ToolError("aggregate needs answers of two or more parts")
        questions = [_question(node) for node in chosen]
        if self._kind == "programming":  # candidates of one function are combined
            question = questions[0]
        elif len({json.dumps(q, sort_keys=True) for q in questions}) != len(questions):
            raise ToolError("these answer the same part: aggregate answers of different parts")
        else:
            question = _merge_questions(self._kind, questions)
        self._check_count(n)
        made = []
        for _ in range(n):
            answer, _tokens = self._reasoner().merge(
                self._kind, [node.data for node in chosen], input_data=question
            )
            made.append(self._add("aggregate", answer, question, chosen))
        return f"merged {_ids(chosen)}: nodes {_ids(made)}"

    def _do_prune(self, nodes: list[int]) -> str:
        chosen = self.graph.nodes_of(nodes)
        if any(node.id == 0 for node in chosen):
            raise ToolError("node 0 is the problem: it cannot be pruned")
        for node in chosen:
            node.pruned = True
        return f"pruned {_ids(chosen)}"

    def _do_submit(self, node: int) -> str:
        return _content(self._answer_node(node).data)

    # ------------------------------------------------------------------------------ helpers
    @property
    def _kind(self) -> str:
        assert self._problem is not None
        return self._problem.kind

    @property
    def _problem_size(self) -> int:
        assert isinstance(self._problem, ThoughtProblem), "programming problems have no size"
        return self._problem.size

    def _new_sandbox(self) -> Any:
        return make_sandbox(self.sandbox_kind, self.sandbox_config)

    def _reasoner(self) -> SimulatedReasoner | AgentReasoner:
        if self.reasoner is None:
            raise ToolError("call reset() first")
        return self.reasoner

    def _input_node(self, node_id: int) -> Node:
        node = self.graph.node(node_id)
        if node.kind not in ("problem", "split"):
            raise ToolError(f"node {node_id} is an answer ({node.kind}); name an input")
        return node

    def _answer_node(self, node_id: int) -> Node:
        return _as_answer(self.graph.node(node_id))

    def _answer_nodes(self, node_ids: list[int]) -> list[Node]:
        return [_as_answer(node) for node in self.graph.nodes_of(node_ids)]

    def _check_count(self, n: int) -> None:
        if not 1 <= n <= 10:
            raise ToolError("n must be between 1 and 10")
        self.graph.require_room(n)

    def _add(self, kind: Any, data: Any, question: Any, parents: list[Node]) -> Node:
        return self.graph.add(kind, data, _show(data), parents, question=question)

    def _render_result(self, name: str, result: Any) -> str:
        return f"[{name}] {result}"

    def _render_error(self, name: str, message: str) -> str:
        return f"[{name}] Error: {message}"

    def _report_usage(self) -> None:
        """Every step's info carries the reasoner's totals so far (the recorder keeps the last)."""
        reasoner = self._reasoner()
        self._step_extras["usage"] = {
            "reasoner_calls": reasoner.calls,
            "reasoner_tokens": reasoner.tokens,
        }

    def _observation(self, text: str) -> str:
        self._report_usage()
        reasoner = self._reasoner()
        return (
            f"{text}\n\n{self.graph.table()}\n"
            f"reasoner calls: {reasoner.calls}, tokens: {reasoner.tokens}; "
            f"turns left: {self.max_turns - self.turn}"
        )

    # ------------------------------------------------------------------------------ verdict
    def _verify(self, answer: str) -> Verdict:
        assert self._problem is not None
        if isinstance(self._problem, CodingProblem):
            errors, total, graded = hidden_verdict(
                self._problem, answer, self._new_sandbox, self.grader_limits
            )
            score, reason = score_of_errors(errors, total), graded.reason
        else:
            candidate = parse_answer(self._problem.kind, answer)
            errors = error_count(self._problem, candidate)
            score = partial_score(self._problem, candidate)
            reason = f"{errors} errors (score {score:.3f})"
        calls = self._reasoner().calls
        self._report_usage()
        return Verdict(
            score=max(0.0, score - self.cost_per_call * calls),
            success=errors == 0,
            reason=f"{reason} after {calls} reasoner calls",
        )

    def _oracle_actions(self) -> list[str]:
        """A GoT-style schedule, played out on a private fork, refined until its best is exact.

        The simulated reasoner is seeded, so what the fork saw is what the episode will see.
        """
        if self._plan is None:
            probe = self._fork_state()
            probe.max_turns = 10**6  # the plan is made whatever this episode's turn limit
            if isinstance(self._problem, CodingProblem):
                self._plan = _oracle_program_plan(probe)
            else:
                self._plan = _oracle_plan(probe)
        return list(self._plan)

    # --------------------------------------------------------------------------- lifecycle
    def _fork_state(self) -> ThoughtGraphEnv:
        args, kwargs = self._init_args
        clone = type(self)(*args, **kwargs)
        self._copy_episode_state(clone)
        clone._problem = self._problem
        clone.graph = self.graph.copy()
        clone.reasoner = self.reasoner.fork() if self.reasoner is not None else None
        return clone


def _oracle_plan(probe: ThoughtGraphEnv) -> list[str]:
    """Solve parts of up to 64 items, make each exact, merge pairwise, make each merge exact.

    Node ids are given in order of creation, so one message can make nodes and score them.
    """
    messages: list[str] = []
    play = _player(probe, messages)
    parts = max(1, probe._problem_size // _ORACLE_PART)
    inputs = [0]
    if parts > 1:
        play([ToolCall(name="split", arguments={"node": 0, "k": parts})])
        inputs = list(range(1, 1 + parts))
    first = len(probe.graph.nodes)
    layer = list(range(first, first + len(inputs)))
    play(
        [ToolCall(name="solve", arguments={"node": node, "n": 1}) for node in inputs]
        + [ToolCall(name="score", arguments={"nodes": layer})]
    )
    remakes: list[ToolCall | None] = [
        ToolCall(name="solve", arguments={"node": node}) for node in inputs
    ]
    layer = _make_exact(probe, play, layer, remakes, _ORACLE_PART)
    length = _ORACLE_PART
    while len(layer) > 1:
        length *= 2
        pairs = [layer[i : i + 2] for i in range(0, len(layer), 2)]
        merges = [pair for pair in pairs if len(pair) == 2]
        first = len(probe.graph.nodes)
        merged = list(range(first, first + len(merges)))
        play(
            [ToolCall(name="aggregate", arguments={"nodes": pair, "n": 1}) for pair in merges]
            + [ToolCall(name="score", arguments={"nodes": merged})]
        )
        made = iter(merged)
        layer = [next(made) if len(pair) == 2 else pair[0] for pair in pairs]
        remakes = [
            ToolCall(name="aggregate", arguments={"nodes": pair}) if len(pair) == 2 else None
            for pair in pairs
        ]
        layer = _make_exact(probe, play, layer, remakes, length)
    play([ToolCall(name="submit", arguments={"node": layer[0]})])
    return messages


def _oracle_program_plan(probe: ThoughtGraphEnv, rounds: int = 12) -> list[str]:
    """Solve once, then refine the best candidate until it has no bug, and submit it.

    The oracle may read what no agent can: which candidates the simulated reasoner wrote with
    bugs (`Program.bugs`); with a model as the reasoner it goes by the visible score instead.
    """
    messages: list[str] = []
    play = _player(probe, messages)
    nodes = probe.graph.nodes

    def badness(node_id: int) -> tuple[int, int, int]:
        data = nodes[node_id].data
        bugs = data.bugs if isinstance(data, Program) else None
        return (0 if bugs is None else len(bugs), nodes[node_id].score or 0, node_id)

    first = len(nodes)
    play(
        [
            ToolCall(name="solve", arguments={"node": 0, "n": 1}),
            ToolCall(name="score", arguments={"nodes": [first]}),
        ]
    )
    best, losers = first, list[int]()
    for _ in range(rounds):
        if badness(best)[:2] == (0, 0):
            break
        calls = [ToolCall(name="prune", arguments={"nodes": losers})] if losers else []
        first = len(nodes)
        calls += [
            ToolCall(name="refine", arguments={"node": best, "n": 2}),
            ToolCall(name="score", arguments={"nodes": [first, first + 1]}),
        ]
        play(calls)
        candidates = [best, first, first + 1]
        best = min(candidates, key=badness)
        losers = [node_id for node_id in candidates if node_id != best]
    play([ToolCall(name="submit", arguments={"node": best})])
    return messages


def _player(probe: ThoughtGraphEnv, messages: list[str]) -> Callable[[list[ToolCall]], None]:
    """Plays one message of tool calls on the probe and records it in the plan."""

    def play(calls: list[ToolCall]) -> None:
        message = "\n".join(call.to_text() for call in calls)
        messages.append(message)
        probe.step(message)

    return play


def _make_exact(
    probe: ThoughtGraphEnv,
    play: Callable[[list[ToolCall]], None],
    layer: list[int],
    remakes: list[ToolCall | None],
    length: int,
    rounds: int = 12,
) -> list[int]:
    """Improve the scored answers of a layer until all are exact, pruning what is superseded.

    An answer of up to 64 items is refined twice a round; a longer one is remade (solved or
    merged again) 6 times, since refining a long answer writes about as many errors as it fixes.
    The best of each round is kept; the losers are pruned at the start of the next message, so
    the graph never outgrows its cap.
    """
    nodes = probe.graph.nodes
    tries = 2 if length <= _ORACLE_PART else 6
    losers: list[int] = []
    for _ in range(rounds):
        pending = [i for i, node_id in enumerate(layer) if nodes[node_id].score != 0]
        if not pending:
            break
        calls = [ToolCall(name="prune", arguments={"nodes": losers})] if losers else []
        first = len(nodes)
        made = list(range(first, first + tries * len(pending)))
        for i in pending:
            remake = remakes[i]
            if tries == 2 or remake is None:
                calls.append(ToolCall(name="refine", arguments={"node": layer[i], "n": tries}))
            else:
                calls.append(
                    remake.model_copy(update={"arguments": {**remake.arguments, "n": tries}})
                )
        calls.append(ToolCall(name="score", arguments={"nodes": made}))
        play(calls)
        losers = []
        for offset, i in enumerate(pending):
            candidates = [layer[i], *made[tries * offset : tries * (offset + 1)]]
            best = min(candidates, key=lambda node_id: (nodes[node_id].score or 0, node_id))
            losers += [node_id for node_id in candidates if node_id != best]
            layer[i] = best
    if losers:
        play([ToolCall(name="prune", arguments={"nodes": losers})])
    return layer


@functools.cache
def _spec_agent(spec: str) -> Any:
    """The agent an agent spec names, made once per process and shared by its envs (and forks).

    Agents sit above envs, so the import waits until a spec is used (a model agent loads a model).
    """
    from palaestra.agents.specs import resolve_agent

    try:
        agent = resolve_agent(spec)
    except AgentError as exc:
        raise ConfigError(f"reasoner {spec!r}: {exc}") from exc
    if not callable(getattr(agent, "act", None)) or isinstance(agent, type):
        raise ConfigError(f"reasoner {spec!r} names no agent that can be prompted")
    return agent


def _question(node: Node) -> Any:
    return node.question


def _merge_questions(kind: str, questions: list[Any]) -> Any:
    if kind == "sorting":
        return [item for question in questions for item in question]
    if kind == "set_intersection":
        return ([item for question in questions for item in question[0]], questions[0][1])
    return " ".join(questions)


def _as_answer(node: Node) -> Node:
    if node.kind in ("problem", "split"):
        raise ToolError(f"node {node.id} is an input ({node.kind}); solve it first")
    return node


def _scored(nodes: list[Node]) -> str:
    """``scored 5: 0 (exact), 6: 2``: a zero is spelled out, the one score that ends a search."""
    shown = [f"{n.id}: {n.score}" + (" (exact)" if n.score == 0 else "") for n in nodes]
    return "scored " + ", ".join(shown)


def _ids(nodes: list[Node]) -> str:
    return ", ".join(str(node.id) for node in nodes)


def _content(data: Any) -> str:
    """What a node holds, whole: the code of a candidate function, else its shown text."""
    return data.code if isinstance(data, Program) else _show(data)


def _show(data: Any) -> str:
    """A node's content on one line of the table."""
    if isinstance(data, Program):
        return " ".join(data.code.split()) or "(no code)"
    if isinstance(data, CodingProblem):
        return data.problem.signature
    if isinstance(data, dict):
        return json.dumps(data, sort_keys=True)
    if isinstance(data, tuple):
        return " ; ".join(_show(part) for part in data)
    if isinstance(data, list):
        return "[" + ", ".join(str(item) for item in data) + "]"
    return str(data)


def _mix(seed: int, text: str) -> int:
    import hashlib

    digest = hashlib.blake2b(f"{seed}/{text}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big")


def _parse_task_id(task_id: str) -> tuple[str, int, int]:
    try:
        kind, size, seed = task_id.rsplit("-", 2)
        return kind, int(size), int(seed)
    except ValueError:
        raise TaskError(
            f"unknown task {task_id!r}: ThoughtGraph task ids are <task>-<size>-<seed>"
        ) from None
