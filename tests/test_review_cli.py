"""`pal review show/step/determine`: a review's steps in order, each school's status computed by
the rules and agreed at the conference (an override only with a reason), and what shows it."""

from __future__ import annotations

import json
from typing import Any

from helpers import (
    ASSESSMENT_ON,
    DIRECTOR,
    LIAISON,
    TRAD,
    TRAD_PARTIES,
    Pal,
    add_school,
    identify,
    ok,
    refused,
    show,
    sign,
    start_assessment,
)

OPENED_ON = "2019-11-01"
STEPS = ("evidence", "self_assessment", "partner_assessment", "mde_assessment", "conference")
REVIEW_KEYS = {"agreement", "kind", "opened_on", "steps", "determined_on", "schools"}
SCHOOL_KEYS = {"school", "computed", "agreed", "reason", "benchmarks", "no_benchmarks"}
JUDGED_KEYS = {"id", "kind", "label", "baseline", "target", "direction", "value", "measured_on",
               "met", "progress"}  # fmt: skip


def benchmark(pal: Pal, agreement: int, school: str, kind: str, target_18: str,
              *extra: str, target_36: str = "90") -> int:  # fmt: skip
    out = ok(pal, "benchmark", "add", agreement, "--school", school, "--kind", kind,
             "--baseline", "50", "--target-18", target_18, "--target-36", target_36, *extra,
             "--on", ASSESSMENT_ON, "--by", LIAISON)  # fmt: skip
    return int(out.strip())


def in_rga(pal: Pal) -> tuple[int, dict[str, int]]:
    """An agreement whose RGA is open: HS1 (a high school) meets its graduation and attendance
    targets; EL1 has one benchmark not met but moved, one lower-is-better not measured, and a
    school ES2 named at identification has none."""
    add_school(pal, "HS1", high_school=True)
    add_school(pal, "EL1")
    add_school(pal, "ES2")
    agreement = identify(pal, TRAD, "--schools", "HS1,EL1,ES2")
    start_assessment(pal, agreement)
    ids = {
        "grad": benchmark(pal, agreement, "HS1", "graduation_rate", "60"),
        "attendance": benchmark(pal, agreement, "HS1", "attendance_rate", "60"),
        "on_track": benchmark(pal, agreement, "EL1", "on_track", "70"),
    }
    ids["absence"] = benchmark(pal, agreement, "EL1", "local", "40", "--label", "chronic absence",
                               "--lower-is-better", target_36="30")  # fmt: skip
    sign(pal, agreement, TRAD_PARTIES)
    ok(pal, "agreement", "fire", agreement, "open_rga", "--on", OPENED_ON, "--by", DIRECTOR)
    for name, value in (("grad", "61"), ("attendance", "60"), ("on_track", "55")):
        ok(pal, "benchmark", "measure", ids[name], "--value", value, "--on", "2019-09-15",
           "--evidence", "state data", "--by", LIAISON)  # fmt: skip
    return agreement, ids


def steps(pal: Pal, agreement: int, *names: str, on: str = "2019-11-20") -> None:
    for name in names:
        ok(pal, "review", "step", agreement, name, "--on", on, "--by", LIAISON)


def review(pal: Pal, agreement: int) -> dict[str, Any]:
    return json.loads(ok(pal, "review", "show", agreement, "--json"))  # type: ignore[no-any-return]


def test_review_show_before_a_review_is_exit_2(seeded: Pal) -> None:
    """An agreement that has had no review has nothing to show: bad input, exit 2."""
    add_school(seeded, "HS1")
    agreement = identify(seeded, TRAD, "--schools", "HS1")
    refused(seeded, 2, "review", "show", agreement, mentions="no review")


