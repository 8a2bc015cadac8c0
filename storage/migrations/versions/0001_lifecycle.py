"""Lifecycle tables: districts, schools, contacts, agreements, signatures, deadlines, audit.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

AUDIT_GUARD_SQLITE = (
    "CREATE TRIGGER audit_no_{verb} BEFORE {verb} ON audit "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
)
AUDIT_GUARD_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION pal_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$
"""
AUDIT_GUARD_PG_TRIGGER = (
    "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
    "FOR EACH ROW EXECUTE FUNCTION pal_audit_append_only()"
)


def upgrade() -> None:
    op.create_table(
        "district",
        sa.Column("code", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("isd", sa.String(), nullable=True),
        sa.Column("psa", sa.Boolean(), nullable=False),
        sa.Column("authorizer", sa.String(), nullable=True),
    )
    op.create_table(
        "school",
        sa.Column("code", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("district_code", sa.String(), sa.ForeignKey("district.code"), nullable=False),
        sa.Column("csi", sa.Boolean(), nullable=False),
        sa.Column("alternative", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_school_district_code", "school", ["district_code"])
    op.create_table(
        "contact",
        sa.Column("email", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("district_code", sa.String(), sa.ForeignKey("district.code"), nullable=True),
    )
    op.create_index("ix_contact_district_code", "contact", ["district_code"])
    op.create_table(
        "agreement",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("district_code", sa.String(), sa.ForeignKey("district.code"), nullable=False),
        sa.Column("cohort", sa.String(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("rules_version", sa.String(), nullable=False),
        sa.Column("consequences", sa.String(), nullable=False),
        sa.Column("liaison_email", sa.String(), sa.ForeignKey("contact.email"), nullable=True),
        sa.Column("identified_on", sa.Date(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("escalation_option", sa.String(), nullable=True),
        sa.Column("last_event_on", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_agreement_district_code", "agreement", ["district_code"])
    op.create_index("ix_agreement_state", "agreement", ["state"])
    # At most one active agreement per district, even when two people identify it at once.
    active = sa.text("state NOT IN ('exited', 'next_level_accountability')")
    op.create_index(
        "ux_agreement_active_district",
        "agreement",
        ["district_code"],
        unique=True,
        sqlite_where=active,
        postgresql_where=active,
    )
    op.create_table(
        "signature",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agreement_id", sa.Integer(), sa.ForeignKey("agreement.id"), nullable=False),
        sa.Column("party", sa.String(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("agreement_id", "party"),
    )
    op.create_index("ix_signature_agreement_id", "signature", ["agreement_id"])
    op.create_table(
        "deadline",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agreement_id", sa.Integer(), sa.ForeignKey("agreement.id"), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
    )
    op.create_index("ix_deadline_agreement_id", "deadline", ["agreement_id"])
    op.create_index("ix_deadline_status_due_at", "deadline", ["status", "due_at"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agreement_id", sa.Integer(), sa.ForeignKey("agreement.id"), nullable=True),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("from_state", sa.String(), nullable=True),
        sa.Column("to_state", sa.String(), nullable=True),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_agreement_id", "audit", ["agreement_id"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(AUDIT_GUARD_SQLITE.format(verb="UPDATE"))
        op.execute(AUDIT_GUARD_SQLITE.format(verb="DELETE"))
    else:
        op.execute(AUDIT_GUARD_PG_FUNCTION)
        op.execute(AUDIT_GUARD_PG_TRIGGER)


def downgrade() -> None:
    for table in ("audit", "deadline", "signature", "agreement", "contact", "school", "district"):
        op.drop_table(table)
    # The guard's function outlives its triggers (PostgreSQL): base leaves nothing behind.
    # Changing this downgrade changes no upgraded database.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS pal_audit_append_only()")
