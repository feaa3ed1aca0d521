"""What a participant reads about a competition: the topics of ``request_info`` and description.md.

Every text is made from the competition and the variant's meta (never from the answers), so the
same words are in the description file the agent finds next to the data and in what
``request_info`` returns.
"""

from __future__ import annotations

from typing import Any

from palaestra.tasks.mle.competition import Competition
from palaestra.tasks.mle.metrics import METRICS

__all__ = ["TOPICS", "description", "topic_text"]

TOPICS = ("overview", "data_structure", "sample_submission", "metric")
"""The topics a prepared variant answers; the env adds ``budget``."""


def topic_text(competition: Competition, meta: dict[str, Any], topic: str) -> str:
    """The text of one topic (one of `TOPICS`)."""
    match topic:
        case "overview":
            return _overview(competition)
        case "data_structure":
            return _data_structure(competition, meta)
        case "sample_submission":
            return _sample_submission(competition, meta)
        case "metric":
            return _metric(competition, meta)
    raise ValueError(f"unknown topic {topic!r}")


def description(competition: Competition, meta: dict[str, Any]) -> str:
    """The whole competition page, as description.md."""
    return "\n\n".join(topic_text(competition, meta, topic) for topic in TOPICS) + "\n"


def _overview(competition: Competition) -> str:
    return (
        f"# {competition.title}\n\n{competition.overview}\n\n"
        f"Predict `{competition.target}` for every row of test.csv. "
        f"Data: {competition.source}."
    )


def _data_structure(competition: Competition, meta: dict[str, Any]) -> str:
    rows = meta["rows"]
    split = (
        f"test.csv holds the latest rows in `{competition.time_column}`: forecast forward in time."
        if competition.time_column
        else "The rows were split into train and test at random."
    )
    lines = [
        "## Data",
        "",
        f"- train.csv: {rows['train']} rows: `id`, the features, and the target "
        f"`{competition.target}`.",
        f"- test.csv: {rows['test']} rows: `id` and the features, no target.",
        "- sample_submission.csv: a valid submission in the right format.",
        "",
        f"{split} `id` is a random number that carries no information.",
        "",
        "| column | type | missing in train | distinct | description |",
        "|---|---|---|---|---|",
    ]
    for column in meta["columns"]:
        lines.append(
            f"| {column['name']} | {column['type']} | {column['missing']} | {column['unique']} "
            f"| {column['description']} |"
        )
    target = meta["target_summary"]
    if competition.kind == "regression":
        summary = ", ".join(f"{key} {value:g}" for key, value in target.items())
        lines += ["", f"Target `{competition.target}` (a number) in train: {summary}."]
    else:
        counts = ", ".join(f"{label}: {count}" for label, count in target.items())
        lines += ["", f"Target `{competition.target}` ({competition.kind}) in train: {counts}."]
    return "\n".join(lines)


def _sample_submission(competition: Competition, meta: dict[str, Any]) -> str:
    target = competition.target
    match competition.prediction_format:
        case "label":
            what = f"`{target}`: the predicted class label, written as in train.csv"
        case "probability":
            what = f"`{target}`: the probability that `{target}` is `{competition.positive}`"
        case "probabilities":
            names = ", ".join(f"`{label}`" for label in meta["classes"])
            what = f"one column per class ({names}): the probability of that class"
        case _:
            what = f"`{target}`: the predicted number"
    sample = "\n".join(meta["sample_rows"])
    return (
        "## Submission\n\n"
        f"Write submission.csv in the working directory with a header and one row per test.csv "
        f"row (all {meta['rows']['test']} ids, each once): `id`, then {what}. No missing values.\n"
        f"\nThe first lines of sample_submission.csv:\n```\n{sample}\n```"
    )


def _metric(competition: Competition, meta: dict[str, Any]) -> str:
    info = METRICS[competition.metric]
    direction = "higher is better" if info.higher_is_better else "lower is better"
    rows = meta["rows"]
    return (
        f"## Evaluation\n\n{info.title} ({direction}): {info.definition}.\n\n"
        f"Each submission you write is scored on a public half of test.csv ({rows['public']} "
        f"rows) and placed on the public leaderboard. The final score is your best submission "
        f"scored on the private half ({rows['private']} rows), placed on the private "
        "leaderboard: fitting the public half too closely does not pay."
    )
