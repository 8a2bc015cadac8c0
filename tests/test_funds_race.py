"""Two approvals racing for the last dollars of a year's appropriation: two real OS processes
(the racers of tests/test_concurrency.py, released at one instant), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from funds_helpers import agreement_with_benchmark, budget, show_request, under_review
from helpers import DIRECTOR, Pal
from test_concurrency import Racers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def racers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Racers]:
    found = Racers(tmp_path_factory.mktemp("funds-racers"))
    yield found
    found.stop()


@pytest.mark.parametrize("round_", range(2))
def test_two_approvals_racing_for_the_last_dollars_cannot_both_succeed(
    seeded: Pal, db_url: str, racers: Racers, round_: int
) -> None:
    """$4,000,000 twice against $6,137,400: one approval wins, the other is refused (exit 3)
    showing what remains, and the year's approved total is the winner's alone."""
    agreement, benchmark = agreement_with_benchmark(seeded)
    first, second = (under_review(seeded, agreement, benchmark, "4000000.00") for _ in range(2))
    results = racers.race(
        db_url,
        ["funds", "approve", str(first), "--by", DIRECTOR],
        ["funds", "approve", str(second), "--by", DIRECTOR],
    )
    codes = sorted(r.returncode for r in results)
    assert codes == [0, 3], [(r.returncode, r.stderr) for r in results]
    loser = next(r for r in results if r.returncode == 3)
    assert loser.stderr == (
        "error: approving $4,000,000.00 would exceed the 2025-26 appropriation of "
        "$6,137,400.00: $2,137,400.00 remains\n"
    )
    states = sorted(show_request(seeded, r)["state"] for r in (first, second))
    assert states == ["approved", "under_review"]
    assert budget(seeded)["approved"] == "4000000.00"
