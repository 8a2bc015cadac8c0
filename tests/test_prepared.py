"""A prepared statement (storage.prepared) runs on SQLite's driver exactly as SQLAlchemy would:
the same bytes stored, the same values read back, the same errors, the same counts."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import bindparam, insert, select, update

from storage import tables
from storage.db import make_engine, transaction
from storage.migrate import upgrade
from storage.prepared import Prepared

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
days = st.dates(date(1900, 1, 1), date(2200, 12, 31))
instants = st.datetimes(
    datetime(1970, 1, 2), datetime(2200, 1, 1), timezones=st.just(UTC)
) | st.datetimes(datetime(1970, 1, 2), datetime(2200, 1, 1), timezones=st.timezones())
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)

AUDIT = Prepared(insert(tables.AUDIT))
AGREEMENT = Prepared(insert(tables.AGREEMENT))
LOAD = Prepared(select(tables.AGREEMENT).where(tables.AGREEMENT.c.id == bindparam("id")))
READ_AUDIT = Prepared(select(tables.AUDIT).where(tables.AUDIT.c.id == bindparam("id")))
IN_LIST = Prepared(
    select(tables.AUDIT.c.id, tables.AUDIT.c.effective_on)
    .where(
        tables.AUDIT.c.event.in_(bindparam("events", expanding=True)),
        tables.AUDIT.c.effective_on <= bindparam("until"),
        tables.AUDIT.c.subject == "agreement:1",
        tables.AUDIT.c.to_state.not_in(("exited", "renewed")),  # a list given in the statement
    )
    .order_by(tables.AUDIT.c.id)
)
RENAME = Prepared(
    update(tables.DISTRICT)
    .where(tables.DISTRICT.c.name == bindparam("old"))
    .values(name=bindparam("new"), isd=None)
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    path = tmp_path_factory.mktemp("prepared") / "pal.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with transaction(engine) as session:
        for code in ("D1", "D2", "D3"):
            session.execute(insert(tables.DISTRICT).values(code=code, name="Lake"))
    yield engine
    engine.dispose()


def _stored(engine: sa.Engine, table: str, row_id: int) -> tuple[Any, ...]:
    """The row as SQLite holds it: each value with its storage class."""
    path = engine.url.database
    assert path is not None
    conn = sqlite3.connect(path)
    try:
        names = [row[1] for row in conn.execute(f"PRAGMA table_info({table})") if row[1] != "id"]
        columns = ", ".join(f"quote({name}), typeof({name})" for name in names)
        found: tuple[Any, ...] = conn.execute(
            f"SELECT {columns} FROM {table} WHERE id = ?", (row_id,)
        ).fetchone()
        return found
    finally:
        conn.close()


def _audit_values(
    event: str, day: date, at: datetime, note: str | None, data: Any
) -> dict[str, Any]:
    return {
        "agreement_id": None, "subject": "agreement:1", "event": event, "from_state": None,
        "to_state": "signed", "actor": "a@b.example", "effective_on": day, "recorded_at": at,
        "note": note, "data": {"value": data},
        # Not a chain (workflow.audit writes those): the columns filled, each place its own.
        "seq": next(_PLACES), "prev_hash": None, "hash": "0" * 64,
    }  # fmt: skip


_PLACES = itertools.count(1)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(event=texts, day=days, at=instants, note=st.none() | texts, data=json_values)
def test_a_prepared_insert_stores_and_reads_back_what_sqlalchemy_does(
    engine: sa.Engine, event: str, day: date, at: datetime, note: str | None, data: Any
) -> None:
    """An audit row (text, a date, an aware datetime in any zone, JSON) inserted by the driver
    is stored byte for byte as SQLAlchemy's insert of it, and reads back equal, of equal types."""
    values = _audit_values(event, day, at, note, data)
    with transaction(engine) as session:
        ours = AUDIT.execute(session, values).inserted_id
        theirs = session.execute(insert(tables.AUDIT), values).inserted_primary_key[0]
        read_ours = READ_AUDIT.execute(session, {"id": ours}).first()
        read_theirs = session.execute(READ_AUDIT.statement, {"id": theirs}).one()
    assert _stored(engine, "audit", ours) == _stored(engine, "audit", theirs)
    assert read_ours._asdict() | {"id": 0} == read_theirs._asdict() | {"id": 0}
    assert [type(v) for v in read_ours] == [type(v) for v in read_theirs]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cohort=st.none() | texts, day=days, at=instants)
