"""`pal status`: is the service alive, is mail flowing, what falls due next, and the verdict.

What is read here; what it means is `workflow.health.judge`, a pure function of it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from notifications.admin import counts_by_status
from states.context import Context
from storage import tables
from storage.records import records
from storage.service_models import Outbox, Timer
from workflow.health import (
    LIVE,
    UNADDRESSED_WINDOW,
    Readings,
    WaitingMessage,
    instance_state,
    judge,
)
from workflow.heartbeat import InstanceReading, heartbeats, instances
from workflow.views import open_deadlines

# The overdue deadlines listed by name (all are counted).
OVERDUE_SHOWN = 20


def read_health(session: Session, now: datetime) -> Readings:
    failed_timers = session.exec(select(func.count()).where(Timer.status == "failed")).one()
    failed = session.exec(select(func.count()).where(Outbox.status == "failed")).one()
    unaddressed = session.exec(
        select(func.count()).where(
            Outbox.status == "unaddressed", col(Outbox.created_at) >= now - UNADDRESSED_WINDOW
        )
    ).one()
    oldest = session.exec(
        select(Outbox)
        .where(col(Outbox.status).in_(("pending", "retrying")))
        .order_by(col(Outbox.created_at), col(Outbox.id))
        .limit(1)  # without it, the ORM loads every message waiting to take the first
    ).first()
    waiting = None
    if oldest is not None and oldest.id is not None:
        waiting = WaitingMessage(
            oldest.id, oldest.recipient, oldest.subject, oldest.status, oldest.attempts,
            oldest.created_at, oldest.next_attempt_at, oldest.last_error,
        )  # fmt: skip
    return Readings(instances(session), failed, unaddressed, waiting, failed_timers)


def service_status(session: Session, ctx: Context) -> dict[str, Any]:
    """The report `pal status` prints (`--json`: as it is), with the verdict as of `ctx.now`."""
    now = ctx.now
    readings = read_health(session, now)
    verdict = judge(readings, now)
    pending = session.exec(select(func.count()).where(Timer.status == "pending")).one()
    next_timer = session.exec(
        select(Timer.fire_at)
        .where(Timer.status == "pending")
        .order_by(col(Timer.fire_at))
        .limit(1)
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
    deadlines = open_deadlines(session, today=ctx.today)
    overdue = [d for d in deadlines if d["status"] == "overdue"]
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
        "next_deadlines": deadlines[:5],
        # Since issue 13: the verdict and what it was judged on, times in PAL_TIMEZONE.
        "verdict": verdict.status,
        "exit_code": verdict.exit_code,
        "reasons": list(verdict.reasons),
        "now": _local(now, ctx),
        "timezone": str(ctx.tz),
        "instances": [_instance(i, ctx) for i in readings.instances],
        # Since issue 14: the instances heard from lately (each instance's `state` says which).
        "live_instances": [
            i.name for i in readings.instances if instance_state(i, now) == LIVE
        ],
        "oldest_waiting": _waiting(readings.oldest_waiting, ctx),
        "failed": readings.failed_messages,
        "unaddressed": counts_by_status(session)["unaddressed"],
        "unaddressed_recent": readings.unaddressed_recent,
        "overdue_count": len(overdue),
        "overdue_deadlines": overdue[:OVERDUE_SHOWN],
    }


def redacted(report: dict[str, Any], redact: Callable[[str], str]) -> dict[str, Any]:
    """The report with every stored error and reason passed through `redact` (errors stored
    before they were redacted at the source, say)."""
    for timer in report["timers_failed"]:
        timer["error"] = redact(timer["error"]) if timer["error"] else timer["error"]
    waiting = report["oldest_waiting"]
    if waiting is not None and waiting["last_error"]:
        waiting["last_error"] = redact(waiting["last_error"])
    report["reasons"] = [redact(reason) for reason in report["reasons"]]
    return report


def _local(moment: datetime | None, ctx: Context) -> dict[str, Any] | None:
    """A moment in local time, with its age in seconds (negative: still to come)."""
    if moment is None:
        return None
    age = (ctx.now - moment) / timedelta(seconds=1)
    return {"at": moment.astimezone(ctx.tz).isoformat(timespec="seconds"), "age_s": round(age)}


def _instance(instance: InstanceReading, ctx: Context) -> dict[str, Any]:
    return {
        "name": instance.name,
        "kind": instance.kind,
        "host": instance.host,
        "pid": instance.pid,
        "version": instance.version,
        "sweep_seconds": instance.sweep_seconds,
        "started": _local(instance.started_at, ctx),
        "last_sweep": _local(instance.last_sweep_at, ctx),
        "last_delivery": _local(instance.last_delivery_at, ctx),
        "last_beat": _local(instance.beat_at, ctx),
        "stopped": _local(instance.stopped_at, ctx),
        "sweeps": instance.sweeps,
        "sent": instance.sent,
        "state": instance_state(instance, ctx.now),
    }


def _waiting(message: WaitingMessage | None, ctx: Context) -> dict[str, Any] | None:
    if message is None:
        return None
    return {
        "id": message.id,
        "to": message.to,
        "subject": message.subject,
        "status": message.status,
        "attempts": message.attempts,
        "waiting_since": _local(message.waiting_since, ctx),
        "next_attempt": _local(message.next_attempt_at, ctx),
        "last_error": message.last_error,
    }
