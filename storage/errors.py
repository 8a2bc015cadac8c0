"""Failures of the database itself, classified once into the project's errors (states/errors.py).

`classify(exc, url)` maps a SQLAlchemy or DBAPI error (SQLite or psycopg) to one of: busy
(another writer holds the lock: try again), read-only, full, missing, corrupt, unreachable; the
rest (a bug, a constraint the code should have checked) stays unclassified and is the caller's to
report. `storage.db.transaction` and `check_schema` raise what it returns, and the CLI edge uses it
for anything else that escapes. Every message is one line with no SQL and no password.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from states.errors import (
    BadInput,
    PalError,
    StoreBusy,
    StoreCorrupt,
    StoreFull,
    StoreMissing,
    StoreReadOnly,
    StoreUnavailable,
    StoreUnreachable,
)

# SQLite primary result codes (sqlite3 exceptions carry them as `sqlite_errorcode`).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR = 5, 6, 8, 10
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 13, 14, 26
BUSY = "the database is busy with another writer; nothing was changed, try again"
# Less than this free on the database's filesystem, and an I/O error is a full disk.
_NEARLY_FULL = 256 * 1024

# `scheme://user:password@host`: the password, up to the last `@` before a space or quote.
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s'\"]*:)[^\s'\"]*@")


# `...?password=secret&...`: libpq and psycopg also take the password as a query parameter.
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&\s'\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with the password of every URL in it replaced by `***`."""
    return _QUERY_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", text))


def one_line(text: str) -> str:
    """A message on one line, without the SQL SQLAlchemy appends, and without passwords."""
    first, *rest = [line.strip() for line in str(text).splitlines()] or [""]
    kept = [first]
    for line in rest:
        if line.startswith(("[SQL", "[parameters")):
            break  # the statement, its parameters, and SQLAlchemy's background link
        if line and not line.startswith("("):
            kept.append(line)
    return redact(" ".join(kept).strip() or "unknown error")


def classify(exc: BaseException, url: Any = None) -> PalError | None:
    """The project error for a failure of the database, or None when it is not one of those."""
    if isinstance(exc, PalError):
        return exc
    orig = getattr(exc, "orig", None) or exc
    sqlite_code = getattr(orig, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return _sqlite(int(sqlite_code) & 0xFF, orig, _sqlite_path(url))
    sqlstate = getattr(orig, "sqlstate", None)
    module = type(orig).__module__ or ""
    if module.startswith("psycopg"):
        return _postgres(sqlstate, orig, exc)
    return None


def _sqlite(code: int, orig: BaseException, path: Path | None) -> PalError | None:
    where = str(path) if path is not None else "the database"
    detail = one_line(str(orig))
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return StoreBusy(BUSY)
    if code == _SQLITE_READONLY:
        return StoreReadOnly(f"{where} is read-only; nothing was changed ({detail})")
    # Free space is asked only of a full or I/O error: any other error on a nearly full disk
    # (a constraint, a missing table) is not the disk's fault.
    if code == _SQLITE_FULL or (code == _SQLITE_IOERR and _disk_full(path)):
        return StoreFull(f"the disk holding {where} is full; nothing was changed")
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return StoreCorrupt(f"{where} is not a pal database, or is damaged ({detail})")
    if code == _SQLITE_CANTOPEN:
        if path is not None and path.is_dir():
            return StoreMissing(f"{where} is a folder, not a database file")
        if path is not None and not path.parent.is_dir():
            return StoreMissing(f"cannot open {where}: there is no folder {path.parent}")
        if path is not None and not os.access(path.parent, os.W_OK):
            return StoreReadOnly(
                f"cannot open {where}: its folder {path.parent} is read-only (SQLite writes its "
                "-wal and -shm files beside the database, even to read)"
            )
        return StoreUnavailable(f"cannot open {where} ({detail})")
    if code == _SQLITE_IOERR:
        if path is not None and not os.access(path.parent, os.W_OK):
            return StoreReadOnly(f"{where} is on a read-only filesystem; nothing was changed")
        return StoreUnavailable(f"cannot read or write {where}: {detail}")
    return None


def _disk_full(path: Path | None) -> bool:
    if path is None:
        return False
    try:
        return shutil.disk_usage(path.parent).free < _NEARLY_FULL
    except OSError:
        return False


def _postgres(sqlstate: str | None, orig: BaseException, exc: BaseException) -> PalError | None:
    detail = one_line(str(orig))
    if type(orig).__name__ == "DataError" and "NUL" in detail:  # refused by psycopg itself
        return BadInput("text with a NUL character cannot be stored; nothing was changed")
    if sqlstate in ("55P03", "40001", "40P01"):  # lock_not_available, serialization, deadlock
        return StoreBusy(BUSY)
    if sqlstate == "25006":  # read_only_sql_transaction
        return StoreReadOnly(f"the database accepts no writes; nothing was changed ({detail})")
    if sqlstate == "53100":  # disk_full
        return StoreFull(f"the database server's disk is full; nothing was changed ({detail})")
    if sqlstate == "3D000":  # invalid_catalog_name: no such database
        return StoreMissing(f"no such database: {detail}")
    if sqlstate and sqlstate.startswith(("08", "57P", "28")):  # connection, shutdown, auth
        return StoreUnreachable(f"cannot reach the database: {detail}")
    if sqlstate and sqlstate.startswith(("XX", "58")):  # internal, system (I/O)
        return StoreUnavailable(f"the database server failed: {detail}")
    if sqlstate is None and "does not exist" in detail and "database" in detail:
        return StoreMissing(f"no such database: {detail}")
    if sqlstate is None and type(orig).__name__ in ("OperationalError", "InterfaceError"):
        # No SQLSTATE: libpq never reached a server (refused, timed out, bad host), or lost it.
        return StoreUnreachable(f"cannot reach the database: {detail}")
    return None


def _sqlite_path(url: Any) -> Path | None:
    if url is None:
        return None
    from storage.db import sqlite_path

    return sqlite_path(str(url))
