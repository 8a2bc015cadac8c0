"""Where fund requests are kept: the `funds` process's store for the engine (see workflow.cases).

A request is a row of `funds_request`; its activities are rows beside it, and an approval or a
funding adds to its fiscal year's row of `funds_budget`. An approval's addition is one
conditional UPDATE (`approved + amount <= appropriation`): on SQLite the writer holds the
database's write lock, on PostgreSQL the row's lock, so of two approvals racing for the last
dollars the second sees the first's addition and is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlmodel import Session

from states.context import Context
from states.errors import NotFound, OverAppropriation
from states.funds import CATEGORY_LABELS, FUNDS, Activity, FundsCase, fiscal_year_ends
from states.money import dollars, from_cents
from states.process import Child
from storage import tables
from storage.case_refs import CaseRef
from workflow.actors import Actor
from workflow.amendments import latest_in_force

R, A, B = tables.FUNDS_REQUEST, tables.FUNDS_ACTIVITY, tables.FUNDS_BUDGET


@dataclass(frozen=True)
class RequestActivity:
    label: str  # its category, in words
    amount: str  # `$125,000.00`


@dataclass(frozen=True)
class RequestFacts:
    """A request as its notices tell it (the value `case` of their templates)."""

    id: int
    year: str
    total: str  # `$125,000.00`
    activities: tuple[RequestActivity, ...]

    @property
    def about(self) -> str:
        """The request in a phrase: "the request of $125,000.00 for fiscal year 2025-26"."""
        return f"the request of {self.total} for fiscal year {self.year}"


class FundsRow:
    """A request's row as the engine reads and writes it: its columns as attributes."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:  # for mypy: the columns are set in __init__
        raise AttributeError(name)


@dataclass(frozen=True)
class FundsStore:
    table: Table = R

    def load(self, session: Session, case_id: int) -> FundsRow:
        found = session.execute(select(R).where(R.c.id == case_id)).first()
        if found is None:
            raise NotFound(f"no fund request {case_id}")
        return FundsRow(found._asdict())

    def case_of(
        self,
        session: Session,
        row: FundsRow,
        reads: frozenset[str] = frozenset(),
        day: date | None = None,
    ) -> FundsCase:
        """The request as its guards and effects see it: with its activities, and its
        agreement's funded requests whose effectiveness is not reported yet (a request is
        small: everything is read whatever the event reads)."""
        agreement = self.new_case(session, str(row.agreement_id))
        return FundsCase(
            agreement_id=row.agreement_id,
            agreement_state=agreement.agreement_state,
            benchmarks=agreement.benchmarks,
            id=row.id,
            state=row.state,
            year=row.year,
            rationale=row.rationale,
            serves=tuple(int(item) for item in row.serves.split(",") if item),
            priorities=tuple(item for item in row.priorities.split(",") if item),
            activities=activities_of(session, row.id),
            unreported=tuple(session.execute(
                select(R.c.id).where(R.c.agreement_id == row.agreement_id, R.c.id != row.id,
                                     R.c.state == "funded").order_by(R.c.id)
            ).scalars()),
        )  # fmt: skip

    def new_case(self, session: Session, parent: str) -> FundsCase:
        """What a new request of agreement `parent` looks at: the agreement's state and the
        benchmarks of its terms in force."""
        agreement_id = int(parent) if parent.isascii() and parent.isdigit() else 0
        state = session.execute(
            select(tables.AGREEMENT.c.state).where(tables.AGREEMENT.c.id == agreement_id)
        ).scalar_one_or_none()
        if state is None:
            raise NotFound(f"no agreement {parent}")
        return FundsCase(agreement_id, state, benchmarks_of(session, agreement_id))

    def insert(self, session: Session, values: Mapping[str, Any]) -> FundsRow:
        row = {"funded_on": None, "effectiveness": None, "reported_on": None, "version": 1,
               **values}  # fmt: skip
        inserted = session.execute(insert(R).values(row).returning(R.c.id))
        row["id"] = inserted.scalar_one()
        return FundsRow(row)

    def add_child(
        self, session: Session, row: FundsRow, child: Child, actor: Actor, ctx: Context
    ) -> None:
        values = child.values
        if child.kind == "activity":
            session.execute(insert(A).values(request_id=row.id, recorded_by=actor.email,
                                             recorded_at=ctx.now, **values))  # fmt: skip
        elif child.kind == "commitment":
            commit(session, values["year"], values["cents"], values["appropriation_cents"])
        elif child.kind == "funding":
            _budget_row(session, values["year"])
            session.execute(_FUNDED, {"fiscal_year": values["year"], "cents": values["cents"]})
        else:
            raise ValueError(f"a fund request has no records of kind {child.kind!r}")

    def identity(self, case_id: int) -> Any:
        """No ORM class maps the table: no session ever holds a request as an object."""
        return (None, (case_id,), None)

    def ref(self, row: FundsRow) -> CaseRef:
        """A request's deadlines, timers and notices are its own, and belong to its agreement
        (whose district and liaison its notices are addressed through)."""
        return CaseRef(row.agreement_id, FUNDS.name, row.id)

    def fiscal_year_end(self, row: FundsRow) -> date | None:
        """A request's own fiscal year (its effectiveness report is due after it ends), not the
        year of the day it is funded on."""
        return fiscal_year_ends(row.year)

    def notice_facts(self, session: Session, row: FundsRow) -> Mapping[str, Any]:
        """What a notice tells of the request: its year, total and activities, in words."""
        activities = activities_of(session, row.id)
        total = sum((a.amount for a in activities), Decimal("0.00"))
        told = tuple(RequestActivity(CATEGORY_LABELS.get(a.category, a.category), dollars(a.amount))
                     for a in activities)  # fmt: skip
        return {"case": RequestFacts(row.id, row.year, dollars(total), told)}

    def subject(self, row: FundsRow) -> tuple[str, int | None]:
        """How the audit log names the request. Its rows name no agreement: an agreement's own
        history (and the guards reading it) is its own events only."""
        return f"funds_request:{row.id}", None


