"""Apply the Alembic migrations that ship inside the package (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from storage.errors import classify

MIGRATIONS = Path(__file__).with_name("migrations")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; running it again changes nothing.

    A database whose schema is newer than this code's is refused (StoreTooNew) and left alone;
    the database's own failures (no folder, not a database, busy, full...) are classified.
    """
    from alembic import command
    from alembic.config import Config

    from storage.db import SCHEMA_HEAD, schema_version, too_new

    found = schema_version(engine)
    if found is not None and found > SCHEMA_HEAD:
        raise too_new(found)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except DBAPIError as exc:
        classified = classify(exc, engine.url)
        if classified is None:
            raise
        raise classified from exc


def head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    found = ScriptDirectory.from_config(config).get_current_head()
    assert found is not None
    return found
