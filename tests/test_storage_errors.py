"""Failures of the database itself: each classified once (storage.errors) into one `error:` line
with its exit code (5 busy, 6 unavailable, 2 a database that is not pal's), never SQL, a
traceback or a password; reads that never wait for a writer; a file deleted under a running pal.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import POSTGRES_URL
from helpers import (
    DIRECTOR,
    LIAISON,
    PSA,
    STATUS_EXITS,
    TRAD,
    Pal,
    assert_error,
    engine_for,
    execute,
    identify,
    ok,
    refused,
    reported,
    snapshot,
)

import storage.db
from states.errors import StoreBusy, StoreGone
from storage.db import SCHEMA_HEAD, check_alive, make_engine, transaction

# --- a held write lock ----------------------------------------------------------------------------


@contextmanager
def _held(pal: Pal) -> Iterator[None]:
    """Another connection's write transaction, open (and holding the write lock) inside."""
    if pal.db_url.startswith("sqlite"):
        held = sqlite3.connect(pal.db_url.removeprefix("sqlite:///"), isolation_level=None)
        held.execute("BEGIN IMMEDIATE")
        held.execute("INSERT INTO district (code, name, psa) VALUES ('LOCKER', 'x', 0)")
        try:
            yield
        finally:
            held.execute("ROLLBACK")
            held.close()
    else:
        engine = engine_for(pal.db_url)
        connection = engine.connect()
        try:
            connection.execute(sa.text("LOCK TABLE agreement, district IN EXCLUSIVE MODE"))
            yield
        finally:
            connection.rollback()
            connection.close()
            engine.dispose()


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes give up on a held lock after 0.3 s instead of 30 s (the setting, not a mock)."""
    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT_MS", 300)


def test_reads_do_not_wait_for_a_writer(seeded: Pal, short_busy_timeout: None) -> None:
    """While another writer holds the lock, show, list, deadlines and status answer at once."""
    agreement = identify(seeded)
    with _held(seeded):
        started = time.monotonic()
        for args in (("agreement", "show", agreement), ("agreement", "list"), ("deadlines",),
                     ("status",), ("district", "list")):  # fmt: skip
            (reported if args == ("status",) else ok)(seeded, *args)
        assert time.monotonic() - started < 5


def test_a_write_that_cannot_get_the_lock_is_busy(
    seeded: Pal, db_url: str, short_busy_timeout: None
) -> None:
    """A write that waits out the busy timeout exits 5, "busy ... try again", changing nothing."""
    agreement = identify(seeded)
    before = snapshot(db_url)
    with _held(seeded):
        for args in (
            ("agreement", "fire", agreement, "start_assessment", "--set", f"liaison={LIAISON}",
             "--by", LIAISON),
            ("district", "add", "NEW1", "--name", "New"),
            ("agreement", "identify", PSA, "--by", DIRECTOR),
        ):  # fmt: skip
            result = seeded(*args)
            assert_error(result, 5, mentions="busy")
            assert "no pal schema" not in result.stderr
    assert snapshot(db_url) == before


def test_a_busy_transaction_raises_store_busy(
    seeded: Pal, db_url: str, short_busy_timeout: None
) -> None:
    """storage.db.transaction turns a lock it cannot get into StoreBusy (exit 5)."""
    engine = make_engine(db_url)
    try:
        with _held(seeded), pytest.raises(StoreBusy) as raised, transaction(engine) as session:
            session.execute(sa.text("UPDATE district SET name = name"))
        assert raised.value.exit_code == 5
    finally:
        engine.dispose()


# --- tmpfs: a read-only filesystem and a full disk ------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs of its own (skips where this container may not mount one)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}): needs CAP_SYS_ADMIN")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _seeded_copy(template: Path, folder: Path) -> Pal:
    shutil.copyfile(template, folder / "pal.db")
    return Pal(f"sqlite:///{folder}/pal.db")


def test_a_read_only_filesystem_gives_a_true_message(
    small_disk: Path, sqlite_template: Path
) -> None:
    """Read-only filesystem: reads work or say so; writes exit 6 "read-only", not "no schema"."""
    pal = _seeded_copy(sqlite_template, small_disk)
    agreement = identify(pal)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    for args in (("agreement", "show", agreement), ("status",), ("district", "list")):
        result = pal(*args)
        assert "no pal schema" not in result.stderr
        if result.exit_code not in (STATUS_EXITS if args == ("status",) else (0,)):
            assert_error(result, 6, mentions="read-only")
    for args in (("district", "add", "NEW1", "--name", "New"),
                 ("agreement", "identify", TRAD, "--by", DIRECTOR), ("init",)):  # fmt: skip
        result = pal(*args)
        assert_error(result, 6, mentions="read-only")


def test_a_read_only_postgresql_gives_a_true_message(seeded: Pal, backend: str) -> None:
    """A PostgreSQL session that accepts no writes: reads work, writes exit 6 "no writes"."""
    if backend != "postgres":
        pytest.skip("PostgreSQL's read-only transactions; SQLite's are the tmpfs test above")
    read_only = Pal(seeded.db_url + "%20-cdefault_transaction_read_only%3Don")
    agreement = identify(seeded)
    before = snapshot(seeded.db_url)
    ok(read_only, "agreement", "show", agreement)
    reported(read_only, "status")
    for args in (("district", "add", "NEW1", "--name", "New"),
                 ("agreement", "identify", PSA, "--by", DIRECTOR)):  # fmt: skip
        assert_error(read_only(*args), 6, mentions="accepts no writes")
    assert snapshot(seeded.db_url) == before


def test_a_full_disk_exits_6_and_changes_nothing(
    small_disk: Path, sqlite_template: Path, tmp_path: Path
) -> None:
    """With the database's disk full, a write exits 6 "full" and the database is as it was."""
    pal = _seeded_copy(sqlite_template, small_disk)
    identify(pal)
    before = snapshot(pal.db_url)
    filler = small_disk / "filler"
    # Unbuffered: a buffered file would raise ENOSPC again on close, for the bytes it still
    # held, depending on how the database's size left the last chunk.
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError:
            pass
    rows = "\n".join(f"F{n},{'Long name ' * 300},Wayne RESA,," for n in range(200))
    csv = tmp_path / "districts.csv"
    csv.write_text(f"code,name,isd,psa,authorizer\n{rows}\n")
    for args in (("district", "import", csv), ("agreement", "identify", TRAD, "--by", DIRECTOR)):
        result = pal(*args)
        assert_error(result, 6, mentions="full")
    filler.unlink()
    assert snapshot(pal.db_url) == before


