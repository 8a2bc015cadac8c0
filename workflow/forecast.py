"""`pal forecast`: what the service will send and do between now and a day, if nothing changes.

Computed by running the service's own sweep (`workflow.sweep.sweep`), unchanged, on a throwaway
copy of the database, moved from one timer's moment to the next until the end of the day asked
for; then reading the mail it queued and the steps it took there. Not a second implementation
of the rules: whatever the sweep does (ladders superseding their steps, reminders moved off
holidays, actions that wait for a stage, the notices their transitions send) the forecast shows,
by construction. The copy is a SQLite file in a temporary folder: taken with SQLite's online
backup API from a SQLite database, or row by row from PostgreSQL. The database itself is only
read, so a running service is never held up, and the forecast changes nothing.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlmodel import SQLModel

from states.calendar import end_of_day, local_date
from states.context import Context
from states.registry import process
from storage import tables
from storage.db import make_engine, sqlite_path, transaction
from workflow.logs import quieted
from workflow.sweep import SweepReport, sweep


@dataclass(frozen=True)
class ForecastNotice:
    day: date
    agreement: int | None
    district: str | None
    subject: str
    step: str  # in words: the deadline a reminder is about, or the step a notice tells of
    about: str  # `deadline` (a reminder of it) or `step` (a notice of the step taken)
    notice: str  # its engine name, for --json readers that compare
    to: str  # the address, or `(role)` when nobody on file holds the role


@dataclass(frozen=True)
class ForecastAction:
    day: date
    agreement: int | None
    district: str | None
    event: str
    label: str
    from_state: str | None
    to_state: str | None


@dataclass(frozen=True)
class Forecast:
    now: datetime
    until: date
    notices: list[ForecastNotice]
    actions: list[ForecastAction]
    # Timers that would fail (broken rule data, a bug), as the sweep reports them.
    failures: list[str]


def forecast(engine: Engine, ctx: Context, until: date, agreement: int | None = None) -> Forecast:
    """Every notice the sweeps will queue and every timed step they will take from `ctx.now`
    to the end of `until` (local), for all agreements or one; `engine`'s database is only
    read."""
    with throwaway_copy(engine) as copy:
        with transaction(copy) as session:
            first_mail = session.execute(select(func.max(tables.OUTBOX.c.id))).scalar() or 0
            first_audit = session.execute(select(func.max(tables.AUDIT.c.id))).scalar() or 0
            if agreement is not None:  # the others' timers cannot change this one's
                session.execute(
                    update(tables.TIMER)
                    .where(tables.TIMER.c.agreement_id != agreement,
                           tables.TIMER.c.status.in_(("pending", "waiting")))
                    .values(status="cancelled")
                )  # fmt: skip
        with quieted():
            failures = _run_sweeps(copy, ctx, end_of_day(until, ctx.tz))
        with transaction(copy, read_only=True) as session:
            notices = _notices(session, first_mail, ctx, agreement)
            actions = _actions(session, first_audit, ctx, agreement)
    return Forecast(ctx.now, until, notices, actions, failures)


def _run_sweeps(copy: Engine, ctx: Context, end: datetime) -> list[str]:
    """Sweep now, then at each next timer's moment, up to `end`: as a service running all along
    would (a sweep later in the same day gives the same day's mail). Returns what failed."""
    moment = ctx.now
    report = sweep(copy, ctx)
    failures = list(report.failed)
    while True:
        following = _next_moment(copy, moment, strictly_after=_idle(report))
        if following is None or following > end:
            return failures
        moment = following
        report = sweep(copy, replace(ctx, now=moment))
        failures.extend(report.failed)



def _idle(report: SweepReport) -> bool:
    return not (report.fired or report.skipped or report.actions or report.blocked
                or report.failed)  # fmt: skip


def _next_moment(copy: Engine, moment: datetime, *, strictly_after: bool) -> datetime | None:
    """The earliest pending timer's moment, never before `moment` (an action re-armed for a
    moment already passed runs at once); after it when the last sweep found nothing to do."""
    timer = tables.TIMER.c
    query = select(func.min(timer.fire_at)).where(timer.status == "pending")
    if strictly_after:
        query = query.where(timer.fire_at > moment)
    with transaction(copy, read_only=True) as session:
        found: datetime | None = session.execute(query).scalar()
    return None if found is None else max(found, moment)


def _districts(session: Any, ids: set[int]) -> dict[int, tuple[str, str]]:
    agreement, district = tables.AGREEMENT.c, tables.DISTRICT.c
    rows = session.execute(
        select(agreement.id, agreement.district_code, district.name)
        .join(tables.DISTRICT, district.code == agreement.district_code)
        .where(agreement.id.in_(sorted(ids)))
    ).all()
    return {row.id: (row.district_code, row.name) for row in rows}


def _notices(
    session: Any, after: int, ctx: Context, agreement: int | None
) -> list[ForecastNotice]:
    outbox, timer, deadline = tables.OUTBOX.c, tables.TIMER.c, tables.DEADLINE.c
    rows = session.execute(
        select(outbox.id, outbox.agreement_id, outbox.notice, outbox.occurrence,
               outbox.recipient, outbox.subject, outbox.created_at)
        .where(outbox.id > after)
        .order_by(outbox.created_at, outbox.id)
    ).all()  # fmt: skip
    if agreement is not None:
        rows = [row for row in rows if row.agreement_id == agreement]
    timer_ids = {int(r.occurrence[5:]) for r in rows if r.occurrence.startswith("timer")}
    kinds = dict(
        session.execute(
            select(timer.id, deadline.kind)
            .join(tables.DEADLINE, deadline.id == timer.deadline_id)
            .where(timer.id.in_(sorted(timer_ids)))
        ).all()
    ) if timer_ids else {}  # fmt: skip
    districts = _districts(session, {r.agreement_id for r in rows if r.agreement_id})
    definition = process("agreement")
    found = []
    for row in rows:
        if row.occurrence.startswith("timer"):
            kind = kinds.get(int(row.occurrence[5:]), "")
            step, about = definition.deadline_labels.get(kind, kind), "deadline"
        else:
            event = row.occurrence.rsplit(".v", 1)[0]
            spec = definition.by_name.get(event)
            step, about = (spec.label if spec else event), "step"
        code = districts.get(row.agreement_id, (None, None))[0]
        day = local_date(row.created_at, ctx.tz)
        found.append(ForecastNotice(day, row.agreement_id, code, row.subject, step, about,
                                    row.notice, row.recipient))  # fmt: skip
    return found


def _actions(
    session: Any, after: int, ctx: Context, agreement: int | None
) -> list[ForecastAction]:
    audit = tables.AUDIT.c
    query = select(audit.agreement_id, audit.event, audit.from_state, audit.to_state,
                   audit.effective_on).where(audit.id > after, audit.agreement_id.is_not(None))
    if agreement is not None:
        query = query.where(audit.agreement_id == agreement)
    rows = session.execute(query.order_by(audit.id)).all()  # fmt: skip
    districts = _districts(session, {r.agreement_id for r in rows})
    definition = process("agreement")
    return [
        ForecastAction(
            row.effective_on, row.agreement_id, districts.get(row.agreement_id, (None, None))[0],
            row.event, definition.by_name[row.event].label if row.event in definition.by_name
            else row.event, row.from_state, row.to_state,
        )
        for row in rows
    ]  # fmt: skip


@contextmanager
def throwaway_copy(engine: Engine) -> Iterator[Engine]:
    """An engine on a copy of `engine`'s database in a temporary folder, deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="pal-forecast-") as folder:
        target = Path(folder) / "forecast.db"
        source = sqlite_path(str(engine.url))
        if source is not None:
            _backup(source, target)
            copy = make_engine(f"sqlite:///{target}")
        else:
            copy = make_engine(f"sqlite:///{target}")
            _copy_rows(engine, copy)
        try:
            yield copy
        finally:
            copy.dispose()


def _backup(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while the service writes (it only reads)."""
    reading = sqlite3.connect(source)
    try:
        writing = sqlite3.connect(target)
        try:
            reading.backup(writing)
        finally:
            writing.close()
    finally:
        reading.close()


def _copy_rows(engine: Engine, copy: Engine) -> None:
    """Every row of every table of a PostgreSQL database, read in one snapshot, into a new
    SQLite database of the same schema."""
    from storage.migrate import upgrade

    upgrade(copy)
    with engine.connect() as reading, copy.begin() as writing:
        if reading.dialect.name == "postgresql":  # every table as of one moment
            reading.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for table in SQLModel.metadata.sorted_tables:
            rows = reading.execute(select(table)).mappings()
            batch: list[dict[str, Any]] = []
            for row in rows:
                batch.append(dict(row))
                if len(batch) == 1000:
                    writing.execute(table.insert(), batch)
                    batch = []
            if batch:
                writing.execute(table.insert(), batch)
