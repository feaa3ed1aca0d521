"""Checking and scoring submissions, and placing scores on a leaderboard.

`Grader` reads a variant's hidden answers once and scores a submission.csv on the public and
private halves of test.csv. A submission that cannot be scored (wrong header, missing or repeated
ids, labels that are no class, NaNs, probabilities outside [0, 1]) raises `SubmissionError` with
a message that says what is wrong and where, so an agent can fix it.

Ranks follow MLE-Dojo and MLE-bench: `human_rank` is one minus the share of leaderboard entries
that beat the score (1.0 ties or beats the best entry, 0.0 is beaten by all); `medal_thresholds`
are MLE-bench's (for boards under 100 entries: gold the top 10%, silver 20%, bronze 40%). Scores
are compared at 6 decimals, so scores equal to a millionth share a place.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from palaestra.errors import TaskError
from palaestra.tasks.mle import metrics
from palaestra.tasks.mle.prepare import PreparedVariant

__all__ = [
    "Grader",
    "Predictions",
    "Score",
    "SubmissionError",
    "human_rank",
    "medal",
    "medal_thresholds",
    "parse_submission",
]

MAX_SUBMISSION_BYTES = 32 * 1024 * 1024
DECIMALS = 6


class SubmissionError(TaskError):
    """A submission that cannot be scored; the message says what to fix."""


@dataclass(frozen=True)
class Score:
    """A submission's score on the public and the private half of test.csv."""

    public: float
    private: float


@dataclass(frozen=True)
class Predictions:
    """A parsed submission: ids in test.csv order and the predictions per id."""

    ids: np.ndarray
    labels: np.ndarray | None = None
    """The predicted class of each row (label formats)."""
    values: np.ndarray | None = None
    """One number per row (probability, value) or one row of class probabilities."""


def parse_submission(
    submission: bytes | str,
    prepared: PreparedVariant,
    expected_ids: Sequence[int] | np.ndarray,
) -> Predictions:
    """Check a submission against the format of ``prepared`` and the ids it must cover.

    Raises:
        SubmissionError: what is wrong, with an example row or id.
    """
    text = _decode(submission)
    rows = list(csv.reader(io.StringIO(text)))
    rows = [row for row in rows if row]  # a trailing blank line is harmless
    if not rows:
        raise SubmissionError("submission.csv is empty: it needs a header and one row per id")
    header = [name.strip() for name in rows[0]]
    wanted = ["id", *prepared.prediction_columns]
    if sorted(header) != sorted(wanted) or len(set(header)) != len(header):
        missing = [name for name in wanted if name not in header]
        extra = [name for name in header if name not in wanted]
        parts = [f"the header must be {','.join(wanted)}"]
        if missing:
            parts.append(f"missing: {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected: {', '.join(extra)}")
        if len(set(header)) != len(header):
            parts.append("some column appears twice")
        raise SubmissionError("submission.csv has the wrong columns: " + "; ".join(parts))
    body = rows[1:]
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise SubmissionError(
                f"line {number} of submission.csv has {len(row)} fields, the header {len(header)}"
            )
    column = {name: index for index, name in enumerate(header)}
    ids = _ids([row[column["id"]] for row in body], expected_ids)
    order = np.argsort(ids)
    ids = ids[order]
    body = [body[i] for i in order]
    if prepared.competition.prediction_format == "label":
        labels = _labels(
            [row[column[prepared.prediction_columns[0]]] for row in body], ids, prepared
        )
        return Predictions(ids=ids, labels=labels)
    cells = [[row[column[name]] for name in prepared.prediction_columns] for row in body]
    values = _numbers(cells, ids, prepared.prediction_columns)
    if prepared.competition.prediction_format in ("probability", "probabilities"):
        bad = np.flatnonzero(((values < 0) | (values > 1)).any(axis=1))
        if len(bad):
            raise SubmissionError(
                f"probabilities must be in [0, 1]: {len(bad)} rows are not, e.g. id {ids[bad[0]]}"
            )
        if prepared.competition.prediction_format == "probabilities":
            empty = np.flatnonzero(values.sum(axis=1) <= 0)
            if len(empty):
                raise SubmissionError(
                    f"each row's class probabilities must not all be 0: {len(empty)} rows are, "
                    f"e.g. id {ids[empty[0]]}"
                )
    flat = values if prepared.competition.prediction_format == "probabilities" else values[:, 0]
    return Predictions(ids=ids, values=flat)


