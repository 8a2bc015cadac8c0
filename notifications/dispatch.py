"""The delivery pass: claim what is due, send it, record each result. At-least-once.

1. Claim, in one short transaction, the due rows (`pending` or `retrying`, `next_attempt_at <= now`)
   and push their `next_attempt_at` to `now + LEASE`, so that a second dispatcher (another process)
   skips them; on PostgreSQL the claim also uses `FOR UPDATE SKIP LOCKED`. A dispatcher that dies
   after claiming leaves its rows to be picked up again once the lease has run out.
2. Send each row, one message per row, through the transport.
3. Record each result in its own short transaction: `sent`; `retrying` with exponential backoff
   (never given up: the row stays visible); or `failed` for a permanent refusal.

`now` is always given by the caller: nothing here reads the clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.errors import MessageError
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import col, select

from notifications.errors import (
    DeliveryError,
    DeliveryUnavailable,
    PermanentDeliveryError,
)
from notifications.mime import build_message
from notifications.transports import Transport
from storage.db import transaction
from storage.service_models import Outbox

log = logging.getLogger(__name__)

DUE_STATUSES = ("pending", "retrying")
LEASE = timedelta(minutes=10)
FIRST_RETRY = timedelta(seconds=60)
MAX_RETRY = timedelta(hours=1)
MAX_ERROR_CHARS = 1000


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    claimed: int = 0
    unavailable: bool = False  # the mail system could not be reached; the pass stopped early

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.errors.extend(other.errors)
        self.claimed += other.claimed
        self.unavailable = self.unavailable or other.unavailable


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed ones: 1 min, 2, 4, ... capped at 1 h."""
    exponent = min(max(attempts, 1) - 1, 12)
    delay: timedelta = FIRST_RETRY * (1 << exponent)
    return min(delay, MAX_RETRY)


async def deliver_due(
    engine: Engine,
    transport: Transport,
    now: datetime,
    mail_from: str,
    batch: int = 200,
    *,
    stop: asyncio.Event | None = None,
) -> DeliveryReport:
    """One batch: claim up to `batch` due rows, send them, record every result.

    When `stop` is set the message in flight is finished and the rest of the batch is released.
    """
    _require_aware(now)
    if stop is not None and stop.is_set():
        return DeliveryReport()
    rows = claim_due(engine, now, batch)
    report = DeliveryReport(claimed=len(rows))
    if not rows:
        return report
    async with transport:
        for index, row in enumerate(rows):
            if stop is not None and stop.is_set():
                _release(engine, rows[index:], now)
                break
            error = await _attempt(transport, row, mail_from)
            _record(engine, row, error, now, report)
            if isinstance(error, DeliveryUnavailable):
                _postpone(engine, rows[index + 1 :], error, now, report)
                break
    log.info(
        "delivery: %d sent, %d retrying, %d failed", report.sent, report.retrying, report.failed
    )
    return report


async def deliver_all_due(
    engine: Engine,
    transport: Transport,
    now: datetime,
    mail_from: str,
    batch: int = 200,
    *,
    stop: asyncio.Event | None = None,
) -> DeliveryReport:
    """Batches until nothing is due at `now`, over one transport session (one connection)."""
    total = DeliveryReport()
    async with transport:
        while True:
            report = await deliver_due(engine, transport, now, mail_from, batch, stop=stop)
            total.add(report)
            stopped = stop is not None and stop.is_set()
            if report.claimed < batch or report.unavailable or stopped:
                return total


def claim_due(engine: Engine, now: datetime, batch: int) -> list[Outbox]:
    """Take the due rows, oldest first, and lease them to this dispatcher until `now + LEASE`."""
    statement = (
        select(Outbox)
        .where(col(Outbox.status).in_(DUE_STATUSES), col(Outbox.next_attempt_at) <= now)
        .order_by(col(Outbox.next_attempt_at), col(Outbox.id))
        .limit(batch)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite serialises on BEGIN IMMEDIATE
    )
    with transaction(engine) as session:
        rows = list(session.exec(statement).all())
        if rows:
            session.exec(
                update(Outbox)
                .where(col(Outbox.id).in_([row.id for row in rows]))
                .values(next_attempt_at=now + LEASE)
                .execution_options(synchronize_session=False)
            )
    return rows


async def _attempt(transport: Transport, row: Outbox, mail_from: str) -> DeliveryError | None:
    try:
        message = build_message(row, mail_from)
    except (ValueError, TypeError, MessageError) as exc:
        return PermanentDeliveryError(f"cannot build the message: {exc}")
    try:
        await transport.send(message, row.recipient)
    except DeliveryError as exc:
        return exc
    return None


def _outcome(row: Outbox, error: DeliveryError | None, now: datetime) -> dict[str, Any]:
    if error is None:
        return {"status": "sent", "sent_at": now, "last_error": None}
    text = (str(error) or type(error).__name__)[:MAX_ERROR_CHARS]
    if isinstance(error, PermanentDeliveryError):
        return {"status": "failed", "last_error": text}
    return {
        "status": "retrying",
        "last_error": text,
        "next_attempt_at": now + backoff(row.attempts + 1),
    }


def _record(
    engine: Engine,
    row: Outbox,
    error: DeliveryError | None,
    now: datetime,
    report: DeliveryReport,
) -> None:
    values = _outcome(row, error, now)
    with transaction(engine) as session:
        result = session.exec(
            update(Outbox)
            .where(col(Outbox.id) == row.id, col(Outbox.status).in_(DUE_STATUSES))
            .values(attempts=col(Outbox.attempts) + 1, **values)
            .execution_options(synchronize_session=False)
        )
    if result.rowcount == 0:
        log.warning("outbox %s changed while in flight; %s not recorded", row.id, values["status"])
    _count(report, row, values["status"], error)


def _count(report: DeliveryReport, row: Outbox, status: str, error: DeliveryError | None) -> None:
    if status == "sent":
        report.sent += 1
        return
    line = f"outbox {row.id} ({row.notice}) to {row.recipient}: {error}"
    report.errors.append(line)
    if status == "failed":
        report.failed += 1
        log.error("delivery failed for good: %s", line)
    else:
        report.retrying += 1
        log.warning("delivery will be retried: %s", line)


def _postpone(
    engine: Engine,
    rows: Sequence[Outbox],
    error: DeliveryUnavailable,
    now: datetime,
    report: DeliveryReport,
) -> None:
    """The mail system is out of reach: the rest of the batch backs off without trying."""
    report.unavailable = True
    for row in rows:
        _record(engine, row, error, now, report)


def _release(engine: Engine, rows: Sequence[Outbox], now: datetime) -> None:
    """Give unsent claimed rows back: due again at `now`, for the next pass or dispatcher."""
    with transaction(engine) as session:
        session.exec(
            update(Outbox)
            .where(col(Outbox.id).in_([row.id for row in rows]))
            .where(col(Outbox.status).in_(DUE_STATUSES))
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"naive datetime {now!r}: pass an aware `now`")