def test_a_nearly_full_disk_does_not_turn_other_errors_into_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a nearly full disk a refused duplicate is not "the disk is full" (the free-space
    probe is asked only of a full or I/O error)."""
    from collections import namedtuple

    import storage.errors
    from storage.errors import classify

    url = f"sqlite:///{tmp_path}/x.db"
    store = make_engine(url)
    try:
        with store.begin() as connection:
            connection.execute(sa.text("CREATE TABLE t (k TEXT PRIMARY KEY)"))
            connection.execute(sa.text("INSERT INTO t VALUES ('a')"))
        with pytest.raises(sa.exc.IntegrityError) as raised, store.begin() as connection:
            connection.execute(sa.text("INSERT INTO t VALUES ('a')"))
    finally:
        store.dispose()
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(storage.errors.shutil, "disk_usage", lambda _: usage(10**6, 10**6, 1000))
    assert classify(raised.value, url) is None


# --- a database deleted under a running pal -------------------------------------------------------


def _opened(path: Path) -> sa.Engine:
    """An engine on a new pal database at `path` that has read from it once (so it knows the
    file it opened)."""
    assert Pal(f"sqlite:///{path}")("init").exit_code == 0
    engine = make_engine(f"sqlite:///{path}")
    with transaction(engine, read_only=True) as session:
        session.execute(sa.text("SELECT count(*) FROM agreement"))
    return engine


def test_a_deleted_database_file_is_detected_and_not_recreated(tmp_path: Path) -> None:
    """check_alive and every transaction raise StoreGone once the file is deleted; none is made."""
    path = tmp_path / "pal.db"
    engine = _opened(path)
    try:
        check_alive(engine)
        for name in os.listdir(tmp_path):
            os.unlink(tmp_path / name)
        with pytest.raises(StoreGone, match="deleted"):
            check_alive(engine)
        with pytest.raises(StoreGone) as raised, transaction(engine) as session:
            session.execute(sa.text("INSERT INTO district (code, name, psa) VALUES ('X', 'X', 0)"))
        assert raised.value.exit_code == 6
        engine.pool.dispose()  # new connections must not create a fresh, empty file either
        with pytest.raises(StoreGone), engine.connect():
            pass
        assert not path.exists()
    finally:
        engine.dispose()


def test_a_replaced_database_file_is_detected(tmp_path: Path) -> None:
    """A file swapped in at the same path (another inode) is StoreGone, "replaced"."""
    path = tmp_path / "pal.db"
    engine = _opened(path)
    try:
        shutil.copyfile(path, tmp_path / "copy.db")
        os.replace(tmp_path / "copy.db", path)
        with pytest.raises(StoreGone, match="replaced"):
            check_alive(engine)
    finally:
        engine.dispose()


# --- databases that are not (yet, or no longer) this pal's ----------------------------------------


def test_init_in_a_missing_folder_is_bad_input(tmp_path: Path) -> None:
    """`pal init` where the folder does not exist exits 2 naming the folder, and creates none."""
    pal = Pal(f"sqlite:///{tmp_path}/nowhere/pal.db")
    assert_error(pal("init"), 2, mentions=f"no folder {tmp_path}/nowhere")
    assert not (tmp_path / "nowhere").exists()


def test_a_folder_as_the_database_is_bad_input(tmp_path: Path) -> None:
    """A database URL naming a folder exits 2 ("a folder, not a database file") for any command."""
    pal = Pal(f"sqlite:///{tmp_path}")
    for args in (("init",), ("status",), ("agreement", "list")):
        assert_error(pal(*args), 2, mentions="is a folder, not a database file")


def test_init_on_a_file_that_is_not_a_database_changes_nothing(tmp_path: Path) -> None:
    """`pal init` on a file that is not SQLite exits 2, "not a pal database", and leaves it."""
    junk = tmp_path / "notes.db"
    junk.write_text("these are my notes, not a database\n" * 200)
    before = junk.read_bytes()
    result = Pal(f"sqlite:///{junk}")("init")
    assert_error(result, 2, mentions="not a pal database")
    assert junk.read_bytes() == before


def test_a_newer_schema_is_refused_by_init_and_every_command(pal: Pal, db_url: str) -> None:
    """A schema newer than this pal's is refused (2, "newer") by init and others, unchanged."""
    ok(pal, "init")
    newer = f"{int(SCHEMA_HEAD) + 5:04d}"
    execute(db_url, "UPDATE alembic_version SET version_num = :v", v=newer)
    for args in (("init",), ("agreement", "list"), ("status",)):
        refused(pal, 2, *args, mentions="newer than this pal")


