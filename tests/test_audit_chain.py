"""The audit log's hash chains: `pal audit verify` passes a log pal wrote, and names the first row
changed, deleted or cut off behind pal's back (triggers dropped, SQL run by hand)."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from helpers import (
    DETROIT,
    DIRECTOR,
    LIAISON,
    PSA,
    TRAD,
    Pal,
    add_contact,
    add_district,
    assert_error,
    audit_count,
    execute,
    ok,
    person,
    signed_agreement,
    snapshot,
)

from states.context import Context
from states.errors import ConcurrentModification
from storage.db import make_engine, transaction
from storage.migrate import upgrade
from storage.types import UTCDateTime
from workflow import audit
from workflow.actors import Actor
from workflow.audit_verify import verify


def _verify(pal: Pal) -> Any:
    return pal("audit", "verify", "--json")


def _tamper(pal: Pal, backend: str, *statements: str) -> None:
    """Run SQL behind pal's back with the append-only triggers dropped: with the `sqlite3`
    module on SQLite, with SQL on PostgreSQL."""
    if backend == "sqlite":
        connection = sqlite3.connect(pal.db_url.removeprefix("sqlite:///"))
        try:
            connection.execute("DROP TRIGGER IF EXISTS audit_no_UPDATE")
            connection.execute("DROP TRIGGER IF EXISTS audit_no_DELETE")
            for statement in statements:
                connection.execute(statement)
            connection.commit()
        finally:
            connection.close()
    else:
        execute(pal.db_url, "DROP TRIGGER IF EXISTS audit_append_only ON audit")
        for statement in statements:
            execute(pal.db_url, statement)


def _chain(pal: Pal, subject: str) -> list[Any]:
    """The ids and events of a subject's rows, oldest first."""
    return execute(
        pal.db_url, "SELECT id, event FROM audit WHERE subject = :s ORDER BY id", s=subject
    )


@pytest.fixture
def stepped(seeded: Pal) -> Pal:
    """The seeded registry with both districts' agreements signed (a few dozen audit rows)."""
    signed_agreement(seeded, TRAD)
    signed_agreement(seeded, PSA)
    return seeded


def test_a_log_pal_wrote_verifies_with_its_counts(stepped: Pal) -> None:
    """A database pal wrote verifies: exit 0, one line naming the rows and chains, JSON alike."""
    rows = audit_count(stepped.db_url)
    chains = execute(stepped.db_url, "SELECT count(DISTINCT subject) FROM audit")[0][0]
    assert ok(stepped, "audit", "verify") == f"audit log verified: {rows} rows in {chains} chains\n"
    result = _verify(stepped)
    assert result.exit_code == 0, result.stderr
    assert result.json() == {"ok": True, "rows": rows, "chains": chains, "problems": []}
    heads = execute(stepped.db_url, "SELECT subject, length FROM audit_chain ORDER BY subject")
    counts = execute(
        stepped.db_url,
        "SELECT subject, count(*) FROM audit GROUP BY subject ORDER BY subject",
    )
    assert [tuple(h) for h in heads] == [tuple(c) for c in counts]


@pytest.mark.parametrize(
    "change",
    [
        "note = 'nothing to see here'",
        "actor = 'someone.else@mde.example'",
        "effective_on = '2018-03-02'",
        "data = '{\"liaison\": \"someone.else@mde.example\"}'",
    ],
)
def test_a_value_changed_behind_pals_back_names_that_row(
    stepped: Pal, backend: str, change: str
) -> None:
    """A value of a middle row edited by hand is found: that row's id and subject, exit 6."""
    (row,) = [r[0] for r in _chain(stepped, "agreement:1") if r[1] == "start_assessment"]
    _tamper(stepped, backend, f"UPDATE audit SET {change} WHERE id = {row}")
    result = _verify(stepped)
    assert_error(result, 6, mentions=f"row {row} of agreement:1: its content was changed")
    found = result.json()
    assert found["ok"] is False and found["rows"] == audit_count(stepped.db_url)
    assert found["problems"] == [
        {"id": row, "subject": "agreement:1",
         "problem": "its content was changed after it was written"},
    ]  # fmt: skip
    assert_error(stepped("audit", "verify"), 6, mentions=f"row {row} of agreement:1")


