"""Leaderboards: the reference pipelines of a competition variant, run, scored and checked.

A leaderboard is what an agent's score is ranked against (HumanRank, medals). It is made by
running every reference pipeline of `palaestra.tasks.mle.zoo` on the variant's public files, in
worker processes with a scratch copy of train.csv and test.csv as the working directory (the
answers never go there), and scoring each submission.csv with the variant's `Grader`.

Building checks that the competition is worth ranking on, and fails loudly when it is not:

- **leakage**: no single column (the id included) predicts the target almost perfectly. A depth-4
  tree on that column alone (for regression also a straight line) is cross-validated on
  train.csv, in time order for forecasting tasks; it must stay under ROC AUC 0.99 (binary),
  balanced accuracy 0.99 (multiclass; plain accuracy would flag any heavily imbalanced task) or
  R^2 0.98 (regression).
- **dummy below median**: the best dummy pipeline scores worse than the board's median.
- **top apart from median**: the best entry's private score beats the median entry's by more
  than two standard errors of that lead (a paired bootstrap over the private rows), so ranks
  near the top mean something. The lead's error, not the best score's alone, is the one that
  says whether two entries are told apart: rows that are hard for one are mostly hard for both.

Boards are built once: the shipped ones (palaestra/tasks/mle/leaderboards/<name>.json, written
by ``python -m palaestra.tasks.mle.build``) are used when their data fingerprint and pipeline
sources match the prepared variant; otherwise a board built on this machine is cached under the
MLE cache, and built on first use.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from palaestra.errors import ConfigError, TaskError
from palaestra.tasks.mle.competition import Competition
from palaestra.tasks.mle.runner import Progress, Run, run_all
from palaestra.tasks.mle.zoo import Pipeline, reference_pipelines

if TYPE_CHECKING:
    import numpy as np

    from palaestra.tasks.mle.prepare import PreparedVariant

__all__ = [
    "SHIPPED_DIR",
    "BuildError",
    "Check",
    "CheckError",
    "Entry",
    "LeakageError",
    "Leaderboard",
    "LeaderboardFile",
    "Progress",
    "best_pipeline",
    "build_leaderboard",
    "load_leaderboard",
    "pipelines_digest",
]

logger = logging.getLogger(__name__)

SHIPPED_DIR = Path(__file__).parent / "leaderboards"
"""Where the leaderboards built by ``python -m palaestra.tasks.mle.build`` are shipped."""

DECIMALS = 6
LEAK_THRESHOLDS = {"binary": 0.99, "multiclass": 0.99, "regression": 0.98}
BOOTSTRAP_SAMPLES = 200


class BuildError(TaskError):
    """A leaderboard could not be built: a reference pipeline failed or wrote a bad submission."""


class CheckError(TaskError):
    """A competition failed a build-time check: its leaderboard would not rank anything."""


class LeakageError(CheckError):
    """A single column predicts the target almost perfectly."""


# ----------------------------------------------------------------------------------- the board
class Entry(BaseModel):
    """One reference pipeline's place on the board."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    family: str
    public: float
    private: float
    seconds: float
    """Wall time of the run, for the record (not part of the ranking)."""


class Check(BaseModel):
    """One build-time check and what it measured."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    passed: bool
    detail: str


class Leaderboard(BaseModel):
    """The reference board of one variant of one competition, best entry first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    competition: str
    variant: int
    metric: str
    higher_is_better: bool
    fingerprint: str
    """`PreparedVariant.fingerprint` of the data the board was scored on."""
    pipelines: str
    """`pipelines_digest` of the sources that were run."""
    entries: tuple[Entry, ...]
    checks: tuple[Check, ...]
    build_seconds: float
    sklearn: str
    """The scikit-learn version the pipelines ran with."""

    def private_scores(self) -> list[float]:
        """Every entry's private score, best first: the board HumanRank ranks against."""
        return [entry.private for entry in self.entries]

    def public_scores(self) -> list[float]:
        """Every entry's public score (in the order of the private ranking)."""
        return [entry.public for entry in self.entries]

    @property
    def best(self) -> Entry:
        """The entry with the best private score: the oracle."""
        return self.entries[0]

    @property
    def median(self) -> float:
        """The median private score."""
        return _median(self.private_scores())

    @property
    def dummy(self) -> Entry:
        """The best dummy entry."""
        return next(entry for entry in self.entries if entry.family == "dummy")

    def entry(self, name: str) -> Entry:
        """The entry of the pipeline called ``name``."""
        for entry in self.entries:
            if entry.name == name:
                return entry
        raise KeyError(name)


