"""The audit log refuses TRUNCATE too (PostgreSQL; SQLite has no TRUNCATE).

Row triggers do not fire for TRUNCATE, so 0001's guard let `TRUNCATE audit` (or a TRUNCATE of
another table CASCADE) empty the log. A statement trigger closes that.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit "
            "FOR EACH STATEMENT EXECUTE FUNCTION pal_audit_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_no_truncate ON audit")
