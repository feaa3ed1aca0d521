"""Advantage estimators against hand computation on a small batch of two groups."""

from __future__ import annotations

import math

import pytest

from palaestra.errors import ConfigError
from palaestra.trainers.advantages import (
    baselines,
    discounted_returns,
    episode_advantages,
    turn_advantages,
)

# Two groups of three episodes: A started from one state, B from another.
RETURNS = [1.0, 0.0, 0.5, 1.0, 1.0, 0.0]
GROUPS = ["A", "A", "A", "B", "B", "B"]
EPS = 1e-4


def test_grpo_normalises_within_each_group():
    # Group A: mean 0.5, sample std sqrt(((0.5)^2 + (-0.5)^2 + 0) / 2) = 0.5
    # Group B: mean 2/3, sample std sqrt(((1/3)^2 * 2 + (2/3)^2) / 2) = sqrt(1/3)
    std_b = math.sqrt(1 / 3)
    expected = [
        0.5 / (0.5 + EPS),
        -0.5 / (0.5 + EPS),
        0.0,
        (1 / 3) / (std_b + EPS),
        (1 / 3) / (std_b + EPS),
        (-2 / 3) / (std_b + EPS),
    ]
    assert episode_advantages(RETURNS, GROUPS, estimator="grpo") == pytest.approx(expected)


def test_dr_grpo_only_subtracts_the_group_mean():
    expected = [0.5, -0.5, 0.0, 1 / 3, 1 / 3, -2 / 3]
    got = episode_advantages(RETURNS, GROUPS, estimator="grpo", scale=False)
    assert got == pytest.approx(expected)


def test_rloo_subtracts_the_mean_of_the_other_episodes_of_the_group():
    # A: 1 - (0 + .5)/2 = .75;  0 - (1 + .5)/2 = -.75;  .5 - (1 + 0)/2 = 0
    # B: 1 - (1 + 0)/2 = .5 (twice);  0 - (1 + 1)/2 = -1
    expected = [0.75, -0.75, 0.0, 0.5, 0.5, -1.0]
    assert episode_advantages(RETURNS, GROUPS, estimator="rloo") == pytest.approx(expected)
    # RLOO is GRPO's difference scaled by G/(G-1): 0.5 * 3/2 = 0.75
    dr = episode_advantages(RETURNS, GROUPS, estimator="grpo", scale=False)
    assert [a * 3 / 2 for a in dr] == pytest.approx(expected)


def test_reinforce_pp_normalises_over_the_whole_batch_ignoring_groups():
    mean = 3.5 / 6
    std = math.sqrt(sum((r - mean) ** 2 for r in RETURNS) / 5)
    expected = [(r - mean) / (std + EPS) for r in RETURNS]
    assert episode_advantages(RETURNS, GROUPS, estimator="reinforce++") == pytest.approx(expected)
    regrouped = episode_advantages(RETURNS, list("abcdef"), estimator="reinforce++")
    assert regrouped == pytest.approx(expected)


def test_a_group_of_equal_returns_gets_zero_advantages():
    assert episode_advantages([1.0, 1.0], ["g", "g"]) == [0.0, 0.0]
    assert baselines([1.0, 1.0], ["g", "g"]) == ([1.0, 1.0], [EPS, EPS])


def test_discounted_returns_by_hand():
    assert discounted_returns([0.0, 0.5, 0.0, 1.0], gamma=0.9) == pytest.approx(
        [0.5 * 0.9 + 0.9**3, 0.5 + 0.9**2, 0.9, 1.0]
    )
    assert discounted_returns([0.0, 0.0, 1.0]) == [1.0, 1.0, 1.0]
    assert discounted_returns([]) == []


def test_turn_advantages_reduce_to_the_episode_advantage_with_a_terminal_reward():
    # Episodes of 3, 1, 2 and 2 turns; the reward comes at the end.
    rewards = [[0.0, 0.0, 1.0], [0.0], [0.0, 1.0], [0.0, 0.0]]
    groups = ["A", "A", "B", "B"]
    returns = [r[-1] for r in rewards]
    for estimator in ("grpo", "rloo", "reinforce++"):
        per_episode = episode_advantages(returns, groups, estimator=estimator)
        per_turn = turn_advantages(rewards, groups, estimator=estimator, gamma=1.0)
        assert per_turn == [[a] * len(r) for a, r in zip(per_episode, rewards, strict=True)]


def test_per_step_rewards_credit_each_turn_with_what_followed_it():
    # Episode 0: rewards (0.2, 0, 1) -> returns with gamma 0.5: (0.2 + 0 + 0.25, 0.5, 1)
    # Episode 1: rewards (0, 0)      -> returns (0, 0)
    # Dr. GRPO baseline: the mean of the whole returns G_0 = (0.45 + 0) / 2 = 0.225
    rewards = [[0.2, 0.0, 1.0], [0.0, 0.0]]
    got = turn_advantages(rewards, ["g", "g"], estimator="grpo", gamma=0.5, scale=False)
    assert got[0] == pytest.approx([0.45 - 0.225, 0.5 - 0.225, 1.0 - 0.225])
    assert got[1] == pytest.approx([-0.225, -0.225])
    # RLOO: each episode's baseline is the other's whole return.
    got = turn_advantages(rewards, ["g", "g"], estimator="rloo", gamma=0.5)
    assert got == [pytest.approx([0.45, 0.5, 1.0]), pytest.approx([-0.45, -0.45])]


def test_an_episode_without_turns_takes_no_part():
    got = turn_advantages([[1.0], [], [0.0]], ["g", "g", "g"], estimator="grpo", scale=False)
    assert got == [[0.5], [], [-0.5]]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: episode_advantages([1.0], ["g"], estimator="ppo"), "estimator must be one of"),
        (lambda: episode_advantages([1.0, 0.0], ["g", "h"], estimator="rloo"), "at least 2"),
        (lambda: episode_advantages([1.0], ["g", "h"]), "1 returns but 2 group keys"),
        (lambda: discounted_returns([1.0], gamma=1.5), r"gamma must be in \[0, 1\]"),
    ],
)
def test_bad_input_says_what_was_expected(call, message):
    with pytest.raises(ConfigError, match=message):
        call()
