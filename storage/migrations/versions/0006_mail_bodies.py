"""Mail bodies stored once per notice: `mail_body` holds each notice's reference body, compressed,
and each outbox row its own body as a delta against it (`body_ref`, `body`), in place of its
`body_text` and `body_html`.

The rows already queued or sent are converted: the recipients of one notice (agreement, notice,
occurrence) share the reference of the first of them, as new rows do. The downgrade writes every
row's text and HTML back.

The format (version 1 of notifications.bodies) is written out here rather than imported: a
migration must go on doing what it did when it was written, and storage does not import
notifications. tests/test_mail_body_migration.py reads converted rows back through
notifications.bodies.

Revision ID: 0006
Revises: 0005
"""

import hashlib
import struct
import zlib
from collections.abc import Iterator, Sequence
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_FORMAT = b"\x01"
_LEVEL, _WBITS, _MEM_LEVEL = 1, 14, 6
_LENGTH = struct.Struct(">I")
# Rows read and written per statement: bounded memory whatever the outbox holds.
_CHUNK = 500

_MAIL_BODY = sa.table(
    "mail_body", sa.column("digest", sa.LargeBinary()), sa.column("content", sa.LargeBinary())
)

# The outbox's columns as each step reads or writes them.
_TEXTS = sa.table(
    "outbox",
    *(sa.column(name, sa.Integer()) for name in ("id", "agreement_id")),
    *(sa.column(name, sa.String()) for name in ("notice", "occurrence")),
    sa.column("body_text", sa.Text()),
    sa.column("body_html", sa.Text()),
)
_BLOBS = sa.table(
    "outbox",
    sa.column("id", sa.Integer()),
    sa.column("body_ref", sa.LargeBinary()),
    sa.column("body", sa.LargeBinary()),
)


def upgrade() -> None:
    op.create_table(
        "mail_body",
        sa.Column("digest", sa.LargeBinary(16), primary_key=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("body_ref", sa.LargeBinary(16), nullable=True))
        batch.add_column(sa.Column("body", sa.LargeBinary(), nullable=True))
    _compress_bodies(op.get_bind())
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("body_ref", existing_type=sa.LargeBinary(16), nullable=False)
        batch.alter_column("body", existing_type=sa.LargeBinary(), nullable=False)
        batch.create_foreign_key("fk_outbox_body_ref", "mail_body", ["body_ref"], ["digest"])
        batch.drop_column("body_text")
        batch.drop_column("body_html")


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("body_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("body_html", sa.Text(), nullable=True))
    _expand_bodies(op.get_bind())
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("body_text", existing_type=sa.Text(), nullable=False)
        batch.alter_column("body_html", existing_type=sa.Text(), nullable=False)
        batch.drop_constraint("fk_outbox_body_ref", type_="foreignkey")
        batch.drop_column("body_ref")
        batch.drop_column("body")
    op.drop_table("mail_body")


# --- upgrade: every row's body as a delta against its notice's reference -----------------------


def _compress_bodies(bind: sa.Connection) -> None:
    outbox = _TEXTS
    group = (outbox.c.agreement_id, outbox.c.notice, outbox.c.occurrence)
    query = sa.select(*group, outbox.c.id, outbox.c.body_text, outbox.c.body_html).order_by(
        *group, outbox.c.id
    )
    references: dict[bytes, bytes] = {}
    updates: list[dict[str, Any]] = []
    rows = bind.execute(query.execution_options(yield_per=_CHUNK))
    for _, members in groupby(rows, key=lambda row: tuple(row[:3])):
        first: bytes | None = None
        for row in members:
            packed = _pack(row.body_text, row.body_html)
            if first is None:
                first = packed
                digest = hashlib.sha256(first).digest()[:16]
                references[digest] = _deflate(first)
            updates.append({"row": row.id, "body_ref": digest, "body": _deflate(packed, first)})
        if len(updates) >= _CHUNK:
            _write(bind, references, updates)
    _write(bind, references, updates)


def _write(
    bind: sa.Connection, references: dict[bytes, bytes], updates: list[dict[str, Any]]
) -> None:
    """The references not written yet, then the rows' new columns; empties both."""
    if references:
        known = set(
            bind.scalars(
                sa.select(_MAIL_BODY.c.digest).where(_MAIL_BODY.c.digest.in_(list(references)))
            )
        )
        fresh = [{"digest": d, "content": c} for d, c in references.items() if d not in known]
        if fresh:
            bind.execute(sa.insert(_MAIL_BODY), fresh)
    if updates:
        statement = (
            sa.update(_BLOBS)
            .where(_BLOBS.c.id == sa.bindparam("row"))
            .values(body_ref=sa.bindparam("body_ref"), body=sa.bindparam("body"))
        )
        bind.execute(statement, updates)
    references.clear()
    updates.clear()


def _pack(text: str, html: str) -> bytes:
    encoded = text.encode("utf-8")
    return _LENGTH.pack(len(encoded)) + encoded + html.encode("utf-8")


def _deflate(data: bytes, dictionary: bytes | None = None) -> bytes:
    if dictionary is None:
        compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WBITS, _MEM_LEVEL)
    else:
        compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WBITS, _MEM_LEVEL, zdict=dictionary)
    return _FORMAT + compressor.compress(data) + compressor.flush()


# --- downgrade: every row's text and HTML written back -----------------------------------------


def _expand_bodies(bind: sa.Connection) -> None:
    outbox = _BLOBS
    query = (
        sa.select(outbox.c.id, outbox.c.body, _MAIL_BODY.c.content)
        .join_from(outbox, _MAIL_BODY, outbox.c.body_ref == _MAIL_BODY.c.digest)
        .order_by(outbox.c.id)
    )
    references: dict[bytes, bytes] = {}
    statement = (
        sa.update(_TEXTS)
        .where(_TEXTS.c.id == sa.bindparam("row"))
        .values(body_text=sa.bindparam("text"), body_html=sa.bindparam("html"))
    )
    for chunk in _chunks(bind.execute(query.execution_options(yield_per=_CHUNK))):
        values = []
        for row in chunk:
            content = bytes(row.content)
            if content not in references:
                references[content] = _inflate(content)
            text, html = _unpack(_inflate(bytes(row.body), references[content]))
            values.append({"row": row.id, "text": text, "html": html})
        bind.execute(statement, values)


def _chunks(rows: Any) -> Iterator[Sequence[Any]]:
    while chunk := rows.fetchmany(_CHUNK):
        yield chunk


def _inflate(blob: bytes, dictionary: bytes | None = None) -> bytes:
    if blob[:1] != _FORMAT:
        raise ValueError(f"outbox body in an unknown format {blob[:1]!r}")
    inflater = zlib.decompressobj() if dictionary is None else zlib.decompressobj(zdict=dictionary)
    return inflater.decompress(blob[1:]) + inflater.flush()


def _unpack(packed: bytes) -> tuple[str, str]:
    (length,) = _LENGTH.unpack_from(packed)
    end = _LENGTH.size + length
    return packed[_LENGTH.size : end].decode("utf-8"), packed[end:].decode("utf-8")