def test_a_changed_row_whose_hash_was_written_anew_is_named_by_the_next_one(
    stepped: Pal, backend: str
) -> None:
    """A row edited with its own hash recomputed still breaks the link from the next row: the
    edited row is named."""
    (first, _), (second, _), *_ = _chain(stepped, "agreement:1")
    engine = make_engine(stepped.db_url)
    try:
        with engine.connect() as connection:
            row = dict(connection.execute(
                sa.select(sa.table("audit", *map(sa.column, ("id", "hash", *audit.HASHED))))
                .where(sa.column("id") == first)
            ).one()._mapping)  # fmt: skip
    finally:
        engine.dispose()
    row["note"] = "rewritten"
    row["effective_on"] = date.fromisoformat(str(row["effective_on"])[:10])
    row["recorded_at"] = _stamp(row["recorded_at"])
    row["data"] = _json(row["data"])
    forged = audit.row_hash(row)
    forge = f"UPDATE audit SET note = 'rewritten', hash = '{forged}' WHERE id = {first}"
    _tamper(stepped, backend, forge)
    result = _verify(stepped)
    assert_error(result, 6, mentions=f"row {first} of agreement:1: its content was changed")
    assert f"the next row, id {second}" in result.json()["problems"][0]["problem"]


def test_a_middle_row_deleted_is_found_at_the_row_after_it(stepped: Pal, backend: str) -> None:
    """Deleting a middle row of a chain is found: the row after the gap is named, exit 6."""
    rows = _chain(stepped, "agreement:2")
    _tamper(stepped, backend, f"DELETE FROM audit WHERE id = {rows[2][0]}")
    result = _verify(stepped)
    assert_error(result, 6, mentions=f"row {rows[3][0]} of agreement:2: a row is missing before it")


def test_the_newest_rows_deleted_are_found_by_the_chains_head(stepped: Pal, backend: str) -> None:
    """Deleting the newest rows of a chain leaves it shorter than its head says: found, naming the
    newest row left."""
    rows = _chain(stepped, "agreement:1")
    newest_two = f"DELETE FROM audit WHERE id >= {rows[-2][0]} AND subject = 'agreement:1'"
    _tamper(stepped, backend, newest_two)
    result = _verify(stepped)
    assert_error(result, 6, mentions=f"row {rows[-3][0]} of agreement:1: the chain ends early")
    assert "newest 2 rows are missing" in result.json()["problems"][0]["problem"]


def test_a_whole_chain_deleted_is_found_by_its_head(stepped: Pal, backend: str) -> None:
    """Deleting every row of a subject leaves its head: found, naming the subject."""
    _tamper(stepped, backend, f"DELETE FROM audit WHERE subject = 'contact:{DIRECTOR}'")
    result = _verify(stepped)
    assert_error(result, 6, mentions=f"contact:{DIRECTOR}: all 1 rows of the chain are missing")
    assert result.json()["problems"][0]["id"] is None


@pytest.mark.parametrize(
    ("statement", "says"),
    [
        ("DELETE FROM audit_chain WHERE subject = 'agreement:1'", "a chain without a head"),
        ("UPDATE audit_chain SET head = 'ab' WHERE subject = 'agreement:1'", "the chain's head"),
        ("UPDATE audit_chain SET length = length - 1 WHERE subject = 'agreement:1'", "the chain's"),
    ],
)
def test_a_head_changed_behind_pals_back_is_found(
    stepped: Pal, backend: str, statement: str, says: str
) -> None:
    """The head table changed by hand no longer matches its chain: found, naming the newest row."""
    newest = _chain(stepped, "agreement:1")[-1][0]
    _tamper(stepped, backend, statement)
    assert_error(_verify(stepped), 6, mentions=f"row {newest} of agreement:1: {says}")


def test_verify_changes_nothing_whole_or_broken(stepped: Pal, backend: str) -> None:
    """Verifying writes nothing, whether the log is whole or not."""
    before = snapshot(stepped.db_url)
    ok(stepped, "audit", "verify")
    assert snapshot(stepped.db_url) == before
    _tamper(stepped, backend, "UPDATE audit SET note = 'x' WHERE id = 3")
    broken = snapshot(stepped.db_url)
    assert_error(stepped("audit", "verify"), 6)
    assert snapshot(stepped.db_url) == broken


