"""The tools of one MLE episode and the state they share: sandbox, submissions, budget.

The agent's code runs in one stateful sandbox session per episode (variables, imports and files
persist), started at the first run so that episodes which never run code cost nothing. The
session sees the public files only; the answers stay in this process, where the `Grader` scores
each new submission.csv on the public half of test.csv. The private half is read once, by the
env's verdict, for the best submission by public score.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from palaestra.core.tools import tool
from palaestra.errors import SandboxError, ToolError
from palaestra.sandbox import ExecResult, Sandbox, close_quietly
from palaestra.tasks.mle.describe import topic_text
from palaestra.tasks.mle.grading import Grader, SubmissionError, human_rank, parse_submission
from palaestra.tasks.mle.metrics import METRICS
from palaestra.tasks.mle.prepare import PreparedVariant

__all__ = ["Budget", "DryRun", "Run", "Scored", "Workbench"]

Topic = Literal["overview", "data_structure", "sample_submission", "metric", "budget"]

SUBMISSION = "submission.csv"
# A pure expression, so the probe leaves the agent's namespace as it was.
_PROBE = (
    "(lambda os: (lambda s: (s.st_size, s.st_mtime_ns))(os.stat('submission.csv')) "
    "if os.path.isfile('submission.csv') else None)(__import__('os'))"
)
_CLEAR = (
    "__import__('os').path.isfile('submission.csv') and __import__('os').remove('submission.csv')"
)
DRY_RUN_ROWS = {"train.csv": 200, "test.csv": 50}
# joblib cannot count physical cores without /sys, which the sandbox hides, and prints a warning
# with a traceback on the first scikit-learn fit of every session: noise in every observation.
# Its answer then is the logical count, so the prelude gives it that count up front.
_PRELUDE = """\
try:
    import os as _os
    from joblib.externals.loky.backend import context as _context
    _context.physical_cores_cache = _context.physical_cores_cache or _os.cpu_count()
    del _os, _context
except Exception:
    pass"""


@dataclass(frozen=True)
class Budget:
    """The limits of an episode's runs."""

    run_timeout_s: float
    """Wall-clock limit of one execute_code run."""
    compute_s: float
    """Wall-clock time all runs of the episode may use together."""
    dry_run_timeout_s: float
    """Wall-clock limit of validate_code's dry run."""
    memory_mb: int
    """The sandbox's memory limit."""


@dataclass(frozen=True)
class Scored:
    """One submission that passed validation: its place in the order of submissions and scores.

    ``private`` is ground truth territory: it is never shown before the episode ends.
    """

    number: int
    public: float
    private: float


@dataclass(frozen=True)
class Run:
    """What execute_code reports: the run, and what became of submission.csv."""

    result: ExecResult
    submission: Scored | None = None
    """A new submission.csv this run wrote, scored."""
    rejected: str | None = None
    """Why a new submission.csv could not be scored."""


@dataclass(frozen=True)
class DryRun:
    """What validate_code reports."""

    syntax_error: str | None = None
    result: ExecResult | None = None
    submission_ok: bool | None = None
    """None: the dry run wrote no submission.csv."""
    submission_problem: str | None = None


