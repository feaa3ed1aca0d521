"""The shipped leaderboards fit the data and scripts of this checkout, so none is rebuilt."""

import pytest

pytest.importorskip("sklearn")

from palaestra.tasks.mle.catalog import COMPETITIONS  # noqa: E402
from palaestra.tasks.mle.leaderboard import (  # noqa: E402
    SHIPPED_DIR,
    LeaderboardFile,
    pipelines_digest,
)
from palaestra.tasks.mle.prepare import prepare  # noqa: E402
from palaestra.tasks.mle.zoo import reference_pipelines  # noqa: E402


@pytest.mark.parametrize("competition", COMPETITIONS, ids=lambda c: c.name)
def test_every_variant_ships_a_fitting_board_that_passed_its_checks(competition):
    shipped = LeaderboardFile.model_validate_json(
        (SHIPPED_DIR / f"{competition.name}.json").read_text()
    )
    for variant in (0, 1, 2):
        prepared = prepare(competition, variant)
        digest = pipelines_digest(reference_pipelines(competition, prepared))
        board = next(b for b in shipped.boards if b.variant == variant)
        # A board that no longer fits would be rebuilt at run time: rerun the build.
        assert board.fingerprint == prepared.fingerprint, variant
        assert board.pipelines == digest, variant
        assert all(check.passed for check in board.checks), variant
        assert len(board.entries) >= 50 and board.dummy.private != board.best.private


def test_the_package_data_stays_small():
    shipped = sum(path.stat().st_size for path in SHIPPED_DIR.glob("*.json"))
    assert len(list(SHIPPED_DIR.glob("*.json"))) == len(COMPETITIONS)
    assert shipped < 5 * 2**20