class LeaderboardFile(BaseModel):
    """A shipped file: the boards of every variant of one competition."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    competition: str
    boards: tuple[Leaderboard, ...]


def pipelines_digest(pipelines: Sequence[Pipeline]) -> str:
    """A hash of the pipelines' names and sources: a board is stale once any script changes."""
    digest = hashlib.sha256()
    for pipeline in pipelines:
        digest.update(f"{pipeline.name}\0{pipeline.family}\0{pipeline.source}\0".encode())
    return digest.hexdigest()[:16]


# ------------------------------------------------------------------------------------ building
def build_leaderboard(
    competition: Competition | str,
    variant: int,
    *,
    workers: int = 1,
    progress: Progress | None = None,
    strict: bool = True,
) -> Leaderboard:
    """Run, score and check every reference pipeline of one variant.

    Args:
        competition: The competition (or its name in the catalog).
        variant: 0, 1 or 2.
        workers: Worker processes that run pipelines side by side.
        progress: Called after each pipeline finishes.
        strict: Raise when a check fails; with False, a failed check is only recorded on the
            board (``Check.passed``), for reports on a competition that is being tuned.

    Raises:
        LeakageError: A single column predicts the target almost perfectly.
        BuildError: A pipeline failed or wrote a submission that cannot be scored.
        CheckError: The dummy does not rank below the median, or top and median are too close.
    """
    import sklearn

    from palaestra.tasks.mle.grading import Grader, SubmissionError
    from palaestra.tasks.mle.prepare import prepare

    competition = _resolve(competition)
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    started = time.perf_counter()
    prepared = prepare(competition, variant)
    checks = [leakage_check(prepared, strict=strict)]
    pipelines = reference_pipelines(competition, prepared)
    runs = run_all(pipelines, prepared.public_dir, workers, progress)

    grader = Grader.of(prepared)
    entries, failures = [], []
    for pipeline in pipelines:
        run = runs.get(pipeline.name) or Run(pipeline.name, None, "it was never run", 0.0)
        if run.submission is None:
            failures.append(f"{pipeline.name}: {run.error}")
            continue
        try:
            score = grader.score(run.submission)
        except SubmissionError as exc:
            failures.append(f"{pipeline.name}: its submission.csv cannot be scored: {exc}")
            continue
        entries.append(
            Entry(
                name=pipeline.name,
                family=pipeline.family,
                # + 0.0 turns the -0.0 of a perfect log loss into 0.0.
                public=round(score.public, DECIMALS) + 0.0,
                private=round(score.private, DECIMALS) + 0.0,
                seconds=round(run.seconds, 2),
            )
        )
    where = f"competition {competition.name!r} variant {variant}"
    if failures:
        raise BuildError(
            f"{where}: {len(failures)} of {len(pipelines)} reference pipelines failed:\n"
            + "\n".join(failures)
        )
    sign = -1.0 if competition.higher_is_better else 1.0
    entries.sort(key=lambda entry: (sign * entry.private, sign * entry.public, entry.name))

    checks.append(_dummy_check(entries, competition.higher_is_better))
    submissions = {name: run.submission or b"" for name, run in runs.items()}
    checks.append(_gap_check(entries, grader, submissions))
    for check in checks[1:]:
        if strict and not check.passed:
            raise CheckError(f"{where} fails the {check.name!r} check: {check.detail}")
    return Leaderboard(
        competition=competition.name,
        variant=variant,
        metric=competition.metric,
        higher_is_better=competition.higher_is_better,
        fingerprint=prepared.fingerprint,
        pipelines=pipelines_digest(pipelines),
        entries=tuple(entries),
        checks=tuple(checks),
        build_seconds=round(time.perf_counter() - started, 1),
        sklearn=sklearn.__version__,
    )


