"""Amendments of an agreement's terms (migration 0010): each version, and its signatures."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import DEFER, utc_column


class Amendment(SQLModel, table=True):
    """One version of an agreement's terms: 0 is the plan as signed (written when the first
    amendment opens), N amendment N; a draft until `in_force_on` is set."""

    model_config = DEFER
    __table_args__ = (UniqueConstraint("agreement_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="agreement.id")
    number: int
    opened_on: date
    opened_by: str | None = None
    note: str | None = None
    consequences: str  # comma list, as the agreement's
    in_force_on: date | None = None
    recorded_at: datetime = utc_column()


class AmendmentSignature(SQLModel, table=True):
    model_config = DEFER
    __tablename__ = "amendment_signature"
    __table_args__ = (UniqueConstraint("amendment_id", "party"),)

    id: int | None = Field(default=None, primary_key=True)
    amendment_id: int = Field(foreign_key="amendment.id")
    party: str
    signed_on: date
    recorded_by: str
    recorded_at: datetime = utc_column()
