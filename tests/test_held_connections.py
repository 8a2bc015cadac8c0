"""A thread keeps its connection to a SQLite database between transactions (storage.db): reused,
let go when the engine is disposed of, never shared by two transactions at once, and bounded."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import insert, text

from storage import db, tables
from storage.db import make_engine, transaction
from storage.migrate import upgrade
from storage.models import District


def _engine(path: Path) -> sa.Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def _driver(engine: sa.Engine, *, read_only: bool = False) -> object:
    with transaction(engine, read_only=read_only) as session:
        return session.connection().connection.driver_connection


def test_a_threads_transactions_on_one_database_share_one_connection(tmp_path: Path) -> None:
    """Two write transactions in a row run on the same driver connection; a read-only one on a
    connection of its own (it begins differently)."""
    engine = _engine(tmp_path / "pal.db")
    try:
        first, second = _driver(engine), _driver(engine)
        assert first is second
        assert _driver(engine, read_only=True) is not first
    finally:
        engine.dispose()


def test_a_transaction_inside_another_gets_a_connection_of_its_own(tmp_path: Path) -> None:
    """A transaction opened while the held connection is in one takes a pooled connection, and
    reads what was committed."""
    engine = _engine(tmp_path / "pal.db")
    try:
        with transaction(engine) as session:
            session.execute(insert(tables.DISTRICT).values(code="D1", name="Lake"))
        with transaction(engine, read_only=True) as outer:
            outer_driver = outer.connection().connection.driver_connection
            with transaction(engine, read_only=True) as inner:
                assert inner.connection().connection.driver_connection is not outer_driver
                names = inner.execute(text("SELECT name FROM district")).scalars().all()
        assert names == ["Lake"]
    finally:
        engine.dispose()


def test_disposing_of_the_engine_closes_the_held_connection_and_the_file_holds_everything(
    tmp_path: Path,
) -> None:
    """After dispose the last connection is closed: the WAL is checkpointed into the file, so a
    copy of the file alone holds every committed row."""
    engine = _engine(tmp_path / "pal.db")
    with transaction(engine) as session:
        session.execute(insert(tables.DISTRICT).values(code="D1", name="Lake"))
    engine.dispose()

    assert not (tmp_path / "pal.db-wal").exists()
    shutil.copyfile(tmp_path / "pal.db", tmp_path / "copy.db")
    copy = sqlite3.connect(tmp_path / "copy.db")
    try:
        assert copy.execute("SELECT code FROM district").fetchall() == [("D1",)]
    finally:
        copy.close()


def test_a_thread_holds_connections_to_a_few_databases_at_most(tmp_path: Path) -> None:
    """Working on more databases than it keeps, a thread closes the least recently used
    connection: connections do not pile up."""
    engines = [_engine(tmp_path / f"db{n}.db") for n in range(db._HELD_PER_THREAD + 2)]
    try:
        for engine in engines:
            _driver(engine)
        held = db._LOCAL.held
        assert len(held) == db._HELD_PER_THREAD
        assert {key[0] for key in held} == {
            id(engine) for engine in engines[-db._HELD_PER_THREAD :]
        }
    finally:
        for engine in engines:
            engine.dispose()


def test_what_a_failed_transaction_added_is_not_written_by_the_next(tmp_path: Path) -> None:
    """An object added to the session of a transaction that then fails is dropped with it: the
    next transaction on the same held connection does not write it."""
    engine = _engine(tmp_path / "pal.db")

    def add_then_fail() -> None:
        with transaction(engine) as session:
            session.add(District(code="D9", name="Never"))
            raise RuntimeError("refused")

    try:
        with pytest.raises(RuntimeError, match="refused"):
            add_then_fail()
        with transaction(engine) as session:
            session.execute(insert(tables.DISTRICT).values(code="D1", name="Lake"))
        with engine.connect() as connection:
            codes = connection.execute(text("SELECT code FROM district")).scalars().all()
        assert codes == ["D1"]
    finally:
        engine.dispose()


def test_a_connection_in_a_transaction_is_never_let_go_for_another_database(
    tmp_path: Path,
) -> None:
    """Working on more databases inside a transaction on a first one keeps the first one's
    connection: its transaction commits what it wrote."""
    first = _engine(tmp_path / "first.db")
    others = [_engine(tmp_path / f"db{n}.db") for n in range(db._HELD_PER_THREAD + 1)]
    try:
        with transaction(first) as session:
            session.execute(insert(tables.DISTRICT).values(code="D1", name="Lake"))
            for engine in others:
                _driver(engine)
            session.execute(insert(tables.DISTRICT).values(code="D2", name="Pond"))
        with first.connect() as connection:
            codes = connection.execute(text("SELECT code FROM district ORDER BY code"))
            assert codes.scalars().all() == ["D1", "D2"]
    finally:
        for engine in (first, *others):
            engine.dispose()


def test_an_engine_not_made_by_make_engine_takes_a_pooled_connection_each_time(
    tmp_path: Path,
) -> None:
    """Only engines that let go of held connections when disposed of keep one: a plain
    SQLAlchemy engine's transactions take a connection from its pool each time."""
    _engine(tmp_path / "pal.db").dispose()
    plain = sa.create_engine(f"sqlite:///{tmp_path / 'pal.db'}")
    try:
        with transaction(plain) as session:
            session.execute(text("SELECT 1"))
        held = getattr(db._LOCAL, "held", {})
        assert all(h.engine is not plain for h in held.values())
    finally:
        plain.dispose()
