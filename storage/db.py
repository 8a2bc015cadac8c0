"""Engines and transactions with the durability and locking pal relies on.

SQLite: WAL with synchronous=FULL (a committed change survives power loss), foreign keys on, a
busy timeout, and write transactions opened with BEGIN IMMEDIATE so that two writers queue
instead of one failing at commit. PostgreSQL needs none of this; the same code runs on both.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SAWarning
from sqlmodel import Session

from states.errors import BadInput, StoreGone, StoreNotReady, StoreTooNew
from storage.errors import classify, redact

# The newest migration's revision; revisions are numbered like their files (`0004_*.py`).
SCHEMA_HEAD = max(
    path.name[:4] for path in (Path(__file__).parent / "migrations" / "versions").glob("0*.py")
)
# How long a write waits for another writer's lock before it is refused as busy (exit 5); read
# when an engine is made. Reads never wait: under WAL (SQLite) and MVCC (PostgreSQL) they see the
# last committed state while a writer works.
BUSY_TIMEOUT_MS = 30_000
# How long connecting to a PostgreSQL server may take before it is called unreachable.
CONNECT_TIMEOUT_S = 10
# PostgreSQL keeps at most this many bytes of a connection's application_name (NAMEDATALEN - 1).
_APPLICATION_NAME_MAX = 63
_READ_ONLY = "pal_read_only"
# A SQLite database file's path, and its identity (device, inode) when this engine first opened
# it. The path is kept with it so that the check before every transaction is one stat.
_IDENTITY: weakref.WeakKeyDictionary[Engine, tuple[Path, int, int]] = weakref.WeakKeyDictionary()


def sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    return None if path in ("", ":memory:") else Path(path.split("?", 1)[0])


def make_engine(url: str, *, name: str | None = None, **kwargs: Any) -> Engine:
    """An engine for `url`. On PostgreSQL its connections carry `name` as their
    application_name (default `pal@HOST:PID`; one in the URL wins), so that an operator, or a
    test, finds this process's connections in `pg_stat_activity`."""
    try:
        # A URL argument the driver would ignore (SQLAlchemy warns) is a mistake: refused.
        with warnings.catch_warnings():
            warnings.simplefilter("error", SAWarning)
            if url.startswith("sqlite"):
                return _sqlite_engine(url, **kwargs)
            if url.startswith(("postgresql", "postgres")):
                if url.startswith(("postgres://", "postgresql://")):
                    url = "postgresql+psycopg://" + url.split("://", 1)[1]
                return _postgres_engine(url, name, **kwargs)
    except SAWarning as exc:
        reason = str(exc).split(";")[0].split(" (Background")[0]
        raise BadInput(f"bad database URL {redact(url)!r}: {reason}") from exc
    except (ArgumentError, ValueError) as exc:
        raise BadInput(f"bad database URL {redact(url)!r}") from exc
    raise BadInput(
        f"unsupported database URL {redact(url)!r} (sqlite:///FILE or postgresql+psycopg://...)"
    )


def _postgres_engine(url: str, name: str | None, **kwargs: Any) -> Engine:
    query = make_url(url).query
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    if "application_name" not in query:
        default = f"pal@{socket.gethostname()}:{os.getpid()}"
        connect_args["application_name"] = (name or default)[:_APPLICATION_NAME_MAX]
    # pool_pre_ping: a pooled connection the server dropped (restarted, backend terminated) is
    # replaced when taken from the pool, instead of failing the transaction that took it.
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # A write waiting for a row or table lock gives up like SQLite's busy timeout (55P03).
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {int(BUSY_TIMEOUT_MS)}")
        dbapi_connection.commit()

    return engine


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    busy_ms = int(BUSY_TIMEOUT_MS)
    engine = create_engine(url, connect_args={"timeout": busy_ms / 1000}, **kwargs)
    path = sqlite_path(url)

    @event.listens_for(engine, "do_connect")
    def _still_there(*_: Any) -> None:
        # Connecting to a path whose file was deleted would create a new, empty one.
        check_alive(engine)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to the "begin" hook below instead of pysqlite's implicit BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",
            "foreign_keys=ON",
            f"busy_timeout={busy_ms}",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
        if path is not None and engine not in _IDENTITY:
            try:
                found = path.stat()
            except OSError:
                return
            _IDENTITY[engine] = (path, found.st_dev, found.st_ino)

    @event.listens_for(engine, "engine_disposed")
    def _disposed(disposed: Engine) -> None:
        _let_go(disposed)

    _HOLDABLE.add(engine)

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        statement = "BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE"
        # On the driver itself: SQLAlchemy's execution machinery would cost more than the BEGIN
        # at every transaction. A failure is raised as SQLAlchemy raises it (busy: exit 5).
        try:
            connection.connection.driver_connection.execute(statement)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(
                statement, (), exc, sqlite3.Error, dialect=connection.dialect
            ) from exc

    return engine


