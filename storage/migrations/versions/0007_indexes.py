"""Indexes that serve the lookups made, and no others: each index is written at every insert.

- `ix_contact_role`, new: notices to a role held outside any district (the director, the State
  Superintendent) look its holders up by role, which scanned every contact.
- Dropped, each the leading column of another index that serves the same lookups:
  `ix_timer_deadline_id` (of `ix_timer_ladder_step`), `ix_signature_agreement_id` and
  `ix_review_agreement_id` (of their unique constraints).

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_DROPPED = (
    ("ix_timer_deadline_id", "timer", ["deadline_id"]),
    ("ix_signature_agreement_id", "signature", ["agreement_id"]),
    ("ix_review_agreement_id", "review", ["agreement_id"]),
)


def upgrade() -> None:
    op.create_index("ix_contact_role", "contact", ["role"])
    for name, table, _columns in _DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, columns in _DROPPED:
        op.create_index(name, table, columns)
    op.drop_index("ix_contact_role", table_name="contact")
