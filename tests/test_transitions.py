"""Each transition of the agreement lifecycle and each of its guards, through the CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from helpers import (
    ALL_CONSEQUENCES,
    ASSESSMENT_ON,
    DIRECTOR,
    ESCALATION_NOTE,
    IDENTIFIED_ON,
    LIAISON,
    PSA,
    PSA_PARTIES,
    SIGNED_ON,
    STATE_SUPERINTENDENT,
    TRAD,
    TRAD_PARTIES,
    Pal,
    assert_error,
    audit_count,
    days_after,
    deadline,
    escalate,
    fire,
    identify,
    iso,
    ok,
    person,
    refused,
    review_done,
    show,
    sign,
    signed_agreement,
    snapshot,
    start_assessment,
    today,
)

from states.agreement import ACTIVE
from states.context import Context
from states.errors import PalError
from storage.db import make_engine, transaction
from workflow.actors import SYSTEM_ACTOR
from workflow.engine import Request, apply

# --- identify ------------------------------------------------------------------------------------


def test_identify_creates_an_identified_agreement_with_all_four_consequences(seeded: Pal) -> None:
    """identify prints the new id; the agreement starts identified with every consequence."""
    agreement = identify(seeded, TRAD, "--cohort", "2018-03")
    view = show(seeded, agreement)
    assert view["id"] == agreement
    assert view["district"] == TRAD
    assert view["state"] == "identified"
    assert view["identified_on"] == IDENTIFIED_ON
    assert view["signed_on"] is None
    assert view["cohort"] == "2018-03"
    assert view["rules_version"] == "2017-10"
    assert view["consequences"] == ALL_CONSEQUENCES
    assert view["signatures"] == {}
    assert [(h["event"], h["from"], h["to"], h["by"], h["on"]) for h in view["history"]] == [
        ("identify", None, "identified", DIRECTOR, IDENTIFIED_ON)
    ]


def test_identify_opens_plan_due_90_days_later(seeded: Pal) -> None:
    """Under the default rules the plan is due 90 calendar days after identification."""
    view = show(seeded, identify(seeded, TRAD, on="2018-03-01"))
    assert view["deadlines"] == [
        {"kind": "plan_due", "due": "2018-05-30", "status": "open", "closed_on": None}
    ]


def test_identify_under_2017_04_rules_gives_60_days(seeded: Pal) -> None:
    """`--rules 2017-04` gives the first letters' 60 days, and the agreement keeps that version."""
    view = show(seeded, identify(seeded, TRAD, "--rules", "2017-04", on="2018-03-01"))
    assert view["rules_version"] == "2017-04"
    assert deadline(view, "plan_due")["due"] == "2018-04-30"


def test_traditional_district_consequences_must_include_reconstitution(
    seeded: Pal, db_url: str
) -> None:
    """A traditional district's consequence list without reconstitution is bad input (2)."""
    before = snapshot(db_url)
    result = seeded("agreement", "identify", TRAD, "--on", IDENTIFIED_ON, "--by", DIRECTOR,
                    "--consequences", "closure,isd_intervention")  # fmt: skip
    assert_error(result, 2, mentions="reconstitution")
    assert snapshot(db_url) == before


def test_psa_consequences_may_omit_reconstitution(seeded: Pal) -> None:
    """A PSA's consequence list may leave reconstitution out; the order given is kept."""
    agreement = identify(seeded, PSA, "--consequences", "isd_intervention, closure")
    assert show(seeded, agreement)["consequences"] == ["isd_intervention", "closure"]


def test_traditional_district_may_name_reconstitution_with_others(seeded: Pal) -> None:
    """A traditional district's list is accepted when it includes reconstitution."""
    agreement = identify(seeded, TRAD, "--consequences", "reconstitution,closure")
    assert show(seeded, agreement)["consequences"] == ["reconstitution", "closure"]


def test_unknown_or_empty_consequences_are_bad_input(seeded: Pal) -> None:
    """An empty list or an option that does not exist is bad input (2)."""
    for consequences in ("", " , ", "closure,takeover", "dissolution"):
        refused(seeded, 2, "agreement", "identify", PSA, "--on", IDENTIFIED_ON, "--by", DIRECTOR,
                "--consequences", consequences)  # fmt: skip


