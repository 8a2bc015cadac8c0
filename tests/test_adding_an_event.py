"""Adding an event takes its spec in `states/`, rule data and templates, and nothing else: the
worked example of docs/design.md (a progress report during a review) is added here
to the agreement process and driven through the CLI, engine, deadlines, notices and audit."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from helpers import DIRECTOR, LIAISON, TRAD, Pal, assert_error, deadline, ok, rules_folder, show
from service_support import outbox

from states.agreement import AGREEMENT, AgreementCase
from states.errors import NotAllowedInState
from states.process import EventSpec, Field
from states.registry import PROCESSES
from states.rules import RuleSet


# --- the spec, as in docs/design.md --------------------------------------------------------------
def _report_once(case: AgreementCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    if any(event == "submit_progress_report" for event, _ in case.since_entered):
        raise NotAllowedInState("the progress report for this review has already been submitted")


SUBMIT_EVIDENCE = EventSpec(
    "submit_progress_report",
    "submit a progress report",
    ("rga", "review_24", "review_36"),
    fields=(Field("report"),),
    guard=_report_once,
    reads=frozenset({"history"}),
)
# --- rule data, as in docs/design.md -------------------------------------------------------------
RULES = """
extends = "2017-10"
version = "2099-08"

[permissions]
submit_progress_report = ["liaison", "director"]

[[deadlines]]
kind = "report_due"
opened_by = ["open_rga"]
met_by = ["submit_progress_report"]
days = 30

[[transition_notices]]
event = "submit_progress_report"
notice = "signed"  # a stand-in: the example's own template pair is not shipped
to = ["liaison", "director"]
"""


@pytest.fixture
def extended(seeded: Pal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pal]:
    process = dataclasses.replace(
        AGREEMENT,
        events=(*AGREEMENT.events, SUBMIT_EVIDENCE),
        deadline_labels={**AGREEMENT.deadline_labels, "report_due": "the progress report"},
    )
    monkeypatch.setitem(PROCESSES, "agreement", process)  # type: ignore[index]
    with rules_folder(seeded, tmp_path / "rules", {"2099-08": RULES}) as pal:
        yield pal


def in_rga(pal: Pal) -> int:
    agreement = int(ok(pal, "agreement", "identify", TRAD, "--rules", "2099-08", "--by", DIRECTOR,
                       "--on", "2018-03-01"))  # fmt: skip
    ok(pal, "agreement", "fire", agreement, "start_assessment", "--set", f"liaison={LIAISON}",
       "--by", LIAISON, "--on", "2018-03-05")  # fmt: skip
    for party in ("board", "superintendent", "mde"):
        ok(pal, "agreement", "sign", agreement, "--party", party, "--by", LIAISON,
           "--on", "2018-05-01")  # fmt: skip
    ok(pal, "agreement", "fire", agreement, "open_rga", "--by", DIRECTOR, "--on", "2019-11-01")
    return agreement


def test_the_new_event_opens_meets_notifies_and_audits(extended: Pal) -> None:
    """Opening the RGA opens report_due; submitting meets it, audits the evidence and tells
    the liaison and the director."""
    agreement = in_rga(extended)
    assert deadline(show(extended, agreement), "report_due")["due"] == "2019-12-01"
    out = ok(extended, "agreement", "fire", agreement, "submit_progress_report", "--set",
             "report=2019 M-STEP results", "--by", LIAISON, "--on", "2019-11-20")  # fmt: skip
    assert out.strip() == (
        f"agreement {agreement}: submit a progress report; "
        "stage: 18-month Review of Goal Attainment"
    )
    view = show(extended, agreement)
    assert deadline(view, "report_due")["status"] == "met"
    last = view["history"][-1]
    assert (last["event"], last["from"], last["to"], last["by"]) == (
        "submit_progress_report", "rga", "rga", LIAISON,
    )  # fmt: skip
    assert last["data"] == {"report": "2019 M-STEP results"}
    told = {row["to"] for row in outbox(extended) if row["occurrence"].startswith("submit")}
    assert told == {LIAISON, DIRECTOR}


def test_the_guard_sees_what_was_recorded_in_this_state(extended: Pal) -> None:
    """A second submission in the same review is refused (exit 3) and changes nothing."""
    agreement = in_rga(extended)
    args = ("agreement", "fire", agreement, "submit_progress_report", "--set", "report=x",
            "--by", LIAISON, "--on", "2019-11-20")  # fmt: skip
    ok(extended, *args)
    assert_error(extended(*args), 3, mentions="already been submitted")


def test_the_new_event_is_refused_where_it_is_not_defined(extended: Pal) -> None:
    """Before the review it is not allowed (exit 3); the permission table still applies (4)."""
    agreement = int(ok(extended, "agreement", "identify", TRAD, "--rules", "2099-08",
                       "--by", DIRECTOR))  # fmt: skip
    args = ("agreement", "fire", agreement, "submit_progress_report", "--set", "report=x")
    assert_error(extended(*args, "--by", LIAISON), 3, mentions="not allowed in state identified")
    assert_error(extended(*args, "--by", "state.superintendent@mde.example"), 4)


def test_without_the_rule_line_nobody_may_fire_it(extended: Pal) -> None:
    """Under a version that does not mention the event, it is refused (exit 4)."""
    agreement = int(ok(extended, "agreement", "identify", TRAD, "--by", DIRECTOR))
    result = extended("agreement", "fire", agreement, "submit_progress_report", "--set", "report=x",
                      "--by", LIAISON)  # fmt: skip
    assert_error(result, 4, mentions="nobody")