def test_an_unreachable_postgresql_is_one_line_exit_6_without_its_password(tmp_path: Path) -> None:
    """A PostgreSQL server nobody answers at: exit 6, one line, the password never printed."""
    pal = Pal("postgresql+psycopg://pal:S3cretPw@127.0.0.1:1/pal")
    for args in (("status",), ("init",), ("agreement", "list")):
        result = pal(*args)
        assert_error(result, 6, mentions="cannot reach the database")
        assert "S3cretPw" not in result.stdout + result.stderr


def test_a_postgresql_database_that_does_not_exist_is_bad_input() -> None:
    """A URL naming a database the server does not have exits 2 ("no such database")."""
    base = POSTGRES_URL
    if not base:
        pytest.skip("PAL_TEST_POSTGRES_URL is not set")
    url = sa.make_url(base).set(database="pal_no_such_database_here")
    pal = Pal(url.render_as_string(hide_password=False))
    assert_error(pal("status"), 2, mentions="no such database")


@pytest.mark.parametrize(
    "url",
    ["mysql://u:DbPw123@h/db", "postgresql+psycopg://u:DbPw123@127.0.0.1:1/db",
     "sqlite://u:DbPw123@h/db", "oracle+cx://u:DbPw123@h:1521/x?mode=y"],
)  # fmt: skip
def test_a_database_url_password_is_never_printed(url: str) -> None:
    """Whatever goes wrong with a database URL, its password appears in no output."""
    pal = Pal("sqlite:///unused.db")
    for args in (("--database-url", url, "status"), ("--database-url", url, "init")):
        result = pal(*args)
        assert result.exit_code in (2, 6), result.stderr
        assert_error(result, result.exit_code)
        assert "DbPw123" not in result.stdout + result.stderr


