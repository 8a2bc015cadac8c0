"""One `pal serve` per SQLite file: a second one is refused, naming the one that runs.

SQLite is the one-process embedded default: two services on one file would work (the sweep and
delivery are safe beside `pal tick`), but would only queue on its one write lock. The proof that
a service runs is an OS lock (`flock`) on a file beside the database, held for the life of the
process: the kernel lets it go when the process ends however it ends (SIGKILL included), so no
stale lock is ever left. The lock file says who holds it; the instance's row, when it has one,
adds when it last swept. The file stays after the service stops (removing it would let a third
process lock a new file while a second still holds the old one).

PostgreSQL has no such limit: any number of instances cooperate (SKIP LOCKED claims, leases).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from states.errors import ServiceRunning, StoreReadOnly
from storage.db import sqlite_path, transaction
from workflow.health import age_words
from workflow.heartbeat import Identity, instances


def lock_path(database: Path) -> Path:
    """The lock file of the service of `database`: `pal.db-serve.lock` beside `pal.db`."""
    return database.with_name(f"{database.name}-serve.lock")


@contextmanager
def sole_service(engine: Engine, identity: Identity, now: datetime) -> Iterator[None]:
    """Hold the SQLite database's service lock while the block runs; ServiceRunning (exit 3),
    before anything is written, when another process holds it. Nothing to hold on PostgreSQL."""
    database = sqlite_path(str(engine.url))
    if database is None:
        yield
        return
    path = lock_path(database)
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StoreReadOnly(f"cannot create {path}: {exc.strerror or exc}") from exc
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ServiceRunning(_refusal(engine, database, _holder(handle), now)) from None
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{identity.name} {now.isoformat(timespec='seconds')}\n".encode(), 0)
        yield
    finally:
        os.close(handle)  # lets the lock go


def holder(database: Path) -> str | None:
    """The instance holding `database`'s service lock now (`serve@HOST:PID`; `a pal serve` while
    it has not written its name yet), or None when no process holds it."""
    try:
        handle = os.open(lock_path(database), os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder(handle)[0] or "a pal serve"
        return None
    finally:
        os.close(handle)


def _holder(handle: int) -> tuple[str, str]:
    """The holder's instance name and start (ISO time) as its lock file says; empty while the
    holder has not written them yet (it just took the lock)."""
    text = os.pread(handle, 512, 0).decode("utf-8", "replace").split()
    return (text[0], text[1]) if len(text) >= 2 else ("", "")


def _refusal(engine: Engine, database: Path, holder: tuple[str, str], now: datetime) -> str:
    name, since = holder
    who = f"{name}, since {since}" if name else "another process"
    if name:
        with transaction(engine, read_only=True) as session:
            row = next((i for i in instances(session) if i.name == name), None)
        if row is not None and row.last_sweep_at is not None:
            who += f", last swept {age_words(now - row.last_sweep_at)} ago"
    return (
        f"pal serve is already running on {database} ({who}); SQLite takes one service at a "
        "time: stop it first (pal tick and the other commands work beside it)"
    )
