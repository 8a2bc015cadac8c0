"""Deadlines, timers and notices of a case of another process than the agreement.

`deadline`, `timer` and `outbox` get `process` (the process definition's name) and `case_id`
(the case's id in that process's store). Both are NULL for the agreement's own rows, which is
every row written before this migration: they keep meaning what they meant, and every query of
the agreement's deadlines matches them as before. A case of another process (a 21(h) fund
request, an action item) belongs to an agreement, so its rows keep `agreement_id` set to that
agreement: whom its notices go to is resolved through it.

Plain nullable columns, added in place on SQLite and PostgreSQL alike (no table is copied);
the downgrade drops them, and with them the rows of other processes' cases, which an older pal
would take for the agreement's own.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_TABLES = ("deadline", "timer", "outbox")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("process", sa.String(), nullable=True))
        op.add_column(table, sa.Column("case_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Children first: a timer refers to its deadline.
    for table in ("outbox", "timer", "deadline"):
        op.execute(sa.text(f"DELETE FROM {table} WHERE process IS NOT NULL"))
    for table in reversed(_TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("case_id")
            batch.drop_column("process")
