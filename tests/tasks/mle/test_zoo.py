"""The reference pipelines: complete scripts of every family that write valid submissions."""

from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest

from palaestra.tasks.mle.competition import Competition
from palaestra.tasks.mle.grading import Grader
from palaestra.tasks.mle.prepare import prepare
from palaestra.tasks.mle.runner import run_pipeline
from palaestra.tasks.mle.zoo import FAMILIES, Pipeline, reference_pipelines

pd = pytest.importorskip("pandas")
pytest.importorskip("sklearn")


def mixed_table(seed):
    """Numbers with gaps, a category, a date, text and a boolean: every kind of column."""
    rng = np.random.default_rng(seed)
    n = 300
    x = rng.normal(size=n)
    x_seen = np.where(rng.random(n) < 0.1, np.nan, x)
    colour = rng.choice(["red", "green", "blue", None], n)
    words = np.where(x > 0, "warm sunny", "cold grey")
    note = [f"{w} {rng.choice(['day', 'night'])}" for w in words]
    days = pd.date_range("2023-01-01", periods=n, freq="D").strftime("%Y-%m-%d")
    flag = rng.random(n) < 0.5
    score = 2 * x + (colour == "red") + flag + rng.normal(scale=0.5, size=n)
    label = np.where(score > 0.5, 1, 0)
    species = np.array(["a", "b", "c"])[np.digitize(score, [-0.5, 1.5])]
    return pd.DataFrame(
        {
            "x": x_seen,
            "colour": colour,
            "note": note,
            "day": days,
            "flag": flag,
            "noise": rng.normal(size=n),
            "label": label,
            "species": species,
            "score": score,
        }
    )


def competition(name, **fields):
    defaults = dict(
        name=name,
        title=name.title(),
        overview="Predict it.",
        source="tests",
        load=mixed_table,
        target="label",
        kind="binary",
        metric="roc_auc",
        positive=1,
        text_columns=("note",),
        max_rows=300,
    )
    defaults.update(fields)
    drop = {"label", "species", "score"} - {defaults["target"]}
    return Competition(drop=tuple(sorted(drop)), **defaults)


KINDS = {
    "auc": competition("zoo-auc"),
    "labels": competition("zoo-labels", metric="accuracy", text_columns=()),
    "probabilities": competition(
        "zoo-probabilities", target="species", kind="multiclass", metric="log_loss", positive=None
    ),
    "values": competition(
        "zoo-values",
        target="score",
        kind="regression",
        metric="rmse",
        positive=None,
        time_column="day",
        text_columns=(),
    ),
}


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PALAESTRA_CACHE", str(tmp_path))


def families_of(kind):
    return set(FAMILIES) - ({"naive-bayes"} if kind == "regression" else set())


@pytest.mark.parametrize("key", sorted(KINDS))
def test_every_source_compiles_and_names_are_unique(key):
    comp = KINDS[key]
    pipelines = reference_pipelines(comp, prepare(comp, 0))
    assert 50 <= len(pipelines) <= 70
    assert len({p.name for p in pipelines}) == len(pipelines)
    assert {p.family for p in pipelines} == families_of(comp.kind)
    for pipeline in pipelines:
        assert isinstance(pipeline, Pipeline)
        compile(pipeline.source, pipeline.name, "exec")
        assert "submission.csv" in pipeline.source
        assert max(len(line) for line in pipeline.source.splitlines()) <= 100
        assert "answers" not in pipeline.source


def test_sources_hard_code_only_what_the_description_states():
    comp = KINDS["probabilities"]
    source = reference_pipelines(comp, prepare(comp, 0))[10].source
    assert 'TARGET = "species"' in source
    assert 'CLASSES = ["a", "b", "c"]' in source
    assert 'TEXT_COLUMNS = ["note"]' in source
    auc = reference_pipelines(KINDS["auc"], prepare(KINDS["auc"], 0))
    assert all('POSITIVE = "1"' in p.source for p in auc)


def test_feature_shares_nest_and_grow():
    comp = KINDS["labels"]
    names = [p.name for p in reference_pipelines(comp, prepare(comp, 0))]
    counts = Counter(name.rsplit("-", 1)[-1] for name in names)
    assert counts["f30"] >= 10 and counts["f60"] >= 10 and counts["all"] >= 15


@pytest.mark.parametrize("key", sorted(KINDS))
def test_a_handful_of_sources_write_valid_submissions(key):
    comp = KINDS[key]
    prepared = prepare(comp, 0)
    pipelines = reference_pipelines(comp, prepared)
    grader = Grader.of(prepared)
    # One of each family; each must run, and its submission must be gradable.
    chosen = {p.family: p for p in reversed(pipelines)}
    scores = {}
    for family, pipeline in chosen.items():
        run = run_pipeline(pipeline.name, pipeline.source, str(prepared.public_dir))
        assert run.error is None, run.error
        scores[family] = grader.score(run.submission).private
    best = max(scores.values()) if comp.higher_is_better else min(scores.values())
    assert best != scores["dummy"]
    assert (best > scores["dummy"]) == comp.higher_is_better


def test_labels_are_written_as_train_csv_spells_them(tmp_path):
    comp = KINDS["labels"]
    prepared = prepare(comp, 0)
    pipeline = next(p for p in reference_pipelines(comp, prepared) if p.family == "forest")
    run = run_pipeline(pipeline.name, pipeline.source, str(prepared.public_dir))
    written = pd.read_csv(pd.io.common.BytesIO(run.submission), dtype=str)
    assert set(written["label"]) <= {"0", "1"}
    assert list(written.columns) == ["id", "label"]


def test_a_failing_script_is_reported_not_raised(tmp_path):
    comp = KINDS["labels"]
    prepared = prepare(comp, 0)
    run = run_pipeline(
        "broken", "import pandas\nraise RuntimeError('no model today')\n", str(prepared.public_dir)
    )
    assert run.submission is None and "no model today" in run.error
    run = run_pipeline("silent", "x = 1\n", str(prepared.public_dir))
    assert run.submission is None and "no submission.csv" in run.error


def test_every_catalog_competition_gets_a_full_zoo():
    catalog = pytest.importorskip("palaestra.tasks.mle.catalog")
    assert catalog.COMPETITIONS
    for comp in catalog.COMPETITIONS:
        # The sources need only the class names of the prepared variant.
        classes = ("0", "1", "2") if comp.kind == "multiclass" else None
        pipelines = reference_pipelines(comp, SimpleNamespace(classes=classes))
        assert len(pipelines) >= 50, comp.name
        assert len({p.name for p in pipelines}) == len(pipelines), comp.name
        assert {p.family for p in pipelines} == families_of(comp.kind), comp.name
        for pipeline in pipelines:
            compile(pipeline.source, f"{comp.name}/{pipeline.name}", "exec")
