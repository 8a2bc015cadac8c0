"""The migrations, every one of them, on both databases: an empty database walked from base to
head ends as the models say, with the same schema on SQLite and PostgreSQL at every revision; a
database at each earlier revision, holding data (tests/migration_data.py), reaches head losing
nothing and pal runs on it; and every downgrade goes back to the schema, and the data, it came
from.

The revisions are read from the script directory: one added later is covered without a change
here (give it a fill in migration_data.FILLS if it adds something a row can hold; list a table
it renames in RENAMED, and a column it drops, with a check of where its values went, in CARRIED).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from helpers import Pal, ok
from migration_data import BODIES, FAILED_KEY, QUEUED_KEYS, SENT_KEY, SHOWN, TICK_AT, database_at
from migration_support import Rows, guards, holdings, revisions, shape, value_of
from service_support import use_mail_dir
from sqlmodel import SQLModel

from notifications import bodies
from storage import tables
from storage.db import make_engine
from storage.migrate import downgrade, upgrade

REVISIONS = revisions()
EARLIER = REVISIONS[:-1]

# Where the migrated database and the models differ, on both backends alike, and why that is
# harmless (compared as (operation, table, index or column)):
KNOWN_DIFFERENCES = {
    # Partial and composite unique indexes the migrations keep and the models do not declare:
    # the database enforces them (one active agreement per district; one row per benchmark per
    # version of the terms); pal never creates tables from the models.
    ("remove_index", "agreement", "ux_agreement_active_district"),
    ("remove_index", "benchmark", "ux_benchmark_lineage_amendment"),
    # Server defaults 0005 and 0010 added to fill the rows already there; pal writes every one
    # of these columns itself. `lineage` is optional in the model because a benchmark's first
    # row is written with 0 and then named after its own id.
    ("modify_default", "school", "high_school"),
    ("modify_default", "benchmark", "amendment"),
    ("modify_default", "benchmark", "lineage"),
    ("modify_nullable", "benchmark", "lineage"),
}
# Tables a migration renamed, and columns it dropped after carrying what they held elsewhere
# (checked in `_carried`).
RENAMED = {"contact": "person"}
CARRIED = {"outbox": {"body_text", "body_html"}, "contact": {"role", "district_code"}}


def model_differences(engine: sa.Engine) -> set[tuple[str, str, str]]:
    """Alembic's autogenerate comparison of the database with the models, type and server
    defaults included."""
    assert tables.AMENDMENT is not None  # every table is in the models' metadata
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        found = compare_metadata(context, SQLModel.metadata)
    flat = [op for group in found for op in (group if isinstance(group, list) else [group])]
    return {_named(op) for op in flat}


def _named(op: tuple[Any, ...]) -> tuple[str, str, str]:
    kind = op[0]
    if kind.startswith("modify_"):
        return kind, op[2], op[3]
    if kind.endswith("_index"):
        return kind, op[1].table.name, op[1].name
    if kind.endswith("_column"):
        return kind, op[2], op[3].name
    if kind.endswith("_table"):
        return kind, op[1].name, ""
    return kind, repr(op[1:]), ""


# --- an empty database -------------------------------------------------------------------------


def test_an_empty_database_upgraded_one_revision_at_a_time_ends_as_the_models_say(
    db_url: str,
) -> None:
    engine = make_engine(db_url)
    try:
        for revision in REVISIONS:
            upgrade(engine, revision)
            assert value_of(engine, "SELECT version_num FROM alembic_version") == revision
        assert model_differences(engine) == KNOWN_DIFFERENCES
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.slow
def test_every_revision_leaves_the_same_schema_on_sqlite_and_postgresql(
    postgres_url: str, tmp_path: Path
) -> None:
    """Tables, columns (type, nullable, default), keys, unique constraints and indexes."""
    engines = [make_engine(f"sqlite:///{tmp_path}/pal.db"), make_engine(postgres_url)]
    try:
        for revision in REVISIONS:
            for engine in engines:
                upgrade(engine, revision)
            assert shape(engines[0]) == shape(engines[1]), revision
    finally:
        for engine in engines:
            engine.dispose()


@pytest.mark.slow
def test_each_downgrade_of_an_empty_database_gives_back_the_schema_before_it(db_url: str) -> None:
    """Head down to base, one revision at a time, passes through each revision's schema (its
    triggers and functions too); base is empty and head is reached again."""
    engine = make_engine(db_url)
    try:
        shapes = {}
        for revision in REVISIONS:
            upgrade(engine, revision)
            shapes[revision] = shape(engine), guards(engine)
        for revision in reversed(EARLIER):
            downgrade(engine, revision)
            assert (shape(engine), guards(engine)) == shapes[revision], revision
        downgrade(engine, "base")
        assert set(shape(engine)) <= {"alembic_version"} and guards(engine) == []
        upgrade(engine)
        assert (shape(engine), guards(engine)) == shapes[REVISIONS[-1]]
    finally:
        engine.dispose()


# --- a database holding data -------------------------------------------------------------------


@pytest.fixture(params=EARLIER)
def filled(request: pytest.FixtureRequest, db_url: str) -> Iterator[tuple[str, sa.Engine]]:
    """A database at an earlier revision holding every fill up to it."""
    revision = str(request.param)
    engine = database_at(db_url, revision)
    try:
        yield revision, engine
    finally:
        engine.dispose()


def test_a_database_at_each_earlier_revision_reaches_head_losing_nothing_and_pal_runs_on_it(
    filled: tuple[str, sa.Engine], db_url: str, tmp_path: Path
) -> None:
    """Up to head nothing is lost; down again every row is as it was; up once more, pal runs on
    it (one database built per revision and backend serves all three)."""
    revision, engine = filled
    before = holdings(engine)

    upgrade(engine)
    _kept(before, holdings(engine))
    _carried(engine, before)
    downgrade(engine, revision)
    assert holdings(engine) == before
    upgrade(engine)

    _runs(engine, Pal(db_url), tmp_path / "mail", holds_mail=bool(before.get("outbox")))


def _kept(before: Rows, after: Rows) -> None:
    """Every row is still there with every value it held (by primary key), but for the columns a
    migration moved (see `_carried`)."""
    for name, rows in before.items():
        now = after[RENAMED.get(name, name)]
        assert len(now) == len(rows), name
        for old, new in zip(rows, now, strict=True):
            assert set(old) - set(new) <= CARRIED.get(name, set()), name
            assert {k: v for k, v in old.items() if k in new} == {
                k: new[k] for k in old if k in new
            }, name


def _carried(engine: sa.Engine, before: Rows) -> None:
    """The outbox's bodies read back as written (0006); each contact holds its role (0008)."""
    outbox = before.get("outbox", [])
    if outbox and "body_text" in outbox[0]:
        with engine.connect() as connection:
            found = bodies.read(connection, [row["id"] for row in outbox])
        assert [(m.text, m.html) for m in found.values()] == [
            BODIES[row["idempotency_key"]] for row in outbox
        ]
    if "contact" in before:
        with engine.connect() as connection:
            held = set(connection.execute(sa.text("SELECT email, role, district_code "
                                                  "FROM assignment")).all())  # fmt: skip
        assert {(c["email"], c["role"], c["district_code"]) for c in before["contact"]} <= held


