"""`pal status`: is the service alive, is mail flowing, what falls due next."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, select

from notifications.admin import counts_by_status
from states.context import Context
from storage.service_models import Timer
from workflow.heartbeat import heartbeats
from workflow.views import open_deadlines


def service_status(session: Session, ctx: Context) -> dict[str, Any]:
    pending = session.exec(select(func.count()).where(Timer.status == "pending")).one()
    next_timer = session.exec(
        select(Timer.fire_at).where(Timer.status == "pending").order_by(col(Timer.fire_at))
    ).first()
    return {
        "heartbeats": heartbeats(session),
        "outbox": counts_by_status(session),
        "timers_pending": pending,
        "next_timer_at": next_timer.isoformat() if next_timer else None,
        "next_deadlines": open_deadlines(session, today=ctx.today)[:5],
    }


def status_text(report: dict[str, Any]) -> str:
    lines = ["heartbeats:"]
    lines += [f"  {h['name']:<6} {h['at']}  {h['detail'] or ''}" for h in report["heartbeats"]]
    if not report["heartbeats"]:
        lines.append("  none: the service has not run yet")
    outbox = report["outbox"]
    lines.append("outbox: " + (", ".join(f"{k} {v}" for k, v in sorted(outbox.items())) or "empty"))
    if outbox.get("failed"):
        lines.append(f"  {outbox['failed']} failed: see `pal outbox list --status failed`")
    upcoming = report["next_timer_at"]
    lines.append(
        f"timers pending: {report['timers_pending']}" + (f" (next {upcoming})" if upcoming else "")
    )
    lines.append("next deadlines:")
    lines += [
        f"  {d['due']}  {d['kind']:<14} agreement {d['agreement']} ({d['district']})"
        for d in report["next_deadlines"]
    ] or ["  none"]
    return "\n".join(lines)
