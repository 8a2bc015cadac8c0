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
    with op.batch_alter_table("benchmark") as batch:
        batch.add_column(
            sa.Column("amendment", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("lineage", sa.Integer(), nullable=True))
    op.execute("UPDATE benchmark SET lineage = id")
    with op.batch_alter_table("benchmark") as batch:
        batch.alter_column("lineage", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint("uq_benchmark_lineage_amendment", ["lineage", "amendment"])


def downgrade() -> None:
    bind = op.get_bind()
    amended = bind.execute(sa.text("SELECT count(*) FROM amendment WHERE number > 0")).scalar()
    if amended:
        raise RuntimeError(
            "cannot downgrade below 0010: agreements have amendments, which 0009 cannot hold"
        )
    with op.batch_alter_table("benchmark") as batch:
        batch.drop_constraint("uq_benchmark_lineage_amendment", type_="unique")
        batch.drop_column("lineage")
        batch.drop_column("amendment")
    op.drop_table("amendment_signature")
    op.drop_table("amendment")
