"""Scale-out on PostgreSQL: no schema change (several instances share the tables as they are);
kept so that the revision chain reserved for it stays one line.

Revision ID: 0016
Revises: 0015
"""

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
