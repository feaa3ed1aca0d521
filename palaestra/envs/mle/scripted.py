"""Scripted MLE policies of rising quality: what a careless, a routine and a careful agent do.

They are the yardstick of the env's reward: their HumanRank should rise with their care (a test
checks it, bench/bench_mle.py measures it on every competition). Each plays reference-pipeline
scripts, which hard-code only what the description says, through the env's own tools:

- ``copy-sample``: submits sample_submission.csv as it is;
- ``linear``: one linear model (logistic or ridge regression) on every feature;
- ``boosting``: one gradient-boosting model with common settings on every feature;
- ``select-on-public``: four candidate models, one run each; the env keeps the best public score;
- ``oracle``: the best reference pipeline (privileged: it knows the private ranking).
"""

from __future__ import annotations

import re

from palaestra.core.types import ToolCall
from palaestra.tasks.mle.prepare import PreparedVariant
from palaestra.tasks.mle.zoo import reference_pipelines

__all__ = ["POLICIES", "scripted_actions"]

POLICIES = ("copy-sample", "linear", "boosting", "select-on-public", "oracle")

_COPY_SAMPLE = "import shutil\n\nshutil.copy('sample_submission.csv', 'submission.csv')\n"
_PICKS = {
    "linear": (r"(logreg-c1|ridge-a1)-all",),
    "boosting": (r"hgb-lr0\.1-i100-d3-all",),
    "select-on-public": (
        r"(logreg-c1|ridge-a1)-all",
        r"forest-t200-dfull-all",
        r"hgb-lr0\.1-i100-d3-all",
        r"hgb-lr0\.05-i200-d4-all",
    ),
}


def scripted_actions(policy: str, prepared: PreparedVariant, oracle: list[str]) -> list[str]:
    """The actions of ``policy`` on a variant, ending with submit.

    Args:
        policy: One of `POLICIES`.
        prepared: The variant the env plays.
        oracle: ``env.unwrapped.oracle_actions()``, played by the ``oracle`` policy.
    """
    submit = ToolCall(name="submit", arguments={}).to_text()
    if policy == "oracle":
        return oracle
    if policy == "copy-sample":
        return [_run(_COPY_SAMPLE), submit]
    if policy not in _PICKS:
        raise ValueError(f"unknown policy {policy!r}; known: {', '.join(POLICIES)}")
    pipelines = reference_pipelines(prepared.competition, prepared)
    runs = []
    for pattern in _PICKS[policy]:
        source = next(p.source for p in pipelines if re.fullmatch(pattern, p.name))
        runs.append(_run(source))
    return [*runs, submit]


def _run(code: str) -> str:
    return ToolCall(name="execute_code", arguments={"code": code}).to_text()
