"""Who holds which role on a given day: the one definition every lookup shares."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, or_, select
from sqlmodel import Session

from storage import tables
from storage.prepared import Prepared

ASSIGNMENT = tables.ASSIGNMENT


def held_on(day: Any) -> ColumnElement[bool]:
    """An assignment is held from `started_on` (None: since before any recorded date) up to
    the day before `ended_on` (None: still held)."""
    return and_(
        or_(ASSIGNMENT.c.started_on.is_(None), ASSIGNMENT.c.started_on <= day),
        or_(ASSIGNMENT.c.ended_on.is_(None), ASSIGNMENT.c.ended_on > day),
    )


_PERSON = Prepared(select(tables.PERSON.c.email).where(tables.PERSON.c.email == bindparam("email")))
_ROLES = Prepared(
    select(ASSIGNMENT.c.role)
    .where(ASSIGNMENT.c.email == bindparam("email"), held_on(bindparam("day")))
    .order_by(ASSIGNMENT.c.id)
)


def roles_held(session: Session, email: str, day: date) -> list[str] | None:
    """The roles `email` holds on `day`, oldest assignment first (once each); None when nobody
    with that email is on file."""
    roles = _ROLES.execute(session, {"email": email, "day": day}).scalars()
    if not roles and _PERSON.execute(session, {"email": email}).first() is None:
        return None
    return list(dict.fromkeys(roles))
