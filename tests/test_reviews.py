"""The reviews end to end through `pal agreement fire` on a real database: a plan's benchmarks and
measurements, each review's steps in order, the determination by versioned rule data (computed and
agreed statuses, every input recorded), the 24-month review only for districts the RGA left off
track, step reminders and overdue notices, and the outcomes at 36 months."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    DIRECTOR,
    ESCALATION_NOTE,
    LIAISON,
    SIGNED_ON,
    STATE_SUPERINTENDENT,
    TRAD,
    TRAD_PARTIES,
    Pal,
    add_benchmark,
    add_school,
    deadline,
    escalate,
    execute,
    fire,
    identify,
    measure,
    person,
    record_steps,
    refused,
    review_done,
    rules_folder,
    show,
    sign,
    start_assessment,
)
from service_support import local, notice_day, outbox, state_of, tick

from config.rules import load_rules
from states.agreement import AGREEMENT

A, B = "TRAD-A", "TRAD-B"  # A is a high school, B is not
PLANNED_ON = "2018-03-10"
RGA_OPENED = "2019-11-01"  # signed 2018-05-01 + 18 months
MEASURED_ON = "2019-10-15"
RGA_DETERMINED = "2019-12-02"
REVIEW_24_DUE = date(2020, 5, 1)  # signed + 24 months
REVIEW_36_OPENED = "2021-05-01"
REVIEW_36_DETERMINED = "2021-06-15"
REASON = "a new principal since March, agreed at the conference"


@dataclass(frozen=True)
class Plan:
    pal: Pal
    agreement: int
    ids: Mapping[str, int]  # benchmark ids by a short name

    def measure(self, values: Mapping[str, float], *, measured_on: str, on: str) -> None:
        for name, value in values.items():
            measure(self.pal, self.agreement, self.ids[name], value, measured_on, on=on)


# name, school, kind, (baseline, 18-month target, 36-month target), options
PLANNED: list[tuple[str, str, str, tuple[float, float, float], dict[str, Any]]] = [
    ("a_track", A, "on_track", (40, 50, 60), {}),
    ("a_grad", A, "graduation_rate", (70, 75, 80), {}),
    ("a_absent", A, "attendance_rate", (20, 15, 10), {"lower": True}),
    ("b_track", B, "on_track", (40, 50, 60), {}),
    ("b_prof", B, "proficiency_or_growth", (30, 35, 40), {}),
    ("b_read", B, "local", (1, 2, 3), {"label": "reading"}),
]


def planned(pal: Pal, *, rules: str | None = None) -> Plan:
    """A signed agreement covering A (on track, graduation and chronic absenteeism, lower is
    better) and B (on track, proficiency or growth, a local reading measure); no measurement."""
    add_school(pal, A, high_school=True)
    add_school(pal, B)
    extra = ["--rules", rules] if rules else []
    agreement = identify(pal, TRAD, "--schools", f"{A},{B}", *extra)
    start_assessment(pal, agreement)
    ids = {
        name: add_benchmark(pal, agreement, school, kind, *numbers, on=PLANNED_ON, **options)
        for name, school, kind, numbers, options in PLANNED
    }
    sign(pal, agreement, TRAD_PARTIES, on=SIGNED_ON)
    return Plan(pal, agreement, ids)


# Every benchmark met at 18 months (not at 36), and each school's other outcomes.
ALL_MET_18 = {"a_track": 55, "a_grad": 76, "a_absent": 15, "b_track": 50, "b_prof": 36,
              "b_read": 2}  # fmt: skip
# A: none met, 1 of 3 moved (Limited Progress); B On-Track.
A_OFF_B_ON = {**ALL_MET_18, "a_track": 41, "a_grad": 70, "a_absent": 20}


@pytest.fixture
def plan(seeded: Pal) -> Plan:
    return planned(seeded)


def in_rga(plan: Plan, values: Mapping[str, float] | None = None) -> None:
    """Open the RGA on its due date; record `values` measured before it."""
    fire(plan.pal, plan.agreement, "open_rga", by=DIRECTOR, on=RGA_OPENED)
    if values:
        plan.measure(values, measured_on=MEASURED_ON, on=RGA_OPENED)


def determinations(pal: Pal, agreement: int, kind: str) -> dict[str, dict[str, Any]]:
    """Each school's determination row at the agreement's `kind` review, inputs decoded."""
    rows = execute(
        pal.db_url,
        "SELECT d.school_code, d.computed, d.agreed, d.reason, d.inputs FROM determination d "
        "JOIN review r ON r.id = d.review_id WHERE r.agreement_id = :a AND r.kind = :k",
        a=agreement, k=kind,
    )  # fmt: skip
    found = {}
    for code, computed, agreed, reason, inputs in rows:
        decoded = json.loads(inputs) if isinstance(inputs, str) else inputs
        found[code] = {"computed": computed, "agreed": agreed, "reason": reason,
                       "inputs": {item["id"]: item for item in decoded}}  # fmt: skip
    return found


def statuses(pal: Pal, agreement: int, kind: str) -> dict[str, tuple[str, str]]:
    found = determinations(pal, agreement, kind)
    return {code: (row["computed"], row["agreed"]) for code, row in found.items()}


# --- the determination ---------------------------------------------------------------------------


def test_an_rga_with_every_benchmark_met_finds_every_school_on_track(plan: Plan) -> None:
    """All met: both schools On-Track, the agreement implementing, rule version and inputs kept."""
    in_rga(plan, ALL_MET_18)
    out = review_done(plan.pal, plan.agreement, on=RGA_DETERMINED)
    assert "Implementing the plan" in out
    assert statuses(plan.pal, plan.agreement, "rga") == {
        A: ("on_track", "on_track"), B: ("on_track", "on_track")
    }  # fmt: skip
    review = execute(plan.pal.db_url, "SELECT determined_on, determined_by, rules_version "
                     "FROM review WHERE agreement_id = :a", a=plan.agreement)  # fmt: skip
    assert [(str(on), by, rules) for on, by, rules in review] == [
        (RGA_DETERMINED, DIRECTOR, "2017-10")
    ]
    inputs = determinations(plan.pal, plan.agreement, "rga")[A]["inputs"]
    assert inputs[plan.ids["a_absent"]] == {
        "id": plan.ids["a_absent"], "kind": "attendance_rate", "label": None, "baseline": 20,
        "target": 15, "direction": "lower", "value": 15, "measured_on": MEASURED_ON,
        "met": True, "progress": True,
    }  # fmt: skip
    view = show(plan.pal, plan.agreement)
    assert view["state"] == "implementing"
    last = view["history"][-1]
    assert (last["event"], last["from"], last["to"], last["by"]) == (
        "determine", "rga", "implementing", DIRECTOR
    )  # fmt: skip
    assert last["data"]["statuses"] == {
        A: {"computed": "on_track", "agreed": "on_track"},
        B: {"computed": "on_track", "agreed": "on_track"},
    }
    assert last["data"]["rules"] == "2017-10"


@pytest.mark.parametrize(
    ("values", "a_status"),
    [
        ({**ALL_MET_18, "a_track": 39, "a_grad": 70}, "off_track_progress"),  # exactly 1/3 met
        ({**ALL_MET_18, "a_track": 41, "a_grad": 71, "a_absent": 21}, "off_track_progress"),
        ({**ALL_MET_18, "a_track": 41, "a_grad": 70, "a_absent": 20}, "off_track_limited"),
        ({**ALL_MET_18, "a_track": 40, "a_grad": 70, "a_absent": 21}, "off_track_limited"),
    ],
    ids=["a third met", "2 of 3 moved", "1 of 3 moved", "nothing moved"],
)
def test_each_school_gets_the_status_its_benchmarks_earn(
    plan: Plan, values: dict[str, float], a_status: str
) -> None:
    """A third met, or more than half of the rest moved: with progress; otherwise limited."""
    in_rga(plan, values)
    review_done(plan.pal, plan.agreement, on=RGA_DETERMINED)
    assert statuses(plan.pal, plan.agreement, "rga") == {
        A: (a_status, a_status), B: ("on_track", "on_track")
    }  # fmt: skip


def test_lower_is_better_is_met_at_its_target_and_moves_below_its_baseline(plan: Plan) -> None:
    """Chronic absenteeism at its target of 15 is met; 19 (below the baseline 20) has moved."""
    in_rga(plan, {**ALL_MET_18, "a_absent": 19})
    review_done(plan.pal, plan.agreement, on=RGA_DETERMINED)
    absent = determinations(plan.pal, plan.agreement, "rga")[A]["inputs"][plan.ids["a_absent"]]
    assert (absent["met"], absent["progress"], absent["direction"]) == (False, True, "lower")
    assert statuses(plan.pal, plan.agreement, "rga")[A] == (
        "off_track_progress", "off_track_progress"
    )  # fmt: skip


def test_a_school_without_a_graduation_benchmark_can_be_on_track(plan: Plan) -> None:
    """B, not a high school, has no graduation rate and is On-Track on its three benchmarks."""
    in_rga(plan, ALL_MET_18)
    review_done(plan.pal, plan.agreement, on=RGA_DETERMINED)
    inputs = determinations(plan.pal, plan.agreement, "rga")[B]["inputs"].values()
    assert sorted(item["kind"] for item in inputs) == [
        "local", "on_track", "proficiency_or_growth"
    ]  # fmt: skip
    assert statuses(plan.pal, plan.agreement, "rga")[B] == ("on_track", "on_track")


def test_a_graduation_benchmark_is_refused_for_a_school_that_is_not_a_high_school(
    seeded: Pal,
) -> None:
    """Adding a graduation-rate benchmark to a school not flagged --high-school is bad input."""
    add_school(seeded, B)
    agreement = identify(seeded, TRAD, "--schools", B)
    refused(seeded, 2, "agreement", "fire", agreement, "add_benchmark", "--set", f"school={B}",
            "--set", "kind=graduation_rate", "--set", "baseline=70", "--set", "target_18=75",
            "--set", "target_36=80", "--by", LIAISON, mentions="high school")  # fmt: skip


def test_a_benchmark_with_no_measurement_is_not_met_and_flagged_null(plan: Plan) -> None:
    """B's reading measure never measured: value and date null, not met, no progress; B is off
    track though its two other benchmarks are met (2 of 3: with progress)."""
    in_rga(plan, {k: v for k, v in ALL_MET_18.items() if k != "b_read"})
    review_done(plan.pal, plan.agreement, on=RGA_DETERMINED)
    reading = determinations(plan.pal, plan.agreement, "rga")[B]["inputs"][plan.ids["b_read"]]
    assert (reading["value"], reading["measured_on"], reading["met"], reading["progress"]) == (
        None, None, False, False
    )  # fmt: skip
    assert reading["label"] == "reading"
    assert statuses(plan.pal, plan.agreement, "rga")[B] == (
        "off_track_progress", "off_track_progress"
    )  # fmt: skip


def test_the_latest_measurement_by_its_date_is_the_one_judged(plan: Plan) -> None:
    """A measurement recorded later but taken earlier does not replace the latest one."""
    in_rga(plan, ALL_MET_18)
    measure(plan.pal, plan.agreement, plan.ids["a_track"], 30, "2019-06-01", on="2019-11-10")
    review_done(plan.pal, plan.agreement, on=RGA_DETERMINED)
    track = determinations(plan.pal, plan.agreement, "rga")[A]["inputs"][plan.ids["a_track"]]
    assert (track["value"], track["measured_on"]) == (55, MEASURED_ON)


def test_a_measurement_taken_after_the_rga_counts_only_at_the_next_review(plan: Plan) -> None:
    """The RGA keeps what it judged; the 36-month review judges the later value."""
    in_rga(plan, A_OFF_B_ON)
    review_done(plan.pal, plan.agreement, on=RGA_DETERMINED)
    plan.measure({"a_track": 65, "a_grad": 85, "a_absent": 9, "b_track": 61, "b_prof": 41,
                  "b_read": 3}, measured_on="2021-04-01", on="2021-04-02")  # fmt: skip
    fire(plan.pal, plan.agreement, "open_review_36", by=DIRECTOR, on=REVIEW_36_OPENED)
    review_done(plan.pal, plan.agreement, on=REVIEW_36_DETERMINED)
    rga = determinations(plan.pal, plan.agreement, "rga")[A]["inputs"][plan.ids["a_track"]]
    assert (rga["value"], rga["measured_on"]) == (41, MEASURED_ON)
    assert statuses(plan.pal, plan.agreement, "review_36") == {
        A: ("on_track", "on_track"), B: ("on_track", "on_track")
    }  # fmt: skip


def test_the_36_month_review_judges_against_the_36_month_targets(plan: Plan) -> None:
    """Values that met every 18-month target meet few 36-month ones: the same measurements are
    On-Track at the RGA and off track at 36 months."""
    in_rga(plan, ALL_MET_18)
    review_done(plan.pal, plan.agreement, on=RGA_DETERMINED)
    fire(plan.pal, plan.agreement, "open_review_36", by=DIRECTOR, on=REVIEW_36_OPENED)
    review_done(plan.pal, plan.agreement, on=REVIEW_36_DETERMINED)
    assert statuses(plan.pal, plan.agreement, "rga")[A] == ("on_track", "on_track")
    found = determinations(plan.pal, plan.agreement, "review_36")[A]
    assert found["computed"] == "off_track_progress"  # none met, every one moved
    assert found["inputs"][plan.ids["a_track"]]["target"] == 60
    assert show(plan.pal, plan.agreement)["state"] == "review_36"


def test_the_24_month_review_judges_against_the_18_month_targets(plan: Plan) -> None:
    """A school off track at the RGA that reaches its 18-month targets is On-Track at 24 months."""
    in_rga(plan, A_OFF_B_ON)
    review_done(plan.pal, plan.agreement, on=RGA_DETERMINED)
    plan.measure({"a_track": 52, "a_grad": 75, "a_absent": 15}, measured_on="2020-03-01",
                 on="2020-03-02")  # fmt: skip
    fire(plan.pal, plan.agreement, "open_review_24", by=DIRECTOR, on="2020-05-01")
    out = review_done(plan.pal, plan.agreement, on="2020-06-15")
    assert "Implementing the plan" in out
    found = determinations(plan.pal, plan.agreement, "review_24")[A]
    assert found["computed"] == "on_track"
    assert found["inputs"][plan.ids["a_track"]]["target"] == 50


# --- overrides -----------------------------------------------------------------------------------


def test_an_override_without_a_reason_is_refused(plan: Plan) -> None:
    """A status agreed at the conference without a written reason for that school: exit 2."""
    in_rga(plan, A_OFF_B_ON)
    record_steps(plan.pal, plan.agreement, on=RGA_DETERMINED)
    refused(plan.pal, 2, "agreement", "fire", plan.agreement, "determine", "--set",
            f"override={A}=on_track", "--by", DIRECTOR, "--on", RGA_DETERMINED,
            mentions="reason")  # fmt: skip
    refused(plan.pal, 2, "agreement", "fire", plan.agreement, "determine", "--set",
            f"override={A}=on_track", "--set", f"reason={B}={REASON}", "--by", DIRECTOR,
            "--on", RGA_DETERMINED)  # fmt: skip
    assert show(plan.pal, plan.agreement)["state"] == "rga"


def test_an_override_with_a_reason_records_both_statuses_and_the_reason(plan: Plan) -> None:
    """The agreed status is recorded beside the computed one, with the reason, in the audit too."""
    in_rga(plan, A_OFF_B_ON)
    review_done(plan.pal, plan.agreement, on=RGA_DETERMINED,
                override=f"{A}=off_track_progress;{B}=off_track_progress",
                reason=f"{A}={REASON};{B}=the reading measure was late")  # fmt: skip
    found = determinations(plan.pal, plan.agreement, "rga")
    assert (found[A]["computed"], found[A]["agreed"], found[A]["reason"]) == (
        "off_track_limited", "off_track_progress", REASON
    )  # fmt: skip
    assert (found[B]["computed"], found[B]["agreed"]) == ("on_track", "off_track_progress")
    last = show(plan.pal, plan.agreement)["history"][-1]
    assert last["data"]["statuses"][A] == {
        "computed": "off_track_limited", "agreed": "off_track_progress"
    }  # fmt: skip


def test_an_override_to_an_unknown_status_or_school_is_refused(plan: Plan) -> None:
    """An override naming a status that does not exist, or a school not covered: exit 2."""
    in_rga(plan, A_OFF_B_ON)
    record_steps(plan.pal, plan.agreement, on=RGA_DETERMINED)
    for override in (f"{A}=sideways", "ELSEWHERE=on_track"):
        school = override.split("=")[0]
        refused(plan.pal, 2, "agreement", "fire", plan.agreement, "determine", "--set",
                f"override={override}", "--set", f"reason={school}={REASON}", "--by", DIRECTOR,
                "--on", RGA_DETERMINED)  # fmt: skip


# --- steps ---------------------------------------------------------------------------------------


def step(pal: Pal, agreement: int, name: str, *, on: str = "2019-11-10") -> list[Any]:
    return ["agreement", "fire", agreement, AGREEMENT.steps[name], "--by", LIAISON, "--on", on]


def test_a_step_out_of_order_is_refused(plan: Plan) -> None:
    """The conference before the evidence, or the MDE assessment before the self-assessment,
    is refused (3) and changes nothing."""
    in_rga(plan)
    refused(plan.pal, 3, *step(plan.pal, plan.agreement, "conference"), mentions="evidence")
    fire(plan.pal, plan.agreement, AGREEMENT.steps["evidence"], by=LIAISON, on="2019-11-10")
    refused(plan.pal, 3, *step(plan.pal, plan.agreement, "mde_assessment"))


def test_a_repeated_step_is_refused(plan: Plan) -> None:
    """Recording the evidence twice is refused (3): it is already recorded."""
    in_rga(plan)
    fire(plan.pal, plan.agreement, AGREEMENT.steps["evidence"], by=LIAISON, on="2019-11-10")
    refused(plan.pal, 3, *step(plan.pal, plan.agreement, "evidence"), mentions="already")


def test_the_determination_waits_for_every_step(plan: Plan) -> None:
    """Determining before the conference is refused (3), naming the step still missing."""
    in_rga(plan, ALL_MET_18)
    for name in ("evidence", "self_assessment", "partner_assessment", "mde_assessment"):
        fire(plan.pal, plan.agreement, AGREEMENT.steps[name], by=LIAISON, on="2019-11-10")
    refused(plan.pal, 3, "agreement", "fire", plan.agreement, "determine", "--by", DIRECTOR,
            "--on", RGA_DETERMINED, mentions="conference")  # fmt: skip


def test_steps_are_recorded_in_order_with_who_and_when(plan: Plan) -> None:
    """Each step is one row with its day, who recorded it and its evidence; and one audit row."""
    in_rga(plan)
    steps = load_rules("2017-10").review("rga").steps
    for day, name in enumerate(steps, start=10):
        fire(plan.pal, plan.agreement, AGREEMENT.steps[name], "--set", f"evidence=binder {day}",
             by=LIAISON, on=f"2019-11-{day}")  # fmt: skip
    rows = execute(plan.pal.db_url, "SELECT step, done_on, recorded_by, evidence FROM review_step "
                   "ORDER BY id")  # fmt: skip
    assert [(s, str(on), by, ev) for s, on, by, ev in rows] == [
        (name, f"2019-11-{day}", LIAISON, f"binder {day}")
        for day, name in enumerate(steps, start=10)
    ]
    history = [h["event"] for h in show(plan.pal, plan.agreement)["history"]]
    assert history[-len(steps) :] == [AGREEMENT.steps[name] for name in steps]


def test_the_24_month_review_has_only_evidence_and_conference(plan: Plan) -> None:
    """In the 24-month review the self-assessment is refused (3); evidence then conference do."""
    in_rga(plan, A_OFF_B_ON)
    review_done(plan.pal, plan.agreement, on=RGA_DETERMINED)
    fire(plan.pal, plan.agreement, "open_review_24", by=DIRECTOR, on="2020-05-01")
    fire(plan.pal, plan.agreement, AGREEMENT.steps["evidence"], by=LIAISON, on="2020-05-10")
    refused(plan.pal, 3, *step(plan.pal, plan.agreement, "self_assessment", on="2020-05-11"))
    fire(plan.pal, plan.agreement, AGREEMENT.steps["conference"], by=LIAISON, on="2020-05-20")
    fire(plan.pal, plan.agreement, "determine", by=DIRECTOR, on="2020-06-01")
    assert show(plan.pal, plan.agreement)["state"] == "implementing"


def test_a_review_once_determined_cannot_be_opened_again(plan: Plan) -> None:
    """After the 24-month review's determination, opening the 24-month review again is refused
    (3), not an internal error."""
    in_rga(plan, A_OFF_B_ON)
    review_done(plan.pal, plan.agreement, on=RGA_DETERMINED)
    fire(plan.pal, plan.agreement, "open_review_24", by=DIRECTOR, on="2020-05-01")
    review_done(plan.pal, plan.agreement, on="2020-06-01")
    refused(plan.pal, 3, "agreement", "fire", plan.agreement, "open_review_24", "--by", DIRECTOR,
            "--on", "2020-06-02")  # fmt: skip


# --- the 24-month review, opened by the service ---------------------------------------------------


def test_the_service_opens_the_24_month_review_when_the_rga_left_a_school_off_track(
    plan: Plan,
) -> None:
    """A off track at the RGA: on signed + 24 months at 08:00 `system` opens the 24-month review."""
    in_rga(plan, A_OFF_B_ON)
    review_done(plan.pal, plan.agreement, on=RGA_DETERMINED)
    assert deadline(show(plan.pal, plan.agreement), "review_24_due")["status"] == "open"
    tick(plan.pal, local(REVIEW_24_DUE, time(7, 59)))
    assert state_of(plan.pal.db_url, plan.agreement) == "implementing"
    result = tick(plan.pal, local(REVIEW_24_DUE))
    opened = f"agreement {plan.agreement}: open the 24-month review; now at 24-month review"
    assert opened in result.stdout
    view = show(plan.pal, plan.agreement)
    last = view["history"][-1]
    assert (last["event"], last["by"], last["on"]) == (
        "open_review_24", "system", REVIEW_24_DUE.isoformat()
    )  # fmt: skip
    assert deadline(view, "review_24_due")["status"] == "met"
    evidence = [d for d in view["deadlines"] if d["kind"] == "evidence_due"]
    assert [(d["due"], d["status"]) for d in evidence] == [
        ("2019-12-01", "met_late"), ("2020-05-31", "open")
    ]  # fmt: skip


def test_an_rga_with_every_school_on_track_waives_the_24_month_review(plan: Plan) -> None:
    """Every school On-Track at the RGA: review_24_due is waived, its timers cancelled, and the
    sweep at 24 months opens nothing."""
    in_rga(plan, ALL_MET_18)
    review_done(plan.pal, plan.agreement, on=RGA_DETERMINED)
    waived = deadline(show(plan.pal, plan.agreement), "review_24_due")
    assert (waived["status"], waived["closed_on"]) == ("waived", RGA_DETERMINED)
    timers = execute(plan.pal.db_url, "SELECT DISTINCT status FROM timer WHERE agreement_id = :a "
                     "AND ladder = 'review_24_due'", a=plan.agreement)  # fmt: skip
    assert timers == [("cancelled",)]
    result = tick(plan.pal, local(REVIEW_24_DUE, offset_days=1))
    assert "open_review_24" not in result.stdout
    assert state_of(plan.pal.db_url, plan.agreement) == "implementing"
    assert not [r for r in outbox(plan.pal) if r["notice"] == "action_not_possible"]


def test_an_override_to_on_track_at_the_rga_waives_the_24_month_review(plan: Plan) -> None:
    """The agreed status decides: A computed off track but agreed On-Track waives the review."""
    in_rga(plan, A_OFF_B_ON)
    review_done(plan.pal, plan.agreement, on=RGA_DETERMINED, override=f"{A}=on_track",
                reason=f"{A}={REASON}")  # fmt: skip
    assert deadline(show(plan.pal, plan.agreement), "review_24_due")["status"] == "waived"


# --- step deadlines: reminders and overdue notices ------------------------------------------------


def test_a_step_due_soon_is_reminded_and_one_overdue_is_told(plan: Plan) -> None:
    """Evidence due 30 days after the RGA opens: a reminder 7 days before to the superintendent
    and liaison; 1 day after, an overdue notice to the liaison and director."""
    in_rga(plan)
    evidence_due = date(2019, 12, 1)
    reminder_day = notice_day(evidence_due, -7)  # due on a Sunday: the Friday before
    tick(plan.pal, local(reminder_day, offset_days=-1))
    before = {r["id"] for r in outbox(plan.pal)}
    tick(plan.pal, local(reminder_day))
    reminded = [r for r in outbox(plan.pal) if r["id"] not in before]
    assert sorted((r["notice"], r["to"]) for r in reminded) == sorted(
        ("review_step_reminder", who) for who in (person(TRAD, "superintendent"), LIAISON)
    )
    seen = {r["id"] for r in outbox(plan.pal)}
    tick(plan.pal, local(evidence_due, offset_days=1))
    overdue = [r for r in outbox(plan.pal) if r["id"] not in seen]
    assert sorted((r["notice"], r["to"]) for r in overdue) == sorted(
        ("review_step_overdue", who) for who in (LIAISON, DIRECTOR)
    )


def test_recording_a_step_stops_its_reminders(plan: Plan) -> None:
    """Evidence recorded before its due date meets evidence_due: no reminder, no overdue notice
    for it; the conference's deadline stays open."""
    in_rga(plan)
    fire(plan.pal, plan.agreement, AGREEMENT.steps["evidence"], by=LIAISON, on="2019-11-10")
    view = show(plan.pal, plan.agreement)
    assert deadline(view, "evidence_due")["status"] == "met"
    assert deadline(view, "conference_due")["status"] == "open"
    tick(plan.pal, local(date(2019, 12, 9)))  # evidence due 2019-12-01, +8 days
    timed = [r for r in outbox(plan.pal) if r["occurrence"].startswith("timer")]
    assert [r for r in timed if r["notice"] == "review_step_overdue"] == []


