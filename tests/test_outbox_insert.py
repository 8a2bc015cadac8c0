"""On SQLite the outbox INSERT goes to the driver directly (notifications.outbox._DirectInsert):
what it stores must be exactly what SQLAlchemy's own INSERT of the same rows stores."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from notifications import bodies, outbox
from storage import tables
from storage.db import make_engine, transaction
from storage.migrate import upgrade

NOW = datetime(2026, 3, 8, 1, 59, 59, 123456, tzinfo=ZoneInfo("America/Detroit"))


TEXTS = ["plain", "", "ünïcödé ✓ <b>&amp;</b>", "line\nbreak", "x" * 5000]
# The reference is the first text's body; each row's body a delta against it.
REFERENCE = bodies.pack(TEXTS[0], f"<p>{TEXTS[0]}</p>")
REF = bodies.digest(REFERENCE)


def _references() -> list[tuple[bytes, bytes]]:
    return [(REF, bodies.reference(REFERENCE))]


def _rows(stamps: tuple[Any, Any]) -> list[tuple[Any, ...]]:
    next_attempt_at, created_at = stamps
    return [
        (None, "plan_reminder", f"timer{n}", f"p{n}@lake.example", f"key{n}", f"<m{n}@pal>",
         text, REF, bodies.delta(REFERENCE, bodies.pack(text, f"<p>{text}</p>")),
         "unaddressed" if n % 2 else "pending", 0, next_attempt_at,
         f"nobody on file as role{n}" if n % 2 else None, created_at, None,
         # the headers of migration 0012: a name, a Reply-To, a thread and a calendar file
         # (stored like a reference), or none of them
         *((f"Pérson {n}", "liaison@mde.example", "Lía Son", "plan_due.1", REF) if n % 2 == 0
           else (None,) * 5),
         # the case of another process (migration 0017), or the agreement itself
         *(("funds", 7) if n == 2 else (None, None)))
        for n, text in enumerate(TEXTS)
    ]  # fmt: skip


def _stored(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        found = {}
        for table in ("mail_body", "outbox"):
            names = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            columns = ", ".join(f"{name}, typeof({name})" for name in names)
            found[table] = conn.execute(f"SELECT {columns} FROM {table} ORDER BY 1").fetchall()
        return found
    finally:
        conn.close()


def test_the_direct_insert_stores_what_sqlalchemy_stores(tmp_path: Path) -> None:
    stored = []
    for name, direct in (("sqlalchemy.db", False), ("direct.db", True)):
        path = tmp_path / name
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        with transaction(engine) as session:
            connection = session.connection()
            plan = outbox._direct_insert(connection.dialect)
            assert plan is not None
            if direct:
                stamps = (plan.next_attempt_at(NOW), plan.created_at(NOW))
                # Twice: a reference already stored is left as it is.
                connection.exec_driver_sql(plan.mail_body_sql, _references() * 2)
                connection.exec_driver_sql(plan.sql, _rows(stamps))
            else:
                references = [{"digest": d, "content": c} for d, c in _references()]
                session.execute(bodies.insert_if_absent("sqlite"), references * 2)
                rows = [dict(zip(outbox._COLUMNS, row, strict=True)) for row in _rows((NOW, NOW))]
                session.execute(insert(tables.OUTBOX), rows)
        engine.dispose()
        stored.append(_stored(path))
    assert stored[0] == stored[1]
    assert len(stored[0]["outbox"]) == 5
    assert len(stored[0]["mail_body"]) == 1
    # The bodies are stored as blobs and read back exactly.
    conn = sqlite3.connect(tmp_path / "direct.db")
    try:
        types = conn.execute("SELECT DISTINCT typeof(body), typeof(calendar_ref) FROM outbox")
        assert set(types) == {("blob", "blob"), ("blob", "null")}
    finally:
        conn.close()
    engine = make_engine(f"sqlite:///{tmp_path / 'direct.db'}")
    with transaction(engine, read_only=True) as session:
        found = bodies.read(session, range(1, 6))
    engine.dispose()
    assert [(m.text, m.html) for m in found.values()] == [(t, f"<p>{t}</p>") for t in TEXTS]
    # The stamps are stored as pal stores every datetime: UTC wall time, as text.
    conn = sqlite3.connect(tmp_path / "direct.db")
    try:
        found = conn.execute("SELECT DISTINCT next_attempt_at, created_at FROM outbox").fetchall()
    finally:
        conn.close()
    utc = NOW.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    assert found == [(utc, utc)] == [("2026-03-08 06:59:59.123456",) * 2]


def test_postgresql_keeps_sqlalchemys_insert() -> None:
    from sqlalchemy.dialects import postgresql

    assert outbox._direct_insert(postgresql.psycopg.dialect()) is None
