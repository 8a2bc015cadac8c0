"""Going live: no schema change (an imported history is written through the engine as it is);
kept so that the revision chain reserved for it stays one line.

Revision ID: 0014
Revises: 0013
"""

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
