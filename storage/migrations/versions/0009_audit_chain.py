"""A hash chain over the audit log: each row holds its place in its subject's chain (`seq`), the
hash of the row before it there (`prev_hash`) and its own (`hash`); `audit_chain` holds each
chain's length and newest hash.

The rows already written are chained in id order per subject. The triggers that refuse UPDATE and
DELETE on `audit` are dropped for that and created again, as 0001 made them.

The hash (version 1 of workflow.audit.row_hash) is written out here rather than imported: a
migration must go on doing what it did when it was written, and storage does not import
workflow. tests/test_audit_chain.py verifies upgraded rows with workflow.audit_verify.

Revision ID: 0009
Revises: 0008
"""

import hashlib
import json
from datetime import UTC
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Rows read and written per statement: bounded memory whatever the log holds.
_CHUNK = 500

_GUARD_SQLITE = (
    "CREATE TRIGGER audit_no_{verb} BEFORE {verb} ON audit "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
)
_GUARD_PG = (
    "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
    "FOR EACH ROW EXECUTE FUNCTION pal_audit_append_only()"
)

_HASHED = (
    "subject", "agreement_id", "event", "from_state", "to_state", "actor", "effective_on",
    "recorded_at", "note", "data", "seq", "prev_hash",
)  # fmt: skip

_AUDIT = sa.table(
    "audit",
    sa.column("id", sa.Integer()),
    sa.column("agreement_id", sa.Integer()),
    *(sa.column(name, sa.String()) for name in ("subject", "event", "from_state", "to_state")),
    sa.column("actor", sa.String()),
    sa.column("effective_on", sa.Date()),
    sa.column("recorded_at", UTCDateTime()),
    sa.column("note", sa.String()),
    sa.column("data", sa.JSON()),
    sa.column("seq", sa.Integer()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)
_CHAIN = sa.table(
    "audit_chain",
    sa.column("subject", sa.String()),
    sa.column("length", sa.Integer()),
    sa.column("head", sa.String()),
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _drop_guards(sqlite)
    op.add_column("audit", sa.Column("seq", sa.Integer(), nullable=True))
    op.add_column("audit", sa.Column("prev_hash", sa.String(), nullable=True))
    op.add_column("audit", sa.Column("hash", sa.String(), nullable=True))
    op.create_table(
        "audit_chain",
        sa.Column("subject", sa.String(), primary_key=True),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(), nullable=False),
    )
    _chain_rows(op.get_bind())
    with op.batch_alter_table("audit") as batch:
        batch.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(), nullable=False)
    _create_guards(sqlite)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _drop_guards(sqlite)
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
    op.drop_table("audit_chain")
    _create_guards(sqlite)


def _drop_guards(sqlite: bool) -> None:
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS audit_no_UPDATE")
        op.execute("DROP TRIGGER IF EXISTS audit_no_DELETE")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_append_only ON audit")


def _create_guards(sqlite: bool) -> None:
    # On SQLite, batch mode copied the table: its triggers went with the old one.
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS audit_no_UPDATE")
        op.execute("DROP TRIGGER IF EXISTS audit_no_DELETE")
        op.execute(_GUARD_SQLITE.format(verb="UPDATE"))
        op.execute(_GUARD_SQLITE.format(verb="DELETE"))
    else:
        op.execute(_GUARD_PG)


def _chain_rows(bind: sa.Connection) -> None:
    """Every row's place, prev_hash and hash, in id order per subject, and each chain's head."""
    audit = _AUDIT
    columns = [audit.c.id, *(audit.c[name] for name in _HASHED if name not in ("seq", "prev_hash"))]
    heads: dict[str, tuple[int, str]] = {}
    last = 0
    update = (
        sa.update(audit)
        .where(audit.c.id == sa.bindparam("row"))
        .values(seq=sa.bindparam("seq"), prev_hash=sa.bindparam("prev"), hash=sa.bindparam("hash"))
    )
    while True:
        rows = bind.execute(
            sa.select(*columns).where(audit.c.id > last).order_by(audit.c.id).limit(_CHUNK)
        ).all()
        if not rows:
            break
        values = []
        for row in rows:
            content = dict(row._mapping)
            length, prev = heads.get(content["subject"], (0, None))
            content["seq"], content["prev_hash"] = length + 1, prev
            digest = _row_hash(content)
            heads[content["subject"]] = (length + 1, digest)
            values.append({"row": row.id, "seq": length + 1, "prev": prev, "hash": digest})
        bind.execute(update, values)
        last = rows[-1].id
    chains = [{"subject": s, "length": n, "head": h} for s, (n, h) in sorted(heads.items())]
    for start in range(0, len(chains), _CHUNK):
        bind.execute(sa.insert(_CHAIN), chains[start : start + _CHUNK])


def _row_hash(row: dict[str, Any]) -> str:
    content = {name: row[name] for name in _HASHED}
    content["effective_on"] = row["effective_on"].isoformat()
    content["recorded_at"] = row["recorded_at"].astimezone(UTC).isoformat(timespec="microseconds")
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("ascii")).hexdigest()
