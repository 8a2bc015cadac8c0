"""Review of issue 11: where people, corrections, amendments and the audit chain meet."""

from __future__ import annotations

from datetime import date

from helpers import (
    DIRECTOR,
    LIAISON,
    PSA,
    TRAD_PARTIES,
    Pal,
    add_contact,
    fire,
    identify,
    measure,
    ok,
    sign,
    signed_agreement,
    signed_off_track,
    start_assessment,
)
from service_support import local, outbox, tick


def reminders(pal: Pal, agreement: int, notice: str) -> list[dict[str, object]]:
    return [r for r in outbox(pal) if r["notice"] == notice and r["agreement_id"] == agreement]


def test_migrating_does_not_send_again_the_reminders_already_sent(seeded: Pal) -> None:
    """A rule migration after an RGA reminder went out does not send that reminder again."""
    agreement = signed_agreement(seeded)
    tick(seeded, local(date(2019, 8, 3)))  # 90 days before the RGA due 2019-11-01
    sent = reminders(seeded, agreement, "rga_reminder")
    assert sent
    ok(seeded, "agreement", "migrate", agreement, "--rules", "2017-04", "--reason",
       "the district received the April letter", "--by", DIRECTOR)  # fmt: skip
    tick(seeded, local(date(2019, 8, 4)))
    assert reminders(seeded, agreement, "rga_reminder") == sent


def test_correcting_a_reassignment_date_tells_the_former_liaison_by_email(seeded: Pal) -> None:
    """Correcting the date of a liaison reassignment tells the former liaison at their address,
    leaving no unaddressed row."""
    agreement = signed_agreement(seeded)
    add_contact(seeded, "second.liaison@mde.example", "liaison")
    fire(seeded, agreement, "assign_liaison", "--set", "liaison=second.liaison@mde.example",
         by=DIRECTOR, on="2018-06-01")  # fmt: skip
    ok(seeded, "agreement", "correct", agreement, "--on", "2018-05-20", "--reason", "typo",
       "--by", DIRECTOR)  # fmt: skip
    told = sorted(str(r["to"]) for r in reminders(seeded, agreement, "date_corrected"))
    assert told == sorted([LIAISON, "second.liaison@mde.example"])


def test_a_measurement_of_a_benchmark_removed_by_an_amendment_can_be_withdrawn(
    seeded: Pal,
) -> None:
    """A measurement recorded in error before an amendment removed its benchmark can still be
    withdrawn with a reason."""
    agreement, benchmark = signed_off_track(seeded, "RV1")
    measure(seeded, agreement, benchmark, 81, "2018-09-01", on="2018-09-02")
    ok(seeded, "agreement", "amend", agreement, "--by", LIAISON, "--note", "drop attendance",
       "--on", "2019-01-02")  # fmt: skip
    ok(seeded, "benchmark", "remove", benchmark, "--amendment", 1, "--by", LIAISON,
       "--on", "2019-01-03")  # fmt: skip
    for party in TRAD_PARTIES:
        ok(seeded, "agreement", "sign", agreement, "--party", party, "--amendment", 1,
           "--on", "2019-01-10", "--by", LIAISON)  # fmt: skip
    fire(seeded, agreement, "withdraw_measurement", "--set", f"benchmark={benchmark}",
         "--set", "on=2018-09-01", "--note", "recorded for the wrong school", by=LIAISON,
         on="2019-01-11")  # fmt: skip


def test_a_director_named_liaison_is_told_as_the_liaison(seeded: Pal) -> None:
    """A director named as an agreement's liaison receives the liaison's notice at their
    address (as before issue 11), not an unaddressed row."""
    agreement = identify(seeded, PSA)
    fire(seeded, agreement, "start_assessment", "--set", f"liaison={DIRECTOR}", by=DIRECTOR,
         on="2018-03-05")  # fmt: skip
    named = reminders(seeded, agreement, "liaison_named")
    assert [(r["to"], r["status"]) for r in named] == [(DIRECTOR, "pending")]


def test_a_director_reassigned_as_liaison_gets_the_liaisons_reminders(seeded: Pal) -> None:
    """After assign_liaison names the director, the RGA reminder owed to the liaison goes to
    the director."""
    agreement = signed_agreement(seeded)
    fire(seeded, agreement, "assign_liaison", "--set", f"liaison={DIRECTOR}", by=DIRECTOR,
         on="2018-06-01")  # fmt: skip
    tick(seeded, local(date(2019, 8, 3)))
    told = {r["to"] for r in reminders(seeded, agreement, "rga_reminder")}
    assert DIRECTOR in told and "(liaison)" not in told


def test_an_earlier_signing_date_does_not_send_again_the_reminder_already_sent(
    seeded: Pal,
) -> None:
    """A signing date corrected a week earlier after the 90-day RGA reminder went out does not
    send that reminder again."""
    agreement = identify(seeded)
    start_assessment(seeded, agreement)
    sign(seeded, agreement, ["board", "superintendent"], on="2018-04-20")
    sign(seeded, agreement, ["mde"], on="2018-05-01")
    tick(seeded, local(date(2019, 8, 3)))  # 90 days before the RGA due 2019-11-01
    sent = reminders(seeded, agreement, "rga_reminder")
    assert sent
    ok(seeded, "agreement", "correct", agreement, "--on", "2018-04-24", "--reason", "typo",
       "--by", DIRECTOR)  # fmt: skip
    tick(seeded, local(date(2019, 8, 4)))
    assert reminders(seeded, agreement, "rga_reminder") == sent
