"""Reviews: schools an agreement covers, benchmarks and measurements, reviews with their steps
and per-school determinations; a school may be flagged as a high school.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _recorded() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("school") as batch:
        batch.add_column(
            sa.Column("high_school", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "agreement_school",
        sa.Column("agreement_id", sa.Integer(), sa.ForeignKey("agreement.id"), primary_key=True),
        sa.Column("school_code", sa.String(), sa.ForeignKey("school.code"), primary_key=True),
    )
    op.create_table(
        "benchmark",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agreement_id", sa.Integer(), sa.ForeignKey("agreement.id"), nullable=False),
        sa.Column("school_code", sa.String(), sa.ForeignKey("school.code"), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("label", sa.String(), nullable=True),
        sa.Column("baseline", sa.Float(), nullable=False),
        sa.Column("target_18", sa.Float(), nullable=False),
        sa.Column("target_36", sa.Float(), nullable=False),
        sa.Column("lower_is_better", sa.Boolean(), nullable=False),
        *_recorded(),
    )
    op.create_index("ix_benchmark_agreement_id", "benchmark", ["agreement_id"])
    op.create_table(
        "measurement",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("benchmark_id", sa.Integer(), sa.ForeignKey("benchmark.id"), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("evidence", sa.String(), nullable=True),
        *_recorded(),
        sa.UniqueConstraint("benchmark_id", "measured_on"),
    )
    op.create_index("ix_measurement_benchmark_id", "measurement", ["benchmark_id"])
    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agreement_id", sa.Integer(), sa.ForeignKey("agreement.id"), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("determined_on", sa.Date(), nullable=True),
        sa.Column("determined_by", sa.String(), nullable=True),
        sa.Column("rules_version", sa.String(), nullable=True),
        sa.UniqueConstraint("agreement_id", "kind"),
    )
    op.create_index("ix_review_agreement_id", "review", ["agreement_id"])
    op.create_table(
        "review_step",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("review_id", sa.Integer(), sa.ForeignKey("review.id"), nullable=False),
        sa.Column("step", sa.String(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.Column("evidence", sa.String(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("review_id", "step"),
    )
    op.create_index("ix_review_step_review_id", "review_step", ["review_id"])
    op.create_table(
        "determination",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("review_id", sa.Integer(), sa.ForeignKey("review.id"), nullable=False),
        sa.Column("school_code", sa.String(), sa.ForeignKey("school.code"), nullable=False),
        sa.Column("computed", sa.String(), nullable=False),
        sa.Column("agreed", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.UniqueConstraint("review_id", "school_code"),
    )
    op.create_index("ix_determination_review_id", "determination", ["review_id"])


def downgrade() -> None:
    for table in ("determination", "review_step", "review", "measurement", "benchmark"):
        op.drop_table(table)
    op.drop_table("agreement_school")
    with op.batch_alter_table("school") as batch:
        batch.drop_column("high_school")