# -------------------------------------------------------------------------------------- checks
def leakage_check(prepared: PreparedVariant, *, strict: bool = True) -> Check:
    """Cross-validate a depth-4 tree (and for regression a line) on each single column.

    Raises:
        LeakageError: A column leaks (unless ``strict`` is False), naming it and its score.
    """
    competition = prepared.competition
    scores = _single_column_scores(prepared)
    threshold = LEAK_THRESHOLDS[competition.kind]
    measure = {"binary": "ROC AUC", "multiclass": "balanced accuracy", "regression": "R^2"}[
        competition.kind
    ]
    column, score = max(scores.items(), key=lambda item: item[1])
    if score >= threshold:
        message = (
            f"column {column!r} alone predicts {competition.target!r} with cross-validated "
            f"{measure} {score:.4f} >= {threshold}: a leak (drop it with Competition.drop)"
        )
        if strict:
            raise LeakageError(f"competition {competition.name!r} leaks its target: {message}")
        return Check(name="leakage", passed=False, detail=message)
    return Check(
        name="leakage",
        passed=True,
        detail=f"strongest single column {column!r}: {measure} {score:.3f} < {threshold}",
    )


def _single_column_scores(prepared: PreparedVariant) -> dict[str, float]:
    """Each column's cross-validated score when a depth-4 tree (or a line) sees only it."""
    import numpy as np
    import pandas as pd
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    competition = prepared.competition
    target = competition.target
    classify = competition.kind != "regression"
    train = pd.read_csv(
        prepared.public_dir / "train.csv", dtype={target: str} if classify else None
    )
    if competition.time_column is not None:
        train = train.sort_values(competition.time_column, kind="mergesort")
        folds: Any = TimeSeriesSplit(n_splits=5)
    elif classify:
        smallest = int(train[target].value_counts().min())
        folds = StratifiedKFold(n_splits=max(2, min(5, smallest)), shuffle=True, random_state=0)
    else:
        folds = KFold(n_splits=5, shuffle=True, random_state=0)
    scoring = {"binary": "roc_auc", "multiclass": "balanced_accuracy", "regression": "r2"}
    tree = DecisionTreeClassifier if classify else DecisionTreeRegressor
    scores = {}
    for column in (c for c in train.columns if c != target):
        values = train[column]
        models: list[Any] = [tree(max_depth=4, random_state=0)]
        if column in competition.text_columns:
            features: Any = values.fillna("").astype(str)
            models = [make_pipeline(TfidfVectorizer(max_features=200), models[0])]
        else:
            features = _as_numbers(values, column == competition.time_column).to_frame()
            if not classify:
                # A tree cannot extrapolate, so a copy of a trending target would pass a
                # time-ordered split unnoticed; a straight line catches it.
                models.append(make_pipeline(SimpleImputer(strategy="median"), LinearRegression()))
        best = -np.inf
        for model in models:
            result = cross_val_score(
                model,
                features,
                train[target],
                cv=folds,
                scoring=scoring[competition.kind],
                error_score="raise",
            )
            if not np.isnan(result).all():
                best = max(best, float(np.nanmean(result)))
        scores[column] = best
    return scores


def _as_numbers(values: Any, is_date: bool) -> Any:
    """A column as numbers a tree can split: dates as days, categories as codes."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    if is_date:
        when = pd.to_datetime(values, format="ISO8601")
        return (when - pd.Timestamp("1970-01-01")).dt.days.astype(float)
    codes, _ = pd.factorize(values)
    return pd.Series(codes, index=values.index, dtype=float)


def _dummy_check(entries: Sequence[Entry], higher_is_better: bool) -> Check:
    median = _median([entry.private for entry in entries])
    dummy = next(entry for entry in entries if entry.family == "dummy")
    below = dummy.private < median if higher_is_better else dummy.private > median
    return Check(
        name="dummy below median",
        passed=below,
        detail=f"best dummy {dummy.name} scores {dummy.private:g}, the median {median:g}",
    )


def _gap_check(entries: Sequence[Entry], grader: Any, submissions: dict[str, bytes]) -> Check:
    """Is the best entry ahead of the median entry by more than the noise of the private rows?

    The noise is measured on the lead itself (a paired bootstrap: both entries scored on the
    same resampled rows). Rows that are hard for one pipeline are mostly hard for the other, so
    under RMSE on heavy-tailed targets the lead is far steadier than either score alone; the
    standard error of the best score alone is reported next to it.
    """
    best, middle = entries[0], entries[len(entries) // 2]
    alone, lead = _bootstrap_errors(grader, submissions[best.name], submissions[middle.name])
    gap = abs(best.private - middle.private)
    return Check(
        name="top apart from median",
        passed=gap > 2 * lead,
        detail=f"best {best.private:g} vs median entry {middle.name} {middle.private:g}: gap "
        f"{gap:.4g} against 2 standard errors of the lead {2 * lead:.4g} (of the best score "
        f"alone: {2 * alone:.4g}; bootstrap over the private rows)",
    )


def _bootstrap_errors(grader: Any, best: bytes, other: bytes) -> tuple[float, float]:
    """Standard errors of the best submission's private score and of its lead over ``other``."""
    import numpy as np

    from palaestra.tasks.mle.grading import parse_submission

    first = parse_submission(best, grader.prepared, grader.ids)
    second = parse_submission(other, grader.prepared, grader.ids)
    private = np.flatnonzero(~grader.public)
    rng = np.random.default_rng(0)
    alone, leads = [], []
    for _ in range(BOOTSTRAP_SAMPLES):
        rows: np.ndarray = rng.choice(private, size=len(private), replace=True)
        try:
            score = grader.score_rows(first, rows)
            leads.append(score - grader.score_rows(second, rows))
        except ValueError:  # ROC AUC of a resample that drew one class only
            continue
        alone.append(score)
    return float(np.std(alone, ddof=1)), float(np.std(leads, ddof=1))


