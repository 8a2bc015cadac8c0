"""Meetings, meeting series, high-need marks and action items (migration 0018): Core tables.

A meeting belongs to its district's running agreement (its notices are addressed through it); an
action item is a case of the `action_item` process, raised at a meeting, and its deadline,
timers and notices name it (storage.case_refs).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlmodel import SQLModel

from storage.types import UTCDateTime

MEETING_SERIES: Table = Table(
    "meeting_series",
    SQLModel.metadata,
    Column("id", Integer, primary_key=True),
    Column("district_code", String, ForeignKey("district.code"), nullable=False, index=True),
    Column("kind", String, nullable=False),
    Column("start_on", Date, nullable=False),
    Column("until_on", Date, nullable=True),
    # The local hour its meetings start at, "HH:MM" (the same across a change of daylight time).
    Column("at_time", String, nullable=False),
    Column("ended_on", Date, nullable=True),
    Column("created_by", String, nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
)
MEETING: Table = Table(
    "meeting",
    SQLModel.metadata,
    Column("id", Integer, primary_key=True),
    Column("agreement_id", Integer, ForeignKey("agreement.id"), nullable=False, index=True),
    Column("district_code", String, ForeignKey("district.code"), nullable=False, index=True),
    Column("series_id", Integer, ForeignKey("meeting_series.id"), nullable=True),
    Column("kind", String, nullable=False),
    Column("starts_at", UTCDateTime(), nullable=False),
    # The local day it meets: what its reminder is counted back from (`counted_from = "case_due"`).
    Column("due_on", Date, nullable=False),
    # When it starts as given, on the local clock ("2026-03-10 10:00", in `zone`): the words of
    # its notices (the same local hour whatever the change of daylight time).
    Column("at_local", String, nullable=False),
    Column("zone", String, nullable=False),
    Column("place", String, nullable=True),
    Column("agenda", String, nullable=True),
    Column("state", String, nullable=False),  # scheduled, held, cancelled
    Column("attendees", JSON, nullable=True),  # once held: the emails of who attended
    Column("notes", String, nullable=True),
    Column("reason", String, nullable=True),  # why it was cancelled
    Column("rules_version", String, nullable=False),
    Column("last_event_on", Date, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # The optimistic lock; the invitation's SEQUENCE (RFC 5545) is one less.
    Column("version", Integer, nullable=False),
    # A series meets once a day at most: two sweeps at once never schedule one meeting twice
    # (workflow.meeting_series.schedule_ahead). One-off meetings (no series) are not bound.
    UniqueConstraint("series_id", "due_on", name="uq_meeting_series_day"),
)
HIGH_NEED: Table = Table(
    "high_need_mark",
    SQLModel.metadata,
    Column("id", Integer, primary_key=True),
    Column("district_code", String, ForeignKey("district.code"), nullable=False, index=True),
    Column("high_need", Boolean, nullable=False),  # marked (true) or unmarked (false)
    Column("effective_on", Date, nullable=False),
    Column("reason", String, nullable=False),
    Column("recorded_by", String, nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
)
ACTION_ITEM: Table = Table(
    "action_item",
    SQLModel.metadata,
    Column("id", Integer, primary_key=True),
    Column("agreement_id", Integer, ForeignKey("agreement.id"), nullable=False, index=True),
    Column("meeting_id", Integer, ForeignKey("meeting.id"), nullable=False, index=True),
    Column("owner_email", String, nullable=False, index=True),
    # The role the owner held when it was raised: whoever holds it after them owns the item.
    Column("owner_role", String, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("text", String, nullable=False),
    Column("state", String, nullable=False),
    Column("rules_version", String, nullable=False),
    Column("last_event_on", Date, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
)