def test_the_triggers_still_refuse_update_and_delete(stepped: Pal) -> None:
    """The hash chain does not replace the guards: UPDATE and DELETE on audit are refused."""
    for statement in ("UPDATE audit SET note = 'x' WHERE id = 1", "DELETE FROM audit WHERE id = 1"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            execute(stepped.db_url, statement)


def test_many_steps_across_agreements_leave_every_chain_whole(seeded: Pal) -> None:
    """Steps interleaved at random across several agreements, and a sweep's timed steps, leave
    every chain whole: places 1..n in id order, each linked to the one before, heads matching."""
    pal = seeded
    districts = [TRAD, PSA, "D3", "D4", "D5"]
    for code in districts[2:]:
        add_district(pal, code)
        for role in ("superintendent", "board_president", "isd_superintendent"):
            add_contact(pal, person(code, role), role, code)
    chooser = random.Random(11)
    plans: dict[str, list[list[str]]] = {}
    for code in districts:
        parties = ("board", "superintendent", "mde") + (("authorizer",) if code == PSA else ())
        steps = [["agreement", "identify", code, "--on", "2018-03-01", "--by", DIRECTOR]]
        steps.append(["fire", "start_assessment", "--set", f"liaison={LIAISON}", "--by", LIAISON,
                      "--on", "2018-03-05"])  # fmt: skip
        steps += [["sign", "--party", p, "--by", LIAISON, "--on", "2018-05-01"] for p in parties]
        plans[code] = steps
    ids: dict[str, int] = {}
    while plans:
        code = chooser.choice(sorted(plans))
        step = plans[code].pop(0)
        if step[0] == "agreement":
            ids[code] = int(ok(pal, *step).strip())
        else:
            ok(pal, "agreement", step[0], ids[code], *step[1:])
        if not plans[code]:
            del plans[code]
    ok(pal, "tick", "--now", "2019-12-01T12:00:00")  # timed steps: the RGAs open
    found = _verify(pal).json()
    assert found == {
        "ok": True,
        "rows": audit_count(pal.db_url),
        "chains": execute(pal.db_url, "SELECT count(DISTINCT subject) FROM audit")[0][0],
        "problems": [],
    }
    assert {row[0] for row in execute(pal.db_url, "SELECT DISTINCT to_state FROM audit "
                                      "WHERE event = 'open_rga'")} == {"rga"}  # fmt: skip
    for code, agreement in ids.items():
        rows = execute(
            pal.db_url,
            "SELECT seq, prev_hash, hash FROM audit WHERE subject = :s ORDER BY id",
            s=f"agreement:{agreement}",
        )
        assert [row[0] for row in rows] == list(range(1, len(rows) + 1)), code
        assert [row[1] for row in rows] == [None] + [row[2] for row in rows[:-1]], code


def _append_twice_at_once(db_url: str, subject: str) -> list[BaseException]:
    """Append "first" to `subject`'s chain and hold its transaction open half a second, while a
    second transaction appends "second"; returns what either raised."""
    engine = make_engine(db_url)
    first_wrote = threading.Event()
    errors: list[BaseException] = []

    def append(note: str, hold: float) -> None:
        try:
            with transaction(engine) as session:
                _record(session, subject, note)
                first_wrote.set()
                time.sleep(hold)
        except BaseException as exc:
            errors.append(exc)

    try:
        first = threading.Thread(target=append, args=("first", 0.5))
        first.start()
        assert first_wrote.wait(10)
        second = threading.Thread(target=append, args=("second", 0.0))
        second.start()
        first.join()
        second.join()
    finally:
        engine.dispose()
    return errors


def test_two_writers_of_one_chain_take_turns_without_forking(stepped: Pal, backend: str) -> None:
    """Two transactions appending to one subject at once: the second waits for the first (on
    PostgreSQL its head is locked; on SQLite the write lock), and the chain stays one line."""
    subject = f"contact:{DIRECTOR}"
    errors = _append_twice_at_once(stepped.db_url, subject)
    assert errors == []
    rows = execute(stepped.db_url, "SELECT note, seq FROM audit WHERE subject = :s ORDER BY id",
                   s=subject)  # fmt: skip
    assert [tuple(row) for row in rows] == [(None, 1), ("first", 2), ("second", 3)]
    assert _verify(stepped).json()["ok"] is True


# --- migration 0009 ------------------------------------------------------------------------------

T0 = datetime(2018, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)
# (subject, event, data): chains interleaved, data as events hold it (floats, nesting, text).
ROWS_0008 = [
    ("district:TRAD", "add_district", {"code": "TRAD", "psa": False, "isd": None}),
    ("contact:a@x.example", "add_contact", {"email": "a@x.example", "name": "Zoë Ångström"}),
    ("agreement:1", "identify", {"schools": ["S1", "S2"], "consequences": []}),
    ("agreement:1", "add_benchmark", {"baseline": 12.5, "target_18": 0.1, "target_36": 1e-7}),
    ("contact:a@x.example", "edit", {"nested": {"b": [1, 2.0, None], "a": True}}),
    ("agreement:1", "record_measurement", {"value": -3.25, "evidence": "tab\t\"quoted\" ✓"}),
    ("agreement:1", "determine", {"statuses": {"S2": {"agreed": "x"}, "S1": {"agreed": "y"}}}),
]


@pytest.fixture
def at_0008(db_url: str) -> Iterator[sa.Engine]:
    """A database at revision 0008 whose audit log holds ROWS_0008 (no chain columns yet)."""
    engine = make_engine(db_url)
    upgrade(engine, "0008")
    table = sa.table(
        "audit",
        *map(sa.column, ("subject", "event", "actor", "effective_on", "note")),
        sa.column("recorded_at", UTCDateTime()),
        sa.column("data", sa.JSON()),
    )
    with engine.begin() as connection:
        connection.execute(sa.insert(table), [
            {"subject": subject, "event": event, "actor": "director@mde.example",
             "effective_on": date(2018, 3, n + 1), "note": None if n % 2 else f"note {n}",
             "recorded_at": T0.replace(second=n), "data": data}
            for n, (subject, event, data) in enumerate(ROWS_0008)
        ])  # fmt: skip
    yield engine
    engine.dispose()


def test_an_upgraded_log_is_chained_in_id_order_and_verifies(at_0008: sa.Engine) -> None:
    """After 0009 the rows already written are chained per subject in id order, each subject has
    its head, the log verifies, the triggers still refuse UPDATE, and new rows chain on."""
    upgrade(at_0008)
    found = verify(at_0008)
    assert found.view() == {"ok": True, "rows": 7, "chains": 3, "problems": []}
    with at_0008.connect() as connection:
        places = connection.execute(sa.text("SELECT subject, seq FROM audit ORDER BY id")).all()
        heads = dict(connection.execute(sa.text("SELECT subject, length FROM audit_chain")).all())
    assert [tuple(p) for p in places] == [
        ("district:TRAD", 1), ("contact:a@x.example", 1), ("agreement:1", 1), ("agreement:1", 2),
        ("contact:a@x.example", 2), ("agreement:1", 3), ("agreement:1", 4),
    ]  # fmt: skip
    assert heads == {"district:TRAD": 1, "contact:a@x.example": 2, "agreement:1": 4}
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), at_0008.begin() as connection:
        connection.execute(sa.text("UPDATE audit SET note = 'x' WHERE id = 1"))
    with transaction(at_0008) as session:
        _record(session, "agreement:1", "after the upgrade")
    assert verify(at_0008).view()["rows"] == 8
    assert verify(at_0008).ok


