"""Corrections: a signature, a measurement or a review step withdrawn, the latest step's date
corrected, an agreement moved to another rule version; each a new audited step."""

from __future__ import annotations

import json
from datetime import date

from helpers import (
    DIRECTOR,
    LIAISON,
    SIGNED_ON,
    TRAD,
    TRAD_PARTIES,
    Pal,
    add_benchmark,
    deadline,
    execute,
    fire,
    identify,
    measure,
    ok,
    person,
    planning_school,
    record_steps,
    refused,
    show,
    sign,
    signed_agreement,
    start_assessment,
)
from service_support import local, notice_day, outbox, tick

REASON = "recorded against the wrong agreement"


def audit_rows(pal: Pal, agreement: int, event: str) -> list[dict[str, object]]:
    rows = execute(pal.db_url, "SELECT data, note, actor FROM audit WHERE agreement_id = :id "
                   "AND event = :event ORDER BY id", id=agreement, event=event)  # fmt: skip
    return [
        {"data": data if isinstance(data, dict) else json.loads(data), "note": note, "actor": actor}
        for data, note, actor in rows
    ]


def in_assessment(pal: Pal) -> int:
    agreement = identify(pal)
    start_assessment(pal, agreement)
    return agreement


# --- withdrawing a signature ---------------------------------------------------------------------


def test_a_signature_withdrawn_can_be_recorded_again_and_the_last_one_signs(seeded: Pal) -> None:
    """Unsign takes the signature out (the audit keeps it all); signing again completes the plan."""
    agreement = in_assessment(seeded)
    sign(seeded, agreement, ["board"], on="2018-04-01")
    ok(seeded, "agreement", "unsign", agreement, "--party", "board", "--reason", REASON,
       "--by", LIAISON)  # fmt: skip
    assert show(seeded, agreement)["signatures"] == {} or not show(seeded, agreement)["signatures"]
    (withdrawn,) = audit_rows(seeded, agreement, "withdraw_signature")
    (record,) = withdrawn["data"]["withdrawn"]  # type: ignore[index]
    assert (record["party"], record["signed_on"], record["recorded_by"]) == (
        "board", "2018-04-01", LIAISON,
    )  # fmt: skip
    assert (withdrawn["note"], withdrawn["actor"]) == (REASON, LIAISON)
    sign(seeded, agreement, TRAD_PARTIES, on=SIGNED_ON)
    view = show(seeded, agreement)
    assert (view["state"], view["signed_on"]) == ("signed", SIGNED_ON)
    assert len(audit_rows(seeded, agreement, "sign")) == 1


def test_a_signature_cannot_be_withdrawn_once_the_plan_is_signed(seeded: Pal) -> None:
    """After the last signature the plan is signed, and unsign is refused (exit 3)."""
    agreement = signed_agreement(seeded)
    refused(seeded, 3, "agreement", "unsign", agreement, "--party", "board", "--reason", REASON,
            "--by", LIAISON)  # fmt: skip


def test_unsign_refuses_bad_input_and_changes_nothing(seeded: Pal) -> None:
    """An unknown party, a blank reason or an unknown agreement is exit 2; a party that has not
    signed is exit 3; a district person may not withdraw (exit 4)."""
    agreement = in_assessment(seeded)
    sign(seeded, agreement, ["board"], on="2018-04-01")
    base = ("agreement", "unsign", agreement, "--by", LIAISON)
    refused(seeded, 2, *base, "--party", "mayor", "--reason", REASON)
    refused(seeded, 2, *base, "--party", "board", "--reason", "  ")
    refused(seeded, 2, "agreement", "unsign", 999, "--party", "board", "--reason", REASON,
            "--by", LIAISON)  # fmt: skip
    refused(seeded, 3, *base, "--party", "mde", "--reason", REASON)
    refused(seeded, 4, "agreement", "unsign", agreement, "--party", "board", "--reason", REASON,
            "--by", person(TRAD, "superintendent"))  # fmt: skip


# --- correcting a date -------------------------------------------------------------------------


def rga_reminders(pal: Pal, agreement: int) -> list[dict[str, object]]:
    return [row for row in outbox(pal) if row["notice"] == "rga_reminder"
            and row["agreement_id"] == agreement]  # fmt: skip


