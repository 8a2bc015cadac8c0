"""What `pal outbox list`, `show` and `retry` and `pal status` need from the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from notifications import bodies
from states.errors import BadInput, NotAllowedInState, NotFound
from storage.models import Agreement
from storage.service_models import Outbox

STATUSES = ("pending", "retrying", "sent", "failed", "unaddressed")
RETRYABLE = ("failed", "retrying", "pending")
# A limit of more rows than a table can hold means all of them (and stays a valid SQL LIMIT).
MOST_ROWS = 2**62


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def outbox_dict(row: Outbox) -> dict[str, Any]:
    """A row as JSON-ready data (datetimes as ISO 8601 strings in UTC)."""
    return {
        "id": row.id,
        "to": row.recipient,
        "subject": row.subject,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "notice": row.notice,
        "occurrence": row.occurrence,
        "agreement_id": row.agreement_id,
        "message_id": row.message_id,
        "next_attempt_at": _iso(row.next_attempt_at),
        "created_at": _iso(row.created_at),
        "sent_at": _iso(row.sent_at),
    }


def list_outbox(
    session: Session,
    status: str | None = None,
    *,
    agreement: int | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Every outbox row, oldest first, optionally only those in `status`, only those about
    `agreement`, and only the newest `limit` of them (still oldest first)."""
    statement = select(Outbox).order_by(col(Outbox.id).desc())
    if status is not None:
        if status not in STATUSES:
            raise BadInput(f"unknown outbox status {status!r} (one of {', '.join(STATUSES)})")
        statement = statement.where(col(Outbox.status) == status)
    if agreement is not None:
        if session.get(Agreement, agreement) is None:
            raise NotFound(f"no agreement {agreement}")
        statement = statement.where(col(Outbox.agreement_id) == agreement)
    if limit is not None:
        if limit < 0:
            raise BadInput("--limit takes a number of messages, 0 or more")
        statement = statement.limit(min(limit, MOST_ROWS))
    return [outbox_dict(row) for row in reversed(session.exec(statement).all())]


def show_outbox(session: Session, outbox_id: int) -> dict[str, Any]:
    """One row as `list_outbox` gives it, with the text and HTML bodies it holds, in full."""
    row = session.get(Outbox, outbox_id)
    if row is None:
        raise NotFound(f"no outbox message {outbox_id}")
    message = bodies.read(session, [outbox_id])[outbox_id]
    return outbox_dict(row) | {"text": message.text, "html": message.html}


def retry(session: Session, outbox_id: int, now: datetime) -> dict[str, Any]:
    """Put a failed or retrying message back in the queue, due at `now`; returns the row.

    A pending row is already queued and is just made due now. A sent message is never resent,
    and one with nobody to address it to cannot be.
    """
    row = session.get(Outbox, outbox_id)
    if row is None:
        raise NotFound(f"no outbox message {outbox_id}")
    if row.status not in RETRYABLE:
        raise NotAllowedInState(
            f"outbox message {outbox_id} is {row.status}; only failed or retrying ones are retried"
        )
    row.status = "pending"
    row.next_attempt_at = now
    session.add(row)
    session.flush()
    return outbox_dict(row)


def counts_by_status(session: Session) -> dict[str, int]:
    """Rows per status, every known status present (0 when none)."""
    counts = dict.fromkeys(STATUSES, 0)
    statement = select(Outbox.status, func.count()).group_by(col(Outbox.status))
    for status, count in session.exec(statement):
        counts[status] = count
    return counts
