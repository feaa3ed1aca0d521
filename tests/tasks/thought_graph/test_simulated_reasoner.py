from __future__ import annotations

import copy

import numpy as np
import pytest

from palaestra.errors import ConfigError
from palaestra.tasks.thought_graph import (
    KINDS,
    SimulatedReasoner,
    SimulatedReasonerConfig,
    error_count,
    local_error,
    make_problem,
    solution,
)


def digits(n: int, seed: int) -> list[int]:
    return [int(x) for x in np.random.default_rng(seed).integers(0, 10, n)]


def exact_rate(n: int, draws: int = 200) -> float:
    reasoner = SimulatedReasoner(seed=1)
    exact = 0
    for seed in range(draws):
        data = digits(n, seed)
        out, _tokens = reasoner.solve("sorting", data)
        exact += local_error("sorting", data, out) == 0
    return exact / draws


def test_short_inputs_are_nearly_always_right_long_ones_nearly_always_wrong() -> None:
    assert exact_rate(8) >= 0.9
    assert exact_rate(128) <= 0.1
    assert exact_rate(16) > exact_rate(32) > exact_rate(64)


@pytest.mark.parametrize("kind", KINDS)
def test_solve_errors_are_real_errors_for_every_kind(kind: str) -> None:
    reasoner = SimulatedReasoner(seed=2)
    problem = make_problem(kind, 128, 0)
    errors = [error_count(problem, reasoner.solve(kind, problem.input_data)[0]) for _ in range(20)]
    assert np.mean(errors) > 1
    exact = SimulatedReasoner(seed=2, error_rate=0.0)
    assert exact.solve(kind, problem.input_data)[0] == solution(kind, problem.input_data)


@pytest.mark.parametrize("kind", KINDS)
def test_split_is_exact_and_contiguous(kind: str) -> None:
    problem = make_problem(kind, 64, 3)
    parts, tokens = SimulatedReasoner(seed=0).split(kind, problem.input_data, 4)
    assert len(parts) == 4 and tokens > 0
    if kind == "sorting":
        assert sum(parts, []) == problem.input_data and {len(p) for p in parts} == {16}
    elif kind == "set_intersection":
        first, second = problem.input_data
        assert sum((p[0] for p in parts), []) == first
        assert all(p[1] == second for p in parts)
    else:
        assert " ".join(parts) == problem.input_data
        assert all(part.endswith(".") for part in parts)
    # exact parts merged exactly give the exact answer
    merger = SimulatedReasoner(seed=0, merge_error_rate=0.0)
    merged, _ = merger.merge(kind, [solution(kind, part) for part in parts])
    assert error_count(problem, merged) == 0


def test_split_rejects_bad_k() -> None:
    reasoner = SimulatedReasoner(seed=0)
    for k in (0, 9):
        with pytest.raises(ConfigError, match="k must be"):
            reasoner.split("sorting", [1, 2, 3, 4, 5, 6, 7, 8], k)


def test_merging_long_inputs_adds_more_errors_than_short() -> None:
    def mean_merge_error(n: int) -> float:
        reasoner = SimulatedReasoner(seed=4)
        errors = []
        for seed in range(100):
            parts = [sorted(digits(n, seed)), sorted(digits(n, seed + 1000))]
            merged, _ = reasoner.merge("sorting", parts)
            errors.append(local_error("sorting", parts[0] + parts[1], merged))
        return float(np.mean(errors))

    short, long = mean_merge_error(4), mean_merge_error(64)
    assert short < 0.1
    assert long > 1.0


def test_merge_keeps_the_disorder_of_a_part() -> None:
    merged, _ = SimulatedReasoner(seed=0, merge_error_rate=0.0).merge("sorting", [[1, 3, 2], [0]])
    assert merged == [0, 1, 3, 2]
    counts, _ = SimulatedReasoner(seed=0, merge_error_rate=0.0).merge(
        "keyword_counting", [{"Peru": 1}, {"Peru": 2, "Chile": 1}]
    )
    assert counts == {"Chile": 1, "Peru": 3}


def _mean_errors_before_and_after_refining(kind: str, size: int) -> tuple[float, float]:
    reasoner = SimulatedReasoner(seed=5)
    before, after = [], []
    for seed in range(40):
        problem = make_problem(kind, size, seed)
        candidate, _ = reasoner.solve(kind, problem.input_data)
        refined, _ = reasoner.refine(kind, problem.input_data, candidate)
        before.append(error_count(problem, candidate))
        after.append(error_count(problem, refined))
    return float(np.mean(before)), float(np.mean(after))


@pytest.mark.parametrize("kind", KINDS)
def test_refine_lowers_the_mean_error_up_to_fix_length(kind: str) -> None:
    before, after = _mean_errors_before_and_after_refining(kind, 64)
    assert before > 0.8
    # Half the errors go; about 0.4 new ones come (refine_error_rate at 64 items).
    assert after < 0.9 * before


@pytest.mark.parametrize("kind", KINDS)
def test_refining_a_long_answer_barely_pays(kind: str) -> None:
    before, after = _mean_errors_before_and_after_refining(kind, 128)
    assert before > 2
    # A quarter of the errors go (fixes are half as likely past fix_length), and a rewrite of
    # 128 items brings about one new error: long answers are remade, not polished.
    assert after > 0.7 * before