def test_a_column_left_out_takes_the_default_sqlalchemy_gives_it(
    engine: sa.Engine, cohort: str | None, day: date, at: datetime
) -> None:
    """An agreement inserted without its version gets the model's default (1), as through
    SQLAlchemy, and loads back as SQLAlchemy loads it."""
    values = {
        "district_code": "D1", "cohort": cohort, "state": "identified", "rules_version": "2017-10",
        "consequences": "closure", "identified_on": day, "last_event_on": day, "updated_at": at,
    }  # fmt: skip
    with transaction(engine) as session:
        ours = AGREEMENT.execute(session, values).inserted_id
        theirs = session.execute(
            insert(tables.AGREEMENT), values | {"district_code": "D2"}
        ).inserted_primary_key[0]
        loaded = LOAD.execute(session, {"id": ours}).first()
        expected = session.execute(LOAD.statement, {"id": theirs}).one()
        session.execute(sa.text("DELETE FROM agreement"))  # one active agreement per district
    differ = {"id": 0, "district_code": ""}
    assert loaded._asdict() | differ == expected._asdict() | differ
    assert loaded.version == 1


def test_an_expanding_list_and_an_update_give_sqlalchemys_rows_and_counts(
    engine: sa.Engine,
) -> None:
    """A list bound into IN (any length, empty too, a length seen before) selects SQLAlchemy's
    rows; an UPDATE counts the rows SQLAlchemy's would."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with transaction(engine) as session:
        for n in range(5):
            day = date(2020, 1, 1) + timedelta(days=n)
            AUDIT.execute(session, _audit_values(f"listed {n % 3}", day, at, None, n))
        lists = ([], ["listed 0"], ["listed 1"], ["listed 0", "listed 1", "nothing"], ["listed 2"])
        for events in lists:
            params = {"events": events, "until": date(2020, 1, 4)}
            expected = session.execute(IN_LIST.statement, params).all()
            assert IN_LIST.execute(session, params).all() == expected
        renamed = RENAME.execute(session, {"old": "Lake", "new": "Pond"}).rowcount
        back = session.execute(RENAME.statement, {"old": "Pond", "new": "Lake"}).rowcount
        assert renamed == back == 3


def test_a_constraint_the_driver_reports_is_raised_as_sqlalchemy_raises_it(
    engine: sa.Engine,
) -> None:
    """A second agreement for a district (a unique index) raises SQLAlchemy's IntegrityError,
    and nothing of the transaction is kept."""
    values = {
        "district_code": "D3", "state": "identified", "rules_version": "2017-10",
        "consequences": "closure", "identified_on": date(2020, 1, 1),
        "last_event_on": date(2020, 1, 1), "updated_at": datetime(2020, 1, 1, tzinfo=UTC),
    }  # fmt: skip

    def identify_twice() -> None:
        with transaction(engine) as session:
            AGREEMENT.execute(session, values)
            AGREEMENT.execute(session, values)

    with pytest.raises(sa.exc.IntegrityError):
        identify_twice()
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM agreement")).scalar() == 0


def test_with_a_statement_listener_attached_sqlalchemy_runs_every_statement(
    engine: sa.Engine, tmp_path: Path
) -> None:
    """Tracing (a before_cursor_execute listener) sees each prepared statement: it steps aside."""
    seen: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", capture)
    try:
        with transaction(engine) as session:
            LOAD.execute(session, {"id": 12345})
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", capture)
    assert any(s.startswith("SELECT agreement.id") for s in seen)


def test_on_either_database_it_gives_the_inserted_id_returned_rows_and_counts(db_url: str) -> None:
    """On SQLite directly and on PostgreSQL through SQLAlchemy: an INSERT gives its new id, one
    with RETURNING its rows, an UPDATE its count, a SELECT its rows."""
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        returning = Prepared(
            insert(tables.DISTRICT).returning(tables.DISTRICT.c.code, tables.DISTRICT.c.psa)
        )
        names = Prepared(select(tables.DISTRICT.c.name).order_by(tables.DISTRICT.c.code))
        day, at = date(2020, 1, 1), datetime(2020, 1, 1, tzinfo=UTC)
        with transaction(engine) as session:
            assert returning.execute(session, {"code": "D1", "name": "Lake"}).all() == [
                ("D1", False)
            ]
            first = AUDIT.execute(session, _audit_values("a", day, at, None, 1)).inserted_id
            second = AUDIT.execute(session, _audit_values("b", day, at, None, 2)).inserted_id
            assert second == first + 1
            assert RENAME.execute(session, {"old": "Lake", "new": "Pond"}).rowcount == 1
            assert names.execute(session).scalars() == ["Pond"]
    finally:
        engine.dispose()
