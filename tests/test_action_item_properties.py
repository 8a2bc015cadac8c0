"""Property: random sequences of action-item events, actors, data and notes, applied through the
engine to one item, never leave its defined states, and each applied event writes exactly one
audit record of the item (none lost or changed), while a refused one writes nothing at all."""

from __future__ import annotations

import itertools
import shutil
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from helpers import DIRECTOR, LIAISON, TRAD, person
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from states.action_item import ACTION_ITEM
from states.context import Context
from states.errors import PalError
from storage.db import make_engine, transaction
from workflow.action_items import add_action
from workflow.actors import SYSTEM_ACTOR, Actor
from workflow.engine import Request, apply
from workflow.meetings import schedule_meeting

START = datetime(2019, 1, 7, 17, 0, tzinfo=UTC)  # noon in Detroit
ACTORS = {
    "liaison": Actor(LIAISON, "liaison"),
    "director": Actor(DIRECTOR, "director"),
    "superintendent": Actor(person(TRAD, "superintendent"), "superintendent"),
    "board_president": Actor(person(TRAD, "board_president"), "board_president"),
    "system": SYSTEM_ACTOR,
}
STEPS = st.lists(
    st.tuples(
        st.sampled_from([*ACTION_ITEM.event_names, "identify"]),
        st.sampled_from(sorted(ACTORS)),
        st.sampled_from([None, "", "the district did it another way"]),
        st.sampled_from([{}, {"text": "again"}, {"due": "2019-02-01"}]),
        st.sampled_from([None, 0, 3]),  # how many days before today it is dated
    ),
    max_size=6,
)


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("action_properties")


def observe(engine: sa.Engine, item: int) -> tuple[tuple[Any, ...], str, list[Any]]:
    """The item's row, its deadline, timer and outbox rows, the audit's size; its state; its
    audit trail as (event, from, to)."""
    with transaction(engine, read_only=True) as session:
        connection = session.connection()

        def rows(sql: str) -> list[Any]:
            found = connection.execute(sa.text(sql), {"id": item, "s": f"action_item:{item}"})
            return [tuple(r) for r in found.all()]

        state = rows("SELECT state FROM action_item WHERE id = :id")[0][0]
        trail = rows("SELECT event, from_state, to_state FROM audit WHERE subject = :s ORDER BY id")
        everything = (
            rows("SELECT * FROM action_item WHERE id = :id"),
            rows("SELECT * FROM deadline WHERE process = 'action_item' ORDER BY id"),
            rows("SELECT * FROM timer WHERE process = 'action_item' ORDER BY id"),
            rows("SELECT count(*) FROM outbox"),
            rows("SELECT count(*) FROM audit"),
        )
        return everything, state, trail


@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=STEPS)  # fmt: skip
def test_random_action_item_events_stay_in_states_and_audit_each_applied_event_once(
    sqlite_template: Path, databases: Path,
    steps: list[tuple[str, str, str | None, dict[str, str], int | None]],
) -> None:  # fmt: skip
    """Any sequence: the state is always defined; applied events add one audit row, refused none."""
    path = databases / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(sqlite_template, path)
    store = make_engine(f"sqlite:///{path}")
    try:
        with transaction(store) as session:
            ctx = Context(now=START - timedelta(days=5))
            apply(session, Request("identify", ACTORS["director"], parent=TRAD), ctx)
            meeting = schedule_meeting(session, TRAD, START, ACTORS["liaison"], ctx)
        with transaction(store) as session:
            item = add_action(session, meeting, LIAISON, date(2019, 1, 17), "Send the plan",
                              ACTORS["liaison"], Context(now=START))  # fmt: skip
        for n, (name, role, note, data, back) in enumerate(steps, start=1):
            ctx = Context(now=START + timedelta(days=n))
            on = None if back is None else ctx.today - timedelta(days=back)
            before, before_state, before_trail = observe(store, item)
            try:
                with transaction(store) as session:
                    apply(session, Request(name, ACTORS[role], case=item, on=on, data=data,
                                           note=note, process=ACTION_ITEM.name), ctx)  # fmt: skip
            except PalError:
                assert observe(store, item)[0] == before, (name, role, note, data)
                continue
            everything, state, trail = observe(store, item)
            assert state in ACTION_ITEM.states
            assert trail[: len(before_trail)] == before_trail  # no audit record lost or changed
            assert [event for event, _, _ in trail[len(before_trail) :]] == [name]
            assert everything[-1][0][0] == before[-1][0][0] + 1
            assert before_state not in ACTION_ITEM.terminal
        _, state, trail = observe(store, item)
        assert trail[0] == (ACTION_ITEM.create.name, None, "open")
        for (_, _, reached), (_, left, _) in itertools.pairwise(trail):
            assert left == reached
        assert trail[-1][2] == state
    finally:
        store.dispose()
        path.unlink(missing_ok=True)
