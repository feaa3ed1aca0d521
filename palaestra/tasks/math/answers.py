r"""Reading the final answer out of text: the last ``\boxed{}``, or a worked solution's result."""

from __future__ import annotations

import re

__all__ = ["default_answer", "last_boxed"]


def default_answer(worked: str) -> str:
    r"""The final answer in a worked solution.

    That is the text after ``####`` (GSM8K), the last ``\boxed{}`` (MATH), or the whole text when
    it is a short value.

    Raises:
        ValueError: when none of these is found.
    """
    if "####" in worked:
        return worked.rsplit("####", 1)[1].strip().rstrip(".").replace(",", "")
    boxed = last_boxed(worked)
    if boxed is not None:
        return boxed
    if "\n" not in worked.strip() and len(worked) <= 200:
        return worked.strip()
    raise ValueError("no final answer: expected '#### <answer>', a \\boxed{} or a short value")


def last_boxed(text: str) -> str | None:
    r"""The content of the last ``\boxed{...}`` or ``\fbox{...}`` in ``text`` (None: none)."""
    for match in reversed(list(re.finditer(r"\\(?:boxed|fbox)\s*\{", text))):
        depth, start = 1, match.end()
        for position in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[position], 0)
            if depth == 0:
                return text[start:position]
    return None
