"""Edges where a held connection (storage.db) or a prepared statement (storage.prepared) could
differ from SQLAlchemy's own session and execution: failed transactions, pending objects, worker
threads, lists of tuples, onupdate values. Each was found in review and is held to SQLAlchemy."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import bindparam, insert, inspect, select, text, tuple_, update

from storage import tables
from storage.db import make_engine, transaction
from storage.migrate import upgrade
from storage.models import District
from storage.prepared import Prepared


def _engine(path: Path) -> sa.Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def _codes(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT code FROM district ORDER BY code")).scalars())


def _add_then_fail(engine: sa.Engine, district: District) -> None:
    with transaction(engine) as session:
        session.add(district)
        session.flush()
        raise RuntimeError("refused")


def _rename_then_fail(engine: sa.Engine) -> District:
    try:
        with transaction(engine) as session:
            district = session.get(District, "D1")
            assert district is not None
            district.name = "Changed"
            session.flush()
            raise RuntimeError("refused")
    except RuntimeError:
        return district


def test_an_object_added_again_after_a_failed_transaction_is_written(tmp_path: Path) -> None:
    """An object whose transaction failed after a flush is written when added in the next one."""
    engine = _engine(tmp_path / "pal.db")
    district = District(code="D1", name="Lake")
    try:
        with pytest.raises(RuntimeError, match="refused"):
            _add_then_fail(engine, district)
        with transaction(engine) as session:
            session.add(district)
        assert _codes(engine) == ["D1"]
    finally:
        engine.dispose()


def test_an_object_changed_in_a_failed_transaction_does_not_keep_the_change(
    tmp_path: Path,
) -> None:
    """A loaded object changed in a transaction that failed does not show the rolled-back value."""
    engine = _engine(tmp_path / "pal.db")
    try:
        with transaction(engine) as session:
            session.add(District(code="D1", name="Lake"))
        district = _rename_then_fail(engine)
        state = inspect(district)
        assert "name" in state.expired_attributes or district.name == "Lake"
    finally:
        engine.dispose()


def test_a_prepared_select_sees_an_object_added_in_the_same_transaction(tmp_path: Path) -> None:
    """A prepared statement sees what the session holds pending, as SQLAlchemy's execution
    (autoflush) does."""
    engine = _engine(tmp_path / "pal.db")
    query = Prepared(
        select(tables.DISTRICT.c.code).where(tables.DISTRICT.c.code == bindparam("code"))
    )
    try:
        with transaction(engine) as session:
            session.add(District(code="D1", name="Lake"))
            assert query.execute(session, {"code": "D1"}).scalar() == "D1"
    finally:
        engine.dispose()


def test_disposing_of_the_engine_lets_every_threads_connection_go(tmp_path: Path) -> None:
    """After dispose the WAL is checkpointed even when another (still running) thread worked on
    the database: a copy of the file alone holds every committed row."""
    engine = _engine(tmp_path / "pal.db")
    done, stop = threading.Event(), threading.Event()

    def work() -> None:
        with transaction(engine) as session:
            session.execute(insert(tables.DISTRICT).values(code="D1", name="Lake"))
        done.set()
        stop.wait(10)

    worker = threading.Thread(target=work)
    worker.start()
    try:
        assert done.wait(10)
        engine.dispose()
        assert not (tmp_path / "pal.db-wal").exists()
    finally:
        stop.set()
        worker.join()
        engine.dispose()


def test_a_prepared_tuple_in_list_binds_its_values(tmp_path: Path) -> None:
    """A tuple IN list with values runs as SQLAlchemy runs it (here: finds the two districts)."""
    engine = _engine(tmp_path / "pal.db")
    district = tables.DISTRICT.c
    query = Prepared(
        select(district.code)
        .where(tuple_(district.code, district.name).in_(bindparam("pairs", expanding=True)))
        .order_by(district.code)
    )
    try:
        with transaction(engine) as session:
            session.execute(insert(tables.DISTRICT).values(code="D1", name="Lake"))
            session.execute(insert(tables.DISTRICT).values(code="D2", name="Pond"))
        with transaction(engine) as session:
            found = query.execute(session, {"pairs": [("D1", "Lake"), ("D2", "Pond")]})
            assert found.scalars() == ["D1", "D2"]
    finally:
        engine.dispose()


def test_a_prepared_update_binds_a_columns_onupdate_not_its_default(tmp_path: Path) -> None:
    """An UPDATE leaving out a column with a scalar `onupdate` writes that value, as SQLAlchemy
    does, not the column's insert default."""
    engine = _engine(tmp_path / "pal.db")
    table = sa.Table(
        "counted", sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String),
        sa.Column("stamp", sa.String, default="inserted", onupdate="updated"),
    )  # fmt: skip
    rename = Prepared(update(table).where(table.c.id == 1).values(name=bindparam("name")))
    try:
        table.create(engine)
        with transaction(engine) as session:
            session.execute(insert(table).values(id=1, name="a"))
        with transaction(engine) as session:
            rename.execute(session, {"name": "b"})
        with engine.connect() as connection:
            assert connection.execute(select(table.c.stamp)).scalar() == "updated"
    finally:
        engine.dispose()
