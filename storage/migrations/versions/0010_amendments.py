"""Amendments: versions of an agreement's terms.

- `amendment`: one row per version of an agreement's terms once it has been amended: number 0
  (the plan as signed, written when the first amendment opens), then 1, 2, ... each with the day
  it was opened, by whom, its note, its consequences, and the day it came into force (empty
  while it is a draft).
- `amendment_signature`: the parties' signatures of an amendment.
- `benchmark` gains `amendment` (the version the row belongs to; 0 for the plan as signed) and
  `lineage` (the id of the benchmark's first row, shared by its rows in every version; the
  measurements of a benchmark name it). Existing rows become version 0, each its own lineage.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "amendment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agreement_id", sa.Integer(), sa.ForeignKey("agreement.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("opened_by", sa.String(), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("consequences", sa.String(), nullable=False),
        sa.Column("in_force_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("agreement_id", "number"),
    )
    op.create_table(
        "amendment_signature",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("amendment_id", sa.Integer(), sa.ForeignKey("amendment.id"), nullable=False),
        sa.Column("party", sa.String(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("amendment_id", "party"),
    )
    # Columns added in place (no table rebuild: measurements refer to benchmark rows). A
    # lineage is always written with its row; the default only fills the rows already there
    # before the UPDATE names each its own.
    op.add_column(
        "benchmark",
        sa.Column("amendment", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column(
        "benchmark",
        sa.Column("lineage", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.execute("UPDATE benchmark SET lineage = id")
    op.create_index(
        "ux_benchmark_lineage_amendment", "benchmark", ["lineage", "amendment"], unique=True
    )


def downgrade() -> None:
    bind = op.get_bind()
    amended = bind.execute(sa.text("SELECT count(*) FROM amendment WHERE number > 0")).scalar()
    if amended:
        raise RuntimeError(
            "cannot downgrade below 0010: agreements have amendments, which 0009 cannot hold"
        )
    op.drop_index("ux_benchmark_lineage_amendment", table_name="benchmark")
    op.drop_column("benchmark", "lineage")
    op.drop_column("benchmark", "amendment")
    op.drop_table("amendment_signature")
    op.drop_table("amendment")