def activities_of(session: Session, request_id: int) -> tuple[Activity, ...]:
    found = session.execute(
        select(A.c.category, A.c.amount_cents, A.c.metrics)
        .where(A.c.request_id == request_id)
        .order_by(A.c.id)
    )
    return tuple(Activity(c, from_cents(cents), m) for c, cents, m in found)


def benchmarks_of(session: Session, agreement_id: int) -> tuple[int, ...]:
    """The agreement's benchmarks (by the id `pal benchmark list` shows: their lineage) in the
    terms in force."""
    found = session.execute(
        select(tables.BENCHMARK.c.lineage)
        .where(
            tables.BENCHMARK.c.agreement_id == agreement_id,
            tables.BENCHMARK.c.amendment == latest_in_force(agreement_id),
        )
        .order_by(tables.BENCHMARK.c.lineage)
    )
    return tuple(found.scalars())


_APPROVE = (
    update(B)
    .where(B.c.year == bindparam("fiscal_year"),
           B.c.approved_cents + bindparam("cents") <= bindparam("appropriation"))
    .values(approved_cents=B.c.approved_cents + bindparam("cents"))
)  # fmt: skip
_FUNDED = (
    update(B)
    .where(B.c.year == bindparam("fiscal_year"))
    .values(funded_cents=B.c.funded_cents + bindparam("cents"))
)


def commit(session: Session, year: str, cents: int, appropriation_cents: int) -> None:
    """Add `cents` to what `year` has approved, unless that would exceed its appropriation."""
    _budget_row(session, year)
    done = session.execute(
        _APPROVE, {"fiscal_year": year, "cents": cents, "appropriation": appropriation_cents}
    )
    if done.rowcount == 1:  # type: ignore[attr-defined]
        return
    approved = session.execute(select(B.c.approved_cents).where(B.c.year == year)).scalar_one()
    remaining = from_cents(appropriation_cents - approved)
    raise OverAppropriation(
        f"approving {dollars(from_cents(cents))} would exceed the {year} appropriation of "
        f"{dollars(from_cents(appropriation_cents))}: {dollars(remaining)} remains"
    )


def _budget_row(session: Session, year: str) -> None:
    """The year's budget row, written on its first approval; a second writer waits for the
    first, then finds it (no error either way)."""
    # Imported here: every command imports this module, and few write a budget row.
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(B)
        .values(year=year, approved_cents=0, funded_cents=0)
        .on_conflict_do_nothing(index_elements=["year"])
    )


def budget_of(session: Session, year: str) -> tuple[Decimal, Decimal]:
    """What `year` has approved and funded so far."""
    found = session.execute(
        select(B.c.approved_cents, B.c.funded_cents).where(B.c.year == year)
    ).first()
    return (from_cents(found[0]), from_cents(found[1])) if found else (Decimal("0.00"),) * 2
