"""Meetings, meeting series, high-need marks and action items.

New tables only: nothing existing changes. An action item's deadline, timers and notices are
rows of `deadline`, `timer` and `outbox` naming it by `process` and `case_id` (migration 0017).

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meeting_series",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("district_code", sa.String(), sa.ForeignKey("district.code"), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("until_on", sa.Date(), nullable=True),
        sa.Column("at_time", sa.String(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_meeting_series_district_code", "meeting_series", ["district_code"])
    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agreement_id", sa.Integer(), sa.ForeignKey("agreement.id"), nullable=False),
        sa.Column("district_code", sa.String(), sa.ForeignKey("district.code"), nullable=False),
        sa.Column("series_id", sa.Integer(), sa.ForeignKey("meeting_series.id"), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("at_local", sa.String(), nullable=False),
        sa.Column("zone", sa.String(), nullable=False),
        sa.Column("place", sa.String(), nullable=True),
        sa.Column("agenda", sa.String(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=True),
        sa.Column("notes", sa.String(), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("rules_version", sa.String(), nullable=False),
        sa.Column("last_event_on", sa.Date(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("series_id", "due_on", name="uq_meeting_series_day"),
    )
    op.create_index("ix_meeting_agreement_id", "meeting", ["agreement_id"])
    op.create_index("ix_meeting_district_code", "meeting", ["district_code"])
    op.create_table(
        "high_need_mark",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("district_code", sa.String(), sa.ForeignKey("district.code"), nullable=False),
        sa.Column("high_need", sa.Boolean(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_high_need_mark_district_code", "high_need_mark", ["district_code"])
    op.create_table(
        "action_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agreement_id", sa.Integer(), sa.ForeignKey("agreement.id"), nullable=False),
        sa.Column("meeting_id", sa.Integer(), sa.ForeignKey("meeting.id"), nullable=False),
        sa.Column("owner_email", sa.String(), nullable=False),
        sa.Column("owner_role", sa.String(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("rules_version", sa.String(), nullable=False),
        sa.Column("last_event_on", sa.Date(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_action_item_agreement_id", "action_item", ["agreement_id"])
    op.create_index("ix_action_item_meeting_id", "action_item", ["meeting_id"])
    op.create_index("ix_action_item_owner_email", "action_item", ["owner_email"])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM outbox WHERE process IN ('action_item', 'meeting')"))
    op.execute(sa.text("DELETE FROM timer WHERE process IN ('action_item', 'meeting')"))
    op.execute(sa.text("DELETE FROM deadline WHERE process IN ('action_item', 'meeting')"))
    for table in ("action_item", "high_need_mark", "meeting", "meeting_series"):
        op.drop_table(table)