# --- outcomes at 36 months -----------------------------------------------------------------------


def at_36_months(plan: Plan, values: Mapping[str, float]) -> None:
    """Through the RGA (every school on track) to the 36-month determination with `values`."""
    in_rga(plan, ALL_MET_18)
    review_done(plan.pal, plan.agreement, on=RGA_DETERMINED)
    plan.measure(values, measured_on="2021-04-01", on="2021-04-02")
    fire(plan.pal, plan.agreement, "open_review_36", by=DIRECTOR, on=REVIEW_36_OPENED)
    review_done(plan.pal, plan.agreement, on=REVIEW_36_DETERMINED)


ALL_MET_36 = {"a_track": 60, "a_grad": 80, "a_absent": 10, "b_track": 60, "b_prof": 40,
              "b_read": 3}  # fmt: skip


def test_exit_without_a_note_is_refused_when_a_school_is_off_track(plan: Plan) -> None:
    """A off track at 36 months: exit without --note is bad input (2) naming the school; with a
    note the agreement exits and the note is kept."""
    at_36_months(plan, {**ALL_MET_36, "a_track": 45})
    refused(plan.pal, 2, "agreement", "fire", plan.agreement, "exit", "--by", DIRECTOR,
            "--on", "2021-06-20", mentions=A)  # fmt: skip
    fire(plan.pal, plan.agreement, "exit", "--note", "exits with a transition plan for A",
         by=DIRECTOR, on="2021-06-20")  # fmt: skip
    view = show(plan.pal, plan.agreement)
    assert view["state"] == "exited"
    assert view["history"][-1]["note"] == "exits with a transition plan for A"


