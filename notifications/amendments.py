"""What the amendment notices tell: the agreement's latest amendment, its note and dates, the
parties it needs, and what it changes from the version before it, in the program's words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from states.amendment import changes_in_words
from storage import tables
from storage.records import records

A, B = tables.AMENDMENT, tables.BENCHMARK


@dataclass(frozen=True)
class AmendmentFacts:
    number: int
    note: str | None
    opened_on: date
    in_force_on: date | None
    changes: tuple[str, ...]


def _terms(session: Session, agreement_id: int, number: int) -> tuple[Any, ...]:
    query = (
        select(B.c.lineage.label("id"), B.c.school_code.label("school"), B.c.kind, B.c.label,
               B.c.baseline, B.c.target_18, B.c.target_36)
        .where(B.c.agreement_id == agreement_id, B.c.amendment == number)
        .order_by(B.c.lineage)
    )
    return tuple(SimpleNamespace(**vars(row)) for row in records(session, query))


def latest_amendment(session: Session, agreement_id: int) -> AmendmentFacts | None:
    """The agreement's latest amendment (the one just opened, or just put in force)."""
    versions = records(
        session, select(A).where(A.c.agreement_id == agreement_id).order_by(A.c.number.desc())
    )
    if len(versions) < 2:
        return None
    latest, before = versions[0], versions[1]
    changes = changes_in_words(
        _terms(session, agreement_id, before.number),
        _terms(session, agreement_id, latest.number),
        tuple(c for c in before.consequences.split(",") if c),
        tuple(c for c in latest.consequences.split(",") if c),
    )
    return AmendmentFacts(latest.number, latest.note, latest.opened_on, latest.in_force_on,
                          tuple(changes))  # fmt: skip
