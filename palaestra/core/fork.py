"""`fork(env)`: branch a wrapped env, wrappers and their counters included.

Step-wise preference mining and tree search branch an episode at every turn. `TextEnv.fork` copies
the unwrapped env; this copies the wrapper chain around it, so a `TimeLimit`'s elapsed steps and
any statistics a wrapper keeps carry over to the branch and then evolve independently.
"""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym

from palaestra.errors import EnvStateError

__all__ = ["fork"]


def fork(env: gym.Env[Any, Any]) -> gym.Env[Any, Any]:
    """An independent copy of ``env`` in the identical state, wrappers included."""
    if isinstance(env, gym.Wrapper):
        inner = fork(env.env)
        clone = copy.copy(env)
        # Each wrapper's own state (counters, buffers) must not be shared with the original.
        for name, value in vars(env).items():
            setattr(clone, name, inner if name == "env" else copy.deepcopy(value))
        return clone
    fork_method = getattr(env, "fork", None)
    if fork_method is None:
        raise EnvStateError(
            f"{type(env).__name__} cannot be forked: it has no fork() method "
            "(palaestra envs have one; wrap other envs' state yourself)"
        )
    return fork_method()