@dataclass
class Workbench:
    """The four tools of MLE-Dojo's interface, over one prepared variant."""

    prepared: PreparedVariant
    board_public: tuple[float, ...]
    budget: Budget
    open_sandbox: Callable[[], Sandbox]
    turns_left: Callable[[], int]
    sandbox: Sandbox | None = None
    compute_used_s: float = 0.0
    submissions: list[Scored] = field(default_factory=list)
    _grader: Grader | None = None
    _last_probe: str | None = None
    _last_digest: str | None = None

    # ------------------------------------------------------------------------------- tools
    @tool
    def request_info(self, topic: Topic) -> str:
        """Read about the competition: overview, data_structure, sample_submission, metric, budget.

        Args:
            topic: One of overview, data_structure, sample_submission, metric, budget.
        """
        if topic == "budget":
            return self.budget_text()
        return topic_text(self.prepared.competition, self.prepared.meta, topic)

    @tool
    def validate_code(self, code: str) -> DryRun:
        """Check code without scoring it: its syntax, then a dry run on a sample of the data.

        The dry run works on a copy of your session with the first rows of train.csv and
        test.csv; nothing it does stays. It tells you whether the code runs and whether the
        submission.csv it writes has the right format.

        Args:
            code: The Python source to check.
        """
        try:
            compile(code, "<validate_code>", "exec")
        except SyntaxError as exc:
            return DryRun(syntax_error=f"line {exc.lineno}: {exc.msg}")
        self._require_budget()
        branch = self._session().fork()
        try:
            samples, sample_ids = self._samples()
            for name, content in samples.items():
                branch.upload(content, name)
            branch.run(_CLEAR)
            result = self._timed_run(branch, code, self.budget.dry_run_timeout_s)
            written = self._read_submission(branch)
        finally:
            branch.close()
        if written is None:
            return DryRun(result=result)
        try:
            parse_submission(written, self.prepared, sample_ids)
        except SubmissionError as exc:
            return DryRun(result=result, submission_ok=False, submission_problem=str(exc))
        return DryRun(result=result, submission_ok=True)

    @tool
    def execute_code(self, code: str) -> Run:
        """Run code in your persistent session; a submission.csv it writes is scored (public half).

        Args:
            code: The Python source to run. Variables, imports and files persist between runs.
        """
        self._require_budget()
        session = self._session()
        result = self._timed_run(session, code, self.budget.run_timeout_s)
        if result.state_lost:
            self._prepare_session()
            self._last_probe = None
        written = self._read_submission(session, only_if_changed=True)
        if written is None:
            return Run(result=result)
        digest = hashlib.sha256(written).hexdigest()
        if digest == self._last_digest:
            return Run(result=result)
        self._last_digest = digest
        try:
            score = self.grader.score(written)
        except SubmissionError as exc:
            return Run(result=result, rejected=str(exc))
        scored = Scored(
            number=len(self.submissions) + 1, public=score.public, private=score.private
        )
        self.submissions.append(scored)
        return Run(result=result, submission=scored)

    @tool(ends_episode=True)
    def submit(self) -> str:
        """End the competition: your best submission (by public score) meets the private half."""
        return "submit"

    # ----------------------------------------------------------------------------- state
    @property
    def grader(self) -> Grader:
        """The variant's grader, reading the answers on first use."""
        if self._grader is None:
            self._grader = Grader.of(self.prepared)
        return self._grader

    @property
    def best(self) -> Scored | None:
        """The best submission by public score (the first of equals), or None."""
        if not self.submissions:
            return None
        higher = self.prepared.competition.higher_is_better
        return min(self.submissions, key=lambda s: (-s.public if higher else s.public, s.number))

    @property
    def compute_left_s(self) -> float:
        """Compute time the episode's runs may still use."""
        return max(0.0, self.budget.compute_s - self.compute_used_s)

    def public_place(self, score: float) -> tuple[int, int]:
        """Where a public score would stand on the public leaderboard: (place, entries + 1)."""
        higher = self.prepared.competition.higher_is_better
        rank = human_rank(score, self.board_public, higher)
        beaten_by = round((1.0 - rank) * len(self.board_public))
        return beaten_by + 1, len(self.board_public) + 1

    def budget_text(self) -> str:
        """Turns and compute time left, and the limits of one run (minutes: reproducible)."""
        unit = 60 if self.budget.compute_s >= 120 else 1
        left = math.ceil(self.compute_left_s / unit)  # "about 10 min" until 9 are left
        total = math.ceil(self.budget.compute_s / unit)
        return (
            f"{self.turns_left()} turns left; compute time left: about {left} of {total} "
            f"{'min' if unit == 60 else 's'}; one run stops after "
            f"{self.budget.run_timeout_s:g} s; memory {self.budget.memory_mb} MB."
        )

    def fork(self, turns_left: Callable[[], int]) -> Workbench:
        """An independent copy: same submissions and budget, a forked sandbox.

        Args:
            turns_left: The turn counter of the env that owns the copy.
        """
        clone = replace(self, submissions=list(self.submissions), turns_left=turns_left)
        clone.sandbox = self.sandbox.fork() if self.sandbox is not None else None
        return clone

    def close(self) -> None:
        """Close the sandbox."""
        close_quietly(self.sandbox)
        self.sandbox = None

    # --------------------------------------------------------------------------- helpers
    def _session(self) -> Sandbox:
        if self.sandbox is None:
            self.sandbox = self.open_sandbox()
            self._prepare_session()
        return self.sandbox

    def _prepare_session(self) -> None:
        """The public files in the working directory, and the session's prelude run."""
        assert self.sandbox is not None
        for name, content in self.prepared.public_files().items():
            self.sandbox.upload(content, name)
        self.sandbox.run(_PRELUDE)

    def _require_budget(self) -> None:
        if self.compute_left_s <= 0:
            raise ToolError(
                f"the compute budget of {self.budget.compute_s:g} s is spent: call submit to be "
                "scored on your best submission"
            )

    def _timed_run(self, sandbox: Sandbox, code: str, limit: float) -> ExecResult:
        """Run code within the run limit and the budget left; the budget pays the wall time."""
        started = time.monotonic()
        try:
            return sandbox.run(code, timeout=max(1.0, min(limit, self.compute_left_s)))
        finally:
            self.compute_used_s += time.monotonic() - started

    def _read_submission(self, sandbox: Sandbox, only_if_changed: bool = False) -> bytes | None:
        """submission.csv's bytes, or None when there is none (or, if asked, it is unchanged)."""
        probe = sandbox.run(_PROBE, timeout=10)
        if probe.error is not None or probe.value in (None, "None"):
            return None
        if only_if_changed:
            if probe.value == self._last_probe:
                return None
            self._last_probe = probe.value
        try:
            return sandbox.download(SUBMISSION)
        except SandboxError:
            return None

    def _samples(self) -> tuple[dict[str, bytes], list[int]]:
        """The first rows of train.csv and test.csv, and the matching sample submission."""
        files = self.prepared.public_files()
        samples = {}
        for name, rows in DRY_RUN_ROWS.items():
            reader = csv.reader(io.StringIO(files[name].decode("utf-8")))
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            for _, row in zip(range(rows + 1), reader, strict=False):
                writer.writerow(row)
            samples[name] = out.getvalue().encode()
        test_rows = list(csv.reader(io.StringIO(samples["test.csv"].decode())))
        ids = [int(row[test_rows[0].index("id")]) for row in test_rows[1:]]
        wanted = {str(i) for i in ids}
        sample_rows = list(csv.reader(io.StringIO(files["sample_submission.csv"].decode())))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(sample_rows[0])
        writer.writerows(row for row in sample_rows[1:] if row[0] in wanted)
        samples["sample_submission.csv"] = out.getvalue().encode()
        return samples, ids


def metric_title(prepared: PreparedVariant) -> str:
    """The metric's name and direction, e.g. ``ROC AUC, higher is better``."""
    info = METRICS[prepared.competition.metric]
    return f"{info.title}, {'higher' if info.higher_is_better else 'lower'} is better"
