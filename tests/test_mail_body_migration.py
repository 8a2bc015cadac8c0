"""Migration 0006 converts the bodies already in the outbox, and its downgrade restores them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from notifications import bodies
from storage.db import make_engine
from storage.migrate import downgrade, upgrade
from storage.types import UTCDateTime

T0 = datetime(2018, 6, 1, 12, 0, tzinfo=UTC)
# (notice, occurrence, recipient, text, html): two notices of two and three recipients, one
# with nobody on file (empty bodies), bodies that differ in the greeting or in everything.
ROWS = [
    ("plan_reminder", "timer1", "a@lake.example", "Dear Ann,\nThe plan is due.\n", "<p>Ann</p>"),
    ("plan_reminder", "timer1", "b@lake.example", "Dear Bo,\nThe plan is due.\n", "<p>Bo</p>"),
    ("plan_reminder", "timer1", "(authorizer)", "", ""),
    ("signed", "sign.v4", "c@lake.example", "Zoë Ångström ✓ \t \r\n" * 40, "<b>&amp;</b>"),
    ("signed", "sign.v4", "d@lake.example", "something else entirely", "x" * 5000),
    ("signed", "sign.v4", "e@lake.example", "", "<p>only html</p>"),
]


@pytest.fixture
def at_0005(db_url: str) -> Iterator[sa.Engine]:
    """A database at revision 0005 whose outbox holds ROWS, text and HTML in full."""
    engine = make_engine(db_url)
    upgrade(engine, "0005")
    stamps = ("next_attempt_at", "created_at")
    outbox = sa.table(
        "outbox",
        *(sa.column(name, UTCDateTime() if name in stamps else None) for name in _COLUMNS_0005),
    )
    with engine.begin() as connection:
        connection.execute(sa.insert(outbox), [_row_0005(n, row) for n, row in enumerate(ROWS)])
    yield engine
    engine.dispose()


_COLUMNS_0005 = (
    "notice", "occurrence", "recipient", "idempotency_key", "message_id", "subject", "body_text",
    "body_html", "status", "attempts", "next_attempt_at", "created_at",
)  # fmt: skip


def _row_0005(n: int, row: tuple[str, ...]) -> dict[str, Any]:
    notice, occurrence, recipient, text, html = row
    status = "unaddressed" if recipient.startswith("(") else "pending"
    values = (notice, occurrence, recipient, f"key{n}", f"<m{n}@pal>", f"subject {n}", text, html,
              status, 0, T0, T0)  # fmt: skip
    return dict(zip(_COLUMNS_0005, values, strict=True))


def _columns(engine: sa.Engine, table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(engine).get_columns(table)}


def test_the_upgrade_stores_each_notice_body_once_and_every_message_reads_back(
    at_0005: sa.Engine,
) -> None:
    """After 0006 each row's text and HTML read back exactly as they were, the recipients of a
    notice share one reference body, and body_text and body_html are gone."""
    upgrade(at_0005)

    with at_0005.connect() as connection:
        found = bodies.read(connection, range(1, len(ROWS) + 1))
        refs = connection.execute(sa.text("SELECT notice, body_ref FROM outbox ORDER BY id")).all()
        stored = connection.execute(sa.text("SELECT count(*) FROM mail_body")).scalar_one()
    assert [(m.subject, m.text, m.html) for m in found.values()] == [
        (f"subject {n}", text, html) for n, (*_, text, html) in enumerate(ROWS)
    ]
    assert stored == 2
    assert len({bytes(ref) for notice, ref in refs if notice == "plan_reminder"}) == 1
    assert len({bytes(ref) for notice, ref in refs if notice == "signed"}) == 1
    assert {"body_ref", "body"} <= _columns(at_0005, "outbox")
    assert not {"body_text", "body_html"} & _columns(at_0005, "outbox")
    keys = sa.inspect(at_0005).get_foreign_keys("outbox")
    assert ("mail_body", ["body_ref"]) in [
        (k["referred_table"], k["constrained_columns"]) for k in keys
    ]


def test_the_downgrade_writes_every_body_back_in_full(at_0005: sa.Engine) -> None:
    """Down to 0005 again: body_text and body_html hold what they held, mail_body is gone, and
    upgrading once more reads the same messages back."""
    upgrade(at_0005)

    downgrade(at_0005, "0005")

    with at_0005.connect() as connection:
        back = connection.execute(
            sa.text("SELECT body_text, body_html FROM outbox ORDER BY id")
        ).all()
    assert [tuple(row) for row in back] == [(text, html) for *_, text, html in ROWS]
    assert "mail_body" not in sa.inspect(at_0005).get_table_names()
    assert not {"body_ref", "body"} & _columns(at_0005, "outbox")
    upgrade(at_0005)
    with at_0005.connect() as connection:
        found = bodies.read(connection, range(1, len(ROWS) + 1))
    assert [(m.text, m.html) for m in found.values()] == [(text, html) for *_, text, html in ROWS]