def _runs(engine: sa.Engine, pal: Pal, mail_dir: Path, *, holds_mail: bool) -> None:
    """The audit log verifies and still refuses changes, an old agreement is shown, and a tick
    fires the timer due and sends what was queued (once: what was sent or failed stays so)."""
    use_mail_dir(pal, mail_dir)
    ok(pal, "audit", "verify")
    shown = json.loads(ok(pal, "agreement", "show", SHOWN, "--json"))
    assert (shown["state"], shown["signed_on"]) == ("signed", "2018-05-01")
    ok(pal, "tick", "--now", TICK_AT)

    with pytest.raises(sa.exc.DBAPIError), engine.begin() as connection:
        connection.execute(sa.text("UPDATE audit SET note = 'changed'"))
    if not holds_mail:
        return
    status = dict(_rows(engine, "SELECT idempotency_key, status FROM outbox"))
    assert [status[key] for key in (*QUEUED_KEYS, SENT_KEY, FAILED_KEY)] == [
        "sent", "sent", "sent", "failed"
    ]
    assert value_of(engine, "SELECT attempts FROM outbox WHERE idempotency_key = :k",
                    k=SENT_KEY) == 1  # fmt: skip
    assert value_of(engine, "SELECT status FROM timer WHERE offset_days = -14") == "done"
    sent = b"".join(path.read_bytes() for path in mail_dir.rglob("*") if path.is_file())
    assert b"<m1@mde.example>" in sent and b"<m0@mde.example>" not in sent


def _rows(engine: sa.Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql))]
