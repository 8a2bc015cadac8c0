"""Migration 0010 carries a database at 0009 holding a signed plan into versioned terms without
loss: every benchmark becomes version 0 of its own lineage, its measurements still its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from helpers import Pal, ok, refused
from migration_support import table
from test_mail_body_migration import downgrade

from storage.db import make_engine
from storage.migrate import head, upgrade

T0 = datetime(2018, 5, 1, 12, 0, tzinfo=UTC)
# (school, kind, label, baseline, target_18, target_36, lower_is_better)
BENCHMARKS = [
    ("HS1", "graduation_rate", None, 62.0, 66.0, 72.0, False),
    ("HS1", "local", "chronic absence", 38.0, 30.0, 22.0, True),
]
MEASUREMENTS = [(1, 67.0, date(2019, 9, 15)), (2, 33.0, date(2019, 10, 15))]


@pytest.fixture
def at_0009(db_url: str) -> Iterator[sa.Engine]:
    """A database at revision 0009 with a signed agreement, two benchmarks and a measurement of
    each (no liaison named: 0008 reshapes who is on file)."""
    engine = make_engine(db_url)
    upgrade(engine, "0009")
    with engine.begin() as connection:
        connection.execute(sa.insert(table("district", "code", "name", "isd", "psa")),
                           [{"code": "D1", "name": "Lakeview", "isd": "Wayne", "psa": False}])
        connection.execute(
            sa.insert(table("school", "code", "name", "district_code", "csi", "alternative",
                             "high_school")),
            [{"code": "HS1", "name": "Lakeview High", "district_code": "D1", "csi": False,
              "alternative": False, "high_school": True}],
        )
        connection.execute(
            sa.insert(table("agreement", "id", "district_code", "state", "rules_version",
                             "consequences", "identified_on", "signed_on", "last_event_on",
                             "version", "updated_at", stamps=("updated_at",))),
            [{"id": 1, "district_code": "D1", "state": "signed", "rules_version": "2017-10",
              "consequences": "closure,reconstitution", "identified_on": date(2018, 3, 1),
              "signed_on": date(2018, 5, 1), "last_event_on": date(2019, 10, 15), "version": 9,
              "updated_at": T0}],
        )
        connection.execute(
            sa.insert(table("benchmark", "agreement_id", "school_code", "kind", "label",
                             "baseline", "target_18", "target_36", "lower_is_better",
                             "recorded_by", "recorded_at", stamps=("recorded_at",))),
            [dict(zip(("school_code", "kind", "label", "baseline", "target_18", "target_36",
                       "lower_is_better"), row, strict=True),
                  agreement_id=1, recorded_by="lee@mde.example", recorded_at=T0)
             for row in BENCHMARKS],
        )
        connection.execute(
            sa.insert(table("measurement", "benchmark_id", "value", "measured_on",
                             "recorded_by", "recorded_at", stamps=("recorded_at",))),
            [{"benchmark_id": b, "value": v, "measured_on": on, "recorded_by": "lee@mde.example",
              "recorded_at": T0} for b, v, on in MEASUREMENTS],
        )  # fmt: skip
    yield engine
    engine.dispose()


def _rows(engine: sa.Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql)).all()]


def test_every_benchmark_becomes_version_0_of_its_own_lineage(at_0009: sa.Engine) -> None:
    """After 0010 each benchmark keeps its values, is in version 0 and is its own lineage; its
    measurements, and the amendment tables, are as they should be (the latter empty)."""
    before = _rows(at_0009, "SELECT * FROM measurement ORDER BY id")

    upgrade(at_0009)

    found = _rows(at_0009, "SELECT id, lineage, amendment, school_code, kind, label, baseline, "
                  "target_18, target_36, lower_is_better FROM benchmark ORDER BY id")  # fmt: skip
    assert [(i, lineage, number) for i, lineage, number, *_ in found] == [(1, 1, 0), (2, 2, 0)]
    assert [(*row[3:-1], bool(row[-1])) for row in found] == BENCHMARKS
    assert _rows(at_0009, "SELECT * FROM measurement ORDER BY id") == before
    assert _rows(at_0009, "SELECT count(*) FROM amendment") == [(0,)]
    assert _rows(at_0009, "SELECT count(*) FROM amendment_signature") == [(0,)]


def test_an_upgraded_agreement_is_shown_judged_and_amended_as_any(
    at_0009: sa.Engine, db_url: str
) -> None:
    """On the upgraded database `show --amendment 0` is the plan as it was, and it can be
    amended: the new version copies both benchmarks, with their lineages."""
    upgrade(at_0009)
    pal = Pal(db_url)
    ok(pal, "contact", "add", "lee@mde.example", "--name", "Lee", "--role", "liaison")

    version = json.loads(ok(pal, "agreement", "show", 1, "--amendment", 0, "--json"))
    assert version["status"] == "in_force" and version["in_force_on"] == "2018-05-01"
    assert [(b["id"], b["target_18"]) for s in version["schools"] for b in s["benchmarks"]] == [
        (1, 66.0), (2, 30.0)
    ]
    assert version["consequences"] == ["closure", "reconstitution"]
    assert ok(pal, "agreement", "amend", 1, "--note", "x", "--on", "2019-10-20",
              "--by", "lee@mde.example").strip() == "1"  # fmt: skip
    assert _rows(at_0009, "SELECT lineage, amendment FROM benchmark ORDER BY id") == [
        (1, 0), (2, 0), (1, 1), (2, 1)
    ]
    refused(pal, 2, "agreement", "show", 1, "--amendment", 2)


def test_the_downgrade_keeps_the_plan_and_refuses_to_drop_amendments(
    at_0009: sa.Engine, db_url: str
) -> None:
    """Down to 0009 with no amendment the plan's benchmarks are as they were; with one, the
    downgrade is refused (it would lose the amended terms) and the database stays as it was."""
    upgrade(at_0009)
    downgrade(at_0009, "0009")
    assert "amendment" not in sa.inspect(at_0009).get_table_names()
    assert _rows(at_0009, "SELECT count(*) FROM benchmark") == [(2,)]
    upgrade(at_0009)
    pal = Pal(db_url)
    ok(pal, "contact", "add", "lee@mde.example", "--name", "Lee", "--role", "liaison")
    ok(pal, "agreement", "amend", 1, "--note", "x", "--on", "2019-10-20", "--by", "lee@mde.example")

    with pytest.raises(RuntimeError, match="amendments"):
        downgrade(at_0009, "0009")

    assert _rows(at_0009, "SELECT version_num FROM alembic_version") == [(head(),)]
    assert _rows(at_0009, "SELECT count(*) FROM amendment") == [(2,)]
