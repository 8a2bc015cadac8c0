"""`pal status`: is the service alive, is mail flowing, what falls due next."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from notifications.admin import counts_by_status
from states.context import Context
from storage import tables
from storage.records import records
from storage.service_models import Timer
from workflow.heartbeat import heartbeats
from workflow.views import open_deadlines


def service_status(session: Session, ctx: Context) -> dict[str, Any]:
    pending = session.exec(select(func.count()).where(Timer.status == "pending")).one()
    next_timer = session.exec(
        select(Timer.fire_at).where(Timer.status == "pending").order_by(col(Timer.fire_at))
    ).first()
    timers = tables.TIMER
    failed = records(
        session,
        sa_select(timers).where(timers.c.status == "failed").order_by(timers.c.id),
    )
    waiting = records(
        session,
        sa_select(timers).where(timers.c.status == "waiting").order_by(timers.c.id),
    )
    return {
        "heartbeats": heartbeats(session),
        "outbox": counts_by_status(session),
        "timers_pending": pending,
        "next_timer_at": next_timer.isoformat() if next_timer else None,
        # Timers that could not run (broken rule data, a bug): each failed alone, kept here
        # until someone looks.
        "timers_failed": [
            {
                "id": t.id,
                "agreement": t.agreement_id,
                "step": f"{t.ladder} {t.offset_days:+d} days",
                "error": t.outcome,
            }
            for t in failed
        ],
        # Timed actions due while the agreement could not take them: each runs at the sweep
        # after the agreement's next change of state.
        "timers_waiting": [
            {"id": t.id, "agreement": t.agreement_id, "action": t.action, "why": t.outcome}
            for t in waiting
        ],
        "next_deadlines": open_deadlines(session, today=ctx.today)[:5],
    }