def test_only_the_director_may_identify(seeded: Pal) -> None:
    """identify by anyone but the director is permission denied (4)."""
    for who in (LIAISON, STATE_SUPERINTENDENT, person(TRAD, "superintendent")):
        refused(seeded, 4, "agreement", "identify", TRAD, "--on", IDENTIFIED_ON, "--by", who)


def test_second_identify_of_a_district_with_an_active_agreement_is_refused(
    seeded: Pal, db_url: str
) -> None:
    """A district has at most one active agreement: a second identify is not allowed (3)."""
    first = identify(seeded, TRAD)
    before = snapshot(db_url)
    result = seeded("agreement", "identify", TRAD, "--on", IDENTIFIED_ON, "--by", DIRECTOR)
    assert_error(result, 3, mentions=str(first))
    assert snapshot(db_url) == before


def test_a_district_may_be_identified_again_once_its_agreement_has_ended(seeded: Pal) -> None:
    """After escalation (a final state) the district can get a new agreement."""
    first = identify(seeded, TRAD)
    escalate(seeded, first, "reconstitution", on="2018-04-01")
    second = identify(seeded, TRAD, on="2018-04-02")
    assert second != first
    assert show(seeded, second)["state"] == "identified"


# --- start_assessment ----------------------------------------------------------------------------


@pytest.mark.parametrize("actor", [LIAISON, DIRECTOR])
def test_start_assessment_names_the_liaison(seeded: Pal, actor: str) -> None:
    """start_assessment (liaison or director) moves to needs_assessment and records the liaison."""
    agreement = identify(seeded)
    out = ok(seeded, "agreement", "fire", agreement, "start_assessment", "--set",
             f"liaison={LIAISON.upper()}", "--by", actor, "--on", ASSESSMENT_ON)  # fmt: skip
    assert "stage: Needs assessment and plan" in out
    view = show(seeded, agreement)
    assert view["state"] == "needs_assessment"
    assert view["liaison"] == LIAISON
    last = view["history"][-1]
    assert (last["event"], last["from"], last["to"], last["by"], last["on"]) == (
        "start_assessment", "identified", "needs_assessment", actor, ASSESSMENT_ON
    )  # fmt: skip
    assert last["data"]["liaison"] == LIAISON  # as on file, not as typed


def test_the_director_may_be_named_liaison(seeded: Pal) -> None:
    """The person named with --set liaison may be a director."""
    agreement = identify(seeded)
    ok(seeded, "agreement", "fire", agreement, "start_assessment", "--set",
       f"liaison={DIRECTOR}", "--by", DIRECTOR, "--on", ASSESSMENT_ON)  # fmt: skip
    assert show(seeded, agreement)["liaison"] == DIRECTOR


def test_start_assessment_needs_a_liaison_or_director_on_file(seeded: Pal) -> None:
    """Naming someone who is not a liaison/director, or not on file, is bad input (2)."""
    agreement = identify(seeded)
    for liaison in (STATE_SUPERINTENDENT, person(TRAD, "superintendent"), "nobody@mde.example",
                    "not-an-email", ""):  # fmt: skip
        refused(seeded, 2, "agreement", "fire", agreement, "start_assessment", "--set",
                f"liaison={liaison}", "--by", LIAISON, "--on", ASSESSMENT_ON)  # fmt: skip


def test_start_assessment_without_set_liaison_is_bad_input(seeded: Pal, db_url: str) -> None:
    """start_assessment without --set liaison=... is bad input (2)."""
    agreement = identify(seeded)
    before = snapshot(db_url)
    result = seeded("agreement", "fire", agreement, "start_assessment", "--by", LIAISON)
    assert_error(result, 2, mentions="liaison")
    assert snapshot(db_url) == before


