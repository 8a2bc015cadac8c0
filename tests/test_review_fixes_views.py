"""What people read about a review and an escalation says what is so, in words: listed options
by their labels, a school without benchmarks flagged, a recorded reason always shown, the
24-month reminder claiming no result before the RGA is determined, and the README's text limits
those the code applies."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from helpers import (
    ASSESSMENT_ON,
    DIRECTOR,
    LIAISON,
    TRAD,
    TRAD_PARTIES,
    Pal,
    add_school,
    escalate,
    identify,
    ok,
    record_steps,
    refused,
    sign,
    start_assessment,
    with_bodies,
)

from notifications.render import render
from notifications.reviews import ReviewFacts, SchoolFacts
from workflow.cli import present
from workflow.text import NAME_MAX, TEXT_MAX

OPENED_ON = "2019-11-01"
DETERMINED_ON = "2019-12-20"
BOTH_OPTIONS = "Intervention by the ISD, Increased supports from MDE"
README = Path(__file__).parents[1] / "README.md"


def in_rga(pal: Pal) -> int:
    """An agreement whose RGA is open: HS1 has one benchmark, met; ES2 was named at
    identification and has no benchmark in the plan."""
    add_school(pal, "HS1")
    add_school(pal, "ES2")
    agreement = identify(pal, TRAD, "--schools", "HS1,ES2")
    start_assessment(pal, agreement)
    out = ok(
        pal,
        "benchmark",
        "add",
        agreement,
        "--school",
        "HS1",
        "--kind",
        "attendance_rate",
        "--baseline",
        "50",
        "--target-18",
        "60",
        "--target-36",
        "70",
        "--on",
        ASSESSMENT_ON,
        "--by",
        LIAISON,
    )
    sign(pal, agreement, TRAD_PARTIES)
    ok(pal, "agreement", "fire", agreement, "open_rga", "--on", OPENED_ON, "--by", DIRECTOR)
    ok(
        pal,
        "benchmark",
        "measure",
        out.strip(),
        "--value",
        "61",
        "--on",
        "2019-09-15",
        "--by",
        LIAISON,
    )
    return agreement


def determined(pal: Pal) -> int:
    agreement = in_rga(pal)
    record_steps(pal, agreement, on="2019-11-20")
    ok(pal, "review", "determine", agreement, "--on", DETERMINED_ON, "--by", DIRECTOR)
    return agreement


def schools(pal: Pal, agreement: int) -> dict[str, dict[str, Any]]:
    view = json.loads(ok(pal, "review", "show", agreement, "--json"))
    return {s["school"]: s for s in view["schools"]}


def history(pal: Pal, agreement: int) -> list[str]:
    return ok(pal, "agreement", "show", agreement).split("  history\n")[1].splitlines()


# --- 1. lists in `agreement show` -------------------------------------------------------------


def test_an_escalation_shows_its_options_by_their_labels(seeded: Pal) -> None:
    """`agreement show` names the escalation's options by their labels joined by ", ", in its
    `escalated to` line and in the history."""
    agreement = identify(seeded, TRAD)
    escalate(seeded, agreement, "isd_intervention", "increased_supports", on="2018-03-10")

    out = ok(seeded, "agreement", "show", agreement)

    assert f"  escalated to   {BOTH_OPTIONS}\n" in out
    assert f"[option={BOTH_OPTIONS}]" in history(seeded, agreement)[-1]
    assert "isd_intervention" not in out.split("  escalated to")[1].split("\n")[0]


def test_no_history_line_shows_a_python_list(seeded: Pal) -> None:
    """Across identification with schools, a plan, a determination and an escalation, no history
    line holds a Python list or quoted item."""
    agreement = determined(seeded)
    escalate(seeded, agreement, "closure", on="2019-12-21")

    lines = history(seeded, agreement)

    assert "[option=School closure]" in lines[-1]
    assert not [line for line in lines if re.search(r"\['|'\]|=\[", line)]


def test_a_listed_audit_item_without_labels_is_joined_in_a_history_line() -> None:
    """A list in an event's audit data (a creation's schools shown on a later row) reads as its
    items joined by ", "."""
    view = {
        "id": 1,
        "district": TRAD,
        "district_name": None,
        "state": "identified",
        "cohort": None,
        "identified_on": "2018-03-01",
        "rules_version": "2017-10",
        "signed_on": None,
        "liaison": None,
        "consequences": ["closure"],
        "renewed_from": None,
        "renewed_as": None,
        "escalation_option": None,
        "deadlines": [],
        "signatures": {},
        "schools": [],
        "review": None,
        "history": [
            {
                "event": "x",
                "from": "identified",
                "to": "identified",
                "by": "me",
                "on": "2018-03-02",
                "note": None,
                "data": {"schools": ["HS1", "ES2"]},
            }
        ],
    }

    assert present.agreement_text(view).endswith("[schools=HS1, ES2]")


# --- 2. the 24-month reminder ----------------------------------------------------------------


def test_the_24_month_reminder_claims_no_result_of_the_rga() -> None:
    """The reminder sent before the RGA may be determined says a 24-month review opens on its date
    only if a school is left off track, and that none is needed if every school is On-Track."""
    values = {
        "agreement": SimpleNamespace(id=3, cohort=None, state="rga", escalation_option=None),
        "district": SimpleNamespace(code="LAKE", name="Lake", psa=False, authorizer=None),
        "liaison": None,
        "deadline": SimpleNamespace(
            label="the 24-month review", due_on=date(2020, 5, 1), days_left=60
        ),
        "missing_parties": [],
        "office": SimpleNamespace(phone="517-555-0100", web="https://www.mde.example"),
        "recipient": SimpleNamespace(name="Jo", email="j@x", role="superintendent"),
    }

    notice = render("review_24_reminder", values)

    for part in (notice.text, re.sub(r"<[^>]+>", "", notice.html)):
        flat = " ".join(part.split())
        assert "The 24-month review of the partnership agreement for Lake is due on Friday" in flat
        assert (
            "It is held only if the 18-month Review of Goal Attainment leaves a school off track; "
            "if every school is On-Track, no 24-month review is needed." in flat
        )
        assert "left at least one school" not in flat
    assert "if any school is off track" in notice.subject


# --- 3. a school with no benchmarks -----------------------------------------------------------


def test_review_show_json_flags_a_school_with_no_benchmarks(seeded: Pal) -> None:
    """`review show --json` gives a school without benchmarks `benchmarks: []` and
    `no_benchmarks: true` (others false), before and after the determination."""
    agreement = in_rga(seeded)
    before = schools(seeded, agreement)
    record_steps(seeded, agreement, on="2019-11-20")
    ok(seeded, "review", "determine", agreement, "--on", DETERMINED_ON, "--by", DIRECTOR)

    for view in (before, schools(seeded, agreement)):
        assert (view["ES2"]["benchmarks"], view["ES2"]["no_benchmarks"]) == ([], True)
        assert view["ES2"]["computed"] == "off_track_limited"
        assert view["HS1"]["no_benchmarks"] is False


def test_review_show_says_a_school_had_no_benchmarks(seeded: Pal) -> None:
    """`review show` and the determination's own output say under a school without benchmarks
    that the plan had none for it."""
    agreement = in_rga(seeded)
    record_steps(seeded, agreement, on="2019-11-20")
    said = ok(seeded, "review", "determine", agreement, "--on", DETERMINED_ON, "--by", DIRECTOR)
    out = ok(seeded, "review", "show", agreement)

    for text in (said, out):
        lines = text.splitlines()
        es2 = next(i for i, line in enumerate(lines) if line.startswith("  ES2 "))
        assert "Off-Track with Limited Progress" in lines[es2]
        assert "NO BENCHMARKS in the plan" in lines[es2 + 1]
    assert "NO BENCHMARKS" not in out.split("  HS1 ")[1]


def test_agreement_show_says_a_school_has_no_benchmarks(seeded: Pal) -> None:
    """`agreement show` lists a covered school without benchmarks with a line saying so."""
    agreement = in_rga(seeded)

    out = ok(seeded, "agreement", "show", agreement)

    assert re.search(r"ES2 School: -\n\s+no benchmarks in the plan\n", out)


def test_the_determination_notice_says_a_school_had_no_benchmarks(seeded: Pal) -> None:
    """The determination notice says, in its text and HTML, that the plan had no benchmarks for a
    school without any, and says it of that school only."""
    agreement = determined(seeded)

    [row, *_] = with_bodies(
        seeded.db_url,
        "SELECT id FROM outbox WHERE notice = 'review_determined' AND agreement_id = :id",
        id=agreement,
    )

    text = row.body_text.split("ES2 School (ES2)")[1]
    assert "the plan had no benchmarks for this school" in text
    assert "no benchmarks" not in row.body_text.split("ES2 School (ES2)")[0]
    assert "The plan had no benchmarks for this school" in row.body_html


# --- 4. a reason recorded is shown ------------------------------------------------------------


def facts(school: SchoolFacts) -> ReviewFacts:
    return ReviewFacts(
        label="18-month Review of Goal Attainment",
        opened_on=date(2019, 11, 1),
        steps=(),
        last=None,
        next=None,
        next_due=None,
        next_due_for=None,
        determination_due=None,
        determined_on=date(2019, 12, 20),
        schools=(school,),
    )


def test_review_show_gives_a_reason_recorded_for_a_status_equal_to_the_computed_one() -> None:
    """`review show` gives the reason whenever one is recorded, even when the status agreed is
    the one computed, and gives none when none is recorded."""
    school = {
        "school": "EL1",
        "computed": "on_track",
        "agreed": "on_track",
        "reason": "the spring count confirms it",
        "benchmarks": [],
    }
    view = {
        "agreement": 1,
        "kind": "rga",
        "opened_on": "2019-11-01",
        "steps": [],
        "determined_on": "2019-12-20",
        "determined_by": DIRECTOR,
        "schools": [school],
    }

    assert "  EL1        On-Track (agreed because: the spring count confirms it)" in (
        present.review_text(view)
    )
    assert present.review_text({**view, "schools": [{**school, "reason": None}]}).endswith(
        "  EL1        On-Track"
    )


def test_the_determination_notice_gives_a_reason_recorded_for_an_unchanged_status() -> None:
    """The determination notice gives the reason whenever one is recorded, even when the status
    agreed is the one the rules gave."""
    school = SchoolFacts(
        code="EL1",
        name="Elm",
        status="On-Track",
        computed="On-Track",
        reason="the spring count confirms it",
        overridden=False,
        unmeasured=0,
    )
    values = {
        "agreement": SimpleNamespace(
            id=3, cohort=None, state="implementing", escalation_option=None
        ),
        "district": SimpleNamespace(code="LAKE", name="Lake", psa=False, authorizer=None),
        "liaison": None,
        "deadline": None,
        "missing_parties": [],
        "office": SimpleNamespace(phone="517-555-0100", web="https://www.mde.example"),
        "recipient": SimpleNamespace(name="Jo", email="j@x", role="superintendent"),
        "review": facts(school),
        "open_deadlines": [],
    }

    notice = render("review_determined", values)

    assert "reason: the spring count confirms it" in notice.text
    assert "agreed at the structured conference: the spring count confirms it" in notice.html
    assert "by the rules: On-Track" not in notice.text


# --- 5. the README's text limits --------------------------------------------------------------


def test_a_benchmark_label_holds_the_text_limit_and_a_name_the_name_limit(seeded: Pal) -> None:
    """A benchmark's label may hold up to TEXT_MAX characters (more is exit 2), a school's name
    up to NAME_MAX, and the README says so."""
    add_school(seeded, "HS1")
    agreement = identify(seeded, TRAD, "--schools", "HS1")
    base = (
        "benchmark",
        "add",
        agreement,
        "--school",
        "HS1",
        "--kind",
        "local",
        "--baseline",
        "1",
        "--target-18",
        "2",
        "--target-36",
        "3",
        "--on",
        "2018-03-02",
        "--by",
        LIAISON,
    )

    ok(seeded, *base, "--label", "x" * TEXT_MAX)
    refused(seeded, 2, *base, "--label", "y" * (TEXT_MAX + 1), mentions=f"{TEXT_MAX:,}")
    refused(
        seeded,
        2,
        "school",
        "add",
        "LONG",
        "--name",
        "n" * (NAME_MAX + 1),
        "--district",
        TRAD,
        "--by",
        DIRECTOR,
        mentions=f"{NAME_MAX:,}",
    )

    limits = " ".join(README.read_text().split("A name (of a district")[1].split()[:40])
    assert f"holds at most {NAME_MAX} characters" in limits
    assert "a benchmark's label" in limits and f"at most {TEXT_MAX:,}" in limits
