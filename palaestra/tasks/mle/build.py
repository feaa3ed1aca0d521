"""Build the shipped leaderboards: ``python -m palaestra.tasks.mle.build``.

Runs every reference pipeline on variants 0, 1 and 2 of each competition (all of them, or those
named with ``--competition``), checks each board and writes
palaestra/tasks/mle/leaderboards/<name>.json, one file per competition holding its three boards.
A competition whose pipelines fail or whose checks fail gets no file; the summary table at the
end says why, and the exit code is 1. Bad arguments (an unknown competition) exit with 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from palaestra.errors import TaskError
from palaestra.tasks.mle.leaderboard import (
    SHIPPED_DIR,
    Leaderboard,
    LeaderboardFile,
    build_leaderboard,
)

__all__ = ["main"]

VARIANTS = (0, 1, 2)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the leaderboards the arguments ask for; return the exit code."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    from palaestra.tasks.mle.catalog import COMPETITIONS

    parser = argparse.ArgumentParser(
        prog="python -m palaestra.tasks.mle.build", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--competition",
        action="append",
        metavar="NAME",
        help="a competition to build (repeatable; default: all of them)",
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--out", type=Path, default=SHIPPED_DIR, help=f"where to write (default {SHIPPED_DIR})"
    )
    args = parser.parse_args(argv)
    catalog = {competition.name: competition for competition in COMPETITIONS}
    names = args.competition or list(catalog)
    unknown = [name for name in names if name not in catalog]
    if unknown:
        parser.error(
            f"unknown competition {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(catalog))}"
        )
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")

    # A wide table even when the output is a file or a pipe (rich would assume 80 columns).
    console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
    rows: list[tuple[str, int, Leaderboard | None, str, float]] = []
    failed = False
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        overall = progress.add_task("leaderboards", total=len(names) * len(VARIANTS))
        for name in names:
            boards: list[Leaderboard] = []
            for variant in VARIANTS:
                task = progress.add_task(f"  {name} v{variant}", total=None)

                def advance(pipeline: str, done: int, total: int, task: TaskID = task) -> None:
                    progress.update(task, completed=done, total=total)

                started = time.perf_counter()
                try:
                    board = build_leaderboard(
                        catalog[name],
                        variant,
                        workers=args.workers,
                        progress=advance,
                        strict=False,
                    )
                except TaskError as exc:
                    rows.append((name, variant, None, str(exc), time.perf_counter() - started))
                    failed = True
                else:
                    boards.append(board)
                    problems = [check.name for check in board.checks if not check.passed]
                    verdict = "failed: " + ", ".join(problems) if problems else "ok"
                    rows.append((name, variant, board, verdict, board.build_seconds))
                progress.remove_task(task)
                progress.advance(overall)
            if len(boards) == len(VARIANTS) and all(
                check.passed for board in boards for check in board.checks
            ):
                args.out.mkdir(parents=True, exist_ok=True)
                shipped = LeaderboardFile(competition=name, boards=tuple(boards))
                (args.out / f"{name}.json").write_text(shipped.model_dump_json(indent=1) + "\n")
            else:
                failed = True
    console.print(_summary(rows))
    for name, variant, built, verdict, _ in rows:
        if verdict != "ok":
            details = [c.detail for c in built.checks if not c.passed] if built else [verdict]
            console.print(f"[red]{name} v{variant}[/red]: " + "; ".join(details))
    return 1 if failed else 0


def _summary(rows: Sequence[tuple[str, int, Leaderboard | None, str, float]]) -> object:
    """The table of every board built: scores of the dummy, median and best, time, checks."""
    from rich.table import Table

    table = Table(title="MLE leaderboards")
    for header in (
        "competition",
        "v",
        "metric",
        "dummy",
        "median",
        "best",
        "oracle",
        "s",
        "checks",
    ):
        table.add_column(header, justify="right" if header in ("v", "s") else "left")
    for name, variant, board, verdict, seconds in rows:
        style = "green" if verdict == "ok" else "red"
        if board is None:
            cells = ["", "", "", "", ""]
        else:
            cells = [
                board.metric,
                f"{board.dummy.private:.4g}",
                f"{board.median:.4g}",
                f"{board.best.private:.4g}",
                board.best.name,
            ]
        table.add_row(
            name,
            str(variant),
            *cells,
            f"{seconds:.0f}",
            f"[{style}]{verdict.splitlines()[0][:60]}[/{style}]",
        )
    return table


if __name__ == "__main__":
    sys.exit(main())
