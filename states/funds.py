"""Section 21(h) fund requests (MCL 388.1621h): a second process beside the agreement.

A partnership district asks for funds for a state fiscal year; the liaison enters the request,
its activities and its submission for the district and starts the review; the director approves,
denies or returns it (with comments, to be changed and submitted again) and records its funding;
the effectiveness of what was funded is reported afterwards, and the agreement's next request
must show it. Guards and effects are pure functions of a `FundsCase`, like the agreement's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from states.agreement import TERMINAL as AGREEMENT_ENDED
from states.errors import BadInput, NotAllowedInState
from states.money import to_cents
from states.process import Changes, Child, EventSpec, Field, Process
from states.rules import RuleSet

STATE_LABELS = {
    "draft": "Draft",
    "submitted": "Submitted",
    "under_review": "Under review",
    "approved": "Approved",
    "returned": "Returned with comments",
    "denied": "Denied",
    "funded": "Funded",
    "effectiveness_reported": "Effectiveness reported",
}
TERMINAL = frozenset({"denied", "effectiveness_reported"})
# A request the district may still change: a draft, or one returned with comments.
EDITABLE = ("draft", "returned")
CATEGORY_LABELS = {
    "pd_teachers": "Professional development for teachers",
    "pd_leaders": "Professional development for district or school leaders",
    "instructional_time": "Increased instructional time",
    "teacher_mentors": "Teacher mentors",
    "innovative_initiative": "Innovative initiative for student growth and proficiency",
}
PRIORITY_LABELS = {"literacy": "Literacy", "whole_child": "Whole child", "p8": "P-8"}

_YEAR = re.compile(r"(\d{4})-(\d{2})", re.ASCII)


def fiscal_year(raw: str) -> str:
    """A state fiscal year as written (`2025-26`: October 1, 2025 to September 30, 2026)."""
    text = raw.strip()
    found = _YEAR.fullmatch(text)
    if found is None or not 1900 <= int(found[1]) <= 8999:
        raise BadInput(f"a fiscal year is written like 2025-26, not {raw!r}")
    if int(found[2]) != (int(found[1]) + 1) % 100:
        raise BadInput(f"fiscal year {text} must end the year after it starts ({found[1]}-"
                       f"{(int(found[1]) + 1) % 100:02d})")  # fmt: skip
    return text


def fiscal_year_of(day: date) -> str:
    """The state fiscal year `day` falls in (it starts on October 1)."""
    start = day.year if day.month >= 10 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def fiscal_year_ends(year: str) -> date:
    return date(int(fiscal_year(year)[:4]) + 1, 9, 30)


@dataclass(frozen=True)
class Activity:
    category: str
    amount: Decimal
    metrics: str


@dataclass(frozen=True)
class FundsCase:
    """What the guards and effects look at: one request (or, for a new one, its agreement)."""

    agreement_id: int
    agreement_state: str
    # The agreement's benchmarks in the terms in force: what a request may say it serves.
    benchmarks: tuple[int, ...] = ()
    id: int | None = None
    state: str | None = None
    year: str = ""
    rationale: str = ""
    serves: tuple[int, ...] = ()
    priorities: tuple[str, ...] = ()
    activities: tuple[Activity, ...] = ()
    # The agreement's other requests funded whose effectiveness is not reported yet.
    unreported: tuple[int, ...] = ()

    @property
    def total(self) -> Decimal:
        return sum((a.amount for a in self.activities), Decimal("0.00"))


# --- entering a request ------------------------------------------------------------------------


def parse_serves(raw: str | None, benchmarks: tuple[int, ...], agreement: int) -> tuple[int, ...]:
    """The agreement benchmarks (by the ids `pal benchmark list` shows) a request serves."""
    items = [item.strip() for item in (raw or "").split(",") if item.strip()]
    chosen: list[int] = []
    for item in items:
        if not item.isascii() or not item.isdigit() or int(item) not in benchmarks:
            known = ", ".join(map(str, benchmarks)) or "none yet"
            raise BadInput(f"agreement {agreement} has no benchmark {item!r} (its benchmarks: "
                           f"{known})")  # fmt: skip
        chosen.append(int(item))
    return tuple(dict.fromkeys(chosen))


def parse_priorities(raw: str | None) -> tuple[str, ...]:
    items = tuple(dict.fromkeys(i.strip() for i in (raw or "").split(",") if i.strip()))
    unknown = [item for item in items if item not in PRIORITY_LABELS]
    if unknown:
        raise BadInput(f"unknown priority {', '.join(unknown)}; choose from "
                       f"{', '.join(PRIORITY_LABELS)}")  # fmt: skip
    return items


def _may_request(case: FundsCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    if case.agreement_state in AGREEMENT_ENDED:
        raise NotAllowedInState(f"agreement {case.agreement_id} has ended: its district is no "
                                "longer a partnership district")  # fmt: skip
    fiscal_year(values["year"])
    parse_serves(values.get("serves"), case.benchmarks, case.agreement_id)
    parse_priorities(values.get("priorities"))


def _requested(case: FundsCase, values: Mapping[str, Any], rules: RuleSet, day: date) -> Changes:
    serves = parse_serves(values.get("serves"), case.benchmarks, case.agreement_id)
    return Changes({
        "agreement_id": case.agreement_id,
        "year": fiscal_year(values["year"]),
        "rationale": values.get("rationale") or "",
        "serves": ",".join(map(str, serves)),
        "priorities": ",".join(parse_priorities(values.get("priorities"))),
    })  # fmt: skip


def _categories(case: FundsCase, rules: RuleSet) -> tuple[str, ...]:
    return tuple(CATEGORY_LABELS)


def _activity(case: FundsCase, values: Mapping[str, Any], rules: RuleSet, day: date) -> Changes:
    amount: Decimal = values["amount"]
    record = {"category": values["category"], "amount_cents": to_cents(amount),
              "metrics": values.get("metrics") or ""}  # fmt: skip
    return Changes(children=(Child("activity", record),))


# --- submission: every guideline of the statute -------------------------------------------------


def missing_items(case: FundsCase) -> list[str]:
    """What the request still lacks under the guidelines, each in words; empty when complete."""
    missing = []
    if not case.rationale.strip():
        missing.append("a rationale")
    if not case.serves:
        missing.append("at least one agreement goal or benchmark the rationale is tied to")
    if not case.priorities:
        missing.append("at least one agency priority (Literacy, Whole child or P-8)")
    if not case.activities:
        missing.append("at least one activity")
    for number, activity in enumerate(case.activities, start=1):
        what = f"activity {number} ({CATEGORY_LABELS.get(activity.category, 'no category')})"
        if activity.category not in CATEGORY_LABELS:
            missing.append(f"a category for {what}")
        if activity.amount <= 0:
            missing.append(f"an amount above zero for {what}")
        if not activity.metrics.strip():
            missing.append(f"effectiveness metrics for {what}")
    missing.extend(f"effectiveness data for funded request {other}" for other in case.unreported)
    return missing


def _complete(case: FundsCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    missing = missing_items(case)
    if missing:
        raise BadInput(f"request {case.id} cannot be submitted; it needs {'; '.join(missing)}")


# --- decision, funding, effectiveness -----------------------------------------------------------


def _appropriated(case: FundsCase, values: Mapping[str, Any], rules: RuleSet) -> None:
    if rules.appropriation(case.year) is None:
        raise NotAllowedInState(f"the rules (version {rules.version}) state no appropriation for "
                                f"fiscal year {case.year}")  # fmt: skip


def _approved(case: FundsCase, values: Mapping[str, Any], rules: RuleSet, day: date) -> Changes:
    appropriation = rules.appropriation(case.year)
    assert appropriation is not None  # the guard saw to it
    commitment = {"year": case.year, "cents": to_cents(case.total),
                  "appropriation_cents": to_cents(appropriation)}  # fmt: skip
    return Changes(children=(Child("commitment", commitment),), audited={"total": str(case.total)})


def _funded(case: FundsCase, values: Mapping[str, Any], rules: RuleSet, day: date) -> Changes:
    funding = {"year": case.year, "cents": to_cents(case.total)}
    return Changes({"funded_on": day}, (Child("funding", funding),),
                   audited={"total": str(case.total)})  # fmt: skip


def _reported(case: Any, values: Mapping[str, Any], rules: RuleSet, day: date) -> Changes:
    return Changes({"effectiveness": values["effectiveness"], "reported_on": day})


def _always_note(case: Any, rules: RuleSet) -> str | None:
    return "the reason must be recorded, and the district is told it"


_TOTAL = frozenset({"activities"})

FUNDS = Process(
    name="funds",
    label="Section 21(h) fund request",
    states=tuple(STATE_LABELS),
    terminal=TERMINAL,
    state_labels=STATE_LABELS,
    # Rule data of the funds process (`[processes.funds]` of a rule version) names these.
    deadline_labels={
        "funds_decision_due": "the decision on the Section 21(h) fund request",
        "funds_report_due": "the report on the effectiveness of the funded activities",
    },
    commands={
        "funds request": "funds_enter",
        "funds activity": "funds_add_activity",
        "funds submit": "funds_submit",
        "funds review": "funds_start_review",
        "funds approve": "funds_approve",
        "funds deny": "funds_deny",
        "funds return": "funds_return",
        "funds fund": "funds_fund",
        "funds report": "funds_report",
    },
    events=(
        EventSpec(
            "funds_enter",
            "enter a Section 21(h) fund request",
            dest="draft",
            creates=True,
            fields=(
                Field("year"),
                Field("rationale", required=False),
                Field("serves", required=False),
                Field("priorities", required=False),
            ),
            guard=_may_request,
            effect=_requested,
        ),
        EventSpec(
            "funds_add_activity",
            "add an activity to the fund request",
            EDITABLE,
            fields=(
                Field(
                    "category",
                    kind="choice",
                    choices=_categories,
                    choices_are="the activity categories",
                ),
                Field("amount", kind="money"),
                Field("metrics", required=False),
            ),
            effect=_activity,
        ),
        EventSpec(
            "funds_submit",
            "submit the fund request for the district",
            EDITABLE,
            "submitted",
            guard=_complete,
            reads=_TOTAL,
        ),
        EventSpec(
            "funds_start_review",
            "start the review of the fund request",
            ("submitted",),
            "under_review",
        ),
        EventSpec(
            "funds_approve",
            "approve the fund request",
            ("under_review",),
            "approved",
            guard=_appropriated,
            effect=_approved,
            reads=_TOTAL,
        ),
        EventSpec(
            "funds_deny",
            "deny the fund request",
            ("under_review",),
            "denied",
            note_required=_always_note,
        ),
        EventSpec(
            "funds_return",
            "return the fund request to the district with comments",
            ("under_review",),
            "returned",
            note_required=_always_note,
        ),
        EventSpec(
            "funds_fund",
            "record the funding of the request",
            ("approved",),
            "funded",
            effect=_funded,
            reads=_TOTAL,
        ),
        EventSpec(
            "funds_report",
            "report the effectiveness of the funded activities",
            ("funded",),
            "effectiveness_reported",
            fields=(Field("effectiveness"),),
            effect=_reported,
        ),
    ),
)