class Grader:
    """Scores submissions of one variant on its public and private halves."""

    def __init__(self, prepared: PreparedVariant) -> None:
        self.prepared = prepared
        with prepared.answers_path.open(newline="") as handle:
            answers = list(csv.DictReader(handle))
        answers.sort(key=lambda row: int(row["id"]))
        self.ids = np.array([int(row["id"]) for row in answers])
        target = prepared.competition.target
        truth = [row[target] for row in answers]
        self.truth: np.ndarray = (
            np.array(truth, dtype=float)
            if prepared.competition.kind == "regression"
            else np.array(truth)
        )
        self.public = np.array([row["public"] == "1" for row in answers])

    @classmethod
    def of(cls, prepared: PreparedVariant) -> Grader:
        """The grader of a prepared variant."""
        return cls(prepared)

    def score(self, submission: bytes | str) -> Score:
        """The submission's public and private scores, rounded to 6 decimals.

        Raises:
            SubmissionError: the submission cannot be scored, and why.
        """
        predictions = parse_submission(submission, self.prepared, self.ids)
        return Score(
            public=round(self.score_rows(predictions, self.public), DECIMALS),
            private=round(self.score_rows(predictions, ~self.public), DECIMALS),
        )

    def score_rows(self, predictions: Predictions, rows: np.ndarray) -> float:
        """The metric on a subset of test rows, in id order.

        Args:
            predictions: A parsed submission.
            rows: A boolean mask over the test rows, or row indices (repeats allowed: a
                bootstrap sample).
        """
        competition = self.prepared.competition
        truth = self.truth[rows]
        match competition.metric:
            case "accuracy":
                assert predictions.labels is not None
                return metrics.accuracy(truth, predictions.labels[rows])
            case "macro_f1":
                assert predictions.labels is not None and self.prepared.classes is not None
                return metrics.macro_f1(truth, predictions.labels[rows], self.prepared.classes)
            case "roc_auc":
                assert predictions.values is not None
                return metrics.roc_auc(truth == str(competition.positive), predictions.values[rows])
            case "log_loss":
                assert predictions.values is not None and self.prepared.classes is not None
                if competition.prediction_format == "probability":
                    positive = predictions.values[rows]
                    matrix = np.column_stack([1.0 - positive, positive])
                    index = (truth == str(competition.positive)).astype(int)
                else:
                    matrix = predictions.values[rows]
                    index = np.searchsorted(np.array(self.prepared.classes), truth)
                return metrics.log_loss(index, matrix)
            case _:
                assert predictions.values is not None
                return metrics.rmse(truth, predictions.values[rows])


# --------------------------------------------------------------------------------- leaderboards
def human_rank(score: float, board: Sequence[float], higher_is_better: bool) -> float:
    """MLE-Dojo's HumanRank: 1 minus the share of the board's entries that beat ``score``."""
    if not board:
        raise ValueError("the leaderboard is empty")
    mine = round(score, DECIMALS)
    beaten_by = sum(
        1
        for entry in board
        if (round(entry, DECIMALS) > mine if higher_is_better else round(entry, DECIMALS) < mine)
    )
    return 1.0 - beaten_by / len(board)


def medal_thresholds(board: Sequence[float], higher_is_better: bool) -> dict[str, float]:
    """The score each medal needs, by MLE-bench's rules for a board of this size."""
    ranked = sorted(board, reverse=higher_is_better)
    size = len(ranked)
    if size < 100:
        places = (math.ceil(0.1 * size), math.ceil(0.2 * size), math.ceil(0.4 * size))
    elif size < 250:
        places = (10, math.ceil(0.2 * size), math.ceil(0.4 * size))
    elif size < 1000:
        places = (10 + math.ceil(0.002 * size), 50, 100)
    else:
        places = (10 + math.ceil(0.002 * size), math.ceil(0.05 * size), math.ceil(0.1 * size))
    return {
        name: ranked[max(1, min(place, size)) - 1]
        for name, place in zip(("gold", "silver", "bronze"), places, strict=True)
    }


