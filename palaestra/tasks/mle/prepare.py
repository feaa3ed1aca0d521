"""Turning a competition's labelled table into the files of one variant, cached on disk.

A variant is one draw of a competition: a seeded sample of rows, a train/test split (the latest
rows for forecasting tasks, stratified for classification), random ids that carry no signal, and
the test answers split into a public half (scored while the agent works) and a private half
(scored once, at submit). Variants 0 and 1 form the ``train`` split, variant 2 the ``test`` split.

Layout of one variant under ``cache_dir()/mle/v<DATA_VERSION>/<competition>/variant-<n>-<digest>/``
(the digest is of the competition's definition, so an edited competition is prepared anew)::

    public/train.csv               id, features, target          (what the agent sees)
    public/test.csv                id, features
    public/sample_submission.csv   id, prediction columns filled with a constant
    public/description.md          the competition as a participant reads it
    answers.csv                    id, target, public            (never enters a sandbox)
    meta.json                      rows, columns, classes, fingerprint

The folder is written whole into a temporary sibling and renamed into place, so a reader never
sees half a variant, and two processes preparing the same variant at once both end up with it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from palaestra.core.cache import cache_dir
from palaestra.errors import ConfigError, TaskError
from palaestra.tasks.mle.competition import Competition
from palaestra.tasks.task import Split

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DATA_VERSION",
    "PUBLIC_FILES",
    "VARIANTS",
    "PreparedVariant",
    "definition_digest",
    "mle_cache",
    "prepare",
    "variant_seed",
]

DATA_VERSION = 1
"""Bumped whenever preparation changes, so old cached variants are never read again."""

VARIANTS: dict[Split, tuple[int, ...]] = {"train": (0, 1), "test": (2,)}

PUBLIC_FILES = ("train.csv", "test.csv", "sample_submission.csv", "description.md")


def mle_cache() -> Path:
    """The root of prepared variants and of leaderboards built on this machine."""
    return cache_dir() / "mle" / f"v{DATA_VERSION}"


def variant_seed(name: str, variant: int) -> int:
    """The seed of a competition's variant: stable across runs, machines and Python versions."""
    digest = hashlib.blake2b(f"{name}/{variant}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big")


@dataclass(frozen=True)
class PreparedVariant:
    """One variant's files on disk and what is known about them."""

    competition: Competition
    variant: int
    directory: Path
    meta: dict[str, Any]

    @property
    def public_dir(self) -> Path:
        """train.csv, test.csv, sample_submission.csv and description.md: what agents see."""
        return self.directory / "public"

    @property
    def answers_path(self) -> Path:
        """The hidden answers: never copied anywhere an agent's code runs."""
        return self.directory / "answers.csv"

    @property
    def classes(self) -> tuple[str, ...] | None:
        """The class labels as strings, sorted (None for regression)."""
        classes = self.meta["classes"]
        return tuple(classes) if classes is not None else None

    @property
    def prediction_columns(self) -> tuple[str, ...]:
        """The columns a submission has besides ``id``."""
        return tuple(self.meta["prediction_columns"])

    @property
    def fingerprint(self) -> str:
        """A hash of the data and answers: a leaderboard is valid only for this exact variant."""
        return str(self.meta["fingerprint"])

    @property
    def task_id(self) -> str:
        """The env's task id of this variant."""
        return f"mle-{self.competition.name}-v{self.variant}"

    def public_files(self) -> dict[str, bytes]:
        """The agent-visible files by name."""
        return {name: (self.public_dir / name).read_bytes() for name in PUBLIC_FILES}


def prepare(competition: Competition, variant: int) -> PreparedVariant:
    """The variant's files, made on first use and read from the cache afterwards."""
    if variant not in (*VARIANTS["train"], *VARIANTS["test"]):
        raise ConfigError(f"variant must be one of 0, 1, 2, got {variant!r}")
    directory = (
        mle_cache() / competition.name / f"variant-{variant}-{definition_digest(competition)}"
    )
    meta_path = directory / "meta.json"
    if not meta_path.exists():
        _build(competition, variant, directory)
    meta = json.loads(meta_path.read_text())
    return PreparedVariant(competition=competition, variant=variant, directory=directory, meta=meta)


