"""Section 21(h) fund requests: a second process beside the agreement.

- `funds_request`: one row per request of an agreement for a state fiscal year, with its state
  (the `funds` process, states/funds.py), rationale, the benchmarks it serves, its priorities,
  its funding day and reported effectiveness, and the engine's columns (rules, last event,
  optimistic-lock version).
- `funds_activity`: the request's activities, each with its category, its amount in whole
  cents and its effectiveness metrics.
- `funds_budget`: per fiscal year, the cents approved and funded of its appropriation (the
  appropriation itself is rule data).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "funds_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agreement_id", sa.Integer(), sa.ForeignKey("agreement.id"), nullable=False),
        sa.Column("year", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("rationale", sa.String(), nullable=False),
        sa.Column("serves", sa.String(), nullable=False),
        sa.Column("priorities", sa.String(), nullable=False),
        sa.Column("funded_on", sa.Date(), nullable=True),
        sa.Column("effectiveness", sa.String(), nullable=True),
        sa.Column("reported_on", sa.Date(), nullable=True),
        sa.Column("rules_version", sa.String(), nullable=False),
        sa.Column("last_event_on", sa.Date(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    for column in ("agreement_id", "year", "state"):
        op.create_index(f"ix_funds_request_{column}", "funds_request", [column])
    op.create_table(
        "funds_activity",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "request_id", sa.Integer(), sa.ForeignKey("funds_request.id"), nullable=False
        ),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("metrics", sa.String(), nullable=False),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_funds_activity_request_id", "funds_activity", ["request_id"])
    op.create_table(
        "funds_budget",
        sa.Column("year", sa.String(), primary_key=True),
        sa.Column("approved_cents", sa.BigInteger(), nullable=False),
        sa.Column("funded_cents", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("funds_budget")
    op.drop_index("ix_funds_activity_request_id", table_name="funds_activity")
    op.drop_table("funds_activity")
    for column in ("agreement_id", "year", "state"):
        op.drop_index(f"ix_funds_request_{column}", table_name="funds_request")
    op.drop_table("funds_request")
