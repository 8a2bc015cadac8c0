"""Copies of a SQLite database file, taken and put back with SQLite's online backup API
(`sqlite3.Connection.backup`): a consistent snapshot while other processes write, never a
half-written file.

A copy is taken in one step: the source is read inside one read transaction, which in WAL
mode never blocks a writer (and a writer never blocks it), so the copy is the database as of
one commit. It is written to a temporary file beside the destination, checked, switched to a
rollback journal (a single self-contained file), and only then renamed into place.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from states.errors import BadInput
from storage.files import flush_to_disk

# How long a copy waits for a writer's lock (restore) or a checkpoint (backup).
BUSY_TIMEOUT_S = 30.0
# Tables a pal database has whatever its revision (migration 0001 made them).
PAL_TABLES = frozenset({"alembic_version", "agreement", "audit", "deadline"})


@dataclass(frozen=True)
class Facts:
    """What a checked copy is: its schema revision and size."""

    path: Path
    revision: str
    size: int


def known_revisions() -> frozenset[str]:
    """Every schema revision this pal has a migration for (`0001` ... its head)."""
    versions = Path(__file__).parent / "migrations" / "versions"
    return frozenset(path.name[:4] for path in versions.glob("0*.py"))


def copy(source: Path, destination: Path) -> Facts:
    """A consistent copy of the database `source` at `destination` (which must not exist)."""
    temporary = destination.with_name(f".{destination.name}.partial")
    temporary.unlink(missing_ok=True)
    try:
        # A copy holds what the database holds (people, their email addresses): its owner's.
        temporary.touch(mode=0o600)
        with (
            closing(_connect(_uri(source, "mode=ro"))) as reading,
            closing(_connect(str(temporary))) as writing,
        ):
            reading.backup(writing)
            writing.execute("PRAGMA journal_mode=DELETE")
        flush_to_disk(temporary)
        facts = check(temporary)
        if destination.exists():  # made meanwhile by someone else: theirs stays
            raise BadInput(f"{destination} already exists; nothing was written")
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)
    flush_to_disk(destination.parent)
    return Facts(destination, facts.revision, facts.size)


def check(path: Path) -> Facts:
    """`path` is an undamaged pal database at a schema revision this pal knows; else BadInput
    saying which of those it is not."""
    if not path.is_file():
        raise BadInput(f"{path} is not a file")
    try:
        # immutable: a copy nobody writes; reading it creates no journal beside it.
        with closing(_connect(_uri(path, "mode=ro&immutable=1"))) as db:
            verdict = [row[0] for row in db.execute("PRAGMA integrity_check(5)")]
            if verdict != ["ok"]:
                raise BadInput(f"{path} is a damaged database: {verdict[0]}")
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            if not tables >= PAL_TABLES:
                raise BadInput(f"{path} is not a pal database (it has no pal schema)")
            revision = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_CORRUPT:
            raise BadInput(f"{path} is a damaged database: {exc}") from exc
        raise BadInput(f"{path} is not a SQLite database ({exc})") from exc
    if revision is None or revision[0] not in known_revisions():
        found = revision[0] if revision else "none"
        raise BadInput(f"{path} is at schema revision {found}, which this pal does not know")
    return Facts(path, str(revision[0]), path.stat().st_size)


def put_back(copy_path: Path, database: Path) -> None:
    """Write the checked copy over `database`, page by page, through SQLite (so a reader sees
    the old database or the new one, never a mixture); the database keeps its journal mode."""
    with (
        closing(_connect(_uri(copy_path, "mode=ro&immutable=1"))) as reading,
        closing(_connect(str(database))) as writing,
    ):
        reading.backup(writing)
    flush_to_disk(database)


def _uri(path: Path, query: str) -> str:
    from urllib.parse import quote

    return f"file:{quote(str(path.absolute()))}?{query}"


def _connect(target: str) -> sqlite3.Connection:
    return sqlite3.connect(
        target, uri=target.startswith("file:"), timeout=BUSY_TIMEOUT_S, isolation_level=None
    )
