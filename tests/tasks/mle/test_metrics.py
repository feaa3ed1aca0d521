"""The numpy metrics agree with scikit-learn's."""

import numpy as np
import pytest

from palaestra.tasks.mle import metrics

sk_metrics = pytest.importorskip("sklearn.metrics")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_accuracy_and_macro_f1_match_sklearn(rng):
    labels = np.array(["a", "b", "c"])
    truth = rng.choice(labels, 300)
    predicted = np.where(rng.random(300) < 0.6, truth, rng.choice(labels, 300))
    assert metrics.accuracy(truth, predicted) == pytest.approx(
        sk_metrics.accuracy_score(truth, predicted)
    )
    assert metrics.macro_f1(truth, predicted, labels) == pytest.approx(
        sk_metrics.f1_score(truth, predicted, average="macro")
    )


def test_macro_f1_counts_a_never_predicted_class_as_zero():
    truth = np.array(["a", "a", "b"])
    assert metrics.macro_f1(truth, np.array(["a", "a", "a"]), ["a", "b"]) == pytest.approx(0.4)


def test_roc_auc_matches_sklearn_with_ties(rng):
    positive = rng.random(500) < 0.3
    scores = np.round(positive * 0.3 + rng.random(500), 1)  # rounding makes many ties
    assert metrics.roc_auc(positive, scores) == pytest.approx(
        sk_metrics.roc_auc_score(positive, scores)
    )
    with pytest.raises(ValueError, match="both classes"):
        metrics.roc_auc(np.ones(5, dtype=bool), np.arange(5.0))


def test_log_loss_matches_sklearn_binary_and_multiclass(rng):
    probabilities = rng.dirichlet(np.ones(4), 200)
    truth = rng.integers(0, 4, 200)
    assert metrics.log_loss(truth, probabilities) == pytest.approx(
        sk_metrics.log_loss(truth, probabilities, labels=range(4))
    )
    positive = rng.random(100)
    binary = np.column_stack([1 - positive, positive])
    is_positive = rng.random(100) < positive
    assert metrics.log_loss(is_positive.astype(int), binary) == pytest.approx(
        sk_metrics.log_loss(is_positive, positive)
    )


def test_log_loss_is_finite_for_a_confident_mistake():
    loss = metrics.log_loss(np.array([0]), np.array([[0.0, 1.0]]))
    assert loss == pytest.approx(-np.log(1e-15))


def test_rmse_matches_sklearn(rng):
    truth, predicted = rng.normal(size=100), rng.normal(size=100)
    assert metrics.rmse(truth, predicted) == pytest.approx(
        np.sqrt(sk_metrics.mean_squared_error(truth, predicted))
    )


def test_every_metric_has_a_description():
    assert set(metrics.METRICS) == {"accuracy", "macro_f1", "roc_auc", "log_loss", "rmse"}
    assert not metrics.METRICS["rmse"].higher_is_better
    assert metrics.METRICS["roc_auc"].higher_is_better