# --- helpers -------------------------------------------------------------------------------------


def _record(session: Any, subject: str, note: str) -> None:
    now = datetime(2019, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    audit.record(
        session, subject=subject, event="note", actor=Actor(DIRECTOR, "director"),
        on=now.date(), ctx=Context(now=now), note=note, data={"at": 1.5},
    )  # fmt: skip


def _stamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _json(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value


def test_two_writers_starting_one_chain_never_fork_it(stepped: Pal, backend: str) -> None:
    """Two transactions writing the first row of one new subject at once: one commits, the other
    is refused as concurrent (PostgreSQL) or waits its turn (SQLite); the chain stays one line."""
    subject = "district:NEW"
    errors = _append_twice_at_once(stepped.db_url, subject)
    rows = execute(stepped.db_url, "SELECT note, seq FROM audit WHERE subject = :s ORDER BY id",
                   s=subject)  # fmt: skip
    if backend == "sqlite":
        assert errors == []
        assert [tuple(row) for row in rows] == [("first", 1), ("second", 2)]
    else:
        assert [type(error) for error in errors] == [ConcurrentModification]
        assert [tuple(row) for row in rows] == [("first", 1)]
    assert _verify(stepped).json()["ok"] is True


TRICKY_DATA = [
    {"value": 0.1, "tiny": 1e-7, "big": 1e16, "negative": -0.0, "whole": 3.0},
    {"schools": ("S1", "S2"), "nested": {"b": [1, (2.5, None)], "a": {"z": True, "y": False}}},
    {3: "a number key", 10: "another", "text": "Zoë \"quoted\" \\ ✓ \U0001f600"},
    {},
]


def test_what_is_hashed_is_what_either_database_reads_back(db_url: str) -> None:
    """Rows with floats, tuples, nested data, number keys, non-ASCII text and a moment in another
    zone to the microsecond verify once stored and read back."""
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        detroit = datetime(2019, 3, 10, 1, 59, 59, 999999, tzinfo=DETROIT)
        with transaction(engine) as session:
            for n, data in enumerate(TRICKY_DATA):
                audit.record(
                    session, subject=f"agreement:{n % 2}", event="note",
                    actor=Actor(DIRECTOR, "director"), on=date(2019, 3, 10),
                    ctx=Context(now=detroit), note="Ångström" if n else None, data=data,
                )  # fmt: skip
        found = verify(engine)
    finally:
        engine.dispose()
    assert found.view() == {"ok": True, "rows": 4, "chains": 2, "problems": []}
