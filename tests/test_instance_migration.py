"""Migration 0013 adds `service_instance` to a database at 0012 and its downgrade takes it
away again, on both backends; the heartbeats written before it stay as they were."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from storage.db import make_engine
from storage.migrate import downgrade, upgrade
from storage.types import UTCDateTime

BEAT = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


@pytest.fixture
def at_0012(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    upgrade(engine, "0012")
    heartbeat = sa.table("heartbeat", sa.column("name"), sa.column("beat_at", UTCDateTime()),
                         sa.column("detail"))  # fmt: skip
    with engine.begin() as connection:
        connection.execute(
            sa.insert(heartbeat), [{"name": "serve", "beat_at": BEAT, "detail": "pid=1"}]
        )
    try:
        yield engine
    finally:
        engine.dispose()


def tables(engine: sa.Engine) -> set[str]:
    with engine.connect() as connection:
        return set(sa.inspect(connection).get_table_names())


def test_the_upgrade_adds_an_empty_instance_table_and_keeps_the_heartbeats(
    at_0012: sa.Engine,
) -> None:
    upgrade(at_0012)
    assert "service_instance" in tables(at_0012)
    with at_0012.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM service_instance")).scalar() == 0
        beats = connection.execute(sa.text("SELECT name, detail FROM heartbeat")).all()
    assert [tuple(row) for row in beats] == [("serve", "pid=1")]
    with at_0012.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("service_instance")}
    assert {"name", "kind", "last_sweep_at", "last_delivery_at", "stopped_at"} <= columns


def test_the_downgrade_drops_it_and_the_upgrade_runs_again(at_0012: sa.Engine) -> None:
    upgrade(at_0012)
    downgrade(at_0012, "0012")
    assert "service_instance" not in tables(at_0012) and "heartbeat" in tables(at_0012)
    upgrade(at_0012)
    assert "service_instance" in tables(at_0012)