def check_alive(engine: Engine) -> None:
    """Raise StoreGone when the SQLite file this engine opened was deleted or replaced since.

    Cheap (one stat): `transaction` calls it before every unit of work, and a long-running
    service should call it each pass and stop on StoreGone rather than write to an unlinked file.
    On PostgreSQL, and before the engine first connected, there is nothing to check.
    """
    known = _IDENTITY.get(engine)
    if known is None:
        return
    path, device, inode = known
    try:
        found = path.stat()
    except FileNotFoundError:
        raise StoreGone(
            f"the database file {path} was deleted while pal was running; stopping, nothing "
            "more is written (restore it, or run `pal init` for a new one)"
        ) from None
    except OSError:
        return  # unreadable now (permissions, I/O): the operation itself will say so
    if found.st_dev != device or found.st_ino != inode:
        raise StoreGone(
            f"the database file {path} was replaced while pal was running; stopping (start pal "
            "again to use the new file)"
        )


def ping(engine: Engine) -> None:
    """One round trip to the database; its failure raised as `classify` gives it (a server out
    of reach: StoreUnreachable). A long-running service asks this while it waits for one."""
    with transaction(engine, read_only=True) as session:
        session.execute(text("SELECT 1"))


@contextmanager
def transaction(engine: Engine, *, read_only: bool = False) -> Iterator[Session]:
    """One unit of work: everything inside commits together, or nothing does.

    A failure of the database itself is raised as the project error `storage.errors.classify`
    gives it (busy: StoreBusy, exit 5; read-only, full, unreachable: StoreUnavailable, exit 6...).
    """
    check_alive(engine)
    try:
        held = _held(engine, read_only)
        if held is None:
            bind = engine.execution_options(**{_READ_ONLY: True}) if read_only else engine
            with Session(bind, expire_on_commit=False) as session, session.begin():
                yield session
        else:
            with held.connection.begin():
                session = held.session
                try:
                    yield session
                    session.flush()
                except BaseException:
                    # Objects the session holds end as SQLAlchemy's own rollback leaves them
                    # (added ones transient again, loaded ones expired), as on the pooled path.
                    if _used(session):
                        session.rollback()
                    raise
                finally:
                    # Leaves the connection's transaction to the `with`; a session that was
                    # never used (the engine's statements go to the driver) has nothing to end.
                    if _used(session):
                        session.close()
    except DBAPIError as exc:
        classified = classify(exc, engine.url)
        if classified is None:
            raise
        raise classified from exc


def _used(session: Session) -> bool:
    """Whether a held session holds anything: a transaction of its own, or ORM objects."""
    return bool(session.in_transaction() or session.identity_map or session.new)


class _Held:
    """A connection to a SQLite database that the main thread keeps between its transactions,
    with a session bound to it: taking a connection from the pool and making a session for each
    transaction cost more than a small transaction's own work."""

    __slots__ = ("connection", "disposals", "engine", "session")

    def __init__(self, engine: Engine, read_only: bool) -> None:
        bind = engine.execution_options(**{_READ_ONLY: True}) if read_only else engine
        self.engine = engine
        self.disposals = _DISPOSALS.get(engine, 0)
        self.connection = bind.connect()
        # The session joins each transaction of the connection and never ends one itself.
        self.session = Session(
            bind=self.connection, expire_on_commit=False, join_transaction_mode="rollback_only"
        )

    def close(self) -> None:
        """Close the connection itself, not back into a pool that may be disposed of already: the
        last connection to a database to close checkpoints its WAL into the file."""
        self.session.close()
        fairy = self.connection.connection
        driver = fairy.dbapi_connection
        fairy.detach()
        self.connection.close()
        if driver is not None:
            driver.close()


_LOCAL = threading.local()
# The SQLite engines `make_engine` made: they let their held connections go when disposed of.
_HOLDABLE: weakref.WeakSet[Engine] = weakref.WeakSet()
# How many times each engine was disposed of: a held connection made before is let go.
_DISPOSALS: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()
# The databases a thread keeps a connection to (the most recently used ones): a process works on
# one, and tests on many, whose connections must not pile up.
_HELD_PER_THREAD = 4


