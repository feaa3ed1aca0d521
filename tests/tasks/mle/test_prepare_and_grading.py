"""Preparing a variant (files, splits, cache) and grading submissions against its answers."""

import csv
import io

import numpy as np
import pytest

from palaestra.errors import ConfigError
from palaestra.tasks.mle.competition import Competition
from palaestra.tasks.mle.grading import (
    Grader,
    SubmissionError,
    human_rank,
    medal,
    medal_thresholds,
)
from palaestra.tasks.mle.prepare import prepare, variant_seed

pd = pytest.importorskip("pandas")


def table(seed):
    rng = np.random.default_rng(seed)
    n = 400
    x = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], n)
    label = np.where(x + (colour == "red") + rng.normal(scale=0.8, size=n) > 0.5, "yes", "no")
    return pd.DataFrame({"x": x, "colour": colour, "noise": rng.normal(size=n), "label": label})


def forecast_table(seed):
    days = pd.date_range("2024-01-01", periods=300, freq="D")
    return pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "sales": np.arange(300) % 7 * 1.5})


def make(name="toy", **overrides):
    fields = dict(
        name=name,
        title="Toy",
        overview="Predict the label.",
        source="tests",
        load=table,
        target="label",
        kind="binary",
        metric="roc_auc",
        positive="yes",
    )
    fields.update(overrides)
    return Competition(**fields)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PALAESTRA_CACHE", str(tmp_path))


def read(path):
    return pd.read_csv(path)


def test_files_have_the_promised_columns_and_no_answers_in_public():
    prepared = prepare(make(), 0)
    train = read(prepared.public_dir / "train.csv")
    test = read(prepared.public_dir / "test.csv")
    sample = read(prepared.public_dir / "sample_submission.csv")
    answers = read(prepared.answers_path)
    assert list(train.columns) == ["id", "x", "colour", "noise", "label"]
    assert "label" not in test.columns and list(sample.columns) == ["id", "label"]
    assert len(train) + len(test) == 400 and len(test) == 120
    assert set(train.id).isdisjoint(test.id) and sorted(sample.id) == sorted(test.id)
    assert sorted(answers.id) == sorted(test.id)
    assert answers.public.sum() == 60
    # Stratified: both classes in test, at about the train rate.
    assert abs((answers.label == "yes").mean() - (train.label == "yes").mean()) < 0.05
    assert all(path.name != "answers.csv" for path in prepared.public_dir.iterdir())
    description = (prepared.public_dir / "description.md").read_text()
    assert "roc" in description.lower() and "`label`" in description


def test_ids_carry_no_signal_and_variants_differ():
    first, second = prepare(make(), 0), prepare(make(), 1)
    train = read(first.public_dir / "train.csv")
    assert abs(np.corrcoef(train.id, train.label == "yes")[0, 1]) < 0.2
    assert first.fingerprint != second.fingerprint
    assert variant_seed("toy", 0) == variant_seed("toy", 0) != variant_seed("toy", 1)


def test_prepare_is_cached_and_deterministic(tmp_path, monkeypatch):
    first = prepare(make(), 0)
    again = prepare(make(), 0)
    assert again.meta == first.meta
    monkeypatch.setenv("PALAESTRA_CACHE", str(tmp_path / "elsewhere"))
    rebuilt = prepare(make(), 0)
    assert rebuilt.fingerprint == first.fingerprint and rebuilt.directory != first.directory


def test_forecasting_keeps_time_order():
    competition = make(
        name="toy-forecast",
        load=forecast_table,
        target="sales",
        kind="regression",
        metric="rmse",
        positive=None,
        time_column="date",
    )
    prepared = prepare(competition, 0)
    train = read(prepared.public_dir / "train.csv")
    test = read(prepared.public_dir / "test.csv")
    assert train.date.max() < test.date.min()
    assert list(train.date) == sorted(train.date)


