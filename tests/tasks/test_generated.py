"""The shared index scanner behind every generated task family."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

import numpy as np
import pytest

from palaestra.errors import TaskError
from palaestra.tasks.generated import draw_start, scan


@dataclass(frozen=True)
class Item:
    index: int
    split: str


def make(index: int) -> Item | None:
    if index % 3 == 0:
        return None  # this index makes no task
    return Item(index, "test" if index % 5 == 0 else "train")


def test_scan_skips_empty_indices_and_the_other_split():
    assert [i.index for i in islice(scan(make, 0, "test", what="toy"), 3)] == [5, 10, 20]
    train = [i.index for i in islice(scan(make, 7, "train", what="toy"), 4)]
    assert train == [7, 8, 11, 13]


def test_scan_gives_up_with_a_clear_error():
    with pytest.raises(TaskError, match="no test task for toy"):
        next(scan(lambda index: None, 0, "test", what="toy", max_skips=50))


def test_draw_start_follows_the_generator():
    assert draw_start(np.random.default_rng(3)) == draw_start(np.random.default_rng(3))
    assert 0 <= draw_start(np.random.default_rng(4)) < 2**31
