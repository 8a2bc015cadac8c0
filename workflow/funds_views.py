"""Read models of fund requests (`pal funds show`, `list`, `budget`) as JSON-ready dicts.

Amounts are strings of the exact decimal (`"125000.00"`): JSON numbers would be read as floats.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from config.rules import read_rules
from states.errors import BadInput, NotFound
from states.funds import FUNDS, STATE_LABELS, fiscal_year
from storage import tables
from storage.case_refs import CaseRef, in_case
from storage.records import records
from workflow.funds_store import activities_of, budget_of
from workflow.views import history_entry

R = tables.FUNDS_REQUEST


def request_view(session: Session, request_id: int, today: date) -> dict[str, Any]:
    """One request with its activities, its open deadlines as of `today` and its history
    (`funds show --json`)."""
    found = records(session, _WITH_DISTRICT.where(R.c.id == request_id))
    if not found:
        raise NotFound(f"no fund request {request_id}")
    view = _summary(session, found[0])
    view["deadlines"] = _open_deadlines(session, found[0], today)
    view["history"] = _history(session, request_id)
    return view


def list_requests(
    session: Session,
    *,
    year: str | None = None,
    agreement: int | None = None,
    state: str | None = None,
) -> list[dict[str, Any]]:
    """The requests by id, those of a fiscal year, an agreement or a state (they combine)."""
    query = _WITH_DISTRICT.order_by(R.c.id)
    if year is not None:
        query = query.where(R.c.year == fiscal_year(year))
    if agreement is not None:
        query = query.where(R.c.agreement_id == agreement)
    if state is not None:
        if state not in STATE_LABELS:
            raise BadInput(f"unknown state {state!r}; states: {', '.join(STATE_LABELS)}")
        query = query.where(R.c.state == state)
    return [_summary(session, row) for row in records(session, query)]


def budget_view(session: Session, year: str, rules_version: str) -> dict[str, Any]:
    """A fiscal year's appropriation (rule data), what is approved (funded or not) and funded
    of it, and what remains to approve."""
    year = fiscal_year(year)
    rules = read_rules(rules_version)
    appropriation = rules.appropriation(year)
    if appropriation is None:
        known = ", ".join(sorted(rules.appropriations)) or "none"
        raise BadInput(f"the rules (version {rules.version}) state no appropriation for fiscal "
                       f"year {year} (years: {known})")  # fmt: skip
    approved, funded = budget_of(session, year)
    return {"year": year, "appropriation": str(appropriation), "approved": str(approved),
            "funded": str(funded), "remaining": str(appropriation - approved)}  # fmt: skip


_WITH_DISTRICT = select(
    R, tables.AGREEMENT.c.district_code, tables.DISTRICT.c.name.label("district_name")
).join(tables.AGREEMENT, tables.AGREEMENT.c.id == R.c.agreement_id).join(
    tables.DISTRICT, tables.DISTRICT.c.code == tables.AGREEMENT.c.district_code
)


def _summary(session: Session, row: Any) -> dict[str, Any]:
    activities = activities_of(session, row.id)
    total = sum((a.amount for a in activities), Decimal("0.00"))
    return {
        "id": row.id,
        "agreement": row.agreement_id,
        "district": row.district_code,
        "district_name": row.district_name,
        "year": row.year,
        "state": row.state,
        "total": str(total),
        "rationale": row.rationale,
        "serves": [int(item) for item in row.serves.split(",") if item],
        "priorities": [item for item in row.priorities.split(",") if item],
        "activities": [
            {"category": a.category, "amount": str(a.amount), "metrics": a.metrics}
            for a in activities
        ],
        "funded_on": row.funded_on.isoformat() if row.funded_on else None,
        "effectiveness": row.effectiveness,
        "reported_on": row.reported_on.isoformat() if row.reported_on else None,
    }


def _open_deadlines(session: Session, row: Any, today: date) -> list[dict[str, Any]]:
    """The request's open deadlines, soonest first: what each is for, in words, and how far
    off it is (`days_left` below 0: overdue)."""
    d = tables.DEADLINE
    query = select(d.c.kind, d.c.due_on).where(
        in_case(d), d.c.status == "open").order_by(d.c.due_on, d.c.id)  # fmt: skip
    params = CaseRef(row.agreement_id, FUNDS.name, row.id).params
    labels = FUNDS.deadline_labels
    return [
        {
            "kind": found.kind,
            "label": labels.get(found.kind, found.kind).removeprefix("the "),
            "due": found.due_on.isoformat(),
            "days_left": (found.due_on - today).days,
            "status": "overdue" if found.due_on < today else "open",
        }
        for found in session.execute(query, params).all()
    ]


def _history(session: Session, request_id: int) -> list[dict[str, Any]]:
    audit = tables.AUDIT
    query = select(audit).where(audit.c.subject == f"funds_request:{request_id}")
    return [history_entry(entry) for entry in records(session, query.order_by(audit.c.id))]
