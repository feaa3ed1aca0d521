"""The task families CodeInterpreter-v0 knows by name, built on first use."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from palaestra.errors import ConfigError
from palaestra.tasks.code import TaskFamily

__all__ = ["BUILT_IN", "resolve_families"]

BUILT_IN = ("math", "programming", "data")


@functools.cache
def _built_in(name: str) -> TaskFamily:
    # Imported here: the math family needs math-verify and reasoning-gym, which load slowly.
    if name == "math":
        from palaestra.tasks.math import MathFamily

        return MathFamily()
    if name == "programming":
        from palaestra.tasks.programming import ProgrammingFamily

        return ProgrammingFamily()
    from palaestra.tasks.data_analysis import DataAnalysisFamily

    return DataAnalysisFamily()


def resolve_families(
    family: str | TaskFamily | Sequence[str | TaskFamily] | None,
) -> list[TaskFamily]:
    """Families by name (``math``, ``programming``, ``data``) or as objects; all by default."""
    wanted = (
        list(BUILT_IN)
        if family is None
        else [family]
        if isinstance(family, (str, TaskFamily))
        else list(family)
    )
    if not wanted:
        raise ConfigError("family must name at least one task family")
    families: list[TaskFamily] = []
    for item in wanted:
        if isinstance(item, str):
            if item not in BUILT_IN:
                raise ConfigError(
                    f"family must be one of {list(BUILT_IN)} or a TaskFamily, got {item!r}"
                )
            families.append(_built_in(item))
        elif isinstance(item, TaskFamily):
            families.append(item)
        else:
            raise ConfigError(
                f"family entries must be names or TaskFamily objects, got {type(item).__name__}"
            )
    names = [f.name for f in families]
    if len(set(names)) != len(names):
        raise ConfigError(f"two task families share a name: {names}")
    return families
