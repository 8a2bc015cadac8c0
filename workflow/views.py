"""Read models: agreements as plain dicts for `show`, `list` and `deadlines` (JSON-ready).

Plain Core queries, no ORM objects: a read-only command then never pays for configuring the
mappers or loading instances (it matters for `pal agreement show`'s start-up time).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Table, select
from sqlmodel import Session

from states.agreement import STATES
from states.errors import BadInput, NotFound
from storage.models import Agreement, Audit, Deadline, District, Signature
from storage.records import records

_AGREEMENT: Table = Agreement.__table__  # type: ignore[attr-defined]
_AUDIT: Table = Audit.__table__  # type: ignore[attr-defined]
_DEADLINE: Table = Deadline.__table__  # type: ignore[attr-defined]
_DISTRICT: Table = District.__table__  # type: ignore[attr-defined]
_SIGNATURE: Table = Signature.__table__  # type: ignore[attr-defined]


def agreement_view(session: Session, agreement_id: int, *, history: bool = True) -> dict[str, Any]:
    found = records(session, select(_AGREEMENT).where(_AGREEMENT.c.id == agreement_id))
    if not found:
        raise NotFound(f"no agreement {agreement_id}")
    return _views(session, found, history=history)[0]


def list_agreements(
    session: Session, *, state: str | None = None, district: str | None = None
) -> list[dict[str, Any]]:
    query = select(_AGREEMENT).order_by(_AGREEMENT.c.id)
    if state is not None:
        if state not in STATES:
            raise BadInput(f"unknown state {state!r}; states: {', '.join(STATES)}")
        query = query.where(_AGREEMENT.c.state == state)
    if district is not None:
        if not records(session, select(_DISTRICT.c.code).where(_DISTRICT.c.code == district)):
            raise NotFound(f"no district {district!r} on file")
        query = query.where(_AGREEMENT.c.district_code == district)
    return _views(session, records(session, query), history=False)


def _views(session: Session, agreements: Sequence[Any], *, history: bool) -> list[dict[str, Any]]:
    ids = [a.id for a in agreements]
    signatures: dict[int, dict[str, str]] = defaultdict(dict)
    for sig in records(session, select(_SIGNATURE).where(_SIGNATURE.c.agreement_id.in_(ids))):
        signatures[sig.agreement_id][sig.party] = sig.signed_on.isoformat()
    deadlines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    query = (
        select(_DEADLINE)
        .where(_DEADLINE.c.agreement_id.in_(ids))
        .order_by(_DEADLINE.c.due_on, _DEADLINE.c.id)
    )
    for d in records(session, query):
        deadlines[d.agreement_id].append(
            {
                "kind": d.kind,
                "due": d.due_on.isoformat(),
                "status": d.status,
                "closed_on": _iso(d.closed_on),
            }
        )
    codes = {a.district_code for a in agreements}
    names = {
        d.code: d.name
        for d in records(session, select(_DISTRICT).where(_DISTRICT.c.code.in_(codes)))
    }
    events = _history(session, ids) if history else {}
    views = []
    for a in agreements:
        assert a.id is not None
        view: dict[str, Any] = {
            "id": a.id,
            "district": a.district_code,
            "district_name": names.get(a.district_code),
            "cohort": a.cohort,
            "state": a.state,
            "rules_version": a.rules_version,
            "consequences": [c for c in a.consequences.split(",") if c],
            "liaison": a.liaison_email,
            "identified_on": a.identified_on.isoformat(),
            "signed_on": _iso(a.signed_on),
            "escalation_option": a.escalation_option,
            "renewed_from": a.renewed_from,
            "renewed_as": a.renewed_as,
            "version": a.version,
            "signatures": signatures.get(a.id, {}),
            "deadlines": deadlines.get(a.id, []),
        }
        if history:
            view["history"] = events.get(a.id, [])
        views.append(view)
    return views


def _history(session: Session, ids: Sequence[int | None]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    query = select(_AUDIT).where(_AUDIT.c.agreement_id.in_(ids)).order_by(_AUDIT.c.id)
    for entry in records(session, query):
        assert entry.agreement_id is not None
        found[entry.agreement_id].append(
            {
                "event": entry.event,
                "from": entry.from_state,
                "to": entry.to_state,
                "by": entry.actor,
                "on": entry.effective_on.isoformat(),
                "recorded_at": entry.recorded_at.isoformat(),
                "note": entry.note,
                "data": entry.data,
            }
        )
    return found


def open_deadlines(
    session: Session, *, today: date, within: int | None = None
) -> list[dict[str, Any]]:
    query = (
        select(
            _DEADLINE.c.agreement_id,
            _AGREEMENT.c.district_code,
            _AGREEMENT.c.state,
            _DEADLINE.c.kind,
            _DEADLINE.c.due_on,
        )
        .join(_AGREEMENT, _AGREEMENT.c.id == _DEADLINE.c.agreement_id)
        .where(_DEADLINE.c.status == "open")
        .order_by(_DEADLINE.c.due_on, _DEADLINE.c.id)
    )
    if within is not None:
        if within < 0:
            raise BadInput("--within takes a number of days, 0 or more")
        if within <= (date.max - today).days:  # beyond the last date, every deadline is within
            query = query.where(_DEADLINE.c.due_on <= today + timedelta(days=within))
    return [
        {
            "agreement": row.agreement_id,
            "district": row.district_code,
            "state": row.state,
            "kind": row.kind,
            "due": row.due_on.isoformat(),
            "days_left": (row.due_on - today).days,
            "status": "overdue" if row.due_on < today else "open",
        }
        for row in records(session, query)
    ]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