def test_review_show_json_before_the_determination(seeded: Pal) -> None:
    """`review show --json` has the issue's shape; before the determination each school's status
    is the one the rules compute today, not yet agreed, and an unmeasured benchmark has no value."""
    agreement, ids = in_rga(seeded)
    view = review(seeded, agreement)
    assert set(view) >= REVIEW_KEYS
    assert (view["agreement"], view["kind"], view["opened_on"]) == (agreement, "rga", OPENED_ON)
    assert (view["steps"], view["determined_on"]) == ([], None)
    assert (view["next_step"], view["due"]) == ("evidence", "2019-12-01")
    schools = {s["school"]: s for s in view["schools"]}
    assert all(set(s) == SCHOOL_KEYS for s in view["schools"])
    assert {code: (s["computed"], s["agreed"]) for code, s in schools.items()} == {
        "EL1": ("off_track_limited", None),  # moved on half of those not met: not more
        "ES2": ("off_track_limited", None),
        "HS1": ("on_track", None),
    }
    [on_track, absence] = schools["EL1"]["benchmarks"]
    assert set(absence) == JUDGED_KEYS
    assert absence == {"id": ids["absence"], "kind": "local", "label": "chronic absence",
                       "baseline": 50.0, "target": 40.0, "direction": "lower", "value": None,
                       "measured_on": None, "met": False, "progress": False}  # fmt: skip
    assert (on_track["value"], on_track["met"], on_track["progress"]) == (55.0, False, True)


def test_review_show_in_words_flags_a_missing_measurement(seeded: Pal) -> None:
    """`review show` names the review, statuses and kinds in words and flags a benchmark with no
    measurement."""
    agreement, _ = in_rga(seeded)
    out = ok(seeded, "review", "show", agreement)
    assert "18-month Review of Goal Attainment" in out
    assert "next: the evidence submission and benchmark assessment" in out
    assert "computed On-Track (not yet agreed)" in out
    assert "local measure: chronic absence" in out
    assert "NO MEASUREMENT" in out
    assert "on_track" not in out and "off_track" not in out


def test_steps_are_recorded_in_order_with_who_and_when(seeded: Pal) -> None:
    """Each step prints what it recorded and what comes next; `review show` lists them."""
    agreement, _ = in_rga(seeded)
    out = ok(seeded, "review", "step", agreement, "evidence", "--on", "2019-11-20",
             "--evidence", "binder", "--note", "on time", "--by", LIAISON)  # fmt: skip
    assert out.strip() == (
        f"agreement {agreement}: evidence submission and benchmark assessment recorded; next: the "
        "district self-assessment; the structured conference is due 2019-12-31"
    )
    steps(seeded, agreement, *STEPS[1:])
    view = review(seeded, agreement)
    assert [(s["step"], s["on"], s["by"]) for s in view["steps"]] == [
        (step, "2019-11-20", LIAISON) for step in STEPS
    ]
    assert (view["next_step"], view["due"]) == (None, "2020-01-30")


def test_steps_out_of_order_or_repeated_are_not_allowed(seeded: Pal) -> None:
    """A step before its turn, or recorded twice, is refused with exit 3 and changes nothing."""
    agreement, _ = in_rga(seeded)
    refused(seeded, 3, "review", "step", agreement, "conference", "--by", LIAISON,
            mentions="comes after")  # fmt: skip
    steps(seeded, agreement, "evidence")
    refused(seeded, 3, "review", "step", agreement, "evidence", "--by", LIAISON,
            mentions="already recorded")  # fmt: skip


def test_an_unknown_step_is_bad_input_listing_the_steps(seeded: Pal) -> None:
    """`review step ... party` is exit 2 and the message lists the steps."""
    agreement, _ = in_rga(seeded)
    refused(seeded, 2, "review", "step", agreement, "party", "--by", LIAISON,
            mentions=", ".join(STEPS))  # fmt: skip


def test_a_step_outside_a_review_is_not_allowed(seeded: Pal) -> None:
    """Before any review opens, a step is refused with exit 3."""
    add_school(seeded, "HS1")
    agreement = identify(seeded, TRAD, "--schools", "HS1")
    refused(seeded, 3, "review", "step", agreement, "evidence", "--by", LIAISON)