def test_a_corrected_signing_date_moves_the_rga_and_its_reminders(seeded: Pal) -> None:
    """Signed 2018-05-01, corrected to 2018-06-01: the RGA is due 2019-12-01, the reminder sent
    before stays, and the next one fires 90 days before the new date, not the old."""
    agreement = signed_agreement(seeded)
    tick(seeded, local(date(2019, 8, 3)))  # 90 days before 2019-11-01
    sent = rga_reminders(seeded, agreement)
    assert sent
    ok(seeded, "agreement", "correct", agreement, "--on", "2018-06-01", "--reason", "typo",
       "--by", DIRECTOR)  # fmt: skip
    view = show(seeded, agreement)
    assert view["signed_on"] == "2018-06-01"
    rga = [d for d in view["deadlines"] if d["kind"] == "rga_due"]
    assert sorted((d["due"], d["status"]) for d in rga) == [
        ("2019-11-01", "corrected"), ("2019-12-01", "open"),
    ]  # fmt: skip
    assert {d["due"] for d in view["deadlines"] if d["kind"] == "review_36_due"
            and d["status"] == "open"} == {"2021-06-01"}  # fmt: skip
    signature = execute(seeded.db_url, "SELECT signed_on FROM signature WHERE agreement_id = :id "
                        "AND party = 'mde'", id=agreement)[0][0]  # fmt: skip
    assert str(signature) == "2018-06-01"
    # 90 days before 2019-12-01 is Labor Day: the reminder goes on the Friday before.
    again = notice_day(date(2019, 12, 1), -90)
    assert again == date(2019, 8, 30)
    tick(seeded, local(again, offset_days=-1))
    assert rga_reminders(seeded, agreement) == sent  # the mail already sent, as it was
    tick(seeded, local(again))
    assert len(rga_reminders(seeded, agreement)) == 2 * len(sent)
    told = {row["to"] for row in outbox(seeded) if row["notice"] == "date_corrected"}
    signed = {row["to"] for row in outbox(seeded) if row["notice"] == "signed"}
    assert told == signed
    (corrected,) = audit_rows(seeded, agreement, "correct_date")
    data = corrected["data"]
    assert (data["from"], data["to"], corrected["note"]) == ("2018-05-01", "2018-06-01", "typo")  # type: ignore[index]


def test_the_date_corrected_notice_says_what_moved_in_words(seeded: Pal) -> None:
    """The notice tells the old and the new date and each deadline that moved, in words."""
    agreement = signed_agreement(seeded)
    ok(seeded, "agreement", "correct", agreement, "--on", "2018-05-03", "--reason", "typo",
       "--by", DIRECTOR)  # fmt: skip
    (row,) = [r for r in outbox(seeded) if r["notice"] == "date_corrected"
              and r["to"] == person(TRAD, "superintendent")]  # fmt: skip
    text = ok(seeded, "outbox", "show", row["id"])
    assert "Tuesday, May 1, 2018" in text and "Thursday, May 3, 2018" in text
    assert "The 18-month Review of Goal Attainment: due Sunday, November 3, 2019" in text
    assert "_due" not in text


def test_only_the_director_corrects_a_date(seeded: Pal) -> None:
    """A liaison's correction is refused (exit 4), and nothing changes."""
    agreement = signed_agreement(seeded)
    refused(seeded, 4, "agreement", "correct", agreement, "--on", "2018-06-01", "--reason",
            "typo", "--by", LIAISON)  # fmt: skip


def test_a_corrected_date_must_be_a_valid_one(seeded: Pal) -> None:
    """A date in the future, before the previous event, the same date or not a date is exit 2."""
    agreement = signed_agreement(seeded, identified_on="2018-03-01")
    base = ("agreement", "correct", agreement, "--reason", "typo", "--by", DIRECTOR)
    refused(seeded, 2, *base, "--on", "2999-01-01", mentions="future")
    refused(seeded, 2, *base, "--on", "2018-02-01", mentions="before")
    refused(seeded, 2, *base, "--on", SIGNED_ON)
    refused(seeded, 2, *base, "--on", "May 1st")
    refused(seeded, 2, *base, "--on", "2018-06-01", "--reason", "")


