"""Engines and transactions with the durability and locking pal relies on.

SQLite: WAL with synchronous=FULL (a committed change survives power loss), foreign keys on, a
busy timeout, and write transactions opened with BEGIN IMMEDIATE so that two writers queue
instead of one failing at commit. PostgreSQL needs none of this; the same code runs on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DatabaseError, OperationalError, ProgrammingError
from sqlmodel import Session

from states.errors import BadInput, ConcurrentModification, StoreNotReady

# The newest migration's revision; revisions are numbered like their files (`0004_*.py`).
SCHEMA_HEAD = max(
    path.name[:4] for path in (Path(__file__).parent / "migrations" / "versions").glob("0*.py")
)
BUSY_TIMEOUT_MS = 30_000
_READ_ONLY = "pal_read_only"


def sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    return None if path in ("", ":memory:") else Path(path.split("?", 1)[0])


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    if url.startswith(("postgresql", "postgres")):
        if url.startswith(("postgres://", "postgresql://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return create_engine(url, pool_pre_ping=True, **kwargs)
    raise BadInput(f"unsupported database URL {url!r} (sqlite:///FILE or postgresql+psycopg://...)")


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, **kwargs)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to the "begin" hook below instead of pysqlite's implicit BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",
            "foreign_keys=ON",
            f"busy_timeout={BUSY_TIMEOUT_MS}",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")

    return engine


@contextmanager
def transaction(engine: Engine, *, read_only: bool = False) -> Iterator[Session]:
    """One unit of work: everything inside commits together, or nothing does."""
    bind = engine.execution_options(**{_READ_ONLY: True}) if read_only else engine
    try:
        with Session(bind, expire_on_commit=False) as session, session.begin():
            yield session
    except OperationalError as exc:
        if "locked" in str(exc.orig) or "busy" in str(exc.orig):
            raise ConcurrentModification("the database is busy with another writer") from exc
        raise


def check_schema(engine: Engine) -> None:
    """Refuse to work on a database that `pal init` has not brought to this code's schema."""
    path = sqlite_path(str(engine.url))
    if path is not None and not path.exists():
        raise StoreNotReady(f"no database at {path}; run `pal init` first")
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError) as exc:
        if path is None and "alembic_version" not in str(exc.orig):
            raise StoreNotReady(f"cannot open the database: {str(exc.orig).strip()}") from exc
        raise StoreNotReady("the database has no pal schema; run `pal init` first") from exc
    except DatabaseError as exc:  # e.g. a file that is not a database at all
        raise StoreNotReady(f"cannot open the database: {str(exc.orig).strip()}") from exc
    if found != SCHEMA_HEAD:
        raise StoreNotReady(
            f"the database schema is at {found}, this pal needs {SCHEMA_HEAD}; run `pal init`"
        )