def _median(scores: Sequence[float]) -> float:
    ordered = sorted(scores)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


# ------------------------------------------------------------------------------------- loading
_LOADED: dict[tuple[str, int, str, str], Leaderboard] = {}
# Writing a competition's ~60 scripts costs about 3 ms, most of a reset; they depend only on the
# competition and its prepared data, so each process writes them once per variant.
_PIPELINES: dict[tuple[str, str], tuple[list[Pipeline], str]] = {}


def _pipelines(competition: Competition, prepared: PreparedVariant) -> tuple[list[Pipeline], str]:
    """The variant's reference pipelines and their digest, written once per process."""
    from palaestra.tasks.mle.prepare import definition_digest

    key = (definition_digest(competition), prepared.fingerprint)
    if key not in _PIPELINES:
        pipelines = reference_pipelines(competition, prepared)
        _PIPELINES[key] = (pipelines, pipelines_digest(pipelines))
    return _PIPELINES[key]


def load_leaderboard(competition: Competition | str, variant: int) -> Leaderboard:
    """The board of a variant: shipped, else cached on this machine, else built (and cached).

    A board is used only if it was scored on exactly this variant's data (its fingerprint)
    with exactly the current pipeline sources; a stale one is ignored, never trusted.
    """
    from palaestra.tasks.mle.prepare import mle_cache, prepare

    competition = _resolve(competition)
    prepared = prepare(competition, variant)
    _, digest = _pipelines(competition, prepared)
    key = (competition.name, variant, prepared.fingerprint, digest)
    if key in _LOADED:
        return _LOADED[key]

    def fits(board: Leaderboard) -> bool:
        return (
            board.variant == variant
            and board.fingerprint == prepared.fingerprint
            and board.pipelines == digest
        )

    board = None
    shipped = SHIPPED_DIR / f"{competition.name}.json"
    if shipped.exists():
        boards = LeaderboardFile.model_validate_json(shipped.read_text()).boards
        board = next((board for board in boards if fits(board)), None)
    cached = mle_cache() / "leaderboards" / f"{competition.name}-v{variant}-{digest}.json"
    if board is None and cached.exists():
        candidate = Leaderboard.model_validate_json(cached.read_text())
        board = candidate if fits(candidate) else None
    if board is None:
        logger.warning(
            "no leaderboard of %s variant %d fits its data and pipelines: building it now "
            "(about a minute; run `python -m palaestra.tasks.mle.build` to ship one)",
            competition.name,
            variant,
        )
        board = build_leaderboard(competition, variant, workers=min(2, os.cpu_count() or 1))
        _write_atomically(cached, board.model_dump_json(indent=1))
    _LOADED[key] = board
    return board


def best_pipeline(competition: Competition | str, prepared: PreparedVariant) -> Pipeline:
    """The oracle: the reference pipeline with the best private score on this variant."""
    competition = _resolve(competition)
    board = load_leaderboard(competition, prepared.variant)
    pipelines, _ = _pipelines(competition, prepared)
    return next(pipeline for pipeline in pipelines if pipeline.name == board.best.name)


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary sibling and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _resolve(competition: Competition | str) -> Competition:
    """A competition given by name is looked up in the catalog."""
    if isinstance(competition, Competition):
        return competition
    from palaestra.tasks.mle.catalog import get_competition

    return get_competition(competition)
