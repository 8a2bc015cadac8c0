"""SQLModel tables. The migrations in `storage/migrations` are the schema's source of truth."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig  # type: ignore[attr-defined]

from storage.types import UTCDateTime

# Table models are never validated (SQLModel skips validation for tables), so their pydantic
# schema is built only if ever needed: defining the tables stays cheap for every command.
DEFER = SQLModelConfig(defer_build=True)


def utc_column(nullable: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable))


class District(SQLModel, table=True):
    model_config = DEFER
    code: str = Field(primary_key=True)
    name: str
    isd: str | None = None
    psa: bool = False
    authorizer: str | None = None


class School(SQLModel, table=True):
    model_config = DEFER
    code: str = Field(primary_key=True)
    name: str
    district_code: str = Field(foreign_key="district.code", index=True)
    csi: bool = False
    alternative: bool = False


class Contact(SQLModel, table=True):
    model_config = DEFER
    email: str = Field(primary_key=True)
    name: str
    role: str
    district_code: str | None = Field(default=None, foreign_key="district.code", index=True)


class Agreement(SQLModel, table=True):
    model_config = DEFER
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
    # A renewal ends this agreement and starts the next: each names the other.
    renewed_from: int | None = None
    renewed_as: int | None = None
    # Optimistic lock: every change bumps it with `WHERE version = <read version>`.
    version: int = 1
    updated_at: datetime = utc_column()

    @property
    def consequence_list(self) -> list[str]:
        return [c for c in self.consequences.split(",") if c]


class Signature(SQLModel, table=True):
    model_config = DEFER
    __table_args__ = (UniqueConstraint("agreement_id", "party"),)

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="agreement.id", index=True)
    party: str
    signed_on: date
    recorded_by: str
    recorded_at: datetime = utc_column()


class Deadline(SQLModel, table=True):
    model_config = DEFER
    __table_args__ = (Index("ix_deadline_status_due_at", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="agreement.id", index=True)
    kind: str
    due_on: date
    # When the deadline passes: the local midnight ending `due_on`, in UTC.
    due_at: datetime = utc_column()
    status: str = "open"  # open | met | met_late | cancelled
    opened_on: date
    closed_on: date | None = None


class Audit(SQLModel, table=True):
    """Append-only: database triggers refuse UPDATE and DELETE."""

    model_config = DEFER

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int | None = Field(default=None, foreign_key="agreement.id", index=True)
    subject: str
    event: str
    from_state: str | None = None
    to_state: str | None = None
    actor: str
    effective_on: date
    recorded_at: datetime = utc_column()
    note: str | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
