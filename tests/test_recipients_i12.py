"""Who receives each notice, as the shipped rule data says: the ISD superintendent and a PSA's
authorizer hear of the identification, escalation reaches the liaison, and everyone the
agreement binds hears of its milestones."""

from __future__ import annotations

from typing import Any

from helpers import (
    DIRECTOR,
    LIAISON,
    PSA,
    STATE_SUPERINTENDENT,
    TRAD,
    Pal,
    add_contact,
    escalate,
    fire,
    identify,
    person,
    sign,
    start_assessment,
    with_bodies,
)

from config.rules import load_rules

PARTNER = "partner@trad.example"


def told(pal: Pal, notice: str, agreement: int) -> set[str]:
    """Everyone addressed by `notice` for `agreement` (unaddressed roles left out)."""
    rows = with_bodies(
        pal.db_url,
        "SELECT id, recipient FROM outbox WHERE notice = :notice AND agreement_id = :id "
        "AND status != 'unaddressed'",
        notice=notice,
        id=agreement,
    )
    return {row.recipient for row in rows}


def unaddressed(pal: Pal, agreement: int) -> list[Any]:
    return with_bodies(
        pal.db_url,
        "SELECT id, notice, recipient FROM outbox WHERE agreement_id = :id "
        "AND status = 'unaddressed'",
        id=agreement,
    )


def test_a_traditional_district_identified_tells_its_leaders_and_its_isd(seeded: Pal) -> None:
    """Superintendent, board president and ISD superintendent; no authorizer (not a PSA)."""
    agreement = identify(seeded, TRAD)
    assert told(seeded, "identified", agreement) == {
        person(TRAD, "superintendent"),
        person(TRAD, "board_president"),
        person(TRAD, "isd_superintendent"),
    }
    assert unaddressed(seeded, agreement) == []


def test_a_psa_identified_tells_its_authorizer_too(seeded: Pal) -> None:
    """The charter's authorizer signs its plan: it hears of the identification with the rest."""
    agreement = identify(seeded, PSA)
    assert told(seeded, "identified", agreement) == {
        person(PSA, role)
        for role in ("superintendent", "board_president", "isd_superintendent", "authorizer")
    }


def test_escalation_reaches_the_liaison_the_director_and_everyone_on_file(seeded: Pal) -> None:
    """The State Superintendent escalates: the district's people (its partner included, an
    authorizer on file for a traditional district not), the agreement's liaison and the
    director are told."""
    add_contact(seeded, PARTNER, "partner", TRAD)
    agreement = identify(seeded, TRAD)
    start_assessment(seeded, agreement)
    escalate(seeded, agreement, on="2018-04-15")
    assert told(seeded, "escalated", agreement) == {
        *(person(TRAD, r) for r in ("superintendent", "board_president", "isd_superintendent")),
        PARTNER,
        LIAISON,
        DIRECTOR,
    }
    assert STATE_SUPERINTENDENT not in told(seeded, "escalated", agreement)


def test_escalation_reaches_a_director_named_liaison_once(seeded: Pal) -> None:
    """A director who is the agreement's liaison gets one copy, as the liaison."""
    agreement = identify(seeded, TRAD)
    fire(seeded, agreement, "start_assessment", "--set", f"liaison={DIRECTOR}", by=DIRECTOR,
         on="2018-03-05")  # fmt: skip
    escalate(seeded, agreement, on="2018-04-15")
    rows = with_bodies(
        seeded.db_url,
        "SELECT id, recipient FROM outbox WHERE notice = 'escalated' AND recipient = :who",
        who=DIRECTOR,
    )
    assert len(rows) == 1


def test_the_signed_plan_is_told_to_the_liaison_as_well(seeded: Pal) -> None:
    """The signing sets the review dates: the liaison, who follows them up, hears of it with
    the signatories and the ISD superintendent."""
    agreement = identify(seeded, TRAD)
    start_assessment(seeded, agreement)
    sign(seeded, agreement, ("board", "superintendent", "mde"))
    assert told(seeded, "signed", agreement) == {
        *(person(TRAD, r) for r in ("superintendent", "board_president", "isd_superintendent")),
        DIRECTOR,
        LIAISON,
    }


def test_the_plan_reminders_reach_the_isd_that_helps_write_it() -> None:
    """The needs assessment is completed with the ISD (MCL 388.1621h): its superintendent is
    reminded of the plan's deadline with the district."""
    (step, *_) = [t for t in load_rules("2017-10").timers if t.notice == "plan_reminder"]
    assert set(step.to) == {
        "superintendent", "board_president", "authorizer", "isd_superintendent", "liaison",
    }  # fmt: skip


def test_a_review_is_reminded_to_those_told_when_it_opens() -> None:
    """The reminders of the RGA, the 24- and the 36-month reviews go to the people the review's
    opening tells (the district's leaders, its authorizer, its ISD, the liaison)."""
    rules = load_rules("2017-10")
    (opened, *_) = [n for n in rules.transition_notices if n.notice == "review_opened"]
    for notice in ("rga_reminder", "review_24_reminder", "review_36_reminder"):
        (step, *_) = [t for t in rules.timers if t.notice == notice]
        assert set(step.to) == set(opened.to), notice