def test_start_assessment_by_others_is_permission_denied(seeded: Pal) -> None:
    """start_assessment by anyone but a liaison or director is permission denied (4)."""
    agreement = identify(seeded)
    for who in (STATE_SUPERINTENDENT, person(TRAD, "superintendent")):
        refused(seeded, 4, "agreement", "fire", agreement, "start_assessment", "--set",
                f"liaison={LIAISON}", "--by", who, "--on", ASSESSMENT_ON)  # fmt: skip


# --- signatures and sign -------------------------------------------------------------------------


def test_last_traditional_signature_fires_sign_as_system(seeded: Pal) -> None:
    """board, superintendent, mde sign; the last one fires `sign` by the system actor."""
    agreement = identify(seeded)
    start_assessment(seeded, agreement)
    sign(seeded, agreement, ["board", "superintendent"], on="2018-04-20")
    view = show(seeded, agreement)
    assert view["state"] == "needs_assessment"
    assert view["signed_on"] is None
    sign(seeded, agreement, ["mde"], on=SIGNED_ON)
    view = show(seeded, agreement)
    assert view["state"] == "signed"
    assert view["signed_on"] == SIGNED_ON
    assert view["signatures"] == {
        "board": "2018-04-20", "superintendent": "2018-04-20", "mde": SIGNED_ON
    }  # fmt: skip
    tail = [(h["event"], h["from"], h["to"], h["by"]) for h in view["history"][-4:]]
    assert tail == [
        ("record_signature", "needs_assessment", "needs_assessment", LIAISON),
        ("record_signature", "needs_assessment", "needs_assessment", LIAISON),
        ("record_signature", "needs_assessment", "needs_assessment", LIAISON),
        ("sign", "needs_assessment", "signed", "system"),
    ]
    assert [h["data"].get("party") for h in view["history"][-4:-1]] == list(TRAD_PARTIES)


def test_psa_needs_the_authorizer_signature_too(seeded: Pal) -> None:
    """A PSA is signed only once the authorizer has signed as well."""
    agreement = identify(seeded, PSA)
    start_assessment(seeded, agreement)
    sign(seeded, agreement, TRAD_PARTIES)
    assert show(seeded, agreement)["state"] == "needs_assessment"
    sign(seeded, agreement, ["authorizer"])
    view = show(seeded, agreement)
    assert view["state"] == "signed"
    assert set(view["signatures"]) == set(PSA_PARTIES)
    assert view["history"][-1]["by"] == "system"


def test_signature_order_does_not_matter(seeded: Pal) -> None:
    """Whichever party signs last, the agreement becomes signed exactly once."""
    agreement = identify(seeded, PSA)
    start_assessment(seeded, agreement)
    sign(seeded, agreement, ["authorizer", "mde", "board", "superintendent"])
    view = show(seeded, agreement)
    assert view["state"] == "signed"
    assert [h["event"] for h in view["history"]].count("sign") == 1


def test_director_may_record_signatures(seeded: Pal) -> None:
    """Recording a signature is open to the director as well as the liaison."""
    agreement = identify(seeded)
    start_assessment(seeded, agreement)
    ok(seeded, "agreement", "sign", agreement, "--party", "board", "--by", DIRECTOR,
       "--on", SIGNED_ON)  # fmt: skip
    assert show(seeded, agreement)["signatures"] == {"board": SIGNED_ON}


def test_second_signature_by_the_same_party_changes_nothing(seeded: Pal, db_url: str) -> None:
    """A party signing twice is an error and the first signature stands."""
    agreement = identify(seeded)
    start_assessment(seeded, agreement)
    sign(seeded, agreement, ["board"], on="2018-04-01")
    before = snapshot(db_url)
    result = seeded("agreement", "sign", agreement, "--party", "board", "--by", LIAISON,
                    "--on", SIGNED_ON)  # fmt: skip
    assert result.exit_code in (2, 3)
    assert_error(result, result.exit_code, mentions="board")
    assert snapshot(db_url) == before


