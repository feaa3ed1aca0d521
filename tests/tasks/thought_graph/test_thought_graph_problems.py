from __future__ import annotations

import json

import pytest

from palaestra.errors import ConfigError
from palaestra.tasks.thought_graph import (
    COUNTRIES,
    KINDS,
    SIZES,
    error_count,
    format_answer,
    local_error,
    make_problem,
    max_error,
    parse_answer,
    partial_score,
    solution,
)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", SIZES)
def test_every_problem_is_solved_by_its_answer(kind: str, size: int) -> None:
    problem = make_problem(kind, size, 11)
    assert problem.id == f"{kind}-{size}-11"
    answer = parse_answer(kind, problem.answer)
    assert error_count(problem, answer) == 0
    assert partial_score(problem, answer) == 1.0
    assert problem.answer not in problem.statement
    assert problem.split in ("train", "test")
    for text in ("", "I don't know"):
        assert parse_answer(kind, text) is None
        assert error_count(problem, parse_answer(kind, text)) == max_error(kind, problem.input_data)
        assert partial_score(problem, parse_answer(kind, text)) == 0.0


def test_sorting_inputs_are_size_digits() -> None:
    problem = make_problem("sorting", 64, 2)
    assert isinstance(problem.input_data, list) and len(problem.input_data) == 64
    assert set(problem.input_data) <= set(range(10))
    assert format_answer("sorting", problem.input_data) in problem.statement
    assert problem.answer == format_answer("sorting", sorted(problem.input_data))
    assert max_error("sorting", problem.input_data) == 64


def test_sets_are_distinct_with_a_nontrivial_intersection() -> None:
    for seed in range(20):
        problem = make_problem("set_intersection", 32, seed)
        first, second = problem.input_data
        assert len(set(first)) == len(first) == 32 and len(set(second)) == 32
        assert set(first) | set(second) <= set(range(128))
        common = sorted(set(first) & set(second))
        assert 4 <= len(common) <= 12
        assert problem.answer == format_answer("set_intersection", common)


def test_keyword_text_mentions_size_countries_in_sentences() -> None:
    problem = make_problem("keyword_counting", 64, 5)
    counts = json.loads(problem.answer)
    assert list(counts) == sorted(counts) and set(counts) <= set(COUNTRIES)
    assert sum(counts.values()) == 64
    assert max(counts.values()) >= 2  # some repeated
    assert isinstance(problem.input_data, str)
    assert 64 / 6 <= problem.input_data.count(".") <= 64 / 2


def test_same_seed_same_problem_and_seeds_differ() -> None:
    for kind in KINDS:
        assert make_problem(kind, 32, 3) == make_problem(kind, 32, 3)
        assert make_problem(kind, 32, 3).statement != make_problem(kind, 32, 4).statement
    splits = {make_problem("sorting", 32, seed).split for seed in range(40)}
    assert splits == {"train", "test"}


@pytest.mark.parametrize(
    ("kind", "size", "seed"),
    [("sorting", 16, 0), ("sorting", 48, 0), ("counting", 32, 0), ("sorting", 32, -1)],
)
def test_bad_kind_size_or_seed_is_a_config_error(kind: str, size: int, seed: int) -> None:
    with pytest.raises(ConfigError, match="must be"):
        make_problem(kind, size, seed)


def test_parse_lists_tolerantly() -> None:
    assert parse_answer("sorting", "[1, 2, 3]") == [1, 2, 3]
    assert parse_answer("sorting", "[1,2 ,3 ] is the sorted list") == [1, 2, 3]
    assert parse_answer("sorting", "Output: [0, 0, 9]") == [0, 0, 9]
    assert parse_answer("sorting", "1, 2, 3 done") == [1, 2, 3]
    assert parse_answer("sorting", "1 2 3") == [1, 2, 3]
    assert parse_answer("set_intersection", "[]") == []
    assert parse_answer("set_intersection", "[4, 7") == [4, 7]
    assert parse_answer("sorting", "[a, b]") is None


