"""Where the versions of an agreement's terms are kept: the amendment records an event writes, and
which version is in force on a day.

Version 0 is the plan as signed (its `amendment` row written when the first amendment opens),
then amendment 1, 2, ... Each version's benchmarks are rows of `benchmark` with its number in
`amendment`; a benchmark's rows in every version share `lineage` (the id of its first row),
which its measurements name. Nothing here knows any particular event: the store writes records
by kind, as `workflow.cases` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, func, insert, select, update
from sqlmodel import Session

from states.amendment import AmendmentTerms
from states.context import Context
from states.errors import NotAllowedInState
from states.process import Child
from states.review import PlannedBenchmark
from storage import tables
from workflow.actors import Actor

# The record kinds the amendment events write (`Child.kind`).
KINDS = frozenset({
    "amendment", "amendment_signature", "amendment_effective", "draft_benchmark",
    "draft_benchmark_change", "draft_benchmark_removal", "draft_terms_consequences",
})  # fmt: skip

A, S, B = tables.AMENDMENT, tables.AMENDMENT_SIGNATURE, tables.BENCHMARK


def in_force_number(agreement: Any, day: Any) -> ColumnElement[int]:
    """The number of the version in force on `day` (0 before any amendment), as SQL: the
    latest amendment in force on or before that day."""
    return func.coalesce(
        select(func.max(A.c.number))
        .where(A.c.agreement_id == agreement, A.c.in_force_on <= day)
        .scalar_subquery(),
        0,
    )


def latest_in_force(agreement: Any) -> ColumnElement[int]:
    """The number of the version in force now: the latest one that came into force."""
    return func.coalesce(
        select(func.max(A.c.number))
        .where(A.c.agreement_id == agreement, A.c.in_force_on.is_not(None))
        .scalar_subquery(),
        0,
    )


_VERSIONS = (
    select(A.c.id, A.c.number, A.c.opened_on, A.c.consequences, A.c.in_force_on)
    .where(A.c.agreement_id == bindparam("agreement"))
    .order_by(A.c.number)
)
_SIGNED = (
    select(S.c.amendment_id, S.c.party, S.c.signed_on)
    .join(A, A.c.id == S.c.amendment_id)
    .where(A.c.agreement_id == bindparam("agreement"))
    .order_by(S.c.id)
)
_DRAFT_PLAN = (
    select(B.c.lineage, B.c.school_code, B.c.kind, B.c.label, B.c.baseline, B.c.target_18,
           B.c.target_36, B.c.lower_is_better)
    .where(B.c.agreement_id == bindparam("agreement"), B.c.amendment == bindparam("number"))
    .order_by(B.c.lineage)
)


def load(
    session: Session, agreement_id: int
) -> tuple[tuple[AmendmentTerms, ...], tuple[PlannedBenchmark, ...]]:
    """Every version of the agreement's terms, and the benchmarks of the open draft (if any)."""
    rows = session.execute(_VERSIONS, {"agreement": agreement_id}).all()
    if not rows:
        return (), ()
    signed: dict[int, dict[str, date]] = {}
    for amendment_id, party, on in session.execute(_SIGNED, {"agreement": agreement_id}).all():
        signed.setdefault(amendment_id, {})[party] = on
    versions = tuple(
        AmendmentTerms(
            number=r.number,
            opened_on=r.opened_on,
            consequences=tuple(c for c in r.consequences.split(",") if c),
            in_force_on=r.in_force_on,
            signatures=signed.get(r.id, {}),
        )
        for r in rows
    )
    draft = next((v for v in versions if v.drafting), None)
    benchmarks: tuple[PlannedBenchmark, ...] = ()
    if draft is not None:
        found = session.execute(_DRAFT_PLAN, {"agreement": agreement_id, "number": draft.number})
        benchmarks = tuple(
            PlannedBenchmark(id=b.lineage, school=b.school_code, kind=b.kind, label=b.label,
                             baseline=b.baseline, target_18=b.target_18, target_36=b.target_36,
                             lower_is_better=bool(b.lower_is_better))
            for b in found.all()
        )
    return versions, benchmarks


