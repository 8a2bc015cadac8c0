"""The dashboard's words for deadlines and notes: an open deadline counts down as the overview
counts it, a closed one says what became of it, and notes stored with engine names read in words."""

from __future__ import annotations

from datetime import date
from typing import Any

from workflow.dashboard.agreement_page import due, timeline
from workflow.dashboard.words import benchmark, deadline_state, note, who

TODAY = date(2019, 3, 1)


def _view(*deadlines: tuple[str, str, str, str | None]) -> dict[str, Any]:
    return {"history": [], "deadlines": [{"kind": k, "due": d, "status": s, "closed_on": c}
                                         for k, d, s, c in deadlines]}  # fmt: skip


def test_a_deadline_met_late_says_so_in_words_with_its_day() -> None:
    """A deadline met late reads `met late, on` its day, not the engine's `met_late`."""
    found = {"kind": "evidence_due", "due": "2018-12-18", "status": "met_late",
             "closed_on": "2018-12-28"}  # fmt: skip
    assert deadline_state(found, TODAY) == ("met late, on", "2018-12-28")


def test_an_open_deadline_counts_down_as_the_overview_does() -> None:
    """An open deadline past due reads `N days overdue`, one to come `due in N days`."""
    rows = timeline(_view(("conference_due", "2019-01-17", "open", None),
                          ("review_24_due", "2019-05-18", "open", None)), TODAY)  # fmt: skip
    assert [(r["detail"], r["late"]) for r in rows] == [
        ("43 days overdue", "late"),
        ("due in 78 days", ""),
    ]


def test_the_summary_names_the_next_deadline_and_each_overdue_one() -> None:
    """The summary's next deadline is the first open one to come; each open one past due is
    listed as overdue; met ones are neither."""
    found = due(_view(("rga_due", "2018-11-18", "met", "2018-11-18"),
                      ("conference_due", "2019-01-17", "open", None),
                      ("determination_due", "2019-02-16", "open", None),
                      ("review_24_due", "2019-05-18", "open", None),
                      ("review_36_due", "2020-05-18", "open", None)), TODAY)  # fmt: skip
    assert found == {
        "next": [("24-month review", "2019-05-18", "due in 78 days")],
        "overdue": [
            ("Structured conference of the review", "2019-01-17", "43 days overdue"),
            ("Status determination of the review", "2019-02-16", "13 days overdue"),
        ],
    }


def test_a_stored_note_naming_a_deadline_by_its_engine_name_reads_in_words() -> None:
    """A note the sweep stored as `rga_due reached (due ...)` reads as the deadline's label."""
    assert note("rga_due reached (due 2019-06-30)") == (
        "18-month Review of Goal Attainment due (due 2019-06-30)"
    )


def test_a_stored_last_signature_note_names_the_party_by_its_label() -> None:
    """A last signature's note stored as `(last: mde, ...)` names the party by its label."""
    said = note("all required signatures recorded (last: mde, recorded by lee@mde.example)")
    assert str(said).replace("<wbr>", "") == (
        "all required signatures recorded (last: Michigan Department of Education, recorded "
        "by lee@mde.example)"
    )


def test_a_benchmark_s_name_starts_with_a_capital() -> None:
    """A benchmark's kind label starts with a capital like a label staff typed."""
    assert benchmark({"label": None, "kind": "on_track"})[0].isupper()
    assert benchmark({"label": "chronic absence", "kind": "local"}) == "Chronic absence"


def test_a_step_pal_took_itself_is_by_pal_in_words() -> None:
    """An audit row by the engine's `system` actor reads as pal's own step, an address as is."""
    assert who("system") == "pal, automatically"
    assert str(who("lee@mde.example")).replace("<wbr>", "") == "lee@mde.example"