def test_party_that_does_not_sign_for_a_traditional_district_is_bad_input(seeded: Pal) -> None:
    """authorizer (not a PSA) or an unknown party is bad input (2)."""
    agreement = identify(seeded)
    start_assessment(seeded, agreement)
    for party in ("authorizer", "mayor", ""):
        refused(seeded, 2, "agreement", "sign", agreement, "--party", party, "--by", LIAISON,
                "--on", SIGNED_ON)  # fmt: skip


def test_recording_a_signature_needs_a_liaison_or_director(seeded: Pal) -> None:
    """Anyone else recording a signature is permission denied (4)."""
    agreement = identify(seeded)
    start_assessment(seeded, agreement)
    for who in (STATE_SUPERINTENDENT, person(TRAD, "superintendent"),
                person(TRAD, "board_president")):  # fmt: skip
        refused(seeded, 4, "agreement", "sign", agreement, "--party", "board", "--by", who,
                "--on", SIGNED_ON)  # fmt: skip


def test_signatures_are_recorded_only_in_needs_assessment(seeded: Pal, db_url: str) -> None:
    """A signature on an agreement still in identified is not allowed in that state (3)."""
    agreement = identify(seeded)
    before = snapshot(db_url)
    result = seeded("agreement", "sign", agreement, "--party", "board", "--by", LIAISON,
                    "--on", SIGNED_ON)  # fmt: skip
    assert_error(result, 3)
    assert snapshot(db_url) == before


def test_signature_after_signing_is_not_allowed(seeded: Pal, db_url: str) -> None:
    """Once signed, further signatures are refused (3) and nothing changes."""
    agreement = signed_agreement(seeded)
    before = snapshot(db_url)
    result = seeded("agreement", "sign", agreement, "--party", "board", "--by", LIAISON)
    assert_error(result, 3)
    assert snapshot(db_url) == before


def test_nobody_may_fire_sign_by_hand(seeded: Pal) -> None:
    """`sign` is fired only by the system: a person firing it is permission denied (4)."""
    agreement = identify(seeded)
    start_assessment(seeded, agreement)
    for who in (DIRECTOR, LIAISON):
        refused(seeded, 4, "agreement", "fire", agreement, "sign", "--by", who, "--on", SIGNED_ON)


# --- deadlines on signing ------------------------------------------------------------------------


def test_signing_meets_plan_due_and_opens_rga_and_review_36(seeded: Pal) -> None:
    """Signed 2018-08-31: plan_due met; rga_due 2020-02-29 and review_36_due 2021-08-31 open."""
    agreement = signed_agreement(seeded, identified_on="2018-06-15", signed_on="2018-08-31")
    view = show(seeded, agreement)
    assert deadline(view, "plan_due") == {
        "kind": "plan_due", "due": "2018-09-13", "status": "met", "closed_on": "2018-08-31"
    }  # fmt: skip
    assert deadline(view, "rga_due") == {
        "kind": "rga_due", "due": "2020-02-29", "status": "open", "closed_on": None
    }  # fmt: skip
    assert deadline(view, "review_36_due") == {
        "kind": "review_36_due", "due": "2021-08-31", "status": "open", "closed_on": None
    }  # fmt: skip


def test_signing_on_the_due_date_meets_plan_due(seeded: Pal) -> None:
    """A plan signed on its due date is met (due means by the end of that day)."""
    agreement = signed_agreement(seeded, identified_on="2018-03-01", signed_on="2018-05-30")
    assert deadline(show(seeded, agreement), "plan_due")["status"] == "met"


def test_signing_after_the_due_date_meets_plan_due_late(seeded: Pal) -> None:
    """A plan signed the day after its due date is met_late."""
    agreement = signed_agreement(seeded, identified_on="2018-03-01", signed_on="2018-05-31")
    plan = deadline(show(seeded, agreement), "plan_due")
    assert (plan["status"], plan["closed_on"]) == ("met_late", "2018-05-31")


def test_signing_under_2017_04_rules_is_late_after_60_days(seeded: Pal) -> None:
    """An agreement under 2017-04 rules keeps its 60-day window: day 61 is late."""
    agreement = identify(seeded, TRAD, "--rules", "2017-04", on="2018-03-01")
    start_assessment(seeded, agreement)
    sign(seeded, agreement, TRAD_PARTIES, on="2018-05-01")
    assert deadline(show(seeded, agreement), "plan_due")["status"] == "met_late"


