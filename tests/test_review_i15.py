"""Review of issue 15 (Section 21(h) fund requests) where its parts meet: a request's deadlines
shown to staff, error lines in words, exact amounts end to end."""

from __future__ import annotations

import json

import pytest
from funds_helpers import agreement_with_benchmark, under_review
from helpers import DIRECTOR, LIAISON, Pal, assert_error, days_after, iso, ok, today

CONTRACT = ("id", "agreement", "year", "state", "total", "priorities", "activities", "history")


@pytest.fixture
def plan(seeded: Pal) -> tuple[Pal, int, int]:
    agreement, benchmark = agreement_with_benchmark(seeded)
    return seeded, agreement, benchmark


def test_funds_show_lists_the_open_deadlines_in_words_with_days_left(
    plan: tuple[Pal, int, int],
) -> None:
    """A submitted request shows its decision deadline: what it is for, its date, days left."""
    pal, agreement, benchmark = plan
    request = under_review(pal, agreement, benchmark, "125000.00")
    due = days_after(iso(today()), 30)
    text = ok(pal, "funds", "show", request)
    line = next(line for line in text.splitlines() if due in line)
    assert "decision on the Section 21(h) fund request" in line
    assert "due in 30 days" in line
    assert "funds_decision_due" not in text


def test_funds_show_json_adds_deadlines_and_keeps_the_contract_fields(
    plan: tuple[Pal, int, int],
) -> None:
    """`funds show --json` keeps every contract field and adds `deadlines`."""
    pal, agreement, benchmark = plan
    request = under_review(pal, agreement, benchmark, "125000.00")
    view = json.loads(ok(pal, "funds", "show", request, "--json"))
    assert all(field in view for field in CONTRACT)
    assert view["deadlines"] == [{
        "kind": "funds_decision_due", "label": "decision on the Section 21(h) fund request",
        "due": days_after(iso(today()), 30), "days_left": 30, "status": "open",
    }]  # fmt: skip


def test_a_refused_step_of_a_request_is_told_in_words_not_engine_names(
    plan: tuple[Pal, int, int],
) -> None:
    """A denial without --note (exit 2) and an approval by the liaison (exit 4) say what was
    refused as people say it, never `funds_deny` or `funds_approve`."""
    pal, agreement, benchmark = plan
    request = under_review(pal, agreement, benchmark, "10.00")
    no_note = pal("funds", "deny", request, "--by", DIRECTOR)
    assert_error(no_note, 2, mentions="to deny the fund request, pal needs --note")
    not_theirs = pal("funds", "approve", request, "--by", LIAISON)
    assert_error(not_theirs, 4, mentions="may not approve the fund request")
    assert "funds_" not in no_note.stderr + not_theirs.stderr


def test_pal_deadlines_lists_a_requests_deadlines_in_words_naming_the_request(
    plan: tuple[Pal, int, int],
) -> None:
    """`pal deadlines` lists a request's decision due beside the agreement's own, in words,
    naming the request (JSON adds `process` and `case`; an agreement's own rows are as before)."""
    pal, agreement, benchmark = plan
    request = under_review(pal, agreement, benchmark, "10.00")
    rows = json.loads(ok(pal, "deadlines", "--json"))
    theirs = [(r["process"], r["case"], r["kind"]) for r in rows if "process" in r]
    assert theirs == [("funds", request, "funds_decision_due")]
    assert all("case" not in r for r in rows if "process" not in r)
    text = ok(pal, "deadlines")
    line = next(line for line in text.splitlines() if f"fund request {request}" in line)
    assert "decision on the Section 21(h) fund request" in line
    assert "funds_" not in text