def definition_digest(competition: Competition) -> str:
    """A hash of everything that shapes a competition's files, so an edited one is re-prepared.

    Functions count by their name and compiled code, so editing a loader or a reshaping step
    makes new files, as does editing the target, the metric or the description.
    """
    digest = hashlib.blake2b(digest_size=6)
    for item in dataclasses.fields(competition):
        digest.update(f"{item.name}={_stable(getattr(competition, item.name))};".encode())
    return digest.hexdigest()


def _stable(value: Any) -> str:
    """A description of a value that is the same in every process (no memory addresses)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        inner = ",".join(
            f"{item.name}={_stable(getattr(value, item.name))}"
            for item in dataclasses.fields(value)
        )
        return f"{type(value).__qualname__}({inner})"
    if isinstance(value, functools.partial):
        return f"partial({_stable(value.func)},{_stable(value.args)},{_stable(value.keywords)})"
    if callable(value) and hasattr(value, "__code__"):
        code = value.__code__
        body = hashlib.blake2b(code.co_code + repr(code.co_consts).encode(), digest_size=6)
        return f"{value.__module__}.{value.__qualname__}#{body.hexdigest()}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k!r}:{_stable(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_stable(v) for v in value) + "]"
    return repr(value)


# ------------------------------------------------------------------------------------ building
def _build(competition: Competition, variant: int, directory: Path) -> None:
    directory.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        _write_variant(competition, variant, scratch)
        try:
            os.rename(scratch, directory)
        except OSError:
            if not (directory / "meta.json").exists():
                raise
            # Another process finished the same variant first: theirs is identical.
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _write_variant(competition: Competition, variant: int, out: Path) -> None:
    import numpy as np

    from palaestra.tasks.mle.describe import description

    seed = variant_seed(competition.name, variant)
    rng = np.random.default_rng(seed)
    table = _clean(competition, competition.load(seed))
    table = _sample_rows(competition, table, variant, rng)
    is_test = _test_rows(competition, table, rng)
    table.insert(0, "id", rng.permutation(len(table)) + 1)
    target = competition.target

    train = table[~is_test]
    test = table[is_test].sort_values("id")
    if competition.time_column is None:
        train = train.sample(frac=1.0, random_state=int(rng.integers(2**31)))
    public = np.zeros(len(test), dtype=bool)
    public[rng.permutation(len(test))[: len(test) // 2]] = True

    classes = None if competition.kind == "regression" else sorted(train[target].unique())
    if classes is not None and competition.positive is not None:
        if str(competition.positive) not in classes:
            raise ConfigError(
                f"competition {competition.name!r}: positive label {competition.positive!r} "
                f"is not one of the classes {classes}"
            )
    if classes is not None and set(test[target]) - set(classes):
        raise TaskError(f"competition {competition.name!r}: a test class never occurs in train")
    prediction_columns = classes if competition.prediction_format == "probabilities" else [target]

    public_dir = out / "public"
    public_dir.mkdir()
    train.to_csv(public_dir / "train.csv", index=False)
    test.drop(columns=[target]).to_csv(public_dir / "test.csv", index=False)
    _sample_submission(competition, train, test, classes).to_csv(
        public_dir / "sample_submission.csv", index=False
    )
    answers = test[["id", target]].copy()
    answers["public"] = public.astype(int)
    answers.to_csv(out / "answers.csv", index=False)

    meta: dict[str, Any] = {
        "competition": competition.name,
        "variant": variant,
        "seed": seed,
        "data_version": DATA_VERSION,
        "rows": {
            "train": len(train),
            "test": len(test),
            "public": int(public.sum()),
            "private": int((~public).sum()),
        },
        "columns": _column_summary(competition, train),
        "classes": classes,
        "prediction_columns": prediction_columns,
        "target_summary": _target_summary(competition, train),
        "sample_rows": _head(public_dir / "sample_submission.csv", 4),
    }
    digest = hashlib.sha256()
    for path in (*(public_dir / name for name in PUBLIC_FILES[:3]), out / "answers.csv"):
        digest.update(path.read_bytes())
    meta["fingerprint"] = digest.hexdigest()[:16]
    (public_dir / "description.md").write_text(description(competition, meta))
    (out / "meta.json").write_text(json.dumps(meta, indent=1))


def _clean(competition: Competition, table: pd.DataFrame) -> pd.DataFrame:
    missing = [column for column in competition.drop if column not in table.columns]
    if missing:
        raise ConfigError(f"competition {competition.name!r}: drop names unknown columns {missing}")
    table = table.drop(columns=list(competition.drop))
    if "id" in table.columns:
        raise ConfigError(f"competition {competition.name!r}: the table must not have an id column")
    if competition.target not in table.columns:
        raise ConfigError(
            f"competition {competition.name!r}: target {competition.target!r} is not a column"
        )
    table = table[table[competition.target].notna()].reset_index(drop=True)
    if competition.kind != "regression":
        table[competition.target] = _labels(table[competition.target])
    else:
        table[competition.target] = table[competition.target].astype(float)
    return table


def _labels(column: pd.Series) -> pd.Series:
    """Class labels as strings; numbers that are whole become "3", never "3.0"."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(column) and (column == column.round()).all():
        return column.astype("int64").astype(str)
    return column.astype(str)


