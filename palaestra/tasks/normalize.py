"""Typed answer checks: numbers, money, dates, sets, URLs and short texts, never substrings.

An answer is compared with the expected value as the kind the task names.

Each kind parses the answer into canonical values; the answer is right when it states exactly
one value and that value equals the expected one (a set: the same items, in any order). So
"$12.50" matches money 12.5, "12.5 or 13" does not (it hedges), "May 4, 2026" matches the date
2026-05-04, and "/shop/cart?page=2" matches neither "/shop/cart" nor "/shop/cart?page=20".
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = ["AnswerKind", "canonical", "typed_match"]

AnswerKind = Literal["text", "number", "money", "date", "set", "url"]

_NUMBER = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])|(?<![\w.])-?\d+(?:\.\d+)?")
_LEAD_IN = re.compile(
    r"^(?:the\s+)?(?:final\s+)?(?:answer|result)\s*(?:is|:)\s*|^(?:it\s+is|it's|that\s+is)\s+",
    re.IGNORECASE,
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATES = [
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), ("y", "m", "d")),
    (
        re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I),
        ("M", "d", "y"),
    ),
    (
        re.compile(
            rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})\.?,?\s+(\d{{4}})\b", re.I
        ),
        ("d", "M", "y"),
    ),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"), ("m", "d", "y")),
]


def _text(value: str) -> str:
    value = _LEAD_IN.sub("", value.strip())
    value = re.sub(r"[\"'`“”‘’]", "", value.lower())
    value = re.sub(r"[^\w@.\-/:+ ]+", " ", value)
    value = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", value)
    value = re.sub(r"^(?:the|a|an)\s+", "", " ".join(value.split()))
    return value


def _numbers(value: str) -> set[float]:
    return {float(n.replace(",", "")) for n in _NUMBER.findall(value.replace("$", " "))}


def _dates(value: str) -> set[dt.date]:
    found: set[dt.date] = set()
    for pattern, order in _DATES:
        for match in pattern.finditer(value):
            parts = dict(zip(order, match.groups(), strict=True))
            month = _MONTHS[parts["M"].lower()] if "M" in parts else int(parts["m"])
            try:
                found.add(dt.date(int(parts["y"]), month, int(parts["d"])))
            except ValueError:
                continue
    return found


def _url(value: str) -> str:
    parts = urlsplit(value.strip().strip("<>\"'"))
    path = parts.path or "/"
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return path + (f"?{query}" if query else "")


def _items(value: str) -> frozenset[str]:
    value = _LEAD_IN.sub("", value.strip())
    pieces = re.split(r",|;|\n|\band\b|&", value)
    return frozenset(item for item in (_text(p) for p in pieces) if item)


def canonical(kind: AnswerKind, value: str) -> object:
    """The expected value in canonical form (raises ValueError when it is not of that kind)."""
    if kind == "number":
        (number,) = _numbers(value)
        return number
    if kind == "money":
        (number,) = _numbers(value)
        return round(number, 2)
    if kind == "date":
        (date,) = _dates(value)
        return date
    if kind == "set":
        return _items(value)
    if kind == "url":
        return _url(value)
    return _text(value)


def typed_match(kind: AnswerKind, expected: str, answer: str) -> bool:
    """True when ``answer`` states exactly the expected value, compared as ``kind``."""
    want = canonical(kind, expected)
    if kind in ("number", "money"):
        stated = {round(n, 2) if kind == "money" else n for n in _numbers(answer)}
        return len(stated) == 1 and abs(next(iter(stated)) - float(want)) < 1e-6  # type: ignore[arg-type]
    if kind == "date":
        return _dates(answer) == {want}
    if kind == "set":
        return _items(answer) == want
    if kind == "url":
        candidates = re.findall(r"(?:https?://[^\s\"'<>]+|/[^\s\"'<>]*)", answer)
        return len(candidates) == 1 and _url(candidates[0]) == want
    return _text(answer) == want