@pytest.mark.parametrize("kind", KINDS)
def test_refining_long_answers_is_harder_than_short_ones(kind: str) -> None:
    def share_fixed(size: int) -> float:
        reasoner = SimulatedReasoner(seed=5, refine_error_rate=0.0)
        before = after = 0
        for seed in range(200):
            problem = make_problem(kind, size, seed)
            candidate, _ = reasoner.solve(kind, problem.input_data)
            refined, _ = reasoner.refine(kind, problem.input_data, candidate)
            before += error_count(problem, candidate)
            after += error_count(problem, refined)
        return 1 - after / before

    assert share_fixed(64) > share_fixed(128) + 0.05


def test_refine_with_certain_fixes_repairs_everything() -> None:
    reasoner = SimulatedReasoner(seed=0, p_fix=1.0, refine_error_rate=0.0)
    data = [5, 3, 8, 1, 1, 9, 0, 2]
    for candidate in ([9, 0, 1, 1, 2, 3, 5, 8], [1, 1, 1, 7], [], None, "junk"):
        refined, _ = reasoner.refine("sorting", data, candidate)
        assert refined == sorted(data)
    sets = ([1, 2, 3, 4], [2, 4, 6])
    assert reasoner.refine("set_intersection", sets, [6, 2, 2])[0] == [2, 4]
    text = "France and Peru. Chile."
    counts = reasoner.refine("keyword_counting", text, {"France": 3, "Spain": 1})[0]
    assert counts == {"Chile": 1, "France": 1, "Peru": 1}


def test_score_is_the_local_error_and_costs_tokens() -> None:
    reasoner = SimulatedReasoner(seed=0)
    error, tokens = reasoner.score("sorting", [2, 1, 0], [1, 0, 2])
    assert error == 1
    assert tokens == reasoner.config.prompt_tokens + 3 + 3 + 1


def test_calls_and_tokens_are_counted() -> None:
    reasoner = SimulatedReasoner(seed=0, prompt_tokens=10)
    data = digits(32, 0)
    out, used = reasoner.solve("sorting", data)
    assert used == 10 + 32 + len(out)
    parts, used_split = reasoner.split("sorting", data, 2)
    assert used_split == 10 + 32 + 32
    _, used_score = reasoner.score("sorting", data, out)
    assert reasoner.calls == 3
    assert reasoner.tokens == used + used_split + used_score
    text = make_problem("keyword_counting", 32, 0).input_data
    _, used_text = reasoner.solve("keyword_counting", text)
    assert used_text > 10 + len(text.split())  # words read, counts written


def test_same_seed_same_outputs_and_fork_is_independent() -> None:
    data = digits(64, 9)

    def run(reasoner: SimulatedReasoner) -> list[object]:
        return [reasoner.solve("sorting", data)[0] for _ in range(5)]

    assert run(SimulatedReasoner(seed=3)) == run(SimulatedReasoner(seed=3))
    assert run(SimulatedReasoner(seed=3)) != run(SimulatedReasoner(seed=4))

    original = SimulatedReasoner(seed=7)
    original.solve("sorting", data)
    fork = original.fork()
    assert (fork.calls, fork.tokens) == (original.calls, original.tokens)
    from_fork = run(fork)
    assert original.calls == 1  # the fork's calls are its own
    assert run(original) == from_fork  # same random state at the fork
    assert run(copy.copy(original)) == run(original)


def test_bad_config_is_rejected() -> None:
    with pytest.raises(ConfigError, match="p_fix"):
        SimulatedReasonerConfig(p_fix=1.5)
    with pytest.raises(ConfigError, match="error_rate"):
        SimulatedReasoner(seed=0, error_rate=-1.0)
    with pytest.raises(ConfigError, match="unknown"):
        SimulatedReasoner(seed=0, eror_rate=0.1)


def got_sorting(problem_seed: int) -> int:
    """Split in 4, 3 solves per part keeping the best by score, merge pairwise, refine twice."""
    problem = make_problem("sorting", 64, problem_seed)
    reasoner = SimulatedReasoner(seed=problem_seed)
    inputs, _ = reasoner.split("sorting", problem.input_data, 4)
    best = []
    for part in inputs:
        tries = [reasoner.solve("sorting", part)[0] for _ in range(3)]
        best.append(min(tries, key=lambda answer: reasoner.score("sorting", part, answer)[0]))
    while len(best) > 1:
        best = [reasoner.merge("sorting", best[i : i + 2])[0] for i in range(0, len(best), 2)]
    answer = best[0]
    error = reasoner.score("sorting", problem.input_data, answer)[0]
    for _ in range(2):
        refined, _ = reasoner.refine("sorting", problem.input_data, answer)
        refined_error, _ = reasoner.score("sorting", problem.input_data, refined)
        if refined_error < error:
            answer, error = refined, refined_error
    return error_count(problem, answer)


def io_sorting(problem_seed: int) -> int:
    problem = make_problem("sorting", 64, problem_seed)
    answer, _ = SimulatedReasoner(seed=problem_seed).solve("sorting", problem.input_data)
    return error_count(problem, answer)


def test_a_got_schedule_beats_io_on_sorting_64() -> None:
    got = np.mean([got_sorting(seed) for seed in range(30)])
    io = np.mean([io_sorting(seed) for seed in range(30)])
    assert got < 0.5 * io
