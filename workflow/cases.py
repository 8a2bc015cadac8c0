"""Where each process keeps its cases: how the engine loads one, creates one and writes beside it.

One store per process definition, named by the process; none knows any particular event. A
case is read as a row (written back through the optimistic lock) and as the pure snapshot the
process's guards and effects look at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from states.agreement import TERMINAL, AgreementCase
from states.context import Context
from states.errors import NotAllowedInState, NotFound
from states.process import Child
from storage.models import Agreement, Audit, District, Signature
from workflow.actors import Actor

_MAPPER = inspect(Agreement)
_LOAD = select(Agreement).where(col(Agreement.id) == bindparam("id"))


@dataclass(frozen=True)
class AgreementStore:
    """Agreements: rows of `agreement`, with their district and signatures as the case."""

    table: Table = Agreement.__table__  # type: ignore[attr-defined]

    def load(self, session: Session, case_id: int) -> Agreement:
        row: Agreement | None
        if _MAPPER.identity_key_from_primary_key((case_id,)) in session.identity_map:
            row = session.get(Agreement, case_id)  # the row this session holds, as it holds it
        else:
            # What session.get would run, built once: it builds (and keys) a new statement at
            # every call, which costs more than running it on SQLite.
            row = session.exec(_LOAD, params={"id": case_id}).one_or_none()
        if row is None:
            raise NotFound(f"no agreement {case_id}")
        return row

    def case_of(self, session: Session, row: Agreement, *, history: bool = False) -> AgreementCase:
        signed = session.execute(
            select(Signature.party, Signature.signed_on).where(  # type: ignore[call-overload]
                Signature.agreement_id == row.id
            )
        )
        return AgreementCase(
            district_code=row.district_code,
            psa=_district(session, row.district_code).psa,
            id=row.id,
            state=row.state,
            consequences=tuple(row.consequence_list),
            signatures={row.party: row.signed_on for row in signed},
            liaison_email=row.liaison_email,
            since_entered=_since_entered(session, row) if history else (),
        )

    def new_case(self, session: Session, parent: str) -> AgreementCase:
        district = _district(session, parent)
        running = session.exec(
            select(Agreement.id).where(
                Agreement.district_code == district.code,
                Agreement.state.not_in(TERMINAL),  # type: ignore[attr-defined]
            )
        ).first()
        return AgreementCase(district.code, district.psa, running_agreement=running)

    def insert(self, session: Session, values: Mapping[str, Any]) -> Agreement:
        row = Agreement(**values)
        try:
            # A savepoint, so the losing side of a race fails cleanly with a clear error.
            with session.begin_nested():
                session.add(row)
        except IntegrityError as exc:  # another identify of this district won the race
            raise NotAllowedInState(
                f"district {values['district_code']} already has an active agreement"
            ) from exc
        return row

    def add_child(
        self, session: Session, row: Agreement, child: Child, actor: Actor, ctx: Context
    ) -> None:
        assert child.kind == "signature" and row.id is not None
        session.add(
            Signature(
                agreement_id=row.id, recorded_by=actor.email, recorded_at=ctx.now, **child.values
            )
        )
        session.flush()

    def subject(self, row: Agreement) -> tuple[str, int | None]:
        """How the audit log names the case, and the agreement it belongs to."""
        return f"agreement:{row.id}", row.id


def _since_entered(session: Session, row: Agreement) -> tuple[tuple[str, Any], ...]:
    """The events recorded since `row` last changed state, oldest first, from the audit log."""
    trail = session.execute(
        select(Audit.event, Audit.from_state, Audit.to_state, Audit.data)
        .where(Audit.agreement_id == row.id)
        .order_by(col(Audit.id).desc())
    )
    recent: list[tuple[str, Any]] = []
    for entry in trail:
        if entry.from_state != entry.to_state:
            break
        recent.append((entry.event, entry.data))
    return tuple(reversed(recent))


def _district(session: Session, code: str) -> District:
    district = session.get(District, code)
    if district is None:
        raise NotFound(f"no district {code!r} on file")
    return district


STORES: Mapping[str, AgreementStore] = {"agreement": AgreementStore()}