def medal(score: float, thresholds: dict[str, float], higher_is_better: bool) -> str | None:
    """The best medal ``score`` earns (``gold``, ``silver``, ``bronze``), or None."""
    mine = round(score, DECIMALS)
    for name in ("gold", "silver", "bronze"):
        needed = round(thresholds[name], DECIMALS)
        if (mine >= needed) if higher_is_better else (mine <= needed):
            return name
    return None


# ------------------------------------------------------------------------------------- parsing
def _decode(submission: bytes | str) -> str:
    if isinstance(submission, bytes):
        if len(submission) > MAX_SUBMISSION_BYTES:
            raise SubmissionError(
                f"submission.csv is {len(submission):,} bytes; the limit is "
                f"{MAX_SUBMISSION_BYTES:,}"
            )
        try:
            submission = submission.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SubmissionError(f"submission.csv is not UTF-8 text ({exc.reason})") from exc
    if "\x00" in submission:
        raise SubmissionError("submission.csv contains NUL bytes: it is not a CSV text file")
    return submission


def _ids(cells: list[str], expected: Sequence[int] | np.ndarray) -> np.ndarray:
    ids = []
    for number, cell in enumerate(cells, start=2):
        try:
            value = float(cell)
        except ValueError:
            raise SubmissionError(
                f"line {number} of submission.csv: id {cell!r} is not a number"
            ) from None
        if not value.is_integer():
            raise SubmissionError(f"line {number} of submission.csv: id {cell!r} is not whole")
        ids.append(int(value))
    array = np.array(ids, dtype=np.int64)
    unique, counts = np.unique(array, return_counts=True)
    if (counts > 1).any():
        repeated = unique[counts > 1]
        raise SubmissionError(
            f"{len(repeated)} ids appear more than once in submission.csv, e.g. {repeated[0]}"
        )
    wanted = np.asarray(expected, dtype=np.int64)
    missing = np.setdiff1d(wanted, array)
    unknown = np.setdiff1d(array, wanted)
    if len(missing) or len(unknown):
        parts = []
        if len(missing):
            examples = ", ".join(str(i) for i in missing[:3])
            parts.append(f"{len(missing)} ids of test.csv are missing (e.g. {examples})")
        if len(unknown):
            examples = ", ".join(str(i) for i in unknown[:3])
            parts.append(f"{len(unknown)} ids are not in test.csv (e.g. {examples})")
        raise SubmissionError(
            f"submission.csv must have one row for each of the {len(wanted)} ids of test.csv: "
            + "; ".join(parts)
        )
    return array


def _labels(cells: list[str], ids: np.ndarray, prepared: PreparedVariant) -> np.ndarray:
    classes = prepared.classes or ()
    known = set(classes)
    whole_numbers = all(_is_int(label) for label in classes)
    labels = []
    for row, cell in enumerate(cells):
        label = cell.strip()
        if label not in known and whole_numbers:
            label = _as_int_label(label)
        if label not in known:
            if label in ("", "nan", "NaN"):
                raise SubmissionError(f"id {ids[row]} has no predicted label")
            shown = ", ".join(classes)
            raise SubmissionError(
                f"id {ids[row]}: {cell!r} is not a class of {prepared.competition.target} "
                f"(the classes are {shown})"
            )
        labels.append(label)
    return np.array(labels)


def _numbers(cells: list[list[str]], ids: np.ndarray, columns: Sequence[str]) -> np.ndarray:
    values = np.empty((len(cells), len(columns)))
    for row, fields in enumerate(cells):
        for index, cell in enumerate(fields):
            try:
                values[row, index] = float(cell)
            except ValueError:
                raise SubmissionError(
                    f"id {ids[row]}: {columns[index]} is {cell!r}, not a number"
                ) from None
    bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if len(bad):
        raise SubmissionError(
            f"{len(bad)} rows have NaN or infinite predictions, e.g. id {ids[bad[0]]}"
        )
    return values


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def _as_int_label(text: str) -> str:
    try:
        value = float(text)
    except ValueError:
        return text
    return str(int(value)) if value.is_integer() else text