def test_determine_before_the_conference_is_not_allowed(seeded: Pal) -> None:
    """The director cannot determine while a step is missing: exit 3."""
    agreement, _ = in_rga(seeded)
    steps(seeded, agreement, *STEPS[:-1])
    refused(seeded, 3, "review", "determine", agreement, "--by", DIRECTOR,
            mentions="structured conference")  # fmt: skip


def test_determine_refuses_bad_overrides(seeded: Pal) -> None:
    """An override without a reason, malformed, to an unknown status or school, and a reason
    without an override are all bad input (exit 2) and change nothing."""
    agreement, _ = in_rga(seeded)
    steps(seeded, agreement, *STEPS)
    base = ("review", "determine", agreement, "--by", DIRECTOR)
    refused(seeded, 2, *base, "--override", "EL1=on_track", mentions="reason")
    refused(seeded, 2, *base, "--override", "EL1", "--reason", "EL1=x", mentions="SCHOOL=")
    refused(seeded, 2, *base, "--override", "EL1=great", "--reason", "EL1=x")
    refused(seeded, 2, *base, "--override", "ZZ9=on_track", "--reason", "ZZ9=x")
    refused(seeded, 2, *base, "--reason", "EL1=x")


def test_determine_records_computed_and_agreed_statuses(seeded: Pal) -> None:
    """The determination prints each school's status in words (an override with its computed
    status and reason), moves the RGA to implementing, and `review show` keeps the inputs."""
    agreement, ids = in_rga(seeded)
    steps(seeded, agreement, *STEPS)
    reason = "survey shows chronic absence falling"
    out = ok(seeded, "review", "determine", agreement, "--on", "2019-12-20",
             "--override", "EL1=off_track_progress", "--reason", f"EL1={reason}",
             "--by", DIRECTOR)  # fmt: skip
    assert out.splitlines() == [
        f"agreement {agreement}: status determined; now Implementing the plan",
        f"  EL1        Off-Track with Progress (computed Off-Track with Limited Progress; "
        f"agreed because: {reason})",
        "  ES2        Off-Track with Limited Progress",
        "      NO BENCHMARKS in the plan for this school (nothing shows it on track)",
        "  HS1        On-Track",
    ]
    view = review(seeded, agreement)
    assert (view["determined_on"], view["next_step"], view["due"]) == ("2019-12-20", None, None)
    schools = {s["school"]: s for s in view["schools"]}
    el1 = schools["EL1"]
    assert (el1["computed"], el1["agreed"]) == ("off_track_limited", "off_track_progress")
    assert schools["EL1"]["reason"] == reason
    assert [b["id"] for b in schools["HS1"]["benchmarks"]] == [ids["grad"], ids["attendance"]]
    assert all(set(b) == JUDGED_KEYS for b in schools["HS1"]["benchmarks"])
    assert show(seeded, agreement)["state"] == "implementing"
    history = ok(seeded, "agreement", "show", agreement).split("  history")[1]
    assert f"override=(EL1=Off-Track with Progress), reason=(EL1={reason})" in history


def test_a_determined_review_is_not_determined_again(seeded: Pal) -> None:
    """After the RGA's determination there is no open review to determine: exit 3."""
    agreement, _ = in_rga(seeded)
    steps(seeded, agreement, *STEPS)
    ok(seeded, "review", "determine", agreement, "--by", DIRECTOR)
    refused(seeded, 3, "review", "determine", agreement, "--by", DIRECTOR)
    refused(seeded, 3, "review", "step", agreement, "evidence", "--by", LIAISON)


def test_determine_needs_the_director(seeded: Pal) -> None:
    """A liaison may record steps but not determine: exit 4."""
    agreement, _ = in_rga(seeded)
    steps(seeded, agreement, *STEPS)
    refused(seeded, 4, "review", "determine", agreement, "--by", LIAISON)


