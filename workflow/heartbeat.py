"""Liveness records: each sweep writes its heartbeat and its instance's row; `pal status` and
`pal restore` read them.

An instance is one `pal serve` process (`serve@HOST:PID`) or the `pal tick`s of one host
(`tick@HOST`: cron starts a process each time, and a row per process would grow without end).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from notifications.group_commit import write_turn
from storage import tables
from storage.db import transaction
from storage.service_models import Heartbeat, ServiceInstance

# An instance not heard of for this long is forgotten when another one starts.
FORGET_AFTER = timedelta(days=30)


def pal_version() -> str:
    """The installed package's version (its metadata), or `unknown` when run from a bare tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pal")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class Identity:
    """Who is beating: the instance's name and what its row says about it."""

    kind: str  # serve | tick
    host: str
    pid: int
    version: str
    sweep_seconds: float

    @property
    def name(self) -> str:
        return f"serve@{self.host}:{self.pid}" if self.kind == "serve" else f"tick@{self.host}"


def this_process(kind: str, sweep_seconds: float) -> Identity:
    return Identity(kind, socket.gethostname(), os.getpid(), pal_version(), sweep_seconds)


@dataclass(frozen=True)
class Beat:
    """What one sweep of an instance adds to its row."""

    identity: Identity
    started_at: datetime
    swept: bool = True
    sent: int = 0
    delivered_at: datetime | None = None  # the last delivery pass since the previous beat
    stopped: bool = False


def beat(engine: Engine, name: str, now: datetime, detail: str, of: Beat | None = None) -> None:
    """The heartbeat `name` (and, with `of`, the instance's row) at `now`, in one transaction."""
    with write_turn(engine), transaction(engine) as session:
        # One statement, not a read then an insert: two instances beating `serve` for the first
        # time at once (on PostgreSQL) would both insert, and one fail.
        values = {"beat_at": now, "detail": detail}
        session.execute(
            _upsert(session).values(name=name, **values).on_conflict_do_update(
                index_elements=[tables.HEARTBEAT.c.name], set_=values
            )
        )
        if of is not None:
            _instance(session, of, now)


def _upsert(session: Session) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (both PostgreSQL and SQLite have it)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(tables.HEARTBEAT)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(tables.HEARTBEAT)


def stopped(engine: Engine, of: Beat, now: datetime) -> None:
    """The instance stopped cleanly at `now` (a restore need not wait for its beats to age)."""
    with write_turn(engine), transaction(engine) as session:
        _instance(session, of, now)


def _instance(session: Session, of: Beat, now: datetime) -> None:
    who = of.identity
    row = session.get(ServiceInstance, who.name)
    if row is None:
        session.exec(
            delete(ServiceInstance).where(col(ServiceInstance.beat_at) < now - FORGET_AFTER)
        )
        row = ServiceInstance(
            name=who.name,
            kind=who.kind,
            host=who.host,
            pid=who.pid,
            version=who.version,
            sweep_seconds=who.sweep_seconds,
            started_at=of.started_at,
            beat_at=now,
        )
        session.add(row)
    elif who.kind == "tick":  # a new process of the same host: this one's facts
        row.pid, row.version, row.sweep_seconds = who.pid, who.version, who.sweep_seconds
        row.started_at = of.started_at
    row.beat_at = now
    row.stopped_at = now if of.stopped else None
    if of.swept:
        row.last_sweep_at = now
        row.sweeps = (row.sweeps or 0) + 1
    if of.delivered_at is not None:
        row.last_delivery_at = of.delivered_at
    row.sent = (row.sent or 0) + of.sent


def heartbeats(session: Session) -> list[dict[str, Any]]:
    rows = session.exec(select(Heartbeat).order_by(col(Heartbeat.name)))
    return [{"name": r.name, "at": r.beat_at.isoformat(), "detail": r.detail} for r in rows]


@dataclass(frozen=True)
class InstanceReading:
    """An instance's row as read."""

    name: str
    kind: str
    host: str
    pid: int
    version: str
    sweep_seconds: float
    started_at: datetime
    beat_at: datetime
    last_sweep_at: datetime | None
    last_delivery_at: datetime | None
    sweeps: int
    sent: int
    stopped_at: datetime | None


def instances(session: Session) -> list[InstanceReading]:
    rows = session.exec(select(ServiceInstance).order_by(col(ServiceInstance.name)))
    return [InstanceReading(**row.model_dump()) for row in rows]
