"""Every review of an agreement, in the order they were opened, with each school's status as
agreed at it: what `pal review list` prints and the annual report's review history reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from states.errors import NotFound
from storage import tables
from storage.records import records


def review_history(session: Session, agreement_id: int) -> list[dict[str, Any]]:
    """The agreement's reviews, oldest first: kind, dates and each school's computed and agreed
    status (none before its determination). An agreement never reviewed has an empty list."""
    if not records(session, select(tables.AGREEMENT.c.id).where(
            tables.AGREEMENT.c.id == agreement_id)):  # fmt: skip
        raise NotFound(f"no agreement {agreement_id}")
    return review_histories(session, [agreement_id]).get(agreement_id, [])


def review_histories(
    session: Session, ids: list[int] | None = None
) -> dict[int, list[dict[str, Any]]]:
    """`review_history` of each agreement of `ids` (every agreement when None) read in bulk, by
    agreement id; an agreement never reviewed is left out."""
    query = select(tables.REVIEW).order_by(tables.REVIEW.c.opened_on, tables.REVIEW.c.id)
    if ids is not None:
        query = query.where(tables.REVIEW.c.agreement_id.in_(ids))
    reviews = records(session, query)
    # Every review's determinations read whole, not by a list of thousands of ids.
    statuses = _statuses(session, None if ids is None else [r.id for r in reviews])
    found: dict[int, list[dict[str, Any]]] = {}
    for r in reviews:
        found.setdefault(r.agreement_id, []).append(
            {
                "agreement": r.agreement_id,
                "kind": r.kind,
                "opened_on": r.opened_on.isoformat(),
                "determined_on": r.determined_on.isoformat() if r.determined_on else None,
                "determined_by": r.determined_by,
                "schools": statuses.get(r.id, []),
            }
        )
    return found


def _statuses(session: Session, review_ids: list[int] | None) -> dict[int, list[dict[str, Any]]]:
    """Per review of `review_ids` (of all when None), each school's determination (code, name,
    computed, agreed), by school code."""
    if review_ids == []:
        return {}
    query = (
        select(tables.DETERMINATION, tables.SCHOOL.c.name)
        .join(tables.SCHOOL, tables.SCHOOL.c.code == tables.DETERMINATION.c.school_code)
        .order_by(tables.DETERMINATION.c.school_code)
    )
    if review_ids is not None:
        query = query.where(tables.DETERMINATION.c.review_id.in_(review_ids))
    found: dict[int, list[dict[str, Any]]] = {}
    for d in records(session, query):
        found.setdefault(d.review_id, []).append(
            {"school": d.school_code, "name": d.name, "computed": d.computed, "agreed": d.agreed}
        )
    return found
