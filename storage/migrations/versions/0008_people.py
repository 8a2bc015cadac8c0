"""People and their role assignments over time.

`contact` (one email, one role, one district) becomes `person` (email, name, phone) and
`assignment` (a role, its district where it is a district's, the days it is held). Every contact
is carried over as a person holding their one role since before any date was recorded, so every
notice reaches exactly whom it reached before. `agreement.liaison_email` now refers to `person`.

On SQLite, `storage.migrate.upgrade` turns foreign keys off around the migrations (SQLite's own
procedure for changing a table others refer to) and checks them all before committing.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_contact_role", table_name="contact")
    op.drop_index("ix_contact_district_code", table_name="contact")
    # Renaming keeps the agreements' references (SQLite rewrites them; PostgreSQL keeps its oid).
    op.rename_table("contact", "person")
    op.create_table(
        "assignment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(), sa.ForeignKey("person.email"), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("district_code", sa.String(), sa.ForeignKey("district.code"), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
    )
    op.create_index("ix_assignment_email", "assignment", ["email"])
    op.create_index("ix_assignment_role", "assignment", ["role"])
    op.create_index("ix_assignment_district_code", "assignment", ["district_code"])
    op.execute(
        "INSERT INTO assignment (email, role, district_code) "
        "SELECT email, role, district_code FROM person ORDER BY email"
    )
    with op.batch_alter_table("person") as batch:
        batch.drop_column("role")
        batch.drop_column("district_code")
        batch.add_column(sa.Column("phone", sa.String(), nullable=True))


def downgrade() -> None:
    # One role per person before 0008: each keeps the first role they were given that they
    # still hold (or else their first); the other assignments and every phone are lost.
    with op.batch_alter_table("person") as batch:
        batch.drop_column("phone")
        batch.add_column(sa.Column("role", sa.String(), nullable=True))
        batch.add_column(
            sa.Column(
                "district_code",
                sa.String(),
                sa.ForeignKey("district.code", name="fk_contact_district_code"),
                nullable=True,
            )
        )
    first = (
        "(SELECT {column} FROM assignment a WHERE a.email = person.email "
        "ORDER BY a.ended_on IS NOT NULL, a.id LIMIT 1)"
    )
    op.execute(
        f"UPDATE person SET role = {first.format(column='role')}, "
        f"district_code = {first.format(column='district_code')}"
    )
    op.execute("UPDATE person SET role = 'partner' WHERE role IS NULL")
    with op.batch_alter_table("person") as batch:
        batch.alter_column("role", existing_type=sa.String(), nullable=False)
    op.drop_table("assignment")
    op.rename_table("person", "contact")
    op.create_index("ix_contact_district_code", "contact", ["district_code"])
    op.create_index("ix_contact_role", "contact", ["role"])