def test_a_correction_after_a_withdrawal_is_refused(seeded: Pal) -> None:
    """When the latest step is itself a correction there is no date to correct (exit 3)."""
    agreement = in_assessment(seeded)
    sign(seeded, agreement, ["board"], on="2018-04-01")
    ok(seeded, "agreement", "unsign", agreement, "--party", "board", "--reason", REASON,
       "--by", LIAISON)  # fmt: skip
    refused(seeded, 3, "agreement", "correct", agreement, "--on", "2018-04-02", "--reason",
            "typo", "--by", DIRECTOR)  # fmt: skip


def test_a_date_can_be_corrected_twice(seeded: Pal) -> None:
    """A second correction moves the same step again, from the date the first one set."""
    agreement = signed_agreement(seeded)
    for day in ("2018-06-01", "2018-05-15"):
        ok(seeded, "agreement", "correct", agreement, "--on", day, "--reason", "typo",
           "--by", DIRECTOR)  # fmt: skip
    view = show(seeded, agreement)
    assert view["signed_on"] == "2018-05-15"
    assert deadline({"deadlines": [d for d in view["deadlines"] if d["status"] == "open"]},
                    "rga_due")["due"] == "2019-11-15"  # fmt: skip


# --- withdrawing measurements and review steps ---------------------------------------------------


def test_a_withdrawn_measurement_is_not_used_by_a_later_determination(seeded: Pal) -> None:
    """A measurement that met the target, withdrawn with a reason, does not count at the RGA."""
    agreement = planning_school(seeded, "W1")
    benchmark = add_benchmark(seeded, agreement, "W1", "attendance_rate", 80, 85, 90,
                              on="2018-04-01")  # fmt: skip
    sign(seeded, agreement, TRAD_PARTIES, on=SIGNED_ON)
    measure(seeded, agreement, benchmark, 88, "2019-06-01", on="2019-06-02")
    fire(seeded, agreement, "withdraw_measurement", "--set", f"benchmark={benchmark}",
         "--set", "on=2019-06-01", "--note", "entered for the wrong school", by=LIAISON)
    assert execute(seeded.db_url, "SELECT count(*) FROM measurement")[0][0] == 0
    (withdrawn,) = audit_rows(seeded, agreement, "withdraw_measurement")
    assert withdrawn["data"]["withdrawn"][0]["value"] == 88  # type: ignore[index]
    fire(seeded, agreement, "open_rga", by=DIRECTOR, on="2019-11-01")
    record_steps(seeded, agreement, on="2019-11-20")
    fire(seeded, agreement, "determine", by=DIRECTOR, on="2019-11-20")
    (agreed,) = execute(seeded.db_url, "SELECT agreed FROM determination")[0]
    assert agreed != "on_track"


def test_withdrawing_a_measurement_needs_one_on_file_and_a_reason(seeded: Pal) -> None:
    """No measurement on that date is exit 3; no reason or no such benchmark is exit 2."""
    agreement = planning_school(seeded, "W1")
    benchmark = add_benchmark(seeded, agreement, "W1", "attendance_rate", 80, 85, 90)
    base = ("agreement", "fire", agreement, "withdraw_measurement", "--by", LIAISON)
    on = ("--set", f"benchmark={benchmark}", "--set", "on=2019-06-01")
    refused(seeded, 3, *base, *on, "--note", REASON)
    refused(seeded, 2, *base, *on)
    refused(seeded, 2, *base, "--set", "benchmark=999", "--set", "on=2019-06-01", "--note", REASON)
    refused(seeded, 2, *base, "--set", f"benchmark={benchmark}", "--set", "on=June",
            "--note", REASON)  # fmt: skip


def test_a_withdrawn_review_step_reopens_its_deadline_and_can_be_recorded_again(
    seeded: Pal,
) -> None:
    """Withdrawing the evidence step opens its deadline again; recording it again meets it."""
    agreement = signed_agreement(seeded)
    fire(seeded, agreement, "open_rga", by=DIRECTOR, on="2019-11-01")
    fire(seeded, agreement, "record_evidence", by=LIAISON, on="2019-11-10")
    fire(seeded, agreement, "withdraw_step", "--set", "step=evidence", "--note", REASON,
         by=LIAISON)  # fmt: skip
    evidence = [d for d in show(seeded, agreement)["deadlines"] if d["kind"] == "evidence_due"]
    assert sorted(d["status"] for d in evidence) == ["open", "reopened"]
    fire(seeded, agreement, "record_evidence", by=LIAISON, on="2019-11-12")
    evidence = [d for d in show(seeded, agreement)["deadlines"] if d["kind"] == "evidence_due"]
    assert sorted(d["status"] for d in evidence) == ["met", "reopened"]


