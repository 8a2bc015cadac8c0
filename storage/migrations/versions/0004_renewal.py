"""Renewal: an agreement renewed is ended (state `renewed`) and linked both ways to the new one.

`renewed` is a final state, so the one-active-agreement-per-district index leaves it out.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _active_index(final_states: str) -> None:
    active = sa.text(f"state NOT IN ({final_states})")
    op.create_index(
        "ux_agreement_active_district",
        "agreement",
        ["district_code"],
        unique=True,
        sqlite_where=active,
        postgresql_where=active,
    )


def upgrade() -> None:
    op.add_column("agreement", sa.Column("renewed_from", sa.Integer(), nullable=True))
    op.add_column("agreement", sa.Column("renewed_as", sa.Integer(), nullable=True))
    op.drop_index("ux_agreement_active_district", table_name="agreement")
    _active_index("'exited', 'renewed', 'next_level_accountability'")


def downgrade() -> None:
    op.drop_index("ux_agreement_active_district", table_name="agreement")
    _active_index("'exited', 'next_level_accountability'")
    op.drop_column("agreement", "renewed_as")
    op.drop_column("agreement", "renewed_from")