def test_bad_competitions_are_refused():
    with pytest.raises(ConfigError, match="does not fit"):
        make(metric="rmse")
    with pytest.raises(ConfigError, match="positive"):
        make(positive=None)
    with pytest.raises(ConfigError, match="unknown columns"):
        prepare(make(name="toy-drop", drop=("nope",)), 0)
    with pytest.raises(ConfigError, match="positive label"):
        prepare(make(name="toy-positive", positive="maybe"), 0)
    with pytest.raises(ConfigError, match="variant"):
        prepare(make(), 7)


def submission(prepared, values):
    test = read(prepared.public_dir / "test.csv")
    return pd.DataFrame({"id": test.id, "label": values}).to_csv(index=False)


def test_a_perfect_submission_scores_one_and_the_sample_about_half():
    prepared = prepare(make(), 0)
    grader = Grader.of(prepared)
    answers = read(prepared.answers_path).set_index("id")
    test = read(prepared.public_dir / "test.csv")
    perfect = (answers.loc[test.id, "label"] == "yes").astype(float).to_numpy()
    assert grader.score(submission(prepared, perfect)).private == 1.0
    sample = (prepared.public_dir / "sample_submission.csv").read_bytes()
    assert grader.score(sample).public == 0.5


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda rows: rows[:1], "missing"),
        (lambda rows: rows + [rows[1]], "more than once"),
        (lambda rows: [["id", "prob"], *rows[1:]], "wrong columns"),
        (lambda rows: [rows[0], [rows[1][0], "nan"], *rows[2:]], "NaN"),
        (lambda rows: [rows[0], [rows[1][0], ""], *rows[2:]], "not a number"),
        (lambda rows: [rows[0], [rows[1][0], "1.5"], *rows[2:]], r"\[0, 1\]"),
        (lambda rows: [rows[0], ["x", "0.5"], *rows[2:]], "not a number"),
        (lambda rows: [rows[0], [rows[1][0]], *rows[2:]], "fields"),
        (lambda rows: [], "empty"),
    ],
)
def test_bad_submissions_get_a_clear_error(mangle, message):
    prepared = prepare(make(), 0)
    rows = list(csv.reader(io.StringIO(submission(prepared, 0.5))))
    out = io.StringIO()
    csv.writer(out).writerows(mangle(rows))
    with pytest.raises(SubmissionError, match=message):
        Grader.of(prepared).score(out.getvalue())


def test_binary_garbage_is_a_clear_error():
    prepared = prepare(make(), 0)
    with pytest.raises(SubmissionError, match="UTF-8"):
        Grader.of(prepared).score(b"\xff\xfe\x00")


def test_labels_are_checked_against_the_classes():
    prepared = prepare(make(name="toy-acc", metric="accuracy"), 0)
    grader = Grader.of(prepared)
    assert 0.0 < grader.score(submission(prepared, "yes")).public < 1.0
    with pytest.raises(SubmissionError, match="not a class"):
        grader.score(submission(prepared, "maybe"))


def test_human_rank_and_medals_follow_mle_dojo_and_mle_bench():
    board = [float(score) for score in range(1, 51)]  # 50 entries, higher is better
    assert human_rank(50.0, board, True) == 1.0
    assert human_rank(51.0, board, True) == 1.0
    assert human_rank(0.0, board, True) == 0.0
    assert human_rank(25.0, board, True) == pytest.approx(0.5)  # 26..50 beat it
    assert human_rank(25.0, board, False) == pytest.approx(0.52)  # 1..24 beat it
    assert human_rank(25.0000001, board, False) == pytest.approx(0.52)  # a millionth is a tie
    thresholds = medal_thresholds(board, True)
    assert thresholds == {"gold": 46.0, "silver": 41.0, "bronze": 31.0}
    assert medal(46.0, thresholds, True) == "gold"
    assert medal(40.0, thresholds, True) == "bronze"
    assert medal(30.0, thresholds, True) is None
    assert medal_thresholds(board, False)["gold"] == 5.0
