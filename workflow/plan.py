"""The plan's benchmarks and their measurements: adding, importing, measuring, listing.

Every change is an event of the agreement, applied through `workflow.engine.apply` (its checks,
its audit record, its notices); the events are looked up by the commands that stand for them
(`AGREEMENT.commands`), never named here. Listing is a read model (`workflow.views`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from states.context import Context
from states.errors import NotFound
from states.process import parse_date
from states.registry import process
from storage import tables
from storage.records import newest
from workflow import views
from workflow.actors import Actor
from workflow.engine import Request, apply
from workflow.progress import Progress, no_progress
from workflow.registry import import_rows

AGREEMENT = process("agreement")
BENCHMARK_HEADER = ("school", "kind", "label", "baseline", "target_18", "target_36", "direction")
MEASUREMENT_HEADER = ("benchmark", "value", "on", "evidence")



def add_benchmark(
    session: Session,
    agreement_id: int,
    fields: Mapping[str, str],
    actor: Actor,
    ctx: Context,
    on: date | None = None,
) -> int:
    """Add one benchmark to the plan (fields: school, kind, label, baseline, target_18,
    target_36, direction); returns its id."""
    data = {name: value for name, value in fields.items() if value is not None}
    request = Request(AGREEMENT.commands["benchmark add"], actor, case=agreement_id, on=on,
                      data=data)  # fmt: skip
    apply(session, request, ctx)
    return newest(session, tables.BENCHMARK.c.id, tables.BENCHMARK.c.agreement_id == agreement_id)


def import_benchmarks(
    session: Session,
    agreement_id: int,
    text: str,
    actor: Actor,
    ctx: Context,
    on: date | None = None,
    progress: Progress = no_progress,
) -> list[int]:
    """Every row of a CSV (header `BENCHMARK_HEADER`) or none; a bad row is named by its line."""
    return import_rows(
        text,
        BENCHMARK_HEADER,
        lambda row: add_benchmark(session, agreement_id, row, actor, ctx, on=on),
        progress,
    )


def measure(
    session: Session,
    benchmark_id: int,
    value: str | float,
    on: date,
    evidence: str | None,
    actor: Actor,
    ctx: Context,
) -> None:
    """Record a measurement of a benchmark, taken on `on`."""
    found = session.execute(
        select(tables.BENCHMARK.c.agreement_id, tables.BENCHMARK.c.lineage).where(
            tables.BENCHMARK.c.id == benchmark_id
        )
    ).first()
    if found is None:
        raise NotFound(f"no benchmark {benchmark_id}")
    # Measurements belong to the benchmark in every version of the terms: to its lineage.
    agreement_id, lineage = found
    _record(session, agreement_id, str(lineage), str(value), on, evidence, actor, ctx)


def import_measurements(
    session: Session,
    agreement_id: int,
    text: str,
    actor: Actor,
    ctx: Context,
    progress: Progress = no_progress,
) -> int:
    """Every row of a CSV (header `MEASUREMENT_HEADER`) or none; returns how many were recorded."""

    def each(row: Mapping[str, str]) -> None:
        on = parse_date(row["on"].strip(), "on")
        _record(session, agreement_id, row["benchmark"].strip(), row["value"], on,
                row["evidence"] or None, actor, ctx)  # fmt: skip

    return len(import_rows(text, MEASUREMENT_HEADER, each, progress))


def _record(
    session: Session,
    agreement_id: int,
    benchmark: str,
    value: str,
    on: date,
    evidence: str | None,
    actor: Actor,
    ctx: Context,
) -> None:
    """A measurement is recorded as of the day it was taken, or as of the agreement's latest
    event when that is later (recording an old value does not move the agreement's clock)."""
    latest = session.execute(
        select(tables.AGREEMENT.c.last_event_on).where(tables.AGREEMENT.c.id == agreement_id)
    ).scalar_one_or_none()
    if latest is None:
        raise NotFound(f"no agreement {agreement_id}")
    data = {"benchmark": benchmark, "value": value, "on": on.isoformat()}
    if evidence is not None:
        data["evidence"] = evidence
    request = Request(AGREEMENT.commands["benchmark measure"], actor, case=agreement_id,
                      on=max(on, latest), data=data)  # fmt: skip
    apply(session, request, ctx)


def list_benchmarks(session: Session, agreement_id: int) -> list[dict[str, Any]]:
    """The agreement's benchmarks (`benchmark list --json`): the read model of `workflow.views`."""
    return views.list_benchmarks(session, agreement_id)
