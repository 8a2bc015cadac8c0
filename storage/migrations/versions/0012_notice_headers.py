"""Notice headers: the outbox stores each message's recipient name, Reply-To, thread and
calendar file.

`to_name`, `reply_to`, `reply_to_name` and `thread` are text; `calendar_ref` is the digest of the
notice's calendar file, stored once per notice in `mail_body` (as reference bodies are). All are
nullable: a row queued before this migration has none of them and is sent as it was (no name, no
Reply-To, no thread, no attachment). The downgrade drops them; the calendar files left in
`mail_body` are deleted with them (no row refers to them any more).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TEXT_COLUMNS = ("to_name", "reply_to", "reply_to_name", "thread")


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        for name in _TEXT_COLUMNS:
            batch.add_column(sa.Column(name, sa.String(), nullable=True))
        batch.add_column(sa.Column("calendar_ref", sa.LargeBinary(16), nullable=True))
        batch.create_foreign_key(
            "fk_outbox_calendar_ref", "mail_body", ["calendar_ref"], ["digest"]
        )


def downgrade() -> None:
    outbox = sa.table(
        "outbox",
        sa.column("body_ref", sa.LargeBinary()),
        sa.column("calendar_ref", sa.LargeBinary()),
    )
    mail_body = sa.table("mail_body", sa.column("digest", sa.LargeBinary()))
    calendars = sa.select(outbox.c.calendar_ref).where(outbox.c.calendar_ref.is_not(None))
    bodies = sa.select(outbox.c.body_ref)
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("fk_outbox_calendar_ref", type_="foreignkey")
    # The calendar files no body shares a digest with (a body never has a calendar's digest).
    op.execute(
        sa.delete(mail_body).where(
            mail_body.c.digest.in_(calendars), mail_body.c.digest.not_in(bodies)
        )
    )
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("calendar_ref")
        for name in reversed(_TEXT_COLUMNS):
            batch.drop_column(name)
