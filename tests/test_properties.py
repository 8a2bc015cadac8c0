"""Property: random sequences of events, actors and data, applied through the engine to one
agreement, never leave the defined states, and every applied event writes exactly one audit
record (a recorded signature and the `sign` it may trigger are each their own event) while a
refused one writes nothing at all.
"""

from __future__ import annotations

import itertools
import shutil
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from helpers import DIRECTOR, LIAISON, PSA, STATE_SUPERINTENDENT, TRAD, person
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from states.agreement import AGREEMENT, STATES
from states.context import Context
from states.errors import PalError
from storage.db import make_engine, transaction
from workflow.actors import SYSTEM_ACTOR, Actor
from workflow.engine import Request, apply

RECORD_SIGNATURE = "record_signature"
START = datetime(2018, 3, 1, 17, 0, tzinfo=UTC)  # noon in Detroit
PARTIES = ("board", "superintendent", "mde", "authorizer", "mayor")
ROLES = ("director", "liaison", "state_superintendent", "superintendent", "authorizer", "system")


def actor(role: str, district: str) -> Actor:
    emails = {
        "director": DIRECTOR,
        "liaison": LIAISON,
        "state_superintendent": STATE_SUPERINTENDENT,
    }
    if role == "system":
        return SYSTEM_ACTOR
    return Actor(emails.get(role) or person(district, role), role)


DATA = st.sampled_from([
    {}, {"liaison": LIAISON}, {"liaison": DIRECTOR}, {"liaison": person(TRAD, "superintendent")},
    {"liaison": "nobody@mde.example"}, {"liaison": "not an email"}, {"option": "closure"},
    {"option": "reconstitution"}, {"option": "takeover"}, {"option": "closure", "why": "late"},
])  # fmt: skip
BACK_DAYS = st.sampled_from([None, None, 0, 1, 3])  # `on` = None (today) or today - n days

# Steps a user would plausibly take, so that long runs get past identified ...
START_ASSESSMENT = st.tuples(st.just("fire"), st.just("start_assessment"), st.just("liaison"),
                             st.just({"liaison": LIAISON}), BACK_DAYS)  # fmt: skip
SIGNATURE = st.tuples(st.just("sign"), st.sampled_from(PARTIES[:4]), st.just("liaison"),
                      st.just({}), BACK_DAYS)  # fmt: skip
PROGRESS = st.tuples(st.just("fire"), st.sampled_from(["open_rga", "determine", "open_review_24",
                                                       "complete_review_24", "open_review_36",
                                                       "exit", "renew"]),
                     st.just("director"), st.just({}), BACK_DAYS)  # fmt: skip
ESCALATE = st.tuples(st.just("fire"), st.just("escalate"), st.just("state_superintendent"),
                     st.sampled_from([{"option": "closure"}, {"option": "isd_intervention"}]),
                     BACK_DAYS)  # fmt: skip
# ... and anything at all.
ANYTHING = st.one_of(
    st.tuples(st.just("fire"), st.sampled_from([*AGREEMENT.event_names, "promote"]),
              st.sampled_from(ROLES), DATA, BACK_DAYS),
    st.tuples(st.just("sign"), st.sampled_from(PARTIES), st.sampled_from(ROLES), st.just({}),
              BACK_DAYS),
)  # fmt: skip


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Pick a strategy with probability proportional to its weight."""
    table = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(table) - 1).flatmap(lambda n: table[n])


STEPS = st.lists(
    weighted((8, START_ASSESSMENT), (30, SIGNATURE), (25, PROGRESS), (2, ESCALATE),
             (34, ANYTHING)),
    min_size=10, max_size=30,
)  # fmt: skip


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("property")


def observe(engine: sa.Engine, agreement: int) -> tuple[tuple[Any, ...], str, list[Any]]:
    """Everything a step may touch (the agreement row and every row hanging off it), the
    agreement's state, and its audit trail as (event, from, to)."""
    with transaction(engine, read_only=True) as session:
        connection = session.connection()

        def rows(sql: str) -> list[Any]:
            return [tuple(r) for r in connection.execute(sa.text(sql), {"id": agreement}).all()]

        agreement_rows = rows("SELECT * FROM agreement WHERE id = :id")
        state = rows("SELECT state FROM agreement WHERE id = :id")[0][0]
        trail = rows("SELECT event, from_state, to_state FROM audit WHERE agreement_id = :id "
                     "ORDER BY id")  # fmt: skip
        everything = (
            agreement_rows,
            rows("SELECT * FROM signature WHERE agreement_id = :id ORDER BY id"),
            rows("SELECT * FROM deadline WHERE agreement_id = :id ORDER BY id"),
            rows("SELECT * FROM timer WHERE agreement_id = :id ORDER BY id"),
            rows("SELECT count(*) FROM audit"),
            rows("SELECT count(*) FROM outbox"),
        )
        return everything, state, trail


@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(district=st.sampled_from([TRAD, PSA]), steps=STEPS)
def test_random_event_sequences_stay_in_states_and_audit_each_applied_event_once(
    sqlite_template: Path, databases: Path, district: str,
    steps: list[tuple[str, str, str, dict[str, str], int | None]],
) -> None:  # fmt: skip
    """Any sequence: the state is always defined; applied events add one audit row, refused none."""
    path = databases / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(sqlite_template, path)
    store = make_engine(f"sqlite:///{path}")
    try:
        with transaction(store) as session:
            agreement = apply(
                session,
                Request("identify", actor("director", district), parent=district,
                        rules_version="2017-10"),
                Context(now=START),
            ).id  # fmt: skip
        assert agreement is not None
        for n, (kind, name, role, data, back) in enumerate(steps, start=1):
            ctx = Context(now=START + timedelta(days=n))
            on: date | None = None if back is None else ctx.today - timedelta(days=back)
            before, before_state, before_trail = observe(store, agreement)
            try:
                with transaction(store) as session:
                    event_name, given = name, data
                    if kind == "sign":
                        event_name, given = RECORD_SIGNATURE, {"party": name}
                    request = Request(event_name, actor(role, district), case=agreement, on=on,
                                      data=given)  # fmt: skip
                    apply(session, request, ctx)
            except PalError:
                assert observe(store, agreement)[0] == before, (kind, name, role, data)
                continue
            _, state, trail = observe(store, agreement)
            assert state in STATES
            added = trail[len(before_trail) :]
            if kind == "fire" and name != RECORD_SIGNATURE:
                assert [event for event, _, _ in added] == [name]
            elif state != before_state:
                assert added == [(RECORD_SIGNATURE, before_state, before_state),
                                 ("sign", "needs_assessment", "signed")]  # fmt: skip
            else:
                assert added == [(RECORD_SIGNATURE, state, state)]
            assert added[-1][2] == state
        # The audit trail is one unbroken chain of states, from creation to now.
        _, state, trail = observe(store, agreement)
        assert trail[0] == ("identify", None, "identified")
        for (_, _, reached), (_, left, _) in itertools.pairwise(trail):
            assert left == reached
        assert trail[-1][2] == state
        event(f"ended in {state}")  # shown by --hypothesis-show-statistics
    finally:
        store.dispose()
        path.unlink(missing_ok=True)
