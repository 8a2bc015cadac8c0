"""`pal backup` and `pal restore` on a real SQLite file: a consistent copy taken while a
writer commits, put back after checking it; refused (one line, documented exit code, nothing
changed) while a real `pal serve` runs, for a damaged or foreign file, or a PostgreSQL URL."""

from __future__ import annotations

import signal
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import Pal, assert_error, execute, ok, snapshot
from test_service import serve, stop, wait_for

from states.context import Context
from storage.db import SCHEMA_HEAD, make_engine, transaction
from workflow.actors import Actor
from workflow.registry import DistrictInput, add_district


@pytest.fixture
def sqlite_only(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("pal backup and restore copy SQLite files (PostgreSQL: pg_dump)")


def districts(url: str) -> set[str]:
    return {code for (code,) in execute(url, "SELECT code FROM district")}


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


class Writer(threading.Thread):
    """Adds districts, one transaction each, through the library, until told to stop."""

    def __init__(self, db_url: str) -> None:
        super().__init__(daemon=True)
        self.db_url = db_url
        self.halt = threading.Event()
        self.written = 0

    def run(self) -> None:
        engine = make_engine(self.db_url)
        ctx = Context(now=datetime.now(UTC))
        try:
            while not self.halt.is_set():
                with transaction(engine) as session:
                    spec = DistrictInput(f"W{self.written:05d}", f"Writer {self.written}")
                    add_district(session, spec, Actor("clerk@mde.example", "clerk"), ctx)
                self.written += 1
        finally:
            engine.dispose()


def test_backups_taken_while_a_writer_commits_are_each_one_consistent_database(
    seeded: Pal, db_url: str, tmp_path: Path, sqlite_only: None
) -> None:
    """Each copy passes SQLite's integrity check, is at this pal's schema, holds a prefix of
    the writer's districts (W00000 ... Wn, none missing), and its audit chains verify."""
    writer = Writer(db_url)
    writer.start()
    copies = []
    try:
        wait_for(lambda: writer.written >= 20, 20, "the writer under way")
        for k in range(5):
            copy = tmp_path / f"copy-{k}.db"
            assert ok(seeded, "backup", copy).startswith(f"backup written: {copy} (")
            copies.append(copy)
            wait_for(lambda n=writer.written: writer.written > n + 5, 20, "more writes")
    finally:
        writer.halt.set()
        writer.join(30)
    counts = []
    for copy in copies:
        with sqlite3.connect(copy) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
            revision = db.execute("SELECT version_num FROM alembic_version").fetchone()
            assert revision == (SCHEMA_HEAD,)
        written = sorted(code for code in districts(url_of(copy)) if code.startswith("W"))
        assert written == [f"W{n:05d}" for n in range(len(written))]
        counts.append(len(written))
        assert "audit log verified" in ok(Pal(url_of(copy)), "audit", "verify")
    assert counts == sorted(counts) and counts[0] >= 20 and counts[-1] <= writer.written
    assert oct(copies[0].stat().st_mode & 0o777) == oct(0o600)


def test_a_backup_into_a_folder_is_named_by_the_local_time_and_an_existing_file_is_kept(
    seeded: Pal, tmp_path: Path, sqlite_only: None
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    said = ok(seeded, "backup", folder)
    [made] = list(folder.iterdir())
    assert made.name.startswith("pal-") and made.suffix == ".db" and str(made) in said

    before = made.read_bytes()
    assert_error(seeded("backup", made), 2, mentions="already exists")
    assert made.read_bytes() == before
    assert_error(seeded("backup", tmp_path / "no" / "such.db"), 2, mentions="no folder")


def test_restore_puts_the_copy_back_and_keeps_the_database_it_replaced(
    seeded: Pal, db_url: str, tmp_path: Path, sqlite_only: None
) -> None:
    copy = tmp_path / "copy.db"
    ok(seeded, "backup", copy)
    before = snapshot(db_url)
    ok(seeded, "district", "add", "LATE1", "--name", "Added After The Backup")

    said = ok(seeded, "restore", copy)

    assert said.startswith(f"restored {db_url.removeprefix('sqlite:///')} from the backup")
    assert snapshot(db_url) == before  # exactly the copy, the later district gone
    [kept] = list(tmp_path.glob("pal.db.before-restore-*"))
    assert "LATE1" in districts(url_of(kept)) and "LATE1" not in districts(db_url)
    assert "audit log verified" in ok(seeded, "audit", "verify")


def test_restore_onto_a_fresh_machine_creates_the_database(
    seeded: Pal, tmp_path: Path, sqlite_only: None
) -> None:
    copy = tmp_path / "copy.db"
    ok(seeded, "backup", copy)
    fresh = Pal(url_of(tmp_path / "new" / "pal.db"))
    (tmp_path / "new").mkdir()
    assert "kept as" not in ok(fresh, "restore", copy)
    assert districts(fresh.db_url) == districts(seeded.db_url)


def test_restore_is_refused_while_a_real_serve_runs_and_changes_nothing(
    seeded: Pal, db_url: str, tmp_path: Path, sqlite_only: None
) -> None:
    copy = tmp_path / "copy.db"
    ok(seeded, "backup", copy)
    ok(seeded, "district", "add", "LATE1", "--name", "Added After The Backup")
    process = serve(db_url, tmp_path, PAL_SWEEP_SECONDS="0.2")
    try:
        wait_for(lambda: execute(db_url, "SELECT count(*) FROM service_instance")[0][0], 20,
                 "a first sweep")  # fmt: skip
        result = seeded("restore", copy)
        assert_error(result, 3, mentions="serve@")
        assert "a service is running on" in result.stderr
        assert "LATE1" in districts(db_url)
        assert list(tmp_path.glob("*.before-restore-*")) == []
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    finally:
        stop(process)
    ok(seeded, "restore", copy)  # stopped cleanly: now it may
    assert "LATE1" not in districts(db_url)


def _damaged(copy: Path) -> Path:
    data = bytearray(copy.read_bytes())
    data[4096:8192] = b"\xa5" * 4096  # the second page: a table's b-tree, overwritten
    damaged = copy.with_name("damaged.db")
    damaged.write_bytes(bytes(data))
    return damaged


def _foreign(folder: Path) -> Path:
    foreign = folder / "other.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE notes (text)")
    return foreign


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_damaged, "is a damaged database"),
        (lambda folder: _foreign(folder.parent), "is not a pal database"),
        (lambda copy: copy.with_name("text.db").write_text("notes\n" * 999) and copy.with_name(
            "text.db"), "is not a SQLite database"),
        (lambda copy: copy.with_name("missing.db"), "is not a file"),
    ],
)  # fmt: skip
def test_a_damaged_foreign_or_missing_file_is_refused_with_one_line_and_nothing_changes(
    seeded: Pal, db_url: str, tmp_path: Path, sqlite_only: None, make: object, says: str
) -> None:
    copy = tmp_path / "copy.db"
    ok(seeded, "backup", copy)
    bad = make(copy)  # type: ignore[operator]
    database = Path(db_url.removeprefix("sqlite:///"))
    before = database.read_bytes()

    assert_error(seeded("restore", bad), 2, mentions=says)

    assert database.read_bytes() == before
    assert list(tmp_path.glob("*.before-restore-*")) == []


