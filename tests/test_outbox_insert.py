"""On SQLite the outbox INSERT goes to the driver directly (notifications.outbox._DirectInsert):
what it stores must be exactly what SQLAlchemy's own INSERT of the same rows stores."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from notifications import outbox
from storage import tables
from storage.db import make_engine, transaction
from storage.migrate import upgrade

NOW = datetime(2026, 3, 8, 1, 59, 59, 123456, tzinfo=ZoneInfo("America/Detroit"))


def _rows(stamps: tuple[Any, Any]) -> list[tuple[Any, ...]]:
    next_attempt_at, created_at = stamps
    texts = ["plain", "", "ünïcödé ✓ <b>&amp;</b>", "line\nbreak", "x" * 5000]
    return [
        (None, "plan_reminder", f"timer{n}", f"p{n}@lake.example", f"key{n}", f"<m{n}@pal>",
         text, text, f"<p>{text}</p>", "unaddressed" if n % 2 else "pending", 0,
         next_attempt_at, f"nobody on file as role{n}" if n % 2 else None, created_at, None)
        for n, text in enumerate(texts)
    ]  # fmt: skip


def _stored(path: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        names = [row[1] for row in conn.execute("PRAGMA table_info(outbox)")]
        columns = ", ".join(f"{name}, typeof({name})" for name in names)
        return conn.execute(f"SELECT {columns} FROM outbox ORDER BY id").fetchall()
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
                connection.exec_driver_sql(plan.sql, _rows(stamps))
            else:
                rows = [dict(zip(outbox._COLUMNS, row, strict=True)) for row in _rows((NOW, NOW))]
                session.execute(insert(tables.OUTBOX), rows)
        engine.dispose()
        stored.append(_stored(path))
    assert stored[0] == stored[1]
    assert len(stored[0]) == 5
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
