"""The delivery pass: claim what is due, send it, record each result. At-least-once.

1. Claim, in one short transaction, the due rows (`pending` or `retrying`, `next_attempt_at <= now`)
   and push their `next_attempt_at` to `now + LEASE`, so that a second dispatcher (another process)
   skips them; on PostgreSQL the claim also uses `FOR UPDATE SKIP LOCKED`. A dispatcher that dies
   after claiming leaves its rows to be picked up again once the lease has run out.
2. Send each row, one message per row, through the transport.
3. Record each result: `sent`; `retrying` with exponential backoff (never given up: the row stays
   visible); or `failed` for a permanent refusal. Results are committed off the event loop in
   groups, each within `RECORD_LINGER` of its message (see `group_commit`), so sending the next
   message never waits for the disk. A crash before a result is written means that message goes
   again: at-least-once, with the same Message-ID. Results go before the sweep for SQLite's write
   lock (`group_commit.write_turn`); while they cannot be written (another process holds the
   lock) no further message is sent, and a write refused as busy is tried again, never dropped.

`now` is always given by the caller: nothing here reads the clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.errors import MessageError
from functools import partial
from typing import Any

from sqlalchemy import Engine, bindparam, select, update
from sqlmodel import col

from config.settings import sender_address
from notifications import bodies
from notifications.errors import (
    DeliveryError,
    DeliveryUnavailable,
    PermanentDeliveryError,
)
from notifications.group_commit import GroupCommitter, write_turn
from notifications.mime import build_message
from notifications.transports import Transport
from states.errors import ConcurrentModification, StoreUnreachable
from storage import tables
from storage.db import transaction
from storage.records import records
from storage.service_models import Outbox

log = logging.getLogger(__name__)

DUE_STATUSES = ("pending", "retrying")
LEASE = timedelta(minutes=10)
FIRST_RETRY = timedelta(seconds=60)
MAX_RETRY = timedelta(hours=1)
MAX_ERROR_CHARS = 1000
# A result is written within this many seconds of the message going out (see group_commit).
RECORD_LINGER = 0.05
# No message is sent while a result has waited longer than this to be written (see `keep_up`).
RECORD_LAG = 2 * RECORD_LINGER

# A claimed row: a record with the outbox's columns as attributes (see storage.records).
OutboxRecord = Any
Result = tuple[OutboxRecord, dict[str, Any]]
Clock = Callable[[], datetime]  # a claimed row and the values its outcome sets
# Only a row still due is updated: one that changed while in flight (retried by hand, say) is
# left as it is.
_STILL_DUE = tables.OUTBOX.c.status.in_(DUE_STATUSES)
_MARK_SENT = (
    update(tables.OUTBOX)
    .where(tables.OUTBOX.c.id.in_(bindparam("ids", expanding=True)), _STILL_DUE)
    .values(
        status="sent",
        sent_at=bindparam("sent_at"),
        last_error=None,
        attempts=tables.OUTBOX.c.attempts + 1,
    )
)
# What sending and recording a row need (its status and timestamps are not: fewer to convert),
# and its notice's reference body (`reference`), to unpack its own body (`body`) with, and its
# calendar file (`calendar`, stored like a reference; none for most rows).
_SENDING = (
    "id",
    "agreement_id",
    "notice",
    "recipient",
    "subject",
    "body",
    "message_id",
    "idempotency_key",
    "created_at",
    "attempts",
    "to_name",
    "reply_to",
    "reply_to_name",
    "thread",
)
_CALENDAR = tables.MAIL_BODY.alias("calendar_file")
_DUE = (
    select(
        *(tables.OUTBOX.c[name] for name in _SENDING),
        tables.MAIL_BODY.c.content.label("reference"),
        _CALENDAR.c.content.label("calendar"),
    )
    .join(tables.MAIL_BODY, tables.MAIL_BODY.c.digest == tables.OUTBOX.c.body_ref)
    .outerjoin(_CALENDAR, _CALENDAR.c.digest == tables.OUTBOX.c.calendar_ref)
    .where(_STILL_DUE, tables.OUTBOX.c.next_attempt_at <= bindparam("now"))
    .order_by(tables.OUTBOX.c.next_attempt_at, tables.OUTBOX.c.id)
    .limit(bindparam("batch"))
    # PostgreSQL (SQLite serialises on BEGIN IMMEDIATE): only the outbox rows are locked, not
    # the reference bodies they share with rows another dispatcher may claim.
    .with_for_update(skip_locked=True, of=tables.OUTBOX)
)
_ANY_DUE = (
    select(tables.OUTBOX.c.id)
    .where(_STILL_DUE, tables.OUTBOX.c.next_attempt_at <= bindparam("now"))
    .limit(1)
)
_LEASE = (
    update(tables.OUTBOX)
    .where(tables.OUTBOX.c.id.in_(bindparam("ids", expanding=True)), _STILL_DUE)
    .values(next_attempt_at=bindparam("until"))
)
# Rows still leased as this dispatcher leased them (`held`): once a lease has run out another
# dispatcher may have claimed the row (a new lease), and it is then that one's to send.
_STILL_DUE_LEASES = (
    select(tables.OUTBOX.c.id, tables.OUTBOX.c.next_attempt_at)
    .where(tables.OUTBOX.c.id.in_(bindparam("ids", expanding=True)), _STILL_DUE)
    .with_for_update()
)
_UNSENT = update(tables.OUTBOX).where(tables.OUTBOX.c.id == bindparam("row"), _STILL_DUE)


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
    clock: Clock | None = None,
) -> DeliveryReport:
    """One batch: claim up to `batch` rows due at `now`, send them, record every result.

    `clock` (default: `now`, standing still) dates the results and keeps the lease alive while a
    slow batch is sent. When `stop` is set the message in flight is finished and the rest of
    the batch is released.
    """
    _require_aware(now)
    clock = clock or (lambda: now)
    if stop is not None and stop.is_set():
        return DeliveryReport()
    try:
        sender_address(mail_from)
    except ValueError as exc:  # a configuration problem, not any message's: claim nothing
        log.error("delivery: %s", exc)
        return DeliveryReport(errors=[str(exc)], unavailable=True)
    # The database work runs in a thread: waiting for SQLite's write lock (a sweep holds it)
    # must not stall the event loop. Nothing due, the usual case, takes no write lock at all.
    if not await asyncio.to_thread(anything_due, engine, now):
        return DeliveryReport()
    rows = await asyncio.to_thread(claim_due, engine, now, batch)
    report = DeliveryReport(claimed=len(rows))
    if not rows:
        return report
    recorder = _Recorder(engine, clock, report)
    try:
        async with transport:
            await _send_all(transport, rows, mail_from, recorder, stop, leased_until=now + LEASE)
    finally:
        await recorder.flush()  # sent is recorded as sent, even when the pass is cancelled
    # Per batch, so debug: the service logs one line per delivery pass (workflow.service).
    log.debug(
        "delivery: %d sent, %d retrying, %d failed", report.sent, report.retrying, report.failed
    )
    return report


async def _send_all(
    transport: Transport,
    rows: Sequence[OutboxRecord],
    mail_from: str,
    recorder: _Recorder,
    stop: asyncio.Event | None,
    *,
    leased_until: datetime,
) -> None:
    engine, clock = recorder.engine, recorder.clock
    taken: set[int] = set()  # rows another dispatcher claimed after this one's lease ran out
    for index, row in enumerate(rows):
        if stop is not None and stop.is_set():
            await recorder.flush()
            rest = [later for later in rows[index:] if later.id not in taken]
            await asyncio.to_thread(_release, engine, rest, leased_until, clock())
            return
        now = clock()
        if now + LEASE / 2 >= leased_until:
            # Half the lease is gone (a slow relay): extend it, or another dispatcher would take
            # these rows and send them too: the rows still to send, and the sent ones whose
            # result may not be written yet (a row already marked sent is left alone).
            keep = [later.id for later in rows[index:]] + recorder.sent
            lease = (leased_until, now + LEASE)
            taken |= await asyncio.to_thread(_extend_lease, engine, keep, *lease)
            leased_until = now + LEASE
        if row.id in taken:
            continue
        await recorder.keep_up()
        error = await _attempt(transport, row, mail_from)
        recorder.add(row, error)
        if isinstance(error, DeliveryUnavailable):
            # The mail system is out of reach: the rest of the batch backs off without trying.
            recorder.report.unavailable = True
            for rest in rows[index + 1 :]:
                recorder.add(rest, error)
            return


async def deliver_all_due(
    engine: Engine,
    transport: Transport,
    now: datetime,
    mail_from: str,
    batch: int = 200,
    *,
    stop: asyncio.Event | None = None,
    clock: Clock | None = None,
) -> DeliveryReport:
    """Batches until nothing is due, over one transport session (one connection).

    Each batch claims what is due at `clock()` (default: `now` throughout), so a long pass
    leases and dates its later batches by the time they actually start.
    """
    clock = clock or (lambda: now)
    total = DeliveryReport()
    async with transport:
        while True:
            report = await deliver_due(
                engine, transport, clock(), mail_from, batch, stop=stop, clock=clock
            )
            total.add(report)
            stopped = stop is not None and stop.is_set()
            if report.claimed < batch or report.unavailable or stopped:
                return total


def anything_due(engine: Engine, now: datetime) -> bool:
    """Whether a pass at `now` would claim anything (a read: no write lock, no lease)."""
    with transaction(engine, read_only=True) as session:
        return session.execute(_ANY_DUE, {"now": now}).first() is not None


def claim_due(engine: Engine, now: datetime, batch: int) -> list[Any]:
    """Take the due rows, oldest first, and lease them to this dispatcher until `now + LEASE`.

    Returns plain records with the columns sending needs (cheaper to load than Outbox objects)
    and the row's bodies, unpacked (`text`, `html`).
    """
    with write_turn(engine), transaction(engine) as session:
        rows = records(session, _DUE, {"now": now, "batch": batch})
        if rows:
            leased = {"ids": [row.id for row in rows], "until": now + LEASE}
            session.execute(_LEASE, leased)
    _unpack_bodies(rows)
    return rows


def _unpack_bodies(rows: Sequence[OutboxRecord]) -> None:
    """Give each row its `text` and `html` (done here, in the claim's thread, not on the event
    loop); each reference is decompressed once for the rows that share it. A body that cannot be
    read leaves the row without them: `_attempt` fails that message alone."""
    references: dict[bytes, bytes] = {}
    for row in rows:
        stored, delta = bytes(row.reference), bytes(row.body)
        calendar = None if row.calendar is None else bytes(row.calendar)
        del row.reference, row.body
        row.unreadable = None
        try:
            reference = references.get(stored)
            if reference is None:
                reference = references[stored] = bodies.reference_packed(stored)
            row.text, row.html = bodies.unpack_delta(reference, delta)
            if calendar is not None:
                # Stored like a reference body, and shared like one: read once per pass.
                found = references.get(calendar)
                if found is None:
                    found = references[calendar] = bodies.reference_packed(calendar)
                row.calendar = found
        except bodies.BodyFormatError as exc:
            row.unreadable = str(exc)


async def _attempt(transport: Transport, row: OutboxRecord, mail_from: str) -> DeliveryError | None:
    if row.unreadable is not None:
        return PermanentDeliveryError(f"cannot read the stored body: {row.unreadable}")
    try:
        message = build_message(row, mail_from)
    except (ValueError, TypeError, MessageError) as exc:
        return PermanentDeliveryError(f"cannot build the message: {exc}")
    try:
        await transport.send(message)
    except DeliveryError as exc:
        return exc
    return None


def _outcome(row: OutboxRecord, error: DeliveryError | None, now: datetime) -> dict[str, Any]:
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


class _Recorder:
    """The results of one pass: counted at once, written to the outbox in groups."""

    def __init__(self, engine: Engine, clock: Clock, report: DeliveryReport) -> None:
        self.engine = engine
        self.clock = clock
        self.report = report
        self.sent: list[int] = []  # ids of the rows sent in this pass
        self._groups = GroupCommitter[Result](partial(_record, engine), linger=RECORD_LINGER)

    def add(self, row: OutboxRecord, error: DeliveryError | None) -> None:
        values = _outcome(row, error, self.clock())
        _count(self.report, row, values["status"], error)
        if values["status"] == "sent":
            self.sent.append(row.id)
        self._groups.add((row, values))

    async def keep_up(self) -> None:
        """Before the next message: wait while a result has waited too long to be written."""
        await self._groups.keep_up(RECORD_LAG)

    async def flush(self) -> None:
        await self._groups.flush()


def _record(engine: Engine, group: Sequence[Result]) -> None:
    """Write the group's results; while the database is busy (another process holds SQLite's
    write lock past the busy timeout) or out of reach (a PostgreSQL server restarting) try
    again: a result is never dropped, or its message would be sent again once the lease runs
    out."""
    started = time.monotonic()
    tries = 0
    level = logging.WARNING
    while True:
        try:
            with write_turn(engine, urgent=True):
                _record_once(engine, group)
        except (ConcurrentModification, StoreUnreachable) as exc:  # nothing of it was written
            tries += 1
            # Out of reach, the service logs the outage once (workflow.outage): not again here.
            level = logging.DEBUG if isinstance(exc, StoreUnreachable) else logging.WARNING
            if tries == 1:
                log.log(level, "delivery results waiting for the database: %s", exc)
            # A busy answer that comes back at once (a lock within this process, a deadlock)
            # must not spin the thread: a short pause, growing to a second.
            time.sleep(min(0.05 * tries, 1.0))
            continue
        if tries:
            waited = time.monotonic() - started
            log.log(level, "delivery results written after waiting %.0f s for the database", waited)
        return


def _record_once(engine: Engine, group: Sequence[Result]) -> None:
    """One transaction for the group: the sent rows in one statement, any other result each."""
    sent = [(row.id, values["sent_at"]) for row, values in group if values["status"] == "sent"]
    changed = 0
    with transaction(engine) as session:
        if sent:
            # One statement for all: each `sent_at` is then the group's last, at most
            # RECORD_LINGER after the message went.
            marked = {"ids": [row_id for row_id, _ in sent], "sent_at": max(at for _, at in sent)}
            changed += _rowcount(session.execute(_MARK_SENT, marked))
        for row, values in group:
            if values["status"] != "sent":
                statement = _UNSENT.values(attempts=tables.OUTBOX.c.attempts + 1, **values)
                changed += _rowcount(session.execute(statement, {"row": row.id}))
    if changed < len(group):
        log.warning(
            "%d outbox rows changed while in flight; their results were not recorded",
            len(group) - changed,
        )


def _extend_lease(engine: Engine, ids: list[int], held: datetime, until: datetime) -> set[int]:
    """Extend the lease (`held`) of the rows `ids` still due to `until`; returns those that are
    no longer this dispatcher's (claimed by another since the lease ran out: not sent here)."""
    with write_turn(engine, urgent=True), transaction(engine) as session:
        leases = session.execute(_STILL_DUE_LEASES, {"ids": ids}).all()
        ours = [row_id for row_id, leased in leases if leased == held]
        if ours:
            session.execute(_LEASE, {"ids": ours, "until": until})
    taken = {row_id for row_id, _ in leases} - set(ours)
    if taken:
        log.warning(
            "%d messages were claimed by another dispatcher after this one's lease ran out; "
            "they are its to send", len(taken),
        )  # fmt: skip
    return taken


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


def _count(
    report: DeliveryReport, row: OutboxRecord, status: str, error: DeliveryError | None
) -> None:
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


def _release(
    engine: Engine, rows: Sequence[OutboxRecord], held: datetime, now: datetime
) -> None:
    """Give unsent claimed rows back: due again at `now`, for the next pass or dispatcher; a
    row another dispatcher leased since (`held` ran out) is left to it."""
    with write_turn(engine, urgent=True), transaction(engine) as session:
        session.exec(
            update(Outbox)
            .where(col(Outbox.id).in_([row.id for row in rows]))
            .where(col(Outbox.status).in_(DUE_STATUSES))
            .where(col(Outbox.next_attempt_at) == held)
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"naive datetime {now!r}: pass an aware `now`")
