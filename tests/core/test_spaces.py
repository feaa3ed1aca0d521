import copy

import numpy as np
from gymnasium.vector.utils import (
    create_shared_memory,
    read_from_shared_memory,
    write_to_shared_memory,
)

from palaestra.core.spaces import UnicodeText


def test_contains_any_unicode_within_bounds():
    space = UnicodeText(10)
    assert space.contains("") and space.contains("héllo 中文\n🙂")
    assert not space.contains("x" * 11)
    assert not space.contains(b"bytes") and not space.contains(3)


def test_sample_is_seeded_and_inside_the_space():
    a, b = UnicodeText(50, seed=3), UnicodeText(50, seed=3)
    samples = [a.sample() for _ in range(20)]
    assert samples == [b.sample() for _ in range(20)]
    assert all(a.contains(s) for s in samples)
    assert len(set(samples)) > 10


def test_equality_and_repr():
    assert UnicodeText(5) == UnicodeText(5) and UnicodeText(5) != UnicodeText(6)
    assert repr(UnicodeText(5, min_length=1)) == "UnicodeText(1, 5)"


def test_shared_memory_round_trips_unicode():
    space = UnicodeText(16)
    memory = create_shared_memory(space, n=3)
    values = ["", "héllo 🙂", "x" * 16]
    for index, value in enumerate(values):
        write_to_shared_memory(space, index, value, memory)
    view = read_from_shared_memory(space, memory, n=3)
    assert tuple(view) == tuple(values)
    frozen = copy.deepcopy(view)
    write_to_shared_memory(space, 1, "ab", memory)
    assert view[1] == "ab", "the view must show later writes, as numpy views do"
    assert frozen == tuple(values) and type(frozen) is tuple
    assert np.frombuffer(memory.get_obj(), dtype=np.int32).size == 3 * 17