# --- open_rga ------------------------------------------------------------------------------------


def test_open_rga_moves_signed_to_rga_and_meets_rga_due(seeded: Pal) -> None:
    """The director opens the RGA; rga_due is met, review_36_due stays open."""
    agreement = signed_agreement(seeded)
    out = ok(seeded, "agreement", "fire", agreement, "open_rga", "--by", DIRECTOR,
             "--on", "2019-10-01")  # fmt: skip
    assert "stage: 18-month Review of Goal Attainment" in out
    view = show(seeded, agreement)
    assert view["state"] == "rga"
    assert deadline(view, "rga_due")["status"] == "met"
    assert deadline(view, "rga_due")["closed_on"] == "2019-10-01"
    assert deadline(view, "review_36_due")["status"] == "open"
    last = view["history"][-1]
    assert (last["event"], last["from"], last["to"], last["by"]) == (
        "open_rga", "signed", "rga", DIRECTOR
    )  # fmt: skip


def test_open_rga_after_rga_due_is_met_late(seeded: Pal) -> None:
    """Opening the RGA after the 18-month date meets rga_due late."""
    agreement = signed_agreement(seeded, signed_on="2018-05-01")
    ok(seeded, "agreement", "fire", agreement, "open_rga", "--by", DIRECTOR, "--on", "2019-11-02")
    assert deadline(show(seeded, agreement), "rga_due")["status"] == "met_late"


def test_only_the_director_may_open_rga(seeded: Pal) -> None:
    """open_rga by anyone but the director is permission denied (4)."""
    agreement = signed_agreement(seeded)
    for who in (LIAISON, STATE_SUPERINTENDENT, person(TRAD, "superintendent")):
        refused(seeded, 4, "agreement", "fire", agreement, "open_rga", "--by", who)


def test_open_rga_before_signing_is_not_allowed(seeded: Pal) -> None:
    """open_rga from identified or needs_assessment is not allowed in that state (3)."""
    agreement = identify(seeded)
    refused(seeded, 3, "agreement", "fire", agreement, "open_rga", "--by", DIRECTOR,
            mentions="identified")  # fmt: skip
    start_assessment(seeded, agreement)
    refused(seeded, 3, "agreement", "fire", agreement, "open_rga", "--by", DIRECTOR,
            mentions="needs_assessment")  # fmt: skip


# --- escalate ------------------------------------------------------------------------------------


def _agreement_in(pal: Pal, db_url: str, state: str) -> int:
    """An agreement in `state`, reached by events."""
    if state == "identified":
        return identify(pal)
    if state == "needs_assessment":
        agreement = identify(pal)
        start_assessment(pal, agreement)
        return agreement
    agreement = signed_agreement(pal)
    if state == "signed":
        return agreement
    ok(pal, "agreement", "fire", agreement, "open_rga", "--by", DIRECTOR, "--on", "2019-10-01")
    if state == "rga":
        return agreement
    review_done(pal, agreement, on="2019-11-15")
    if state in ("review_24", "review_36"):
        fire(pal, agreement, f"open_{state}", by=DIRECTOR, on="2019-11-20")
    return agreement


@pytest.mark.parametrize("state", ACTIVE)
def test_escalate_from_every_active_state(seeded: Pal, db_url: str, state: str) -> None:
    """The state superintendent escalates from any active state; open deadlines are cancelled."""
    agreement = _agreement_in(seeded, db_url, state)
    on = "2019-12-02"
    out = ok(seeded, "agreement", "fire", agreement, "escalate", "--set", "option=closure",
             "--by", STATE_SUPERINTENDENT, "--on", on, "--note", "benchmarks missed")  # fmt: skip
    assert "stage: Next level of accountability" in out
    view = show(seeded, agreement)
    assert view["state"] == "next_level_accountability"
    assert view["escalation_option"] == "closure"
    assert not [d for d in view["deadlines"] if d["status"] == "open"]
    cancelled = [d for d in view["deadlines"] if d["status"] == "cancelled"]
    assert cancelled
    assert all(d["closed_on"] == on for d in cancelled)
    last = view["history"][-1]
    assert (last["event"], last["from"], last["to"], last["by"], last["on"], last["note"]) == (
        "escalate", state, "next_level_accountability", STATE_SUPERINTENDENT, on,
        "benchmarks missed",
    )  # fmt: skip
    assert last["data"] == {"option": ["closure"]}
    listed = ok(seeded, "deadlines", "--now", on, "--json")
    assert agreement not in [row["agreement"] for row in json.loads(listed)]


