"""The sweep: fire every timer due at or before `now`, in due order, exactly once.

Timers are rows (`storage.models.Timer`); the sweep reads only what is due through the
(status, fire_at) index, claims a bounded batch, and commits each batch together with the outbox
rows and transitions it produced. Steps of one ladder supersede each other: after downtime, only
the latest due step of a ladder runs; the earlier ones are marked skipped and logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.rules import load_rules
from notifications.outbox import enqueue
from states.agreement import destination
from states.calendar import local_date
from states.errors import NotAllowedInState
from states.rules import RuleSet, TimerRule
from storage.db import transaction
from storage.models import Agreement, Deadline
from storage.service_models import Timer
from workflow import engine as lifecycle
from workflow.actors import SYSTEM_ACTOR
from workflow.context import Context

log = logging.getLogger("pal.sweep")
BATCH = 500


@dataclass
class SweepReport:
    fired: int = 0
    skipped: int = 0
    actions: list[str] = field(default_factory=list)
    # Timed actions the agreement's state did not allow; the liaison and director were told.
    blocked: list[str] = field(default_factory=list)
    emails: int = 0

    def add(self, other: SweepReport) -> None:
        self.fired += other.fired
        self.skipped += other.skipped
        self.actions.extend(other.actions)
        self.blocked.extend(other.blocked)
        self.emails += other.emails


def sweep(engine: Engine, ctx: Context, batch: int = BATCH) -> SweepReport:
    report = SweepReport()
    while True:
        with transaction(engine) as session, session.no_autoflush:
            # No autoflush: each step's queries need not push the batch's earlier rows first.
            due = _claim(session, ctx, batch)
            for timer in due:
                _run(session, timer, ctx, report)
        if len(due) < batch:
            return report


def _claim(session: Session, ctx: Context, batch: int) -> list[Timer]:
    query = (
        select(Timer)
        .where(Timer.status == "pending", Timer.fire_at <= ctx.now)
        .order_by(col(Timer.fire_at), col(Timer.id))
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.exec(query))


def _run(session: Session, timer: Timer, ctx: Context, report: SweepReport) -> None:
    if timer.status != "pending":
        return  # a step before it in this batch already settled it
    later = _later_due_step(session, timer, ctx)
    if later is not None:
        _settle(timer, ctx, "skipped", f"superseded by the step at {later.offset_days:+d} days")
        log.info("timer %s skipped: superseded by timer %s", timer.id, later.id)
        report.skipped += 1
        return
    deadline = session.get(Deadline, timer.deadline_id)
    agreement = session.get(Agreement, timer.agreement_id)
    assert deadline is not None and agreement is not None
    if deadline.status != "open":
        _settle(timer, ctx, "cancelled", f"deadline already {deadline.status}")
        return
    rules = load_rules(agreement.rules_version)
    step = _step(rules, deadline.kind, timer)
    outcome = "sent"
    if step.notice:
        report.emails += enqueue(
            session, agreement, step.notice, f"timer{timer.id}", step.to, ctx, deadline=deadline
        )
    if step.action:
        outcome = _act(session, agreement, rules, deadline, step, timer, ctx, report)
    _settle(timer, ctx, "done", outcome)
    report.fired += 1


def _later_due_step(session: Session, timer: Timer, ctx: Context) -> Timer | None:
    return session.exec(
        select(Timer)
        .where(
            Timer.deadline_id == timer.deadline_id,
            Timer.ladder == timer.ladder,
            # A later step another sweeper already ran still supersedes this one.
            col(Timer.status) != "cancelled",
            Timer.fire_at > timer.fire_at,
            Timer.fire_at <= ctx.now,
        )
        .order_by(col(Timer.fire_at).desc())
    ).first()


def _step(rules: RuleSet, kind: str, timer: Timer) -> TimerRule:
    for step in rules.timers_for(kind):
        if step.ladder == timer.ladder and step.offset_days == timer.offset_days:
            return step
    raise LookupError(f"rules {rules.version} have no step {timer.ladder}{timer.offset_days:+d}")


def _act(
    session: Session,
    agreement: Agreement,
    rules: RuleSet,
    deadline: Deadline,
    step: TimerRule,
    timer: Timer,
    ctx: Context,
    report: SweepReport,
) -> str:
    assert step.action is not None
    try:
        dest = destination(agreement.state, step.action)
    except NotAllowedInState as exc:
        log.warning("agreement %s: %s not possible: %s", agreement.id, step.action, exc)
        report.blocked.append(f"agreement {agreement.id}: {step.action} in {agreement.state}")
        if step.otherwise_notice:
            report.emails += enqueue(
                session,
                agreement,
                step.otherwise_notice,
                f"timer{timer.id}",
                step.otherwise_to,
                ctx,
                deadline=deadline,
                extra={"action": step.action, "reason": str(exc)},
            )
        return (
            f"{step.action} not possible in {agreement.state}; told {', '.join(step.otherwise_to)}"
        )
    day = max(_timer_day(timer, ctx), agreement.last_event_on)
    note = f"{deadline.kind} reached (due {deadline.due_on})"
    lifecycle.transition(session, agreement, rules, step.action, dest, SYSTEM_ACTOR, day, ctx, note)
    # The transition closed deadlines and timers with set-based UPDATEs: reload what we hold.
    session.expire_all()
    report.actions.append(f"agreement {agreement.id}: {step.action} -> {dest}")
    return f"fired {step.action}"


def _timer_day(timer: Timer, ctx: Context) -> date:
    return local_date(timer.fire_at, ctx.tz)


def _settle(timer: Timer, ctx: Context, status: str, outcome: str) -> None:
    timer.status = status
    timer.done_at = ctx.now
    timer.outcome = outcome
