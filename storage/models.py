"""SQLModel tables. The migrations in `storage/migrations` are the schema's source of truth."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _utc(nullable: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable))


class District(SQLModel, table=True):
    code: str = Field(primary_key=True)
    name: str
    isd: str | None = None
    psa: bool = False
    authorizer: str | None = None


class School(SQLModel, table=True):
    code: str = Field(primary_key=True)
    name: str
    district_code: str = Field(foreign_key="district.code", index=True)
    csi: bool = False
    alternative: bool = False


class Contact(SQLModel, table=True):
    email: str = Field(primary_key=True)
    name: str
    role: str
    district_code: str | None = Field(default=None, foreign_key="district.code", index=True)


class Agreement(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    district_code: str = Field(foreign_key="district.code", index=True)
    cohort: str | None = None
    state: str = Field(index=True)
    rules_version: str
    consequences: str  # comma list, in the order given
    liaison_email: str | None = Field(default=None, foreign_key="contact.email")
    identified_on: date
    signed_on: date | None = None
    escalation_option: str | None = None
    last_event_on: date
    # Optimistic lock: every change bumps it with `WHERE version = <read version>`.
    version: int = 1
    updated_at: datetime = _utc()

    @property
    def consequence_list(self) -> list[str]:
        return [c for c in self.consequences.split(",") if c]


class Signature(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("agreement_id", "party"),)

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="agreement.id", index=True)
    party: str
    signed_on: date
    recorded_by: str
    recorded_at: datetime = _utc()


class Deadline(SQLModel, table=True):
    __table_args__ = (Index("ix_deadline_status_due_at", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="agreement.id", index=True)
    kind: str
    due_on: date
    # When the deadline passes: the local midnight ending `due_on`, in UTC.
    due_at: datetime = _utc()
    status: str = "open"  # open | met | met_late | cancelled
    opened_on: date
    closed_on: date | None = None


class Audit(SQLModel, table=True):
    """Append-only: database triggers refuse UPDATE and DELETE."""

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int | None = Field(default=None, foreign_key="agreement.id", index=True)
    subject: str
    event: str
    from_state: str | None = None
    to_state: str | None = None
    actor: str
    effective_on: date
    recorded_at: datetime = _utc()
    note: str | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Timer(SQLModel, table=True):
    """One step of a reminder ladder, or a timed action, due at `fire_at` (UTC)."""

    __table_args__ = (Index("ix_timer_status_fire_at", "status", "fire_at"),)

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="agreement.id", index=True)
    deadline_id: int = Field(foreign_key="deadline.id", index=True)
    ladder: str
    offset_days: int
    notice: str | None = None
    action: str | None = None
    fire_at: datetime = _utc()
    status: str = "pending"  # pending | done | skipped | cancelled
    done_at: datetime | None = _utc(nullable=True)
    outcome: str | None = None


class Outbox(SQLModel, table=True):
    """One email to one recipient; `idempotency_key` makes a second enqueue a no-op."""

    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int | None = Field(default=None, foreign_key="agreement.id")
    notice: str
    occurrence: str
    recipient: str
    idempotency_key: str = Field(unique=True)
    message_id: str
    subject: str
    body_text: str
    body_html: str
    status: str = "pending"  # pending | retrying | sent | failed | unaddressed
    attempts: int = 0
    next_attempt_at: datetime = _utc()
    last_error: str | None = None
    created_at: datetime = _utc()
    sent_at: datetime | None = _utc(nullable=True)


class Heartbeat(SQLModel, table=True):
    name: str = Field(primary_key=True)
    beat_at: datetime = _utc()
    detail: str | None = None
