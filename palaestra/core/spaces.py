"""A text space that accepts any unicode string up to a maximum length.

`gymnasium.spaces.Text` only accepts characters from a fixed charset, which no model output
respects. `UnicodeText` keeps Text's interface (so vector envs, ``check_env`` and wrappers treat it
as text) but its ``contains`` accepts every character; ``sample`` draws from a varied charset that
includes whitespace and non-ASCII letters, so random actions exercise the parsers. Vector envs
with shared memory store code points instead of charset indices (registered below).
"""

from __future__ import annotations

import multiprocessing as mp
import string
from collections.abc import Sequence
from types import ModuleType
from typing import Any, overload

import numpy as np
from gymnasium.spaces import Text
from gymnasium.vector.utils import shared_memory as _shm

__all__ = ["UnicodeText"]

_SAMPLE_CHARSET = (
    string.ascii_letters + string.digits + string.punctuation + " \n\tàéîõüßçñ中文данные🙂"
)


class UnicodeText(Text):
    """Any string of ``min_length`` to ``max_length`` characters (code points)."""

    def __init__(
        self,
        max_length: int,
        *,
        min_length: int = 0,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        """Build the space; bounds are inclusive and counted in characters."""
        super().__init__(max_length, min_length=min_length, charset=_SAMPLE_CHARSET, seed=seed)

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """A random string, short by default so sampled actions stay cheap to step."""
        if mask is None and probability is None:
            upper = min(self.max_length, max(self.min_length, 256))
            length = int(self.np_random.integers(self.min_length, upper + 1))
            mask = (length, None)
        return super().sample(mask=mask, probability=probability)

    def contains(self, x: Any) -> bool:
        """True for any `str` within the length bounds."""
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, UnicodeText)
            and self.min_length == other.min_length
            and self.max_length == other.max_length
        )

    def __hash__(self) -> int:
        return hash((UnicodeText, self.min_length, self.max_length))

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"


# Shared memory layout per env: one int32 length, then max_length code points.
@_shm.create_shared_memory.register(UnicodeText)
def _create_shared_memory(space: UnicodeText, n: int = 1, ctx: ModuleType = mp) -> Any:
    return ctx.Array(np.dtype(np.int32).char, n * (space.max_length + 1))


class SharedTexts(Sequence[str]):
    """A live view of the strings in shared memory, as numpy views are for array spaces.

    `AsyncVectorEnv` reads its observation buffer once and expects later writes by the workers to
    show through; a tuple of strings would freeze the first observations. Copying the view
    (vector envs deep-copy what they return) yields a plain tuple of the current strings.
    """

    def __init__(self, data: np.ndarray) -> None:
        self._data = data

    def __len__(self) -> int:
        return len(self._data)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...

    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        row = self._data[index]
        return (
            row[1 : 1 + int(row[0])]
            .astype(np.uint32)
            .tobytes()
            .decode("utf-32-le", "surrogatepass")
        )

    def __deepcopy__(self, memo: dict[int, Any]) -> tuple[str, ...]:
        return tuple(self)

    def __eq__(self, other: object) -> bool:
        return tuple(self) == (tuple(other) if isinstance(other, Sequence) else other)

    def __repr__(self) -> str:
        return f"SharedTexts({tuple(self)!r})"


@_shm.read_from_shared_memory.register(UnicodeText)
def _read_from_shared_memory(space: UnicodeText, shared_memory: Any, n: int = 1) -> SharedTexts:
    data = np.frombuffer(shared_memory.get_obj(), dtype=np.int32).reshape(n, space.max_length + 1)
    return SharedTexts(data)


@_shm.write_to_shared_memory.register(UnicodeText)
def _write_to_shared_memory(space: UnicodeText, index: int, value: str, shared_memory: Any) -> None:
    size = space.max_length + 1
    codes = np.frombuffer(value.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    destination = np.frombuffer(shared_memory.get_obj(), dtype=np.int32)
    destination[index * size] = len(codes)
    destination[index * size + 1 : index * size + 1 + len(codes)] = codes.astype(np.int32)
