"""Enqueue notices as outbox rows, in the caller's transaction.

One row per (agreement, notice, occurrence, recipient), keyed by a unique idempotency key: a
second enqueue of the same occurrence adds nothing, so a sweep run twice sends nothing twice.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from notifications.recipients import resolve
from notifications.render import render_once
from states.calendar import local_date
from states.rules import RuleSet
from storage.models import Agreement, Contact, Deadline, District, Signature
from storage.service_models import Outbox
from workflow.context import Context

log = logging.getLogger("pal.notifications")

DEADLINE_LABELS = {
    "plan_due": "the signed partnership plan",
    "rga_due": "the 18-month Review of Goal Attainment",
    "review_36_due": "the 36-month review",
}


@dataclass(frozen=True)
class DeadlineFacts:
    kind: str
    label: str
    due_on: date
    days_left: int


def message_id(key: str) -> str:
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@pal.localhost>"


def enqueue_transition_notices(
    session: Session, agreement: Agreement, rules: RuleSet, event: str, day: date, ctx: Context
) -> int:
    notices = rules.notices_for(event)
    if not notices:
        return 0
    session.flush()
    upcoming = session.exec(
        select(Deadline)
        .where(Deadline.agreement_id == agreement.id, Deadline.status == "open")
        .order_by(col(Deadline.due_on))
    ).first()
    occurrence = f"{event}.v{agreement.version}"
    return sum(
        enqueue(session, agreement, n.notice, occurrence, n.to, ctx, deadline=upcoming)
        for n in notices
    )


def enqueue(
    session: Session,
    agreement: Agreement,
    notice: str,
    occurrence: str,
    roles: tuple[str, ...],
    ctx: Context,
    *,
    deadline: Deadline | None = None,
    extra: dict[str, Any] | None = None,
) -> int:
    """Add one outbox row per person owed `notice`; returns how many rows were added."""
    district = session.get(District, agreement.district_code)
    assert district is not None and agreement.id is not None
    recipients = resolve(session, agreement, district, roles)
    prefix = f"a{agreement.id}:{notice}:{occurrence}:"
    keys = [prefix + p.email for p in recipients.people]
    keys += [prefix + f"role:{role}" for role in recipients.missing]
    taken = set(
        session.exec(select(Outbox.idempotency_key).where(col(Outbox.idempotency_key).in_(keys)))
    )
    added = 0
    people = [p for p in recipients.people if prefix + p.email not in taken]
    if people:
        values = _values(session, agreement, district, deadline, ctx, extra or {})
        content = render_once(notice, values)
    for person in people:
        key = prefix + person.email
        session.add(
            _row(agreement, notice, occurrence, key, person.email, ctx, content.to(person.name))
        )
        added += 1
    for role in recipients.missing:
        key = prefix + f"role:{role}"
        if key not in taken:
            log.warning("%s for agreement %s: nobody on file as %s", notice, agreement.id, role)
            session.add(_unaddressed(agreement, notice, occurrence, key, role, district, ctx))
            added += 1
    return added


def _values(
    session: Session,
    agreement: Agreement,
    district: District,
    deadline: Deadline | None,
    ctx: Context,
    extra: dict[str, Any],
) -> dict[str, Any]:
    liaison = session.get(Contact, agreement.liaison_email) if agreement.liaison_email else None
    facts = None
    if deadline is not None:
        today = local_date(ctx.now, ctx.tz)
        facts = DeadlineFacts(
            deadline.kind,
            DEADLINE_LABELS.get(deadline.kind, deadline.kind),
            deadline.due_on,
            (deadline.due_on - today).days,
        )
    signed = set(
        session.exec(select(Signature.party).where(Signature.agreement_id == agreement.id)).all()
    )
    from config.rules import load_rules

    required = load_rules(agreement.rules_version).required_parties(district.psa)
    return {
        "agreement": agreement,
        "district": district,
        "liaison": liaison,
        "deadline": facts,
        "missing_parties": [p for p in required if p not in signed],
        **extra,
    }


def _row(
    agreement: Agreement,
    notice: str,
    occurrence: str,
    key: str,
    recipient: str,
    ctx: Context,
    content: Any,
) -> Outbox:
    return Outbox(
        agreement_id=agreement.id,
        notice=notice,
        occurrence=occurrence,
        recipient=recipient,
        idempotency_key=key,
        message_id=message_id(key),
        subject=content.subject,
        body_text=content.text,
        body_html=content.html,
        status="pending",
        attempts=0,
        next_attempt_at=ctx.now,
        created_at=ctx.now,
    )


def _unaddressed(
    agreement: Agreement,
    notice: str,
    occurrence: str,
    key: str,
    role: str,
    district: District,
    ctx: Context,
) -> Outbox:
    return Outbox(
        agreement_id=agreement.id,
        notice=notice,
        occurrence=occurrence,
        recipient=f"({role})",
        idempotency_key=key,
        message_id=message_id(key),
        subject=f"{notice} for {district.code}",
        body_text="",
        body_html="",
        status="unaddressed",
        attempts=0,
        next_attempt_at=ctx.now,
        last_error=f"nobody on file as {role} for district {district.code}",
        created_at=ctx.now,
    )