def test_agreement_show_has_the_review_and_each_school_status(seeded: Pal) -> None:
    """`agreement show` has the open review with its next step and due date, and after the
    determination each school's agreed status; human output in words."""
    agreement, _ = in_rga(seeded)
    steps(seeded, agreement, "evidence")
    summary = show(seeded, agreement)["review"]
    assert {"kind", "opened_on", "next_step", "due", "determined_on"} <= set(summary)
    assert (summary["kind"], summary["next_step"], summary["due"]) == (
        "rga", "self_assessment", "2019-12-31")  # fmt: skip
    out = ok(seeded, "agreement", "show", agreement)
    assert "18-month Review of Goal Attainment, opened 2019-11-01" in out
    assert "next: the district self-assessment" in out
    steps(seeded, agreement, *STEPS[1:])
    ok(seeded, "review", "determine", agreement, "--by", DIRECTOR)
    view = show(seeded, agreement)
    assert {s["code"]: s["status"] for s in view["schools"]} == {
        "EL1": "off_track_limited", "ES2": "off_track_limited", "HS1": "on_track"}  # fmt: skip
    assert view["review"]["determined_on"] is not None
    assert "HS1 School: On-Track" in ok(seeded, "agreement", "show", agreement)


def test_the_24_month_review_takes_evidence_then_conference(seeded: Pal) -> None:
    """After an RGA with a school off track, the 24-month review is the one `review show` shows;
    it takes only the evidence and the conference (another step: exit 3), then its own
    determination."""
    agreement, _ = in_rga(seeded)
    steps(seeded, agreement, *STEPS)
    ok(seeded, "review", "determine", agreement, "--on", "2019-12-20", "--by", DIRECTOR)
    ok(seeded, "agreement", "fire", agreement, "open_review_24", "--on", "2020-05-01",
       "--by", DIRECTOR)  # fmt: skip
    view = review(seeded, agreement)
    assert (view["kind"], view["opened_on"], view["steps"]) == ("review_24", "2020-05-01", [])
    assert (view["next_step"], view["determined_on"]) == ("evidence", None)
    steps(seeded, agreement, "evidence", on="2020-05-20")
    refused(seeded, 3, "review", "step", agreement, "self_assessment", "--by", LIAISON,
            mentions="no district self-assessment")  # fmt: skip
    steps(seeded, agreement, "conference", on="2020-06-10")
    assert review(seeded, agreement)["next_step"] is None
    out = ok(seeded, "review", "determine", agreement, "--on", "2020-06-20", "--by", DIRECTOR)
    assert out.startswith(f"agreement {agreement}: status determined; now Implementing the plan")
    assert "24-month review, opened 2020-05-01" in ok(seeded, "review", "show", agreement)


def test_the_36_month_review_judges_against_the_36_month_targets(seeded: Pal) -> None:
    """`review show` of an open 36-month review computes each status against the 36-month
    targets, and its determination leaves the agreement in the 36-month review."""
    agreement, _ = in_rga(seeded)
    steps(seeded, agreement, *STEPS)
    ok(seeded, "review", "determine", agreement, "--on", "2019-12-20", "--by", DIRECTOR)
    ok(seeded, "agreement", "fire", agreement, "open_review_36", "--on", "2021-05-01",
       "--by", DIRECTOR)  # fmt: skip
    view = review(seeded, agreement)
    hs1 = next(s for s in view["schools"] if s["school"] == "HS1")
    assert view["kind"] == "review_36"
    assert [b["target"] for b in hs1["benchmarks"]] == [90.0, 90.0]
    assert hs1["computed"] == "off_track_progress"
    steps(seeded, agreement, *STEPS, on="2021-06-01")
    out = ok(seeded, "review", "determine", agreement, "--on", "2021-07-01", "--by", DIRECTOR)
    assert out.startswith(f"agreement {agreement}: status determined; now 36-month review")
