"""Enqueue notices as outbox rows, in the caller's transaction.

One row per (agreement, notice, occurrence, recipient), keyed by a unique idempotency key: a
second enqueue of the same occurrence adds nothing, so a sweep run twice sends nothing twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Table, bindparam, insert
from sqlmodel import Session, col, select

from config.rules import load_rules
from notifications.recipients import Directory, Recipients
from notifications.render import render_once
from states.context import Context
from states.registry import process
from states.rules import RuleSet
from storage.models import Agreement, Deadline
from storage.service_models import Outbox

log = logging.getLogger("pal.notifications")

_OUTBOX: Table = Outbox.__table__  # type: ignore[attr-defined]
_TAKEN = select(_OUTBOX.c.idempotency_key).where(
    _OUTBOX.c.idempotency_key.in_(bindparam("keys", expanding=True))
)
# Keys looked up per query: well under SQLite's limit on bound parameters.
_CHUNK = 900


@dataclass(frozen=True)
class DeadlineFacts:
    kind: str
    label: str
    due_on: date
    days_left: int


def message_id(key: str) -> str:
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@pal.localhost>"


# What notices may say about an agreement: callers that load rows rather than Agreement objects
# (the sweep) select these columns.
NOTICE_AGREEMENT_FIELDS = (
    "id",
    "district_code",
    "cohort",
    "state",
    "rules_version",
    "liaison_email",
    "identified_on",
    "signed_on",
    "escalation_option",
)


@dataclass(frozen=True)
class Notice:
    """One notice owed for one agreement, before it is addressed to anyone."""

    agreement: Any  # an Agreement, or a row with its columns
    notice: str
    occurrence: str
    roles: tuple[str, ...]
    deadline: Any | None = None  # a Deadline, or a row with its columns
    extra: Mapping[str, Any] = field(default_factory=dict)


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
    owed = [Notice(agreement, n.notice, occurrence, n.to, upcoming) for n in notices]
    return enqueue_many(session, owed, ctx)


def enqueue(session: Session, owed: Notice, ctx: Context) -> int:
    return enqueue_many(session, [owed], ctx)


def enqueue_many(session: Session, owed: Sequence[Notice], ctx: Context) -> int:
    """Add one outbox row per person owed each notice; returns how many rows were added.

    Set-based whatever the number of notices: one directory load, one lookup of the keys already
    taken, one rendering per notice and one multi-row INSERT.
    """
    if not owed:
        return 0
    roles = {role for item in owed for role in item.roles}
    directory = Directory.load(session, [item.agreement for item in owed], roles)
    addressed = [(item, directory.resolve(item.agreement, item.roles)) for item in owed]
    taken = _taken(session, [key for item, to in addressed for key in _keys(item, to)])
    rows: list[dict[str, Any]] = []
    today = ctx.today
    for item, recipients in addressed:
        rows.extend(_rows(item, recipients, directory, taken, ctx, today))
    if rows:
        session.execute(insert(_OUTBOX), rows)
    return len(rows)


def _keys(item: Notice, recipients: Recipients) -> list[str]:
    prefix = _prefix(item)
    return [prefix + p.email for p in recipients.people] + [
        prefix + f"role:{role}" for role in recipients.missing
    ]


def _prefix(item: Notice) -> str:
    return f"a{item.agreement.id}:{item.notice}:{item.occurrence}:"


def _taken(session: Session, keys: list[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        taken.update(session.scalars(_TAKEN, {"keys": chunk}))
    return taken


def _rows(
    item: Notice,
    recipients: Recipients,
    directory: Directory,
    taken: set[str],
    ctx: Context,
    today: date,
) -> list[dict[str, Any]]:
    """The outbox rows of one notice whose keys are not taken; `taken` grows with them."""
    prefix = _prefix(item)
    district = directory.district(item.agreement)
    people = [p for p in recipients.people if prefix + p.email not in taken]
    rows = []
    if people:
        content = render_once(item.notice, _values(item, directory, today))
        for person in people:
            key = prefix + person.email
            taken.add(key)
            rows.append(_row(item, key, person.email, ctx, content.to(person)))
    for role in recipients.missing:
        key = prefix + f"role:{role}"
        if key not in taken:
            taken.add(key)
            log.warning(
                "%s for agreement %s: nobody on file as %s", item.notice, item.agreement.id, role
            )
            rows.append(_unaddressed(item, key, role, district, ctx))
    return rows


def _values(item: Notice, directory: Directory, today: date) -> dict[str, Any]:
    agreement = item.agreement
    district = directory.district(agreement)
    facts = None
    if item.deadline is not None:
        deadline = item.deadline
        facts = DeadlineFacts(
            deadline.kind,
            process("agreement").deadline_labels.get(deadline.kind, deadline.kind),
            deadline.due_on,
            (deadline.due_on - today).days,
        )
    signed = set(directory.signed_parties(agreement))
    required = load_rules(agreement.rules_version).required_parties(district.psa)
    return {
        "agreement": agreement,
        "district": district,
        "liaison": directory.liaison(agreement),
        "deadline": facts,
        "missing_parties": [p for p in required if p not in signed],
        **item.extra,
    }


def _row(item: Notice, key: str, recipient: str, ctx: Context, content: Any) -> dict[str, Any]:
    return {
        "agreement_id": item.agreement.id,
        "notice": item.notice,
        "occurrence": item.occurrence,
        "recipient": recipient,
        "idempotency_key": key,
        "message_id": message_id(key),
        "subject": content.subject,
        "body_text": content.text,
        "body_html": content.html,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": ctx.now,
        "last_error": None,
        "created_at": ctx.now,
        "sent_at": None,
    }


def _unaddressed(item: Notice, key: str, role: str, district: Any, ctx: Context) -> dict[str, Any]:
    return {
        "agreement_id": item.agreement.id,
        "notice": item.notice,
        "occurrence": item.occurrence,
        "recipient": f"({role})",
        "idempotency_key": key,
        "message_id": message_id(key),
        "subject": f"{item.notice} for {district.code}",
        "body_text": "",
        "body_html": "",
        "status": "unaddressed",
        "attempts": 0,
        "next_attempt_at": ctx.now,
        "last_error": f"nobody on file as {role} for district {district.code}",
        "created_at": ctx.now,
        "sent_at": None,
    }
