"""Deadlines that are no longer needed close as `waived`, and their reminders stop."""

from __future__ import annotations

from datetime import date

from helpers import (
    DIRECTOR,
    Pal,
    deadline,
    fire,
    review_done,
    show,
    signed_off_track,
)
from service_support import local, outbox, tick


def off_track_after_the_rga(pal: Pal) -> int:
    """An agreement whose one school has a benchmark never measured: off track at the RGA."""
    agreement, _ = signed_off_track(pal, "W1")
    fire(pal, agreement, "open_rga", by=DIRECTOR, on="2019-11-01")
    review_done(pal, agreement, on="2019-12-15")
    return agreement


def test_opening_the_36_month_review_waives_a_24_month_review_never_held(seeded: Pal) -> None:
    """A director who opens the 36-month review with the 24-month one still due waives it."""
    agreement = off_track_after_the_rga(seeded)
    assert deadline(show(seeded, agreement), "review_24_due")["status"] == "open"
    fire(seeded, agreement, "open_review_36", by=DIRECTOR, on="2020-02-01")
    waived = deadline(show(seeded, agreement), "review_24_due")
    assert (waived["status"], waived["closed_on"]) == ("waived", "2020-02-01")


def test_a_waived_24_month_review_is_never_attempted_by_the_sweep(seeded: Pal) -> None:
    """After the waiver, the 24-month moment passes with no action and no "not possible"."""
    agreement = off_track_after_the_rga(seeded)
    fire(seeded, agreement, "open_review_36", by=DIRECTOR, on="2020-02-01")
    tick(seeded, local(date(2020, 5, 2)))
    assert show(seeded, agreement)["state"] == "review_36"
    assert not [row for row in outbox(seeded) if row["notice"] == "action_not_possible"]
