"""Migration 0017 names the case of another process on deadlines, timers and outbox rows; every
row written before it stays the agreement's own, found by the same queries as before."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from storage import tables
from storage.case_refs import CaseRef, in_case
from storage.db import make_engine
from storage.migrate import downgrade, upgrade

T0 = datetime(2018, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def at_0016(db_url: str) -> Iterator[sa.Engine]:
    """A database at revision 0016 holding an agreement with a deadline, its timer and a
    queued notice."""
    engine = make_engine(db_url)
    upgrade(engine, "0016")
    naive = T0.replace(tzinfo=None)
    statements = [
        ("INSERT INTO district (code, name, psa) VALUES ('LAKE', 'Lake Schools', false)", {}),
        ("INSERT INTO agreement (district_code, state, rules_version, consequences, "
         "identified_on, last_event_on, version, updated_at) VALUES ('LAKE', "
         "'needs_assessment', '2017-10', 'reconstitution', :d, :d, 1, :t)", {}),
        ("INSERT INTO deadline (agreement_id, kind, due_on, due_at, status, opened_on) "
         "VALUES (1, 'plan_due', :d, :t, 'open', :d)", {}),
        ("INSERT INTO timer (agreement_id, deadline_id, ladder, offset_days, notice, fire_at, "
         "status) VALUES (1, 1, 'plan_due', -30, 'plan_reminder', :t, 'pending')", {}),
        ("INSERT INTO mail_body (digest, content) VALUES (:b, :b)", {"b": b"0" * 16}),
        ("INSERT INTO outbox (agreement_id, notice, occurrence, recipient, idempotency_key, "
         "message_id, subject, body_ref, body, status, attempts, next_attempt_at, created_at) "
         "VALUES (1, 'identified', 'identify.v1', 'x@lake.example', 'a1:identified:identify.v1:"
         "x@lake.example', '<m@pal>', 'Identified', :b, :b, 'pending', 0, :t, :t)",
         {"b": b"0" * 16}),
    ]  # fmt: skip
    with engine.begin() as connection:
        for sql, params in statements:
            connection.execute(sa.text(sql), {"d": date(2018, 3, 1), "t": naive, **params})
    yield engine
    engine.dispose()


def test_rows_written_before_are_the_agreements_own_and_found_as_before(
    at_0016: sa.Engine,
) -> None:
    """After 0017 the deadline, timer and outbox row name no other process, and the queries of
    an agreement's own rows (`in_case`) find them; a case of another process finds none."""
    upgrade(at_0016)
    with at_0016.connect() as connection:
        for table in (tables.DEADLINE, tables.TIMER, tables.OUTBOX):
            named = connection.execute(sa.select(table.c.process, table.c.case_id)).all()
            assert named == [(None, None)], table.name
        for table in (tables.DEADLINE, tables.TIMER):
            own = sa.select(sa.func.count()).select_from(table).where(in_case(table))
            assert connection.execute(own, CaseRef(1).params).scalar() == 1
            assert connection.execute(own, CaseRef(1, "funds", 1).params).scalar() == 0


def test_the_downgrade_drops_the_columns_and_the_rows_of_other_processes(
    at_0016: sa.Engine,
) -> None:
    """Back at 0016, the agreement's own rows are kept; a case's deadline and timer are gone
    (an older pal would take them for the agreement's)."""
    upgrade(at_0016)
    with at_0016.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO deadline (agreement_id, process, case_id, kind, due_on, due_at, status, "
            "opened_on) VALUES (1, 'funds', 1, 'decision_due', :d, :t, 'open', :d)"
        ), {"d": date(2018, 3, 1), "t": T0.replace(tzinfo=None)})  # fmt: skip
    downgrade(at_0016, "0016")
    with at_0016.connect() as connection:
        kinds = connection.execute(sa.text("SELECT kind FROM deadline")).scalars().all()
    assert kinds == ["plan_due"]
    for table in ("deadline", "timer", "outbox"):
        columns = {c["name"] for c in sa.inspect(at_0016).get_columns(table)}
        assert not {"process", "case_id"} & columns, table
