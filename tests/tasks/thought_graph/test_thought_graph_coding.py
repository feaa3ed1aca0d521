"""The programming task's simulation: bugs at mutation sites, refined and merged like errors."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from palaestra.errors import ConfigError, TaskError
from palaestra.sandbox import LocalSandbox
from palaestra.tasks.programming import GraderLimits
from palaestra.tasks.thought_graph import SimulatedReasoner
from palaestra.tasks.thought_graph.coding import (
    Program,
    coding_problem,
    coding_problems,
    hidden_verdict,
    render,
    simulate_merge,
    simulate_refine,
)

PROBLEMS = coding_problems()


def test_every_problem_has_sites_and_every_bug_still_compiles():
    assert len(PROBLEMS) == 75 and {p.split for p in PROBLEMS} == {"train", "test"}
    for problem in PROBLEMS:
        assert problem.sites >= 1, problem.id
        clean = render(problem, frozenset())
        assert ast.dump(ast.parse(clean.code)) == ast.dump(ast.parse(problem.problem.reference))
        for site in range(problem.sites):
            bugged = render(problem, frozenset([site]))
            compile(bugged.code, problem.id, "exec")
            assert bugged.code != clean.code, (problem.id, site)


def test_a_clean_render_passes_the_hidden_tests_and_a_bug_usually_does_not():
    limits = GraderLimits()
    caught = 0
    for problem in PROBLEMS[:6]:
        failed, total, verdict = hidden_verdict(
            problem, render(problem, frozenset()).code, LocalSandbox, limits
        )
        assert failed == 0 and total == len(problem.problem.cases), verdict.reason
        failed, _, _ = hidden_verdict(
            problem, render(problem, frozenset([0])).code, LocalSandbox, limits
        )
        caught += failed > 0
    assert caught >= 4


def test_longer_functions_get_more_bugs():
    short = min(PROBLEMS, key=lambda p: p.length)
    long = max(PROBLEMS, key=lambda p: p.length)
    assert short.length < long.length

    def mean_bugs(problem):
        reasoner = SimulatedReasoner(seed=3)
        programs = [reasoner.solve("programming", problem)[0] for _ in range(300)]
        return np.mean([len(program.bugs) for program in programs])

    assert mean_bugs(long) > 3 * mean_bugs(short)


def test_refine_fixes_bugs_and_merge_keeps_the_shared_ones():
    problem = max(PROBLEMS, key=lambda p: p.sites)
    rng = np.random.default_rng(0)
    bugged = render(problem, frozenset({0, 1, 2}))
    assert simulate_refine(problem, bugged, 1.0, 0, rng, 1.0).bugs == frozenset()
    assert simulate_refine(problem, bugged, 0.0, 0, rng, 1.0).bugs == bugged.bugs
    other = render(problem, frozenset({0, 3}))
    merged = [simulate_merge(problem, [bugged, other], 0.0, rng).bugs for _ in range(50)]
    assert all(0 in bugs and bugs <= {0, 1, 2, 3} for bugs in merged)
    assert any(1 not in bugs for bugs in merged) and any(1 in bugs for bugs in merged)


def test_code_a_model_wrote_is_rewritten_not_repaired():
    problem = PROBLEMS[0]
    reasoner = SimulatedReasoner(seed=0)
    refined, tokens = reasoner.refine("programming", problem, Program("def f(): pass"))
    assert refined.bugs is not None and tokens > 0


def test_the_reasoner_refuses_what_programming_does_not_do():
    reasoner = SimulatedReasoner(seed=0)
    with pytest.raises(ConfigError, match="not split"):
        reasoner.split("programming", PROBLEMS[0], 2)
    with pytest.raises(ConfigError, match="scored by running"):
        reasoner.score("programming", PROBLEMS[0], Program("x = 1"))
    with pytest.raises(ConfigError, match="CodingProblem"):
        reasoner.solve("programming", [1, 2, 3])
    with pytest.raises(TaskError, match="no programming problem"):
        coding_problem("programming-unknown")
