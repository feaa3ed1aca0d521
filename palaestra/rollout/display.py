"""What a run shows: a live progress line while it plays, a summary table when it ends."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from palaestra.core.types import Trajectory
from palaestra.rollout.summary import Summary

__all__ = ["CollectProgress", "print_summary"]


class CollectProgress:
    """Episodes done, success so far and generated tokens per second; silent when disabled."""

    def __init__(self, title: str, total: int, *, done: int = 0, enabled: bool = True) -> None:
        self.enabled = enabled
        self.solved = 0
        self.generated = 0
        self._started = time.perf_counter()
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("solved {task.fields[solved]}"),
            TextColumn("{task.fields[rate]} tok/s"),
            TimeElapsedColumn(),
            console=Console(stderr=False),
            disable=not enabled,
        )
        self._bar = self._progress.add_task(title, total=total, completed=done, solved=0, rate="-")

    def __enter__(self) -> CollectProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def tokens(self, count: int) -> None:
        """Count generated tokens."""
        self.generated += count

    def episode_done(self, trajectory: Trajectory) -> None:
        """Advance by one finished episode."""
        self.solved += int(trajectory.success)
        elapsed = max(time.perf_counter() - self._started, 1e-9)
        rate = f"{self.generated / elapsed:.0f}" if self.generated else "-"
        self._progress.update(self._bar, advance=1, solved=self.solved, rate=rate)


def print_summary(summary: Summary, *, title: str, seconds: float, console: Any = None) -> None:
    """The summary table of a run."""
    console = console or Console()
    low, high = summary.success_ci95
    table = Table(title=title, show_header=False)
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    table.add_row("episodes", str(summary.episodes))
    table.add_row(
        "success rate",
        f"{summary.success_rate:.1%}  (95% CI {low:.1%} - {high:.1%}, "
        f"{summary.successes}/{summary.episodes})",
    )
    table.add_row("mean reward", f"{summary.mean_reward:.3f}")
    table.add_row("mean turns", f"{summary.mean_turns:.2f}")
    if summary.completion_tokens:
        table.add_row(
            "tokens (prompt / generated)",
            f"{summary.prompt_tokens:,} / {summary.completion_tokens:,}",
        )
        table.add_row(
            "generated tokens / s", f"{summary.completion_tokens / max(seconds, 1e-9):.1f}"
        )
    errors = ", ".join(f"{k}: {v}" for k, v in summary.errors_by_type.items()) or "none"
    table.add_row("agent errors by type", errors)
    table.add_row("failed episodes (infrastructure)", str(summary.failed_episodes))
    table.add_row("wall time", f"{seconds:.1f} s")
    console.print(table)
