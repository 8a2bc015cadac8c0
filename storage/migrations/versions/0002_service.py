"""Service tables: timers (reminder ladders and timed actions), the outbox, heartbeats.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "timer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agreement_id", sa.Integer(), sa.ForeignKey("agreement.id"), nullable=False),
        sa.Column("deadline_id", sa.Integer(), sa.ForeignKey("deadline.id"), nullable=False),
        sa.Column("ladder", sa.String(), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("notice", sa.String(), nullable=True),
        sa.Column("action", sa.String(), nullable=True),
        sa.Column("fire_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
    )
    op.create_index("ix_timer_status_fire_at", "timer", ["status", "fire_at"])
    op.create_index("ix_timer_deadline_id", "timer", ["deadline_id"])
    # The sweep asks, per due step, whether a later step of its ladder is due too.
    op.create_index("ix_timer_ladder_step", "timer", ["deadline_id", "ladder", "fire_at"])
    op.create_index("ix_timer_agreement_id", "timer", ["agreement_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agreement_id", sa.Integer(), sa.ForeignKey("agreement.id"), nullable=True),
        sa.Column("notice", sa.String(), nullable=False),
        sa.Column("occurrence", sa.String(), nullable=False),
        sa.Column("recipient", sa.String(), nullable=False),
        sa.Column("idempotency_key", sa.String(), nullable=False, unique=True),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])
    op.create_table(
        "heartbeat",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("beat_at", UTCDateTime(), nullable=False),
        sa.Column("detail", sa.String(), nullable=True),
    )


def downgrade() -> None:
    for table in ("heartbeat", "outbox", "timer"):
        op.drop_table(table)
