"""Registering palaestra envs with gymnasium, and the catalogue behind ``palaestra list``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from palaestra.errors import RegistrationError

__all__ = ["EnvEntry", "catalog", "entry", "register"]


@dataclass(frozen=True)
class EnvEntry:
    """A registered env: its id, where it lives, one line on what it is, its turn limit."""

    id: str
    entry_point: str
    description: str
    max_episode_steps: int
    kwargs: dict[str, Any] = field(default_factory=dict)


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
        entry_point=entry.entry_point,
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