def _sample_rows(competition: Competition, table: pd.DataFrame, variant: int, rng: Any) -> Any:
    if len(table) <= competition.max_rows:
        return table.reset_index(drop=True)
    if competition.time_column is not None:
        # Forecasting keeps a contiguous window; variants end it at different points in time.
        ordered = table.sort_values(competition.time_column, kind="mergesort")
        spare = len(ordered) - competition.max_rows
        end = len(ordered) - (spare * variant) // 3
        return ordered.iloc[end - competition.max_rows : end].reset_index(drop=True)
    keep = rng.choice(len(table), size=competition.max_rows, replace=False)
    return table.iloc[sorted(keep)].reset_index(drop=True)


def _test_rows(competition: Competition, table: pd.DataFrame, rng: Any) -> Any:
    import numpy as np

    n_test = round(len(table) * competition.test_fraction)
    is_test = np.zeros(len(table), dtype=bool)
    if competition.time_column is not None:
        order = np.argsort(table[competition.time_column].to_numpy(), kind="mergesort")
        is_test[order[len(table) - n_test :]] = True
    elif competition.kind == "regression":
        is_test[rng.permutation(len(table))[:n_test]] = True
    else:
        # Stratified, so every class of test.csv also occurs in train.csv.
        for _, rows in table.groupby(competition.target).indices.items():
            if len(rows) < 2:
                continue
            take = max(1, round(len(rows) * competition.test_fraction))
            is_test[rng.permutation(rows)[:take]] = True
    return is_test


def _sample_submission(
    competition: Competition, train: pd.DataFrame, test: pd.DataFrame, classes: list[str] | None
) -> pd.DataFrame:
    import pandas as pd

    target = train[competition.target]
    sample = pd.DataFrame({"id": test["id"].to_numpy()})
    match competition.prediction_format:
        case "label":
            sample[competition.target] = target.mode().iloc[0]
        case "probability":
            prevalence = (target == str(competition.positive)).mean()
            sample[competition.target] = round(float(prevalence), 4)
        case "probabilities":
            shares = target.value_counts(normalize=True)
            for label in classes or []:
                sample[label] = round(float(shares.get(label, 0.0)), 4)
        case _:
            sample[competition.target] = round(float(target.mean()), 4)
    return sample


def _column_summary(competition: Competition, train: pd.DataFrame) -> list[dict[str, Any]]:
    import pandas as pd

    summary = []
    for name in train.columns:
        if name in ("id", competition.target):
            continue
        column = train[name]
        if name in competition.text_columns:
            kind = "text"
        elif name == competition.time_column:
            kind = "date"
        elif pd.api.types.is_numeric_dtype(column):
            kind = "numeric"
        else:
            kind = "categorical"
        summary.append(
            {
                "name": name,
                "type": kind,
                "missing": int(column.isna().sum()),
                "unique": int(column.nunique()),
                "description": competition.columns.get(name, ""),
            }
        )
    return summary


def _target_summary(competition: Competition, train: pd.DataFrame) -> dict[str, Any]:
    target = train[competition.target]
    if competition.kind == "regression":
        return {
            "mean": round(float(target.mean()), 4),
            "std": round(float(target.std()), 4),
            "min": round(float(target.min()), 4),
            "max": round(float(target.max()), 4),
        }
    return {str(label): int(count) for label, count in target.value_counts().sort_index().items()}


def _head(path: Path, lines: int) -> list[str]:
    with path.open() as handle:
        return [line.rstrip("\n") for line in itertools.islice(handle, lines)]
