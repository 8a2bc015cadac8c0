"""Apply the Alembic migrations that ship inside the package (no alembic.ini needed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

from storage.errors import classify

MIGRATIONS = Path(__file__).with_name("migrations")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; running it again changes nothing.

    A database whose schema is newer than this code's is refused (StoreTooNew) and left alone;
    the database's own failures (no folder, not a database, busy, full...) are classified.
    """
    from alembic import command

    from storage.db import SCHEMA_HEAD, schema_version, too_new

    found = schema_version(engine)
    if found is not None and found > SCHEMA_HEAD:
        raise too_new(found)
    _run(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to `revision` (each migration's downgrade; some lose what only the
    newer schema can hold, as their docstrings say)."""
    from alembic import command

    _run(engine, lambda config: command.downgrade(config, revision))


def _run(engine: Engine, step: Callable[[Config], None]) -> None:
    """Run `step` on one connection in one transaction; the database's failures classified."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with (
            engine.connect() as connection,
            _foreign_keys_checked_at_the_end(connection),
            connection.begin(),
        ):
            config.attributes["connection"] = connection
            step(config)
            _check_foreign_keys(connection)
    except DBAPIError as exc:
        classified = classify(exc, engine.url)
        if classified is None:
            raise
        raise classified from exc


@contextmanager
def _foreign_keys_checked_at_the_end(connection: Connection) -> Iterator[None]:
    """On SQLite, foreign keys off while the migrations run (SQLite's procedure for rebuilding
    a table that others refer to; the pragma has no effect inside a transaction)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Connection) -> None:
    """Refuse to commit migrations that left a reference dangling (SQLite did not check)."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration left {len(broken)} broken references: {broken[:5]}")


def head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    found = ScriptDirectory.from_config(config).get_current_head()
    assert found is not None
    return found
