"""Service tables: timers, the outbox and heartbeats (kept apart so read-only commands that
never touch them do not pay for defining them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, LargeBinary
from sqlmodel import Field, SQLModel

from storage.models import DEFER, utc_column


class Timer(SQLModel, table=True):
    """One step of a reminder ladder, or a timed action, due at `fire_at` (UTC)."""

    model_config = DEFER

    # By what is due (the sweep), by agreement, and by deadline (a deadline's ladder, whose
    # index serves lookups by deadline alone too).
    __table_args__ = (
        Index("ix_timer_status_fire_at", "status", "fire_at"),
        Index("ix_timer_ladder_step", "deadline_id", "ladder", "fire_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="agreement.id", index=True)
    # The case of another process the timer is of (storage.case_refs); None for the agreement.
    process: str | None = None
    case_id: int | None = None
    deadline_id: int = Field(foreign_key="deadline.id")
    ladder: str
    offset_days: int
    notice: str | None = None
    action: str | None = None
    fire_at: datetime = utc_column()
    # pending | done | skipped | cancelled | failed | waiting (for a state that allows its
    # action: the agreement's next change of state makes it pending again) | before_go_live
    # (its moment passed before its agreement was imported: never sent, `workflow.going_live`)
    status: str = "pending"
    done_at: datetime | None = utc_column(nullable=True)
    outcome: str | None = None


class MailBody(SQLModel, table=True):
    """A notice's reference body, stored once for all its recipients (notifications.bodies):
    `digest` is the first 16 bytes of the SHA-256 of the packed body, `content` the body
    compressed. A notice's calendar file is stored here the same way (the digest of its bytes,
    compressed), as the outbox's `calendar_ref`."""

    __tablename__ = "mail_body"
    model_config = DEFER

    digest: bytes = Field(sa_column=Column(LargeBinary(16), primary_key=True))
    content: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))


class Outbox(SQLModel, table=True):
    """One email to one recipient; `idempotency_key` makes a second enqueue a no-op.

    The text and HTML bodies are `body`, compressed against the notice's reference body
    `body_ref` (notifications.bodies; `notifications.bodies.read` gives them back exactly).
    The headers' other values are stored too (migration 0012; empty in rows queued before it):
    the recipient's name, the Reply-To (the agreement's liaison), the deadline the message
    threads under (notifications.threads) and its calendar file, stored once per notice in
    `mail_body` like a reference body (notifications.calendar).
    """

    model_config = DEFER

    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int | None = Field(default=None, foreign_key="agreement.id")
    notice: str
    occurrence: str
    recipient: str
    idempotency_key: str = Field(unique=True)
    message_id: str
    subject: str
    body_ref: bytes = Field(
        sa_column=Column(LargeBinary(16), ForeignKey("mail_body.digest"), nullable=False)
    )
    body: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))
    status: str = "pending"  # pending | retrying | sent | failed | unaddressed
    attempts: int = 0
    next_attempt_at: datetime = utc_column()
    last_error: str | None = None
    created_at: datetime = utc_column()
    sent_at: datetime | None = utc_column(nullable=True)
    to_name: str | None = None
    reply_to: str | None = None
    reply_to_name: str | None = None
    thread: str | None = None  # the deadline's series key (`plan_due.1`)
    calendar_ref: bytes | None = Field(
        default=None,
        sa_column=Column(LargeBinary(16), ForeignKey("mail_body.digest"), nullable=True),
    )
    # The case of another process the notice is about (storage.case_refs; migration 0017,
    # which adds these columns last); None for the agreement itself.
    process: str | None = None
    case_id: int | None = None


class Heartbeat(SQLModel, table=True):
    model_config = DEFER
    name: str = Field(primary_key=True)
    beat_at: datetime = utc_column()
    detail: str | None = None


class ServiceInstance(SQLModel, table=True):
    """One running (or last run) `pal serve` process, or the `pal tick`s of one host: what
    `pal status` reads to say when each last swept and delivered, and `pal restore` to refuse
    while one runs. Written with each sweep's heartbeat, in the same transaction."""

    __tablename__ = "service_instance"
    model_config = DEFER

    # `serve@HOST:PID` for a service process; `tick@HOST` for the ticks of one host (cron
    # starts a new process each time, and one row per process would grow without end).
    name: str = Field(primary_key=True)
    kind: str  # serve | tick
    host: str
    pid: int
    version: str
    sweep_seconds: float
    started_at: datetime = utc_column()
    beat_at: datetime = utc_column()
    last_sweep_at: datetime | None = utc_column(nullable=True)
    last_delivery_at: datetime | None = utc_column(nullable=True)
    sweeps: int = 0
    sent: int = 0
    stopped_at: datetime | None = utc_column(nullable=True)
