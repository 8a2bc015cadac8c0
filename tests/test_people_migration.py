"""Migration 0008 carries every contact into people and role assignments, losing nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from storage.db import make_engine
from storage.migrate import downgrade, upgrade

T0 = datetime(2018, 6, 1, 12, 0, tzinfo=UTC)
CONTACTS = [
    ("dana@mde.example", "Dana Director", "director", None),
    ("lee@mde.example", "Lee Liaison", "liaison", None),
    ("supt@lake.example", "Sam Ångström", "superintendent", "LAKE"),
    ("board@lake.example", "Bo Board", "board_president", "LAKE"),
]


@pytest.fixture
def at_0007(db_url: str) -> Iterator[sa.Engine]:
    """A database at revision 0007 holding a district, four contacts and an agreement whose
    liaison is one of them."""
    engine = make_engine(db_url)
    upgrade(engine, "0007")
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO district (code, name, psa) VALUES "
                                   "('LAKE', 'Lake Schools', false)"))  # fmt: skip
        for email, name, role, district in CONTACTS:
            connection.execute(
                sa.text("INSERT INTO contact (email, name, role, district_code) "
                        "VALUES (:e, :n, :r, :d)"),
                {"e": email, "n": name, "r": role, "d": district},
            )  # fmt: skip
        connection.execute(
            sa.text(
                "INSERT INTO agreement (district_code, state, rules_version, consequences, "
                "liaison_email, identified_on, last_event_on, version, updated_at) VALUES "
                "('LAKE', 'needs_assessment', '2017-10', 'reconstitution', 'lee@mde.example', "
                ":d, :d, 2, :t)"
            ),
            {"d": date(2018, 3, 1), "t": T0.replace(tzinfo=None)},
        )
    yield engine
    engine.dispose()


def test_every_contact_becomes_a_person_holding_their_role_since_before_any_record(
    at_0007: sa.Engine,
) -> None:
    """After 0008 each contact is a person with their name, and holds their one role (in their
    district) with no start or end date; the agreement still names its liaison."""
    upgrade(at_0007)
    with at_0007.connect() as connection:
        people = connection.execute(sa.text("SELECT email, name, phone FROM person")).all()
        held = connection.execute(
            sa.text("SELECT email, role, district_code, started_on, ended_on FROM assignment")
        ).all()
        liaison = connection.execute(sa.text("SELECT liaison_email FROM agreement")).scalar_one()
    assert sorted(people) == sorted((e, n, None) for e, n, _, _ in CONTACTS)
    assert sorted(held) == sorted((e, r, d, None, None) for e, _, r, d in CONTACTS)
    assert liaison == "lee@mde.example"
    assert "contact" not in sa.inspect(at_0007).get_table_names()
    keys = sa.inspect(at_0007).get_foreign_keys("agreement")
    assert ("person", ["liaison_email"]) in [
        (k["referred_table"], k["constrained_columns"]) for k in keys
    ]


def test_the_downgrade_gives_each_person_back_their_first_role(at_0007: sa.Engine) -> None:
    """Upgrading then downgrading to 0007 restores every contact as it was."""
    upgrade(at_0007)
    downgrade(at_0007, "0007")
    with at_0007.connect() as connection:
        found = connection.execute(
            sa.text("SELECT email, name, role, district_code FROM contact")
        ).all()
    assert sorted(found) == sorted(CONTACTS)