def test_only_the_latest_undetermined_step_can_be_withdrawn(seeded: Pal) -> None:
    """A step not recorded, or one recorded before another, is refused (exit 3)."""
    agreement = signed_agreement(seeded)
    fire(seeded, agreement, "open_rga", by=DIRECTOR, on="2019-11-01")
    base = ("agreement", "fire", agreement, "withdraw_step", "--by", LIAISON, "--note", REASON)
    refused(seeded, 3, *base, "--set", "step=evidence")
    fire(seeded, agreement, "record_evidence", by=LIAISON, on="2019-11-10")
    fire(seeded, agreement, "record_self_assessment", by=LIAISON, on="2019-11-11")
    refused(seeded, 3, *base, "--set", "step=evidence")
    refused(seeded, 2, *base, "--set", "step=lunch")


# --- moving to another rule version ------------------------------------------------------------


def test_migrating_recomputes_the_open_deadlines_under_the_new_rules(seeded: Pal) -> None:
    """Identified under 2017-04 (60 days for the plan), moved to 2017-10: the plan is due 90
    days after identification, with the new version's reminders; audited with both versions."""
    agreement = identify(seeded, TRAD, "--rules", "2017-04")
    assert deadline(show(seeded, agreement), "plan_due")["due"] == "2018-04-30"
    ok(seeded, "agreement", "migrate", agreement, "--rules", "2017-10", "--reason",
       "the district received the October letter", "--by", DIRECTOR)  # fmt: skip
    view = show(seeded, agreement)
    assert view["rules_version"] == "2017-10"
    plan = sorted((d["due"], d["status"]) for d in view["deadlines"])
    assert plan == [("2018-04-30", "migrated"), ("2018-05-30", "open")]
    pending = execute(seeded.db_url, "SELECT min(fire_at) FROM timer t JOIN deadline d ON "
                      "d.id = t.deadline_id WHERE d.status = 'open' AND t.status = 'pending'")
    assert str(pending[0][0]).startswith("2018-04-30")  # 30 days before 2018-05-30
    (moved,) = audit_rows(seeded, agreement, "migrate_rules")
    assert (moved["data"]["from"], moved["data"]["to"]) == ("2017-04", "2017-10")  # type: ignore[index]


def test_migrate_refuses_bad_input_and_changes_nothing(seeded: Pal) -> None:
    """An unknown version is exit 2, the version it follows exit 3, a liaison exit 4."""
    agreement = identify(seeded, TRAD, "--rules", "2017-04")
    base = ("agreement", "migrate", agreement, "--reason", "why")
    refused(seeded, 2, *base, "--rules", "2099-01", "--by", DIRECTOR, mentions="unknown rules")
    refused(seeded, 2, *base, "--rules", "../2017-10", "--by", DIRECTOR)
    refused(seeded, 3, *base, "--rules", "2017-04", "--by", DIRECTOR)
    refused(seeded, 4, *base, "--rules", "2017-10", "--by", LIAISON)
    refused(seeded, 2, "agreement", "migrate", agreement, "--rules", "2017-10", "--reason", " ",
            "--by", DIRECTOR)  # fmt: skip


def test_a_corrected_review_opening_moves_the_review_and_its_step_deadlines(seeded: Pal) -> None:
    """The RGA opened 2019-11-01, corrected to 2019-11-04: the review, its step deadlines and the
    RGA deadline it met (now late) all follow."""
    agreement = signed_agreement(seeded)
    fire(seeded, agreement, "open_rga", by=DIRECTOR, on="2019-11-01")
    ok(seeded, "agreement", "correct", agreement, "--on", "2019-11-04", "--reason", "typo",
       "--by", DIRECTOR)  # fmt: skip
    opened = execute(seeded.db_url, "SELECT opened_on FROM review WHERE agreement_id = :id",
                     id=agreement)  # fmt: skip
    assert str(opened[0][0]) == "2019-11-04"
    view = show(seeded, agreement)
    assert deadline(view, "rga_due")["status"] == "met_late"
    evidence = {d["status"]: d["due"] for d in view["deadlines"] if d["kind"] == "evidence_due"}
    assert evidence == {"corrected": "2019-12-01", "open": "2019-12-04"}
