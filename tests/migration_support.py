"""Helpers for the migration tests: the revisions in order, rows written with plain SQL, what a
database holds, and the shape of its schema as both backends can be compared on.

The revisions are read from the Alembic script directory, so a migration added later is walked,
filled and checked by tests/test_migrations.py without anyone listing it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from storage.types import UTCDateTime

Rows = dict[str, list[dict[str, Any]]]


def revisions() -> list[str]:
    """Every revision, from the first to head."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from storage.migrate import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return [script.revision for script in reversed(list(
        ScriptDirectory.from_config(config).walk_revisions()))]  # fmt: skip


def table(name: str, *columns: str, stamps: tuple[str, ...] = ()) -> sa.TableClause:
    """A lightweight table of `columns` (those in `stamps` stored as pal stores moments)."""
    return sa.table(name, *(sa.column(c, UTCDateTime() if c in stamps else None)
                            for c in columns))  # fmt: skip


def _type(value: Any) -> Any:
    if isinstance(value, datetime):
        return UTCDateTime()
    if isinstance(value, date):
        return sa.Date()
    if isinstance(value, bool):
        return sa.Boolean()
    if isinstance(value, dict | list):
        return sa.JSON()
    if isinstance(value, bytes):
        return sa.LargeBinary()
    return None


def put(connection: sa.Connection, name: str, *rows: dict[str, Any]) -> None:
    """Insert `rows` (dicts of column to value, all with the same columns) into table `name`,
    each value bound as the type pal stores it as."""
    columns = [sa.column(key, _type(next((r[key] for r in rows if r[key] is not None), None)))
               for key in rows[0]]
    connection.execute(sa.insert(sa.table(name, *columns)), list(rows))


def primary_key(inspector: sa.Inspector, name: str) -> list[str]:
    return list(inspector.get_pk_constraint(name)["constrained_columns"])


def holdings(engine: sa.Engine) -> Rows:
    """Every row of every table (but Alembic's), as dicts ordered by primary key."""
    found: Rows = {}
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        for name in inspector.get_table_names():
            if name == "alembic_version":
                continue
            order = ", ".join(primary_key(inspector, name))
            result = connection.execute(sa.text(f'SELECT * FROM "{name}" ORDER BY {order}'))
            found[name] = [dict(row._mapping) for row in result]
    return found


def value_of(engine: sa.Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as connection:
        return connection.execute(sa.text(sql), params).scalar()


# --- the shape of a schema ------------------------------------------------------------------------

# Types each backend names its own way for one column type (SQLite reflects what the migration
# wrote; PostgreSQL its own type): the same to pal.
_SAME_TYPE = {"BLOB": "BYTEA", "FLOAT": "DOUBLE PRECISION", "DATETIME": "TIMESTAMP", "TEXT": "TEXT"}


def _type_name(column_type: Any) -> str:
    name = type(column_type).__visit_name__.upper()
    name = {"LARGE_BINARY": "BLOB", "DOUBLE_PRECISION": "DOUBLE PRECISION"}.get(name, name)
    return _SAME_TYPE.get(name, name)


def shape(engine: sa.Engine) -> dict[str, Any]:
    """Tables, columns (type, nullable, default; in any order: a downgrade adds a column back
    at the end), keys, unique constraints and indexes (read for all tables at once)."""
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        columns = inspector.get_multi_columns()
        keys = inspector.get_multi_pk_constraint()
        foreign = inspector.get_multi_foreign_keys()
        unique = inspector.get_multi_unique_constraints()
        indexes = inspector.get_multi_indexes()
    found: dict[str, Any] = {}
    for where in sorted(columns, key=lambda where: where[1]):
        key = list(keys[where]["constrained_columns"])
        found[where[1]] = {
            "columns": sorted((c["name"], _type_name(c["type"]), c["nullable"],
                               c["default"] is not None and c["name"] not in key)
                              for c in columns[where]),
            "primary key": key,
            "foreign keys": sorted(
                (tuple(k["constrained_columns"]), k["referred_table"], tuple(k["referred_columns"]))
                for k in foreign[where]
            ),
            "unique": sorted(tuple(u["column_names"]) for u in unique[where]),
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in indexes[where]
                              if not i.get("duplicates_constraint")),
        }
    return found


def guards(engine: sa.Engine) -> list[str]:
    """The triggers (and, on PostgreSQL, the functions) in the database's schema."""
    if engine.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        sql = (
            "SELECT 'trigger ' || tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace "
            "UNION ALL SELECT 'function ' || proname FROM pg_proc "
            "WHERE pronamespace = current_schema()::regnamespace"
        )
    with engine.connect() as connection:
        return sorted(connection.execute(sa.text(sql)).scalars())