def test_parse_counts_reads_the_first_json_object() -> None:
    text = 'Counts: {"France": 2, "Peru": 1} and that is all.'
    assert parse_answer("keyword_counting", text) == {"France": 2, "Peru": 1}
    assert parse_answer("keyword_counting", '{bad} {"Chile": 3}') == {"Chile": 3}
    assert parse_answer("keyword_counting", '{"Chile": "three"}') is None
    assert parse_answer("keyword_counting", "France 2") is None


def test_sorting_error_by_hand() -> None:
    truth = [0, 1, 2]
    assert local_error("sorting", [2, 0, 1], [1, 0, 2]) == 1  # one pair out of order
    assert local_error("sorting", truth, [0, 1, 1, 2]) == 1  # one extra 1
    assert local_error("sorting", truth, [0, 2]) == 1  # one missing 1
    assert local_error("sorting", truth, [2, 1, 0]) == 2  # counts right, two descents
    assert local_error("sorting", truth, [3, 0, 1]) == 3  # 3 extra, 2 missing, 3 > 0
    assert local_error("sorting", truth, []) == 3


def test_set_intersection_error_by_hand() -> None:
    sets = ([1, 2, 3, 4], [2, 4, 6])  # intersection [2, 4]
    assert local_error("set_intersection", sets, [4, 2]) == 0  # order does not matter
    assert local_error("set_intersection", sets, [2]) == 1  # 4 missing
    assert local_error("set_intersection", sets, [2, 4, 4]) == 1  # a duplicate is extra
    assert local_error("set_intersection", sets, [1, 2, 6]) == 3  # 4 missing, 1 and 6 extra
    assert max_error("set_intersection", sets) == 2


def test_keyword_error_by_hand() -> None:
    text = "We went to France and Peru. Then France again."
    assert solution("keyword_counting", text) == {"France": 2, "Peru": 1}
    assert local_error("keyword_counting", text, {"France": 2, "Peru": 1}) == 0
    assert local_error("keyword_counting", text, {"France": 1, "Peru": 1, "Chile": 2}) == 3
    assert local_error("keyword_counting", text, {}) == 3 == max_error("keyword_counting", text)
    assert local_error("keyword_counting", text, [1, 2]) == 3  # wrong shape: unreadable


@pytest.mark.parametrize("kind", KINDS)
def test_local_error_agrees_with_error_count(kind: str) -> None:
    problem = make_problem(kind, 32, 8)
    truth = parse_answer(kind, problem.answer)
    candidates: list[object | None] = [truth, None, [], {}]
    if isinstance(truth, list):  # reversed: exact for a set, wrong for a sorted list
        candidates += [truth[::-1], truth[1:], truth + [truth[0]]]
    else:
        assert isinstance(truth, dict)
        candidates += [{**truth, "Peru": truth.get("Peru", 0) + 2}]
    for candidate in candidates:
        error = error_count(problem, candidate)
        assert error == local_error(kind, problem.input_data, candidate)
        exact = candidate == truth or (kind == "set_intersection" and candidate == truth[::-1])
        assert (error == 0) == exact


def test_partial_score_ranks_exact_above_everything() -> None:
    problem = make_problem("sorting", 32, 1)
    truth = sorted(problem.input_data)
    one_off = truth[1:]
    assert partial_score(problem, one_off) == pytest.approx(0.9 * (1 - 1 / 32))
    assert partial_score(problem, truth) == 1.0 > partial_score(problem, one_off)
    assert partial_score(problem, truth * 3) == 0.0  # clipped at zero


def test_malformed_inputs_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="pair"):
        solution("set_intersection", [1, 2, 3])
    with pytest.raises(ConfigError, match="text"):
        solution("keyword_counting", [1, 2])
    with pytest.raises(ConfigError, match="kind must be"):
        parse_answer("sorted", "[1]")
