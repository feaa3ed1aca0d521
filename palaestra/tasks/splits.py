"""Train/test splits that are disjoint by construction.

A task's split is a hash of its statement, not of its index: two generators that happen to produce
the same statement put it in the same split, so no test task is ever seen in training.
"""

from __future__ import annotations

import hashlib

from palaestra.tasks.task import Split

__all__ = ["TEST_FRACTION", "split_of"]

TEST_FRACTION = 0.2


def split_of(statement: str, test_fraction: float = TEST_FRACTION) -> Split:
    """The split a task statement belongs to (stable across runs and machines)."""
    digest = hashlib.blake2b(statement.encode("utf-8"), digest_size=8).digest()
    bucket = int.from_bytes(digest, "big") / 2**64
    return "test" if bucket < test_fraction else "train"
