"""Registering palaestra envs with gymnasium, and the catalogue behind ``palaestra list``.

Each env is registered with a small factory as its entry point rather than the env class, so that
one id serves both a local env and a remote one::

    gym.make("ToolUse-v0")                                   # the local ToolUseEnv
    gym.make("ToolUse-v0", remote="http://127.0.0.1:8000")   # a RemoteEnv on an env server

Either way gymnasium adds the same wrappers (``TimeLimit`` from ``max_episode_steps``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import gymnasium as gym
from gymnasium.envs.registration import load_env_creator

from palaestra.errors import ConfigError, RegistrationError

__all__ = ["EnvEntry", "EnvFactory", "catalog", "check_make", "entry", "register"]


def _load(entry_point: str) -> Callable[..., gym.Env[Any, Any]]:
    """The env class (or function) an entry point such as ``"pkg.module:Class"`` names."""
    return cast("Callable[..., gym.Env[Any, Any]]", load_env_creator(entry_point))


@dataclass(frozen=True)
class EnvEntry:
    """A registered env: its id, where it lives, one line on what it is, its turn limit."""

    id: str
    entry_point: str
    description: str
    max_episode_steps: int
    kwargs: dict[str, Any] = field(default_factory=dict)

    def make_local(self, **kwargs: Any) -> gym.Env[Any, Any]:
        """The bare env (no gymnasium wrappers), built from its class with these kwargs."""
        return _load(self.entry_point)(**{**self.kwargs, **kwargs})


@dataclass(frozen=True)
class EnvFactory:
    """The entry point gymnasium calls: a local env, or a `RemoteEnv` when ``remote`` is given.

    Picklable (a plain dataclass of strings), so ``gym.make_vec(..., vectorization_mode="async")``
    can ship it to worker processes.
    """

    env_id: str
    entry_point: str

    def __call__(self, remote: str | None = None, **kwargs: Any) -> gym.Env[Any, Any]:
        """Build the env: on the env server at ``remote`` (a base URL) if given, else locally."""
        if remote is not None:
            from palaestra.server.client import RemoteEnv

            return RemoteEnv(remote, self.env_id, **kwargs)
        return _load(self.entry_point)(**kwargs)


_CATALOG: dict[str, EnvEntry] = {}


def register(entry: EnvEntry) -> None:
    """Register an env with gymnasium; registering the same entry twice is a no-op."""
    known = _CATALOG.get(entry.id)
    if known is not None:
        if known != entry:
            raise RegistrationError(f"env id {entry.id!r} is already registered as {known}")
        return
    gym.register(
        id=entry.id,
        entry_point=EnvFactory(entry.id, entry.entry_point),
        max_episode_steps=entry.max_episode_steps,
        kwargs=dict(entry.kwargs),
    )
    _CATALOG[entry.id] = entry


def catalog() -> list[EnvEntry]:
    """Every registered palaestra env, in registration order."""
    return list(_CATALOG.values())


def entry(env_id: str) -> EnvEntry:
    """The entry for an id (``palaestra:`` prefix allowed), or a clear error listing the ids."""
    key = env_id.removeprefix("palaestra:")
    if key not in _CATALOG:
        known = ", ".join(_CATALOG) or "none"
        raise RegistrationError(f"unknown env {env_id!r}; registered palaestra envs: {known}")
    return _CATALOG[key]


def check_make(env_id: str, kwargs: dict[str, Any]) -> str:
    """Make and close the env once, so bad arguments fail before a model loads; its id."""
    env_id = entry(env_id).id
    try:
        gym.make(env_id, **kwargs).close()
    except TypeError as exc:
        raise ConfigError(f"{env_id} does not accept these arguments: {exc}") from exc
    return env_id