def test_escalate_keeps_met_deadlines_met(seeded: Pal) -> None:
    """Escalation cancels only open deadlines; one already met stays met."""
    agreement = signed_agreement(seeded)
    escalate(seeded, agreement, "reconstitution", on="2018-06-01")
    view = show(seeded, agreement)
    assert {d["kind"]: d["status"] for d in view["deadlines"]} == {
        "plan_due": "met", "rga_due": "cancelled", "review_24_due": "cancelled",
        "review_36_due": "cancelled",
    }  # fmt: skip


def test_only_the_state_superintendent_may_escalate(seeded: Pal) -> None:
    """escalate by anyone but the state superintendent is permission denied (4)."""
    agreement = identify(seeded)
    for who in (DIRECTOR, LIAISON, person(TRAD, "isd_superintendent")):
        refused(seeded, 4, "agreement", "fire", agreement, "escalate", "--set", "option=closure",
                "--by", who, "--note", ESCALATION_NOTE)  # fmt: skip


def test_escalate_option_must_be_among_the_agreed_consequences(seeded: Pal, db_url: str) -> None:
    """A PSA that left out reconstitution cannot be escalated to reconstitution (2)."""
    agreement = identify(seeded, PSA, "--consequences", "closure,increased_supports")
    before = snapshot(db_url)
    result = seeded("agreement", "fire", agreement, "escalate", "--set", "option=reconstitution",
                    "--by", STATE_SUPERINTENDENT, "--note", ESCALATION_NOTE)  # fmt: skip
    assert_error(result, 2, mentions="reconstitution")
    assert snapshot(db_url) == before
    escalate(seeded, agreement, "increased_supports")


def test_escalate_needs_a_known_option(seeded: Pal) -> None:
    """escalate without an option, or with one that does not exist, is bad input (2)."""
    agreement = identify(seeded)
    for option in ([], ["--set", "option=takeover"], ["--set", "option="]):
        refused(seeded, 2, "agreement", "fire", agreement, "escalate", *option,
                "--by", STATE_SUPERINTENDENT, "--note", ESCALATION_NOTE)  # fmt: skip


def test_escalate_needs_a_note(seeded: Pal) -> None:
    """escalate without --note (the reason) is bad input (2), naming --note."""
    agreement = identify(seeded)
    refused(seeded, 2, "agreement", "fire", agreement, "escalate", "--set", "option=closure",
            "--by", STATE_SUPERINTENDENT, mentions="--note")  # fmt: skip


def test_escalate_with_two_options_records_both(seeded: Pal) -> None:
    """Two options given as a comma list are both recorded, in the order given."""
    agreement = identify(seeded)
    escalate(seeded, agreement, "isd_intervention", "increased_supports")
    view = show(seeded, agreement)
    assert view["escalation_option"] == "isd_intervention,increased_supports"
    assert view["history"][-1]["data"] == {"option": ["isd_intervention", "increased_supports"]}
    assert view["history"][-1]["note"] == ESCALATION_NOTE


def test_escalate_from_a_final_state_is_not_allowed(seeded: Pal, db_url: str) -> None:
    """A second escalation of the same agreement is not allowed in its state (3)."""
    agreement = identify(seeded)
    escalate(seeded, agreement)
    before = snapshot(db_url)
    result = seeded("agreement", "fire", agreement, "escalate", "--set", "option=closure",
                    "--by", STATE_SUPERINTENDENT, "--note", ESCALATION_NOTE)  # fmt: skip
    assert_error(result, 3)
    assert snapshot(db_url) == before