def test_a_url_argument_the_driver_would_ignore_is_bad_input(tmp_path: Path) -> None:
    """`sqlite:///pal.db?mode=ro` without `uri=true` is refused (2) rather than ignored."""
    result = Pal(f"sqlite:///{tmp_path}/pal.db?mode=ro")("init")
    assert_error(result, 2, mentions="'mode' are not accepted")
    assert not (tmp_path / "pal.db").exists()


# --- ids, numbers and dates beyond what the store can hold ----------------------------------------


@pytest.mark.parametrize("bad_id", ["2147483648", "9223372036854775808", "1" + "0" * 30, "0",
                                    "1e3", "٣", "12abc"])  # fmt: skip
def test_ids_beyond_the_column_type_are_bad_input(module_seeded: Pal, bad_id: str) -> None:
    """An id outside 1..2^31-1 (or not a whole number) exits 2 naming it, on every id argument."""
    for args in (
        ("agreement", "show", bad_id),
        ("agreement", "fire", bad_id, "open_rga", "--by", DIRECTOR),
        ("agreement", "sign", bad_id, "--party", "board", "--by", LIAISON),
        ("outbox", "retry", bad_id),
    ):
        refused(module_seeded, 2, *args, mentions="ID")


def test_a_huge_within_lists_every_open_deadline(seeded: Pal) -> None:
    """`deadlines --within 99999999999` is simply "all of them", not an overflow."""
    identify(seeded)
    everything = ok(seeded, "deadlines", "--now", "2018-03-02")
    assert ok(seeded, "deadlines", "--within", "99999999999", "--now", "2018-03-02") == everything
    assert "signed partnership plan" in everything


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59", "0001-01-01T00:00:00+23:59",
                                    "9001-01-01T00:00:00+05:00", "1899-12-31"])  # fmt: skip
def test_moments_out_of_range_are_bad_input(module_seeded: Pal, moment: str) -> None:
    """`tick --now` and date options beyond years 1900-9000 exit 2 "out of range", no SQL."""
    refused(module_seeded, 2, "tick", "--now", moment, mentions="out of range")


def test_the_edges_of_the_date_range_work(seeded: Pal) -> None:
    """The first and last accepted moments (offsets included) run `tick` and `deadlines`."""
    identify(seeded)
    for moment in ("1900-01-01T00:00:00+23:59", "9000-12-31T23:59:59-23:59"):
        assert seeded("tick", "--now", moment).exit_code == 0
    ok(seeded, "deadlines", "--now", "9000-12-31", "--within", "999999999")
    ok(seeded, "deadlines", "--now", "1900-01-01")


def test_a_config_file_that_is_not_utf8_is_bad_input(tmp_path: Path) -> None:
    """A --config file with bytes that are not UTF-8 exits 2 with one line naming the file."""
    config = tmp_path / "latin1.toml"
    config.write_bytes('timezone = "América"\n'.encode("latin-1"))
    pal = Pal(f"sqlite:///{tmp_path}/unused.db")
    assert_error(pal("--config", str(config), "status"), 2, mentions="latin1.toml is not UTF-8")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql+psycopg://pal:S3cret@db.example/pal", "postgresql+psycopg://pal:***@db.example/pal"),
        ("url 'mysql://u:p@ss@w0rd@h/db' refused", "url 'mysql://u:***@h/db' refused"),
        ("sqlite:///pal.db and https://example.org/x", "sqlite:///pal.db and https://example.org/x"),
        ("two: a://u:one@h b://v:two@k", "two: a://u:***@h b://v:***@k"),
    ],
)  # fmt: skip
def test_redact_hides_every_url_password(text: str, shown: str) -> None:
    """storage.errors.redact replaces the password of each URL in a message, and nothing else."""
    from storage.errors import redact

    assert redact(text) == shown