def test_a_copy_at_an_unknown_schema_revision_is_refused(
    seeded: Pal, tmp_path: Path, sqlite_only: None
) -> None:
    copy = tmp_path / "copy.db"
    ok(seeded, "backup", copy)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE alembic_version SET version_num = '0999'")
    assert_error(seeded("restore", copy), 2, mentions="schema revision 0999")


def test_on_postgresql_backup_and_restore_name_the_tool_to_use_without_the_password() -> None:
    pal = Pal("postgresql+psycopg://pal:Sekr1t-pw@db.example:5433/partnership")
    backup = pal("backup", "/var/backups/pal.dump")
    assert_error(backup, 2, mentions="pg_dump --format=custom --file=PATH --host=db.example")
    assert "--port=5433 --username=pal partnership" in backup.stderr
    restore = pal("restore", "/var/backups/pal.dump")
    assert_error(restore, 2, mentions="pg_restore --clean --if-exists")
    assert "Sekr1t-pw" not in backup.stderr + restore.stderr


def test_a_current_database_too_damaged_to_read_is_not_restored_over_until_moved_away(
    seeded: Pal, db_url: str, tmp_path: Path, sqlite_only: None
) -> None:
    copy = tmp_path / "copy.db"
    ok(seeded, "backup", copy)
    database = Path(db_url.removeprefix("sqlite:///"))
    database.write_bytes(b"overwritten by accident\n" * 500)

    assert_error(seeded("restore", copy), 2, mentions="move")
    assert database.read_bytes() == b"overwritten by accident\n" * 500

    database.rename(tmp_path / "broken.db")
    ok(seeded, "restore", copy)
    assert "audit log verified" in ok(seeded, "audit", "verify")


def test_the_database_itself_is_no_backup_of_it(
    seeded: Pal, db_url: str, sqlite_only: None
) -> None:
    database = Path(db_url.removeprefix("sqlite:///"))
    before = snapshot(db_url)
    assert_error(seeded("restore", database), 2, mentions="the database itself")
    assert snapshot(db_url) == before


def test_a_file_name_too_long_to_look_up_is_bad_input_for_backup_and_restore(
    seeded: Pal, db_url: str, sqlite_only: None
) -> None:
    """A path the system refuses to look up (ENAMETOOLONG) is one line and exit 2, not an
    internal error, and nothing changes."""
    database = Path(db_url.removeprefix("sqlite:///"))
    before = database.read_bytes()
    too_long = "a" * 300

    assert_error(seeded("backup", too_long), 2, mentions="File name too long")
    assert_error(seeded("restore", too_long), 2, mentions="File name too long")

    assert database.read_bytes() == before