# --- the effective date --------------------------------------------------------------------------


def test_effective_date_defaults_to_today(seeded: Pal) -> None:
    """Without --on, an event takes today's local date."""
    before = today()
    agreement = identify(seeded, on=iso(before))
    ok(seeded, "agreement", "fire", agreement, "start_assessment", "--set",
       f"liaison={LIAISON}", "--by", LIAISON)  # fmt: skip
    assert show(seeded, agreement)["history"][-1]["on"] in (iso(before), iso(today()))


def test_effective_date_in_the_future_is_bad_input(seeded: Pal, db_url: str) -> None:
    """An --on date after today is bad input (2), for identify and for fire."""
    future = iso(today() + timedelta(days=2))
    before = snapshot(db_url)
    result = seeded("agreement", "identify", TRAD, "--on", future, "--by", DIRECTOR)
    assert_error(result, 2, mentions="future")
    assert snapshot(db_url) == before
    agreement = identify(seeded)
    before = snapshot(db_url)
    result = seeded("agreement", "fire", agreement, "start_assessment", "--set",
                    f"liaison={LIAISON}", "--by", LIAISON, "--on", future)  # fmt: skip
    assert_error(result, 2, mentions="future")
    assert snapshot(db_url) == before


def test_effective_date_before_the_previous_event_is_bad_input(seeded: Pal, db_url: str) -> None:
    """An event dated before the agreement's previous event is bad input (2)."""
    agreement = identify(seeded, on=IDENTIFIED_ON)
    start_assessment(seeded, agreement, on=ASSESSMENT_ON)
    before = snapshot(db_url)
    earlier = days_after(ASSESSMENT_ON, -1)
    result = seeded("agreement", "sign", agreement, "--party", "board", "--by", LIAISON,
                    "--on", earlier)  # fmt: skip
    assert_error(result, 2, mentions=ASSESSMENT_ON)
    result = seeded("agreement", "fire", agreement, "escalate", "--set", "option=closure",
                    "--by", STATE_SUPERINTENDENT, "--on", earlier,
                    "--note", ESCALATION_NOTE)  # fmt: skip
    assert_error(result, 2, mentions=ASSESSMENT_ON)
    assert snapshot(db_url) == before


def test_an_event_on_the_same_day_as_the_previous_one_is_fine(seeded: Pal, db_url: str) -> None:
    """The previous event's own date is allowed: one audit row is added."""
    agreement = identify(seeded, on=IDENTIFIED_ON)
    count = audit_count(db_url, agreement)
    start_assessment(seeded, agreement, on=IDENTIFIED_ON)
    assert audit_count(db_url, agreement) == count + 1


def test_signature_dates_feed_the_previous_event_date(seeded: Pal, db_url: str) -> None:
    """After a signature dated D, an event dated before D is refused (2)."""
    agreement = identify(seeded)
    start_assessment(seeded, agreement)
    sign(seeded, agreement, ["board"], on="2018-04-10")
    result = seeded("agreement", "sign", agreement, "--party", "mde", "--by", LIAISON,
                    "--on", "2018-04-09")  # fmt: skip
    assert_error(result, 2)


# --- the engine's own guard on sign --------------------------------------------------------------


def test_the_engine_refuses_sign_until_every_signature_is_recorded(
    seeded: Pal, db_url: str
) -> None:
    """`sign` needs every required signature, even when the system actor fires it directly."""
    agreement = identify(seeded)
    start_assessment(seeded, agreement)
    sign(seeded, agreement, ["board"])
    store = make_engine(db_url)
    before = snapshot(db_url)
    try:
        with pytest.raises(PalError), transaction(store) as session:
            apply(session, Request("sign", SYSTEM_ACTOR, case=agreement, on=date(2018, 5, 2)),
                  Context(now=datetime(2018, 5, 2, 16, tzinfo=UTC)))  # fmt: skip
    finally:
        store.dispose()
    assert snapshot(db_url) == before
    assert show(seeded, agreement)["state"] == "needs_assessment"