def _let_go(engine: Engine) -> None:
    """Close the held connections to `engine`, disposed of: its owner lets its connections go
    (the last one to close checkpoints the WAL into the file, which may be copied or replaced
    next). Only the main thread holds any; disposed of from another thread, they are closed at
    their next use."""
    _DISPOSALS[engine] = _DISPOSALS.get(engine, 0) + 1
    held_here: OrderedDict[tuple[int, bool], _Held] | None = getattr(_LOCAL, "held", None)
    for key in [key for key, held in (held_here or {}).items() if held.engine is engine]:
        assert held_here is not None
        held_here.pop(key).close()


def _held(engine: Engine, read_only: bool) -> _Held | None:
    """This thread's held connection to `engine`'s SQLite file, or None to take one from the
    pool: on PostgreSQL, for an in-memory database, or while the held one is in a transaction
    already (a transaction opened inside another)."""
    if engine not in _HOLDABLE or engine.url.database in (None, "", ":memory:"):
        return None  # PostgreSQL, an in-memory database, or an engine not made by make_engine
    if threading.current_thread() is not threading.main_thread():
        # Worker threads (the service's jobs, delivery's `to_thread`) take pooled connections:
        # disposing of the engine could not close theirs, and the WAL would stay open.
        return None
    held_here: OrderedDict[tuple[int, bool], _Held] | None = getattr(_LOCAL, "held", None)
    if held_here is None:
        held_here = _LOCAL.held = OrderedDict()
    key = (id(engine), read_only)
    held = held_here.get(key)
    if held is not None and (
        held.engine is not engine
        or held.disposals != _DISPOSALS.get(engine, 0)
        or held.connection.invalidated
    ):
        # An engine since collected whose id was reused; one disposed of since (its owner let
        # its connections go: the file may be replaced next); or a broken connection.
        held_here.pop(key).close()
        held = None
    if held is None:
        held = held_here[key] = _Held(engine, read_only)
        # The least recently used go first; never one in a transaction (one opened around this).
        idle = [k for k, h in held_here.items() if k != key and not h.connection.in_transaction()]
        for old in idle[: max(0, len(held_here) - _HELD_PER_THREAD)]:
            held_here.pop(old).close()
    held_here.move_to_end(key)
    return None if held.connection.in_transaction() else held


def check_schema(engine: Engine) -> None:
    """Refuse to work on a database that `pal init` has not brought to this code's schema."""
    path = sqlite_path(str(engine.url))
    if path is not None and not path.exists():
        raise StoreNotReady(f"no database at {path}; run `pal init` first")
    found = schema_version(engine)
    if found is None:
        raise StoreNotReady("the database has no pal schema; run `pal init` first")
    if found > SCHEMA_HEAD:
        raise too_new(found)
    if found != SCHEMA_HEAD:
        raise StoreNotReady(
            f"the database schema is at {found}, this pal needs {SCHEMA_HEAD}; run `pal init`"
        )


def too_new(found: str) -> StoreTooNew:
    return StoreTooNew(
        f"the database schema is at {found}, newer than this pal knows ({SCHEMA_HEAD}): a newer "
        "pal wrote it; use that version"
    )


def schema_version(engine: Engine) -> str | None:
    """The database's schema revision, or None when it has no pal schema (never written to).

    Read in a read-only transaction: it never waits for a writer.
    """
    bind = engine.execution_options(**{_READ_ONLY: True})
    try:
        with bind.connect() as connection:
            # PostgreSQL: look before reading, so that no statement fails (an error would abort
            # the transaction, and a failing statement is noise in the server's log).
            if connection.dialect.name != "sqlite" and not _has_version_table(connection):
                return None
            found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError as exc:
        if _no_such_table(exc):
            return None
        classified = classify(exc, engine.url)
        if classified is None:
            raise
        raise classified from exc
    return None if found is None else str(found)


def _no_such_table(exc: DBAPIError) -> bool:
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "42P01":  # PostgreSQL: undefined_table
        return True
    return getattr(orig, "sqlite_errorcode", None) == 1 and "no such table" in str(orig)


def _has_version_table(connection: Any) -> bool:
    from sqlalchemy import inspect

    return bool(inspect(connection).has_table("alembic_version"))
