"""What a question template writes (a `Draft`), and the pieces every template uses.

A template takes a seeded ``random.Random`` and a level and returns a `Draft`: the CSV files, the
question, the answer, and the lines of reference code that compute it from the loaded files
(only ``csv`` and ``statistics``: pandas may be missing in a sandbox). None means the drawn data
does not make a fair question (a tie in a ranking, an empty group).
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Draft", "csv_text", "distinct_top", "print_total"]


@dataclass(frozen=True)
class Draft:
    """A task before it gets an id: files, question, answer, and the code that computes it."""

    files: dict[str, str]
    columns: dict[str, str]
    question: str
    answer: float | list[str]
    code: str
    decimals: int = 2
    """For numbers: how many decimals the question asks for (0: a count)."""
    load: tuple[str, ...] = field(default=())

    @property
    def answer_format(self) -> str:
        """The sentence after the question that says how to write the answer."""
        if isinstance(self.answer, list):
            if len(self.answer) == 1:
                return "Put the answer in \\boxed{}."
            return (
                "Put the names in \\boxed{}, highest first, separated by commas: \\boxed{A, B, C}."
            )
        if self.decimals == 0:
            return "Put the number in \\boxed{}."
        return f"Round to {self.decimals} decimals and put the number in \\boxed{{}}."

    @property
    def reference_code(self) -> str:
        """The whole reference program: load the files named in ``load``, then ``code``."""
        lines = ["import csv", "import statistics", ""]
        for name in self.load:
            lines += [
                f'with open("{name}", newline="") as f:',
                f"    {name[:-4]} = list(csv.DictReader(f))",
            ]
        return "\n".join(lines) + "\n\n" + self.code


def csv_text(header: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    """A CSV file with these columns; a None cell is written empty (a missing value)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(header), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row[k] is None else row[k] for k in header})
    return out.getvalue()


def distinct_top(values: dict[str, float], k: int) -> list[str] | None:
    """The ``k`` keys with the largest values, or None when a tie makes the order ambiguous."""
    ranked = sorted(values, key=values.__getitem__, reverse=True)
    if len(ranked) < k:
        return None
    cut = [values[key] for key in ranked[: k + 1]]
    if any(a - b < 1e-6 for a, b in itertools.pairwise(cut)):
        return None
    return ranked[:k]


def print_total(decimals: int) -> str:
    """The reference code's last line: print ``total``, rounded when the answer has decimals."""
    return "print(round(total, 2))\n" if decimals else "print(total)\n"
