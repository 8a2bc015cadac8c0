"""Open deadlines (and their timer ladders) when an event fires; close them when one meets them."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import update
from sqlmodel import Session, col, select

from states.calendar import add_days, end_of_day, local_instant
from states.rules import RuleSet
from storage.models import Agreement, Deadline, Timer
from workflow.context import Context


def open_for_event(
    session: Session, agreement: Agreement, rules: RuleSet, event: str, on: date, ctx: Context
) -> list[Deadline]:
    assert agreement.id is not None
    opened = []
    for rule in rules.deadlines_opened_by(event):
        due_on = rule.due(on)
        deadline = Deadline(
            agreement_id=agreement.id,
            kind=rule.kind,
            due_on=due_on,
            due_at=end_of_day(due_on, ctx.tz),
            status="open",
            opened_on=on,
        )
        session.add(deadline)
        opened.append(deadline)
    if opened:
        session.flush()
    for deadline in opened:
        _schedule_timers(session, agreement, rules, deadline, ctx)
    return opened


def _schedule_timers(
    session: Session, agreement: Agreement, rules: RuleSet, deadline: Deadline, ctx: Context
) -> None:
    assert agreement.id is not None and deadline.id is not None
    at = time(ctx.notice_hour, 0)
    for step in rules.timers_for(deadline.kind):
        session.add(
            Timer(
                agreement_id=agreement.id,
                deadline_id=deadline.id,
                ladder=step.ladder,
                offset_days=step.offset_days,
                notice=step.notice,
                action=step.action,
                fire_at=local_instant(add_days(deadline.due_on, step.offset_days), at, ctx.tz),
            )
        )


def close_for_event(
    session: Session, agreement: Agreement, rules: RuleSet, event: str, on: date, *, final: bool
) -> list[Deadline]:
    """Meet the deadlines `event` satisfies; cancel every open one when the agreement ends."""
    open_deadlines = session.exec(
        select(Deadline).where(
            col(Deadline.agreement_id) == agreement.id, col(Deadline.status) == "open"
        )
    ).all()
    closed = []
    for deadline in open_deadlines:
        if event in rules.deadline(deadline.kind).met_by:
            deadline.status = "met" if on <= deadline.due_on else "met_late"
        elif final:
            deadline.status = "cancelled"
        else:
            continue
        deadline.closed_on = on
        closed.append(deadline)
    if closed:
        # Reminders stop the moment their deadline is met or closed.
        session.execute(
            update(Timer)
            .where(
                col(Timer.deadline_id).in_([d.id for d in closed]), col(Timer.status) == "pending"
            )
            .values(status="cancelled", outcome=f"deadline closed by {event}")
        )
    return closed
