"""A timed action that falls due before the agreement can take it waits, and runs as soon as
the agreement reaches a stage it starts from: a late review still leads to the next one."""

from __future__ import annotations

import json
from datetime import date

from helpers import (
    DIRECTOR,
    Pal,
    deadline,
    fire,
    record_steps,
    reported,
    review_done,
    show,
    signed_off_track,
    with_bodies,
)
from service_support import local, outbox, tick


def in_the_rga(pal: Pal) -> int:
    """Signed 2018-05-01 with one school whose benchmark is never measured (off track); the
    sweep opens the RGA on 2019-11-01."""
    agreement, _ = signed_off_track(pal, "L1")
    tick(pal, local(date(2019, 11, 1)))
    assert show(pal, agreement)["state"] == "rga"
    return agreement


def test_an_rga_determined_after_24_months_is_followed_by_the_24_month_review(
    seeded: Pal,
) -> None:
    """The 24-month review due while the RGA is open opens at the sweep after its determination."""
    agreement = in_the_rga(seeded)
    tick(seeded, local(date(2020, 5, 1)))
    assert show(seeded, agreement)["state"] == "rga"
    review_done(seeded, agreement, on="2020-06-01")
    assert show(seeded, agreement)["state"] == "implementing"
    tick(seeded, local(date(2020, 6, 1), offset_days=1))
    view = show(seeded, agreement)
    assert view["state"] == "review_24"
    assert deadline(view, "review_24_due")["status"] == "met_late"


def test_the_people_are_told_once_while_the_action_waits(seeded: Pal) -> None:
    """The liaison and director hear once that the 24-month review cannot open yet."""
    agreement = in_the_rga(seeded)
    tick(seeded, local(date(2020, 5, 1)))
    fire(seeded, agreement, "record_evidence", by=DIRECTOR, on="2020-05-10")
    tick(seeded, local(date(2020, 5, 11)))
    told = [row for row in outbox(seeded) if row["notice"] == "action_not_possible"]
    assert len(told) == 2  # the liaison and the director, once each
    bodies = [row.body_text for row in with_bodies(seeded.db_url, "SELECT id FROM outbox WHERE "
              "notice = 'action_not_possible'")]  # fmt: skip
    assert all("PAL will then open the 24-month review itself" in b for b in bodies)


def test_a_36_month_review_due_during_the_24_month_review_opens_after_it(seeded: Pal) -> None:
    """The 36-month review waits for the 24-month review's determination, then opens."""
    agreement = in_the_rga(seeded)
    review_done(seeded, agreement, on="2019-12-01")
    tick(seeded, local(date(2020, 5, 1)))
    assert show(seeded, agreement)["state"] == "review_24"
    tick(seeded, local(date(2021, 5, 1)))
    assert show(seeded, agreement)["state"] == "review_24"
    review_done(seeded, agreement, on="2021-05-20")
    tick(seeded, local(date(2021, 5, 21)))
    assert show(seeded, agreement)["state"] == "review_36"


def test_an_all_on_track_late_rga_stops_the_waiting_24_month_review(seeded: Pal) -> None:
    """A late RGA that leaves every school On-Track waives the waiting 24-month review."""
    agreement = in_the_rga(seeded)
    tick(seeded, local(date(2020, 5, 1)))
    record_steps(seeded, agreement, on="2020-06-01")
    fire(seeded, agreement, "determine", "--set", "override=L1=on_track",
         "--set", "reason=L1=attendance verified by the conference", by=DIRECTOR,
         on="2020-06-01")  # fmt: skip
    tick(seeded, local(date(2020, 6, 2)))
    view = show(seeded, agreement)
    assert view["state"] == "implementing"
    assert deadline(view, "review_24_due")["status"] == "waived"


def test_a_backdated_determination_does_not_open_the_next_review_before_it_is_due(
    seeded: Pal,
) -> None:
    """A determination dated before the 24-month moment opens the review on its due day."""
    agreement = in_the_rga(seeded)
    record_steps(seeded, agreement, on="2019-11-10")
    tick(seeded, local(date(2020, 5, 1)))  # the 24-month review waits
    review_done(seeded, agreement, on="2020-04-20")
    tick(seeded, local(date(2020, 5, 1), offset_days=1))
    view = show(seeded, agreement)
    assert view["state"] == "review_24"
    assert view["history"][-1]["on"] == "2020-05-01"
    assert deadline(view, "review_24_due")["closed_on"] == "2020-05-01"


def test_an_rga_determined_after_36_months_is_followed_by_the_36_month_review(
    seeded: Pal,
) -> None:
    """When both later reviews are owed, the 36-month one opens and the 24-month one is moot."""
    agreement = in_the_rga(seeded)
    tick(seeded, local(date(2020, 5, 1)))
    tick(seeded, local(date(2021, 5, 1)))
    review_done(seeded, agreement, on="2021-06-01")
    tick(seeded, local(date(2021, 6, 2)))
    view = show(seeded, agreement)
    assert view["state"] == "review_36"
    assert deadline(view, "review_24_due")["status"] == "waived"


def test_status_lists_the_actions_that_wait(seeded: Pal) -> None:
    """`pal status` shows each waiting action with why, in words and in JSON."""
    agreement = in_the_rga(seeded)
    tick(seeded, local(date(2020, 5, 1)))
    report = json.loads(reported(seeded, "status", "--json"))
    [waiting] = report["timers_waiting"]
    assert (waiting["agreement"], waiting["action"]) == (agreement, "open_review_24")
    assert "timed actions waiting for a change of stage: 1" in reported(seeded, "status")


def test_a_late_determination_says_the_next_review_is_overdue(seeded: Pal) -> None:
    """A determination after the 24-month moment calls that review overdue, not coming up."""
    agreement = in_the_rga(seeded)
    review_done(seeded, agreement, on="2020-06-01")
    bodies = [row.body_text for row in with_bodies(seeded.db_url, "SELECT id FROM outbox WHERE "
              "notice = 'review_determined'")]  # fmt: skip
    assert bodies and all(
        "Overdue: the 24-month review, due since Friday, May 1, 2020" in body for body in bodies
    )
    assert not any("Coming up: the 24-month review" in body for body in bodies)
