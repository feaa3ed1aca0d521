"""Leaderboards: built from the reference pipelines, checked, cached, shipped; the oracle."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from palaestra.tasks.mle import catalog, leaderboard
from palaestra.tasks.mle.build import main as build_main
from palaestra.tasks.mle.competition import Competition
from palaestra.tasks.mle.grading import Grader
from palaestra.tasks.mle.leaderboard import (
    BuildError,
    Leaderboard,
    LeaderboardFile,
    LeakageError,
    best_pipeline,
    build_leaderboard,
    load_leaderboard,
)
from palaestra.tasks.mle.prepare import prepare
from palaestra.tasks.mle.zoo import FAMILIES, Pipeline, reference_pipelines

pd = pytest.importorskip("pandas")
pytest.importorskip("sklearn")


def bumps(seed):
    """Purchases that depend on a wave, an interaction and a shop: trees beat lines beat dummies."""
    rng = np.random.default_rng(seed)
    n = 1000
    x = rng.normal(size=(n, 5))
    shop = rng.choice(["north", "south", "east", "west"], n)
    logit = (
        1.5 * np.sin(2 * x[:, 0])
        + x[:, 1] * x[:, 2]
        + (shop == "north")
        - 0.5 * (shop == "west")
        + 0.8 * x[:, 3]
    )
    bought = np.where(logit + rng.logistic(scale=0.5, size=n) > 0, "yes", "no")
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d", "e"]).assign(shop=shop, bought=bought)
    frame.loc[rng.random(n) < 0.05, "b"] = np.nan
    return frame


def leaky_bumps(seed):
    frame = bumps(seed)
    frame["receipt"] = np.where(frame["bought"] == "yes", "paid", "none")  # the label, renamed
    return frame


def competition(name="board-bumps", load=bumps):
    return Competition(
        name=name,
        title="Bumps",
        overview="Who buys.",
        source="tests: synthetic",
        load=load,
        target="bought",
        kind="binary",
        metric="log_loss",
        positive="yes",
    )


BUMPS = competition()


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PALAESTRA_CACHE", str(tmp_path_factory.mktemp("cache")))
        patch.setattr(leaderboard, "SHIPPED_DIR", tmp_path_factory.mktemp("shipped"))
        yield


@pytest.fixture(scope="module")
def board():
    leaderboard._LOADED.clear()
    return load_leaderboard(BUMPS, 0)


def test_a_small_competition_builds_and_passes_its_checks(board):
    assert isinstance(board, Leaderboard)
    assert (board.competition, board.variant, board.metric) == ("board-bumps", 0, "log_loss")
    assert board.fingerprint == prepare(BUMPS, 0).fingerprint
    assert len(board.entries) >= 50
    assert [check.name for check in board.checks] == [
        "leakage",
        "dummy below median",
        "top apart from median",
    ]
    assert all(check.passed for check in board.checks)
    scores = board.private_scores()
    assert scores == sorted(scores)  # log loss: lower is better
    assert all(round(score, 6) == score for score in scores + board.public_scores())
    dummies = [entry.private for entry in board.entries if entry.family == "dummy"]
    assert min(dummies) > board.median
    assert board.best.private < board.median
    assert {entry.family for entry in board.entries} == set(FAMILIES)


def test_the_oracle_reproduces_the_best_score_in_a_fresh_process(board, tmp_path):
    prepared = prepare(BUMPS, 0)
    oracle = best_pipeline(BUMPS, prepared)
    assert oracle.name == board.best.name
    for name in ("train.csv", "test.csv"):
        shutil.copy(prepared.public_dir / name, tmp_path / name)
    subprocess.run([sys.executable, "-c", oracle.source], cwd=tmp_path, check=True)
    score = Grader.of(prepared).score((tmp_path / "submission.csv").read_bytes())
    assert (score.private, score.public) == (board.best.private, board.best.public)


def test_a_built_board_is_cached_and_not_rebuilt(board, monkeypatch):
    leaderboard._LOADED.clear()

    def refuse(*args, **kwargs):
        raise AssertionError("rebuilt a cached board")

    monkeypatch.setattr(leaderboard, "build_leaderboard", refuse)
    assert load_leaderboard(BUMPS, 0) == board


def test_a_shipped_board_is_used_only_while_it_fits(board, monkeypatch):
    shipped = leaderboard.SHIPPED_DIR / "board-bumps.json"
    renamed = board.model_copy(update={"entries": board.entries[:3]})
    shipped.write_text(
        LeaderboardFile(competition="board-bumps", boards=(renamed,)).model_dump_json()
    )
    leaderboard._LOADED.clear()
    assert load_leaderboard(BUMPS, 0) == renamed
    # Scored on other data: ignored, and the board cached on this machine is used instead.
    stale = renamed.model_copy(update={"fingerprint": "0" * 16})
    shipped.write_text(
        LeaderboardFile(competition="board-bumps", boards=(stale,)).model_dump_json()
    )
    leaderboard._LOADED.clear()
    assert load_leaderboard(BUMPS, 0) == board
    shipped.unlink()
    leaderboard._LOADED.clear()


def test_a_leaky_column_fails_the_build_and_is_named():
    with pytest.raises(LeakageError, match="board-leaky.*'receipt'"):
        build_leaderboard(competition("board-leaky", leaky_bumps), 0)


def test_a_failing_pipeline_is_a_build_error(monkeypatch):
    def with_a_broken_one(comp, prepared):
        broken = Pipeline(name="broken", family="linear", source="raise ValueError('boom')\n")
        return [*reference_pipelines(comp, prepared)[:4], broken]

    monkeypatch.setattr(leaderboard, "reference_pipelines", with_a_broken_one)
    with pytest.raises(
        BuildError,
        match=r"1 of 5 reference pipelines failed:\nbroken: ValueError: boom; at script line 1",
    ):
        build_leaderboard(BUMPS, 1)


def test_build_cli_rejects_an_unknown_competition(capsys):
    with pytest.raises(SystemExit) as exited:
        build_main(["--competition", "no-such-thing"])
    assert exited.value.code == 2
    assert "unknown competition 'no-such-thing'" in capsys.readouterr().err


def test_build_cli_writes_every_variant_and_summarises(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(catalog, "COMPETITIONS", (BUMPS,))
    assert (
        build_main(["--competition", "board-bumps", "--workers", "2", "--out", str(tmp_path)]) == 0
    )
    written = LeaderboardFile.model_validate_json((tmp_path / "board-bumps.json").read_text())
    assert [board.variant for board in written.boards] == [0, 1, 2]
    assert json.loads((tmp_path / "board-bumps.json").read_text())["competition"] == "board-bumps"
    summary = capsys.readouterr().err
    assert "board-bumps" in summary and "log_loss" in summary
