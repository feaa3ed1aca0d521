"""The reward is a yardstick: scripted policies of rising care get rising HumanRank."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from palaestra.envs.mle.scripted import POLICIES, scripted_actions

pytest.importorskip("sklearn")

# A binary log-loss task, a regression, and the text task: quick ones of different kinds.
COMPETITIONS = ("breast-cancer-diagnosis", "concrete-strength", "product-reviews")


def play(competition: str, policy: str) -> float:
    env = gym.make("MLE-v0", competition=competition)
    try:
        env.reset(options={"task_id": f"mle-{competition}-v0"})
        unwrapped = env.unwrapped
        reward = 0.0
        for action in scripted_actions(policy, unwrapped.prepared, unwrapped.oracle_actions()):
            _, reward, terminated, truncated, info = env.step(action)
            assert info["error"] is None, info["error"]
            if terminated or truncated:
                break
        assert terminated
        return float(reward)
    finally:
        env.close()


def test_rising_care_gets_rising_human_rank():
    chain = ("copy-sample", "boosting", "select-on-public", "oracle")
    ranks = {policy: [play(name, policy) for name in COMPETITIONS] for policy in chain}
    means = [float(np.mean(ranks[policy])) for policy in chain]
    assert means == sorted(means), ranks
    assert means[0] < 0.35 < means[1], ranks
    assert ranks["oracle"] == [1.0] * len(COMPETITIONS)
    # Choosing among four models by public score never does worse than its boosting candidate
    # on the public half, and here not on the private half either.
    assert all(s >= b for s, b in zip(ranks["select-on-public"], ranks["boosting"], strict=True))


def test_unknown_policy_is_a_clear_error():
    env = gym.make("MLE-v0", competition=COMPETITIONS[0])
    try:
        env.reset(seed=0)
        with pytest.raises(ValueError, match="unknown policy"):
            scripted_actions("genius", env.unwrapped.prepared, [])
    finally:
        env.close()
    assert "oracle" in POLICIES
