"""Liveness records: the service writes one after each sweep; `pal status` reads them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from notifications.group_commit import write_turn
from storage.db import transaction
from storage.service_models import Heartbeat


def beat(engine: Engine, name: str, now: datetime, detail: str) -> None:
    with write_turn(engine), transaction(engine) as session:
        row = session.get(Heartbeat, name)
        if row is None:
            session.add(Heartbeat(name=name, beat_at=now, detail=detail))
        else:
            row.beat_at = now
            row.detail = detail


def heartbeats(session: Session) -> list[dict[str, Any]]:
    rows = session.exec(select(Heartbeat).order_by(col(Heartbeat.name)))
    return [{"name": r.name, "at": r.beat_at.isoformat(), "detail": r.detail} for r in rows]
