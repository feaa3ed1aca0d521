r"""Checking a final answer: the number within tolerance, or the names in order.

A number is compared with a relative tolerance (and an answer rounded as the question asks is
accepted, whichever way a tie was rounded); names are compared in order after normalising case,
spaces, quotes and brackets. Light LaTeX (``\text{}``, ``\%``, ``{,}``) is read through.
"""

from __future__ import annotations

import math
import re
from typing import Any

from palaestra.core.types import Verdict
from palaestra.tasks.code import CodeTask, extract_answer
from palaestra.tasks.math import last_boxed

__all__ = ["check"]


def check(task: CodeTask, answer: str) -> Verdict:
    r"""Score 1 when the last ``\boxed{}`` holds the number (within tolerance) or the names."""
    boxed = last_boxed(extract_answer(answer))
    if boxed is None:
        return _fail("no \\boxed{...} in the final answer; write it as \\boxed{42}")
    if task.hidden["kind"] == "list":
        want = [_normalise(item) for item in task.hidden["answer"]]
        got = _items(boxed)
        if got == want:
            return Verdict(score=1.0, success=True, reason="the names match the reference")
        return _fail(f"expected {len(want)} name(s) in the reference's order; got {_clip(got)}")
    value = _number(boxed)
    if value is None:
        return _fail(f"expected one number in \\boxed{{}}; got {_clip(boxed)!r}")
    exact, decimals = float(task.hidden["exact"]), int(task.hidden["decimals"])
    allowed = float(task.hidden["tolerance"]) * abs(exact)
    if decimals:  # a value rounded as asked is right, whichever way a tie was rounded
        allowed = max(allowed, 0.5 * 10.0**-decimals * (1 + 1e-9))
    if math.isfinite(value) and abs(value - exact) <= allowed:
        return Verdict(score=1.0, success=True, reason="the number matches the reference")
    return _fail(
        f"expected a number within a relative {task.hidden['tolerance']:g} of the "
        f"reference{f' (rounded to {decimals} decimals)' if decimals else ''}; got {value:g}"
    )


def _fail(reason: str) -> Verdict:
    return Verdict(score=0.0, success=False, reason=reason)


def _clip(value: Any, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _unlatex(text: str) -> str:
    text = re.sub(r"\\(?:text|textbf|mathrm|mbox)\s*\{([^{}]*)\}", r"\1", text)
    return text.replace("\\%", "%").replace("\\$", "$").replace("\\,", "").replace("{,}", ",")


def _normalise(item: str) -> str:
    return " ".join(item.strip().strip("'\"`*.[]()").split()).casefold()


def _items(boxed: str) -> list[str]:
    parts = re.split(r"[,;\n]|\\\\", _unlatex(boxed).strip().strip("[]()"))
    return [_normalise(p) for p in parts if _normalise(p)]


_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def _number(boxed: str) -> float | None:
    """The one number in a boxed answer (thousands separators, $ and % allowed), else None."""
    text = _unlatex(boxed).replace("\u2212", "-")
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)
    found = _NUMBER.findall(text)
    return float(found[0]) if len(found) == 1 else None
