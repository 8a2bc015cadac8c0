"""`pal backup` and `pal restore`: a consistent copy of a SQLite database taken while the
service runs, and one put back after checking it, never while a service runs on it.

PostgreSQL has its own tools: both say which command to run (without the password).
"""

from __future__ import annotations

import os
import shlex
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from config.settings import Settings
from states.errors import BadInput, ServiceRunning, StoreNotReady
from storage import backup as copies
from storage.db import SCHEMA_HEAD, make_engine, schema_version, sqlite_path, transaction
from workflow.health import running


@dataclass(frozen=True)
class Restored:
    database: Path
    revision: str
    set_aside: Path | None  # the database it replaced, kept (None: there was none)
    needs_upgrade: bool  # the copy's schema is older than this pal's: `pal init` brings it up


def backup(settings: Settings, destination: Path, now: datetime) -> copies.Facts:
    """Copy the configured SQLite database to `destination` (a file that does not exist yet,
    or a folder: then `pal-YYYYMMDD-HHMMSS.db` in it, local time)."""
    database = _sqlite_file(settings, "backup")
    _usable(destination)
    if not database.is_file():
        raise BadInput(f"no database at {database}")
    if destination.is_dir():
        destination = destination / f"pal-{now.astimezone(settings.tz):%Y%m%d-%H%M%S}.db"
    if destination.exists():
        raise BadInput(f"{destination} already exists; nothing was written")
    if not destination.parent.is_dir():
        raise BadInput(f"no folder {destination.parent} to write the backup in")
    return copies.copy(database, destination)


def restore(settings: Settings, source: Path, now: datetime) -> Restored:
    """Put the checked copy `source` in place of the configured SQLite database. The database
    it replaces is kept beside it (`NAME.before-restore-YYYYMMDD-HHMMSS`)."""
    database = _sqlite_file(settings, "restore")
    _usable(source)
    if database.exists() and source.exists() and source.samefile(database):
        raise BadInput(f"{source} is the database itself, not a backup of it")
    facts = copies.check(source)
    if facts.revision > SCHEMA_HEAD:
        raise BadInput(f"{source} is at schema revision {facts.revision}, newer than this pal")
    set_aside = None
    if database.exists():
        try:
            _refuse_while_running(database, now)
        except StoreNotReady as exc:  # unreadable: nothing can tell whether a service runs
            raise type(exc)(
                f"{exc}; to restore in its place, stop pal and move {database} away first"
            ) from exc
        stamp = f"{now.astimezone(settings.tz):%Y%m%d-%H%M%S}"
        set_aside = copies.copy(database, database.with_name(f"{database.name}.before-restore-"
                                                             f"{stamp}")).path  # fmt: skip
    copies.put_back(source, database)
    return Restored(database, facts.revision, set_aside, facts.revision < SCHEMA_HEAD)


def _usable(path: Path) -> None:
    """Refuse, as bad input, a path the system cannot even look up (a name too long, say):
    `Path.exists` raises for those rather than answering."""
    try:
        path.exists()
    except OSError as exc:
        name = str(path) if len(str(path)) <= 80 else f"{str(path)[:80]}..."
        raise BadInput(f"{name}: {exc.strerror or exc}") from exc


# The first schema revision that records service instances.
INSTANCES_SINCE = "0013"


def _refuse_while_running(database: Path, now: datetime) -> None:
    from workflow.heartbeat import instances
    from workflow.sole_service import holder

    engine = make_engine(f"sqlite:///{database}")
    try:
        found = schema_version(engine)
        if found is None:
            raise StoreNotReady(f"{database} is not a pal database")
        if found < INSTANCES_SINCE:
            raise StoreNotReady(f"the database schema is at {found}: run `pal init` first")
        with transaction(engine, read_only=True) as session:
            found_running = running(instances(session), now, socket.gethostname(), _alive)
    finally:
        engine.dispose()
    # The lock of a serve too: one that has not swept yet has no row to go by.
    names_found = {instance.name for instance in found_running}
    locked = holder(database)
    if locked is not None:
        names_found.add(locked)
    if names_found:
        names = ", ".join(sorted(names_found))
        raise ServiceRunning(f"a service is running on {database} ({names}): stop it first")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _sqlite_file(settings: Settings, command: str) -> Path:
    path = sqlite_path(settings.database_url)
    if path is not None:
        return path
    if not settings.database_url.startswith("postgres"):
        raise BadInput(f"pal {command} needs a SQLite file database")
    raise BadInput(_postgres_advice(settings.database_url, command))


def _postgres_advice(url: str, command: str) -> str:
    """The PostgreSQL tool to use instead, as a command line without the password (pg_dump
    takes it from ~/.pgpass or PGPASSWORD)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    options = [
        f"--host={parsed.host}" if parsed.host else "",
        f"--port={parsed.port}" if parsed.port else "",
        f"--username={parsed.username}" if parsed.username else "",
    ]
    connection = " ".join(shlex.quote(option) for option in options if option)
    database = shlex.quote(parsed.database or "")
    if command == "backup":
        tool = f"pg_dump --format=custom --file=PATH {connection} {database}"
    else:
        tool = f"pg_restore --clean --if-exists {connection} --dbname={database} PATH"
    return f"pal {command} works on SQLite databases; for PostgreSQL run: {tool}"

