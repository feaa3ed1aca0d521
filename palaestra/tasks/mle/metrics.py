"""The scoring metrics of MLE-v0, in numpy: accuracy, macro F1, ROC AUC, log loss, RMSE.

Written here rather than imported from scikit-learn so that grading a submission costs a
millisecond and needs no scikit-learn in the env's process (the tests check every metric against
``sklearn.metrics``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["METRICS", "MetricInfo", "accuracy", "log_loss", "macro_f1", "rmse", "roc_auc"]

# Probabilities are clipped away from 0 and 1, as Kaggle does, so one confident mistake costs a
# large but finite loss.
_EPSILON = 1e-15


def accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """The share of rows whose predicted label is the true one."""
    return float(np.mean(np.asarray(truth) == np.asarray(predicted)))


def macro_f1(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    """The unweighted mean over ``labels`` of each class's F1 (a class never seen scores 0)."""
    truth_array, predicted_array = np.asarray(truth), np.asarray(predicted)
    scores = []
    for label in labels:
        true_positive = np.sum((truth_array == label) & (predicted_array == label))
        false_positive = np.sum((truth_array != label) & (predicted_array == label))
        false_negative = np.sum((truth_array == label) & (predicted_array != label))
        denominator = 2 * true_positive + false_positive + false_negative
        scores.append(2 * true_positive / denominator if denominator else 0.0)
    return float(np.mean(scores))


def roc_auc(is_positive: Sequence[bool] | np.ndarray, probability: np.ndarray) -> float:
    """Area under the ROC curve: the chance a positive row outranks a negative one (ties: half)."""
    positive = np.asarray(is_positive, dtype=bool)
    n_positive, n_negative = int(positive.sum()), int((~positive).sum())
    if n_positive == 0 or n_negative == 0:
        raise ValueError("ROC AUC needs both classes among the scored rows")
    ranks = _average_ranks(np.asarray(probability, dtype=float))
    rank_sum = ranks[positive].sum()
    return float((rank_sum - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative))


def log_loss(truth_index: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean negative log-likelihood of the true class; rows are rescaled to sum to one.

    Args:
        truth_index: The true class of each row, as a column index into ``probabilities``.
        probabilities: One row per example, one column per class (binary: two columns).
    """
    matrix = np.asarray(probabilities, dtype=float)
    matrix = matrix / matrix.sum(axis=1, keepdims=True)
    chosen = np.clip(matrix[np.arange(len(matrix)), np.asarray(truth_index)], _EPSILON, 1.0)
    return float(-np.mean(np.log(chosen)))


def rmse(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Root mean squared error."""
    difference = np.asarray(truth, dtype=float) - np.asarray(predicted, dtype=float)
    return float(np.sqrt(np.mean(difference**2)))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, tied values sharing the mean of their ranks."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    mean_rank = (starts + ends + 1) / 2  # ranks start..end-1 (0-based) -> mean, 1-based
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


@dataclass(frozen=True)
class MetricInfo:
    """A metric as participants read about it."""

    name: str
    title: str
    higher_is_better: bool
    definition: str


METRICS: dict[str, MetricInfo] = {
    "accuracy": MetricInfo(
        "accuracy", "Accuracy", True, "the share of test rows whose predicted label is correct"
    ),
    "macro_f1": MetricInfo(
        "macro_f1",
        "Macro F1",
        True,
        "the F1 score (harmonic mean of precision and recall) of each class, averaged with equal "
        "weight per class, so rare classes count as much as common ones",
    ),
    "roc_auc": MetricInfo(
        "roc_auc",
        "ROC AUC",
        True,
        "the area under the ROC curve of your probabilities: the chance that a random positive "
        "row gets a higher probability than a random negative one; only the ranking matters",
    ),
    "log_loss": MetricInfo(
        "log_loss",
        "Log loss",
        False,
        "the mean negative log of the probability you gave the true class (probabilities are "
        "clipped to [1e-15, 1 - 1e-15], and each row is rescaled to sum to 1); confident "
        "mistakes cost a lot",
    ),
    "rmse": MetricInfo(
        "rmse", "RMSE", False, "the root mean squared error between your values and the truth"
    ),
}