def _amendment_id(session: Session, agreement_id: int, number: int) -> int:
    found = session.execute(
        select(A.c.id).where(A.c.agreement_id == agreement_id, A.c.number == number)
    ).scalar_one_or_none()
    if found is None:
        raise NotAllowedInState(f"agreement {agreement_id} has no amendment {number}")
    return int(found)


def write(
    session: Session, row: Any, child: Child, actor: Actor, ctx: Context
) -> None:
    """Write one amendment record of `child.kind` for the agreement `row`."""
    values: Mapping[str, Any] = child.values
    agreement_id = row.id
    if child.kind == "amendment":
        _open(session, row, values, actor, ctx)
    elif child.kind == "amendment_signature":
        session.execute(
            insert(S),
            {"amendment_id": _amendment_id(session, agreement_id, values["amendment"]),
             "party": values["party"], "signed_on": values["signed_on"],
             "recorded_by": actor.email, "recorded_at": ctx.now},
        )  # fmt: skip
    elif child.kind == "amendment_effective":
        session.execute(
            update(A)
            .where(A.c.agreement_id == agreement_id, A.c.number == values["number"])
            .values(in_force_on=values["in_force_on"])
        )
    elif child.kind == "draft_benchmark":
        record = {k: v for k, v in values.items() if k != "amendment"}
        _insert_benchmark(session, agreement_id, values["amendment"], None, record, actor, ctx)
    elif child.kind == "draft_benchmark_change":
        session.execute(
            update(B).where(_draft_row(agreement_id, values)).values(**values["changes"])
        )
    elif child.kind == "draft_benchmark_removal":
        session.execute(delete(B).where(_draft_row(agreement_id, values)))
    elif child.kind == "draft_terms_consequences":
        session.execute(
            update(A)
            .where(A.c.agreement_id == agreement_id, A.c.number == values["amendment"])
            .values(consequences=",".join(values["consequences"]))
        )
    else:
        raise ValueError(f"agreement has no amendment records of kind {child.kind!r}")


def _draft_row(agreement_id: int, values: Mapping[str, Any]) -> ColumnElement[bool]:
    return and_(
        B.c.agreement_id == agreement_id,
        B.c.amendment == values["amendment"],
        B.c.lineage == values["lineage"],
    )


def _open(
    session: Session, row: Any, values: Mapping[str, Any], actor: Actor, ctx: Context
) -> None:
    number = values["number"]
    consequences = ",".join(values["consequences"])
    if number == 0:  # the plan as signed, in force since the signing
        session.execute(
            insert(A),
            {"agreement_id": row.id, "number": 0, "opened_on": row.signed_on,
             "opened_by": None, "note": None, "consequences": consequences,
             "in_force_on": row.signed_on, "recorded_at": ctx.now},
        )  # fmt: skip
        return
    session.execute(
        insert(A),
        {"agreement_id": row.id, "number": number, "opened_on": values["opened_on"],
         "opened_by": actor.email, "note": values["note"], "consequences": consequences,
         "in_force_on": None, "recorded_at": ctx.now},
    )  # fmt: skip
    for planned in values["benchmarks"]:
        record = {
            "school_code": planned.school,
            "kind": planned.kind,
            "label": planned.label,
            "baseline": planned.baseline,
            "target_18": planned.target_18,
            "target_36": planned.target_36,
            "lower_is_better": planned.lower_is_better,
        }
        _insert_benchmark(session, row.id, number, planned.id, record, actor, ctx)


def _insert_benchmark(
    session: Session,
    agreement_id: int,
    number: int,
    lineage: int | None,
    record: Mapping[str, Any],
    actor: Actor,
    ctx: Context,
) -> int:
    """Insert a benchmark row of version `number`; a new benchmark is its own lineage."""
    result = session.execute(
        insert(B).returning(B.c.id),
        {"agreement_id": agreement_id, "amendment": number, "lineage": lineage or 0,
         "recorded_by": actor.email, "recorded_at": ctx.now, **record},
    )  # fmt: skip
    new = int(result.scalar_one())
    if lineage is None:
        session.execute(update(B).where(B.c.id == new).values(lineage=new))
    return new


def own_lineage(session: Session, benchmark_id: int) -> None:
    """A benchmark added to the plan before signing is its own lineage, in version 0."""
    session.execute(update(B).where(B.c.id == benchmark_id).values(lineage=benchmark_id))