def test_exit_needs_no_note_when_every_school_is_on_track(plan: Plan) -> None:
    """Every school On-Track at 36 months: the director exits without a note."""
    at_36_months(plan, ALL_MET_36)
    assert statuses(plan.pal, plan.agreement, "review_36") == {
        A: ("on_track", "on_track"), B: ("on_track", "on_track")
    }  # fmt: skip
    fire(plan.pal, plan.agreement, "exit", by=DIRECTOR, on="2021-06-20")
    assert show(plan.pal, plan.agreement)["state"] == "exited"


def test_escalation_with_two_options_and_a_note_after_the_36_month_review(plan: Plan) -> None:
    """The State Superintendent escalates with two of the agreed consequences and the reason."""
    at_36_months(plan, {**ALL_MET_36, "a_track": 40, "a_grad": 70, "a_absent": 20})
    escalate(plan.pal, plan.agreement, "isd_intervention", "increased_supports",
             on="2021-06-20")  # fmt: skip
    view = show(plan.pal, plan.agreement)
    assert view["state"] == "next_level_accountability"
    assert view["escalation_option"] == "isd_intervention,increased_supports"
    last = view["history"][-1]
    assert (last["by"], last["note"]) == (STATE_SUPERINTENDENT, ESCALATION_NOTE)
    assert last["data"] == {"option": ["isd_intervention", "increased_supports"]}


# --- the rule is data ----------------------------------------------------------------------------

STRICTER = """
extends = "2017-10"
version = "2099-07"

[determination]
met_at_least = "1/2"
moved_more_than = "2/3"
"""


@pytest.fixture
def stricter(seeded: Pal, tmp_path: Path) -> Iterator[Pal]:
    with rules_folder(seeded, tmp_path / "rules", {"2099-07": STRICTER}) as pal:
        yield pal


def test_a_rules_version_with_other_shares_gives_another_status(stricter: Pal) -> None:
    """Exactly a third met is with progress under 2017-10 but limited under a version asking for
    half; the determination records the version it used."""
    values = {**ALL_MET_18, "a_track": 39, "a_grad": 70}  # A: 1 of 3 met, nothing moved
    plan = planned(stricter, rules="2099-07")
    in_rga(plan, values)
    review_done(stricter, plan.agreement, on=RGA_DETERMINED)
    assert statuses(stricter, plan.agreement, "rga")[A] == (
        "off_track_limited", "off_track_limited"
    )  # fmt: skip
    assert show(stricter, plan.agreement)["history"][-1]["data"]["rules"] == "2099-07"
