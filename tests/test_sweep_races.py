"""Several sweepers on PostgreSQL (issue 14): those that skip each other's locked timers reach the
outcome one sweep alone reaches, and `pal serve` sweeps in full batches there. Real databases;
time moves by `Context(now=...)`."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from helpers import Pal, execute
from service_support import timer_statuses
from test_service import many_agreements, sign_all

from states.context import Context
from storage.db import make_engine
from workflow.service import SWEEP_BATCH_SECONDS, sweep_budget
from workflow.sweep import sweep


@pytest.mark.postgres
def test_a_24_month_review_whose_waiving_36_month_review_another_sweeper_ran_first_is_waived(
    seeded: Pal, db_url: str, backend: str
) -> None:
    """Long after the 36-month review fell due, sweeper A holds the 24-month review's timer while
    B, skipping it, runs the 36-month review's (it waits: the RGA is open). When A goes on, the
    24-month review is still waived by the 36-month one, as a sweep alone would have it: no
    attempt to open it, no "not possible" notice for it."""
    if backend == "sqlite":
        pytest.skip("SQLite runs one writer at a time: two sweeps cannot interleave")
    [agreement] = many_agreements(db_url, 1)
    sign_all(db_url, [agreement], date(2018, 5, 1))
    now = Context(now=datetime(2022, 1, 3, 14, 0, tzinfo=UTC))
    [(review_24,)] = execute(
        db_url,
        "SELECT id FROM timer WHERE agreement_id = :a AND ladder = 'review_24_due' "
        "AND offset_days = 0",
        a=agreement,
    )
    engine = make_engine(db_url)
    holder = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    try:
        with holder.connect() as a:  # sweeper A's claim of the 24-month review's timer
            a.execute(sa.text("SELECT id FROM timer WHERE id = :id FOR UPDATE"), {"id": review_24})
            sweep(engine, now)  # sweeper B: everything else
            a.rollback()
        sweep(engine, now)  # A again
    finally:
        engine.dispose()
        holder.dispose()

    statuses = timer_statuses(db_url, agreement)
    assert statuses[("review_24_due", 0)] == "skipped"
    assert statuses[("review_36_due", 0)] == "waiting"
    told = execute(
        db_url,
        "SELECT count(*) FROM outbox WHERE agreement_id = :a AND notice = 'action_not_possible'",
        a=agreement,
    )
    assert told == [(2,)]  # the 36-month review's, to the liaison and the director


def test_serve_bounds_a_sweep_batch_by_time_on_sqlite_only(db_url: str, backend: str) -> None:
    """`pal serve` shrinks sweep batches to SWEEP_BATCH_SECONDS on SQLite (delivery results wait
    for the one write lock) but not on PostgreSQL, where nothing waits for a batch and small
    batches made two instances slower than one (bench/scale_out.py)."""
    engine = make_engine(db_url)
    try:
        expected = SWEEP_BATCH_SECONDS if backend == "sqlite" else None
        assert sweep_budget(engine) == expected
    finally:
        engine.dispose()
