"""An index on a contact's role: notices to a role held outside any district (the director,
the State Superintendent) look its holders up by role, which scanned every contact.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_contact_role", "contact", ["role"])


def downgrade() -> None:
    op.drop_index("ix_contact_role", table_name="contact")
