"""Verifier building blocks: compare final states, match answers.

A state is plain JSON data (dicts, lists, strings, numbers). `diff_states` names the paths that
differ so that ``info["verdict"]`` can say what went wrong; `answer_matches` checks that a final
answer states the expected value, ignoring case, punctuation and formatting of numbers.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["MAX_OTHER_NUMBERS", "answer_matches", "diff_states"]

_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*")


def diff_states(expected: Any, actual: Any, *, limit: int = 5, path: str = "") -> list[str]:
    """Up to ``limit`` human-readable differences between two JSON-like states."""
    differences: list[str] = []
    _diff(expected, actual, path, differences, limit)
    return differences


def _diff(expected: Any, actual: Any, path: str, out: list[str], limit: int) -> None:
    if len(out) >= limit or expected == actual:
        return
    where = path or "state"
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in expected.keys() - actual.keys():
            out.append(f"{_join(path, key)} is missing")
        for key in actual.keys() - expected.keys():
            out.append(f"{_join(path, key)} was not expected (an action the task did not ask for)")
        for key in sorted(expected.keys() & actual.keys(), key=str):
            _diff(expected[key], actual[key], _join(path, key), out, limit)
    elif isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            _diff(left, right, f"{where}[{index}]", out, limit)
    else:
        out.append(f"{where}: expected {_short(expected)}, got {_short(actual)}")
    del out[limit:]


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _normalise(text: str) -> str:
    text = text.lower().replace("$", " ").replace("€", " ")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,250 -> 1250
    text = re.sub(r"[^\w.:\-@ ]+", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)  # keep decimal points only
    return " ".join(text.split())


MAX_OTHER_NUMBERS = 1
"""Numbers a numeric answer may state besides the expected one (and those the task mentions):
room for a quantity next to a price, none for listing candidates until one is right."""


def answer_matches(expected: str, answer: str, *, context: str = "") -> bool:
    """True when ``answer`` states ``expected`` as a whole phrase (numbers compared by value).

    A numeric answer must not hedge: besides the expected value and the numbers in ``context``
    (the task statement: ids such as P-5773 are not guesses), it may state at most
    `MAX_OTHER_NUMBERS` other numbers, so listing 1, 2, 3, ... does not pass.
    """
    want, got = _normalise(expected), _normalise(answer)
    if not want:
        return True
    if re.fullmatch(r"-?\d+(?:\.\d+)?", want):
        target = float(want)
        stated = _numbers(got)
        if not any(abs(n - target) < 1e-6 for n in stated):
            return False
        known = _numbers(_normalise(context))
        others = {n for n in stated if abs(n - target) >= 1e-6 and n not in known}
        return len(others) <= MAX_OTHER_NUMBERS
    return re.search(rf"(?<![\w@.\-]){re.escape(want)}(?![\w@\-]|\.\w)", got) is not None


def _numbers(text: str) -> set[float]:
    return {
        float(n.replace(",", ""))
        for n in _NUMBER.findall(text)
        if n.replace(",", "").replace(".", "", 1).lstrip("-").isdigit()
    }
