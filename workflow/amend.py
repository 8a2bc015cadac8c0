"""Amending an agreement's terms: opening an amendment, changing its draft, signing it.

Every change is an event of the agreement applied through `workflow.engine.apply`; the events
are looked up by the commands that stand for them (`AGREEMENT.commands`), never named here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from states.context import Context
from states.errors import NotFound
from states.registry import process
from storage import tables
from storage.records import newest
from workflow.actors import Actor
from workflow.engine import Request, apply

AGREEMENT = process("agreement")


def _apply(
    session: Session,
    command: str,
    agreement_id: int,
    data: Mapping[str, str | None],
    actor: Actor,
    ctx: Context,
    on: date | None,
) -> None:
    given = {name: value for name, value in data.items() if value is not None}
    apply(session, Request(AGREEMENT.commands[command], actor, case=agreement_id, on=on,
                           data=given), ctx)  # fmt: skip


def open_amendment(
    session: Session, agreement_id: int, note: str, actor: Actor, ctx: Context,
    on: date | None = None,
) -> int:  # fmt: skip
    """Open the next amendment of the agreement's terms; returns its number."""
    _apply(session, "agreement amend", agreement_id, {"note": note}, actor, ctx, on)
    amendments = tables.AMENDMENT.c
    return newest(session, amendments.number, amendments.agreement_id == agreement_id)


def add_to_draft(
    session: Session,
    agreement_id: int,
    amendment: int,
    fields: Mapping[str, str],
    actor: Actor,
    ctx: Context,
    on: date | None = None,
) -> int:
    """Add a benchmark to amendment `amendment`'s draft; returns its number (its lineage)."""
    data = {**fields, "amendment": str(amendment)}
    _apply(session, "benchmark add --amendment", agreement_id, data, actor, ctx, on)
    benchmarks = tables.BENCHMARK.c
    return newest(session, benchmarks.lineage, benchmarks.agreement_id == agreement_id,
                  benchmarks.amendment == amendment)  # fmt: skip


def agreement_of(session: Session, benchmark_id: int) -> tuple[int, int]:
    """The agreement a benchmark belongs to, and the benchmark's lineage (its number)."""
    found = session.execute(
        select(tables.BENCHMARK.c.agreement_id, tables.BENCHMARK.c.lineage).where(
            tables.BENCHMARK.c.id == benchmark_id
        )
    ).first()
    if found is None:
        raise NotFound(f"no benchmark {benchmark_id}")
    return int(found[0]), int(found[1])


def edit_draft(
    session: Session,
    benchmark_id: int,
    amendment: int,
    changes: Mapping[str, str | None],
    actor: Actor,
    ctx: Context,
    on: date | None = None,
) -> int:
    """Change a benchmark's terms in amendment `amendment`'s draft; returns its agreement."""
    agreement_id, lineage = agreement_of(session, benchmark_id)
    data = {**changes, "amendment": str(amendment), "benchmark": str(lineage)}
    _apply(session, "benchmark edit", agreement_id, data, actor, ctx, on)
    return agreement_id


def remove_from_draft(
    session: Session, benchmark_id: int, amendment: int, actor: Actor, ctx: Context,
    on: date | None = None,
) -> int:  # fmt: skip
    """Remove a benchmark from amendment `amendment`'s draft; returns its agreement."""
    agreement_id, lineage = agreement_of(session, benchmark_id)
    data = {"amendment": str(amendment), "benchmark": str(lineage)}
    _apply(session, "benchmark remove", agreement_id, data, actor, ctx, on)
    return agreement_id


def set_consequences(
    session: Session, agreement_id: int, amendment: int, consequences: str, actor: Actor,
    ctx: Context, on: date | None = None,
) -> None:  # fmt: skip
    """Set the consequences of amendment `amendment`'s draft."""
    data = {"amendment": str(amendment), "consequences": consequences}
    _apply(session, "agreement consequences", agreement_id, data, actor, ctx, on)


def sign(
    session: Session, agreement_id: int, amendment: int, party: str, actor: Actor,
    ctx: Context, on: date | None = None,
) -> str | None:  # fmt: skip
    """Record one party's signature of amendment `amendment`; returns the day it came into
    force when this was the last signature it needed."""
    data = {"amendment": str(amendment), "party": party}
    _apply(session, "sign --amendment", agreement_id, data, actor, ctx, on)
    found = session.execute(
        select(tables.AMENDMENT.c.in_force_on).where(
            tables.AMENDMENT.c.agreement_id == agreement_id,
            tables.AMENDMENT.c.number == amendment,
        )
    ).scalar_one_or_none()
    return found.isoformat() if found is not None else None
