"""Read models: agreements as plain dicts for `show`, `list` and `deadlines` (JSON-ready)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from states.agreement import STATES
from states.errors import BadInput, NotFound
from storage.models import Agreement, Audit, Deadline, District, Signature


def agreement_view(session: Session, agreement_id: int, *, history: bool = True) -> dict[str, Any]:
    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        raise NotFound(f"no agreement {agreement_id}")
    return _views(session, [agreement], history=history)[0]


def list_agreements(
    session: Session, *, state: str | None = None, district: str | None = None
) -> list[dict[str, Any]]:
    query = select(Agreement).order_by(col(Agreement.id))
    if state is not None:
        if state not in STATES:
            raise BadInput(f"unknown state {state!r}; states: {', '.join(STATES)}")
        query = query.where(Agreement.state == state)
    if district is not None:
        if session.get(District, district) is None:
            raise NotFound(f"no district {district!r} on file")
        query = query.where(Agreement.district_code == district)
    return _views(session, list(session.exec(query)), history=False)


def _views(
    session: Session, agreements: Sequence[Agreement], *, history: bool
) -> list[dict[str, Any]]:
    ids = [a.id for a in agreements]
    signatures: dict[int, dict[str, str]] = defaultdict(dict)
    for sig in session.exec(select(Signature).where(col(Signature.agreement_id).in_(ids))):
        signatures[sig.agreement_id][sig.party] = sig.signed_on.isoformat()
    deadlines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    query = (
        select(Deadline)
        .where(col(Deadline.agreement_id).in_(ids))
        .order_by(col(Deadline.due_on), col(Deadline.id))
    )
    for d in session.exec(query):
        deadlines[d.agreement_id].append(
            {
                "kind": d.kind,
                "due": d.due_on.isoformat(),
                "status": d.status,
                "closed_on": _iso(d.closed_on),
            }
        )
    names = {
        d.code: d.name
        for d in session.exec(
            select(District).where(col(District.code).in_({a.district_code for a in agreements}))
        )
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
            "consequences": a.consequence_list,
            "liaison": a.liaison_email,
            "identified_on": a.identified_on.isoformat(),
            "signed_on": _iso(a.signed_on),
            "escalation_option": a.escalation_option,
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
    query = select(Audit).where(col(Audit.agreement_id).in_(ids)).order_by(col(Audit.id))
    for entry in session.exec(query):
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
        select(Deadline, Agreement)
        .join(Agreement, col(Agreement.id) == Deadline.agreement_id)
        .where(Deadline.status == "open")
        .order_by(col(Deadline.due_on), col(Deadline.id))
    )
    if within is not None:
        if within < 0:
            raise BadInput("--within takes a number of days, 0 or more")
        query = query.where(Deadline.due_on <= today + timedelta(days=within))
    return [
        {
            "agreement": agreement.id,
            "district": agreement.district_code,
            "state": agreement.state,
            "kind": deadline.kind,
            "due": deadline.due_on.isoformat(),
            "days_left": (deadline.due_on - today).days,
            "status": "overdue" if deadline.due_on < today else "open",
        }
        for deadline, agreement in session.exec(query)
    ]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
