"""Property: random sequences of events, actors and data, applied through the engine to one
agreement, never leave the defined states, and every applied event writes exactly one audit
record (a recorded signature and the `sign` it may trigger are each their own event) while a
refused one writes nothing at all; no audit record is ever lost or changed.

Most steps are "advance" (what staff would do next: the assessment, each signature, each review
step, the determination, the next review, the outcome), mixed with benchmarks, measurements,
steps out of order, overrides with and without reasons, notes or none, and anything at all.
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

from config.rules import load_rules
from states.agreement import AGREEMENT, REVIEW_STATES, STATES
from states.context import Context
from states.errors import PalError
from storage.db import make_engine, transaction
from workflow.actors import SYSTEM_ACTOR, Actor
from workflow.engine import Request, apply
from workflow.registry import add_school

RECORD_SIGNATURE = "record_signature"
ADVANCE = "advance"  # the event that takes the agreement further, worked out when applied
START = datetime(2018, 3, 1, 17, 0, tzinfo=UTC)  # noon in Detroit
PARTIES = ("board", "superintendent", "mde", "authorizer", "mayor")
ROLES = ("director", "liaison", "state_superintendent", "superintendent", "authorizer", "system")
# Each district's schools: {A} a high school, {B} not; data names them by letter.
SCHOOLS = {TRAD: {"A": "TRAD-A", "B": "TRAD-B"}, PSA: {"A": "PSA1-A", "B": "PSA1-B"}}
REASON = "agreed at the structured conference"
NOTES = st.sampled_from([None, "the reason, in writing"])


def actor(role: str, district: str) -> Actor:
    emails = {
        "director": DIRECTOR,
        "liaison": LIAISON,
        "state_superintendent": STATE_SUPERINTENDENT,
    }
    if role == "system":
        return SYSTEM_ACTOR
    return Actor(emails.get(role) or person(district, role), role)


BENCHMARKS = st.sampled_from([
    {"school": "{A}", "kind": "on_track", "baseline": "40", "target_18": "50", "target_36": "60"},
    {"school": "{A}", "kind": "attendance_rate", "baseline": "12", "target_18": "9",
     "target_36": "6", "direction": "lower"},
    {"school": "{A}", "kind": "graduation_rate", "baseline": "70", "target_18": "75",
     "target_36": "80"},
    {"school": "{B}", "kind": "graduation_rate", "baseline": "70", "target_18": "75",
     "target_36": "80"},
    {"school": "{B}", "kind": "local", "label": "reading", "baseline": "1", "target_18": "2",
     "target_36": "3"},
    {"school": "{B}", "kind": "local", "baseline": "1", "target_18": "2", "target_36": "3"},
    {"school": "{B}", "kind": "proficiency_or_growth", "baseline": "x", "target_18": "2",
     "target_36": "3"},
    {"school": "NOPE", "kind": "on_track", "baseline": "1", "target_18": "2", "target_36": "3"},
])  # fmt: skip
MEASUREMENTS = st.builds(
    lambda benchmark, value, on: {"benchmark": benchmark, "value": value, "on": on},
    st.sampled_from(["1", "1", "2", "2", "3", "99", "x"]),
    st.sampled_from(["0", "5", "45", "55", "65", "eleven"]),
    st.sampled_from(["2018-02-01", "2018-03-01", "2099-01-01", "yesterday"]),
)
OVERRIDES = st.sampled_from([
    {}, {}, {"override": "{A}=on_track", "reason": f"{{A}}={REASON}"},
    {"override": "{B}=off_track_limited"}, {"override": "{A}=sideways", "reason": "{A}=why"},
    {"override": "NOPE=on_track", "reason": "NOPE=why"}, {"reason": f"{{B}}={REASON}"},
])  # fmt: skip
DATA = st.sampled_from([
    {}, {"liaison": LIAISON}, {"liaison": DIRECTOR}, {"liaison": person(TRAD, "superintendent")},
    {"liaison": "nobody@mde.example"}, {"liaison": "not an email"}, {"option": "closure"},
    {"option": "reconstitution"}, {"option": "takeover"}, {"option": "closure", "why": "late"},
    {"option": "isd_intervention,increased_supports"}, {"evidence": "binder 3"},
    {"schools": "{A},{B}"}, {"schools": "NOPE"},
])  # fmt: skip
BACK_DAYS = st.sampled_from([None, None, 0, 1, 3])  # `on` = None (today) or today - n days

# Steps a user would plausibly take, so that long runs get past identified and into reviews ...
START_ASSESSMENT = st.tuples(st.just("fire"), st.just("start_assessment"), st.just("liaison"),
                             st.just({"liaison": LIAISON}), BACK_DAYS, st.none())  # fmt: skip
SIGNATURE = st.tuples(st.just("sign"), st.sampled_from(PARTIES[:4]), st.just("liaison"),
                      st.just({}), BACK_DAYS, st.none())  # fmt: skip
BENCHMARK = st.tuples(st.just("fire"), st.just("add_benchmark"),
                      st.sampled_from(["liaison", "director"]), BENCHMARKS, BACK_DAYS,
                      st.none())  # fmt: skip
MEASURE = st.tuples(st.just("fire"), st.just("record_measurement"), st.just("liaison"),
                    MEASUREMENTS, BACK_DAYS, st.none())  # fmt: skip
STEP = st.tuples(st.just("fire"), st.sampled_from(list(AGREEMENT.steps.values())),
                 st.sampled_from(["liaison", "director"]),
                 st.sampled_from([{}, {"evidence": "binder 3"}]), BACK_DAYS, st.none())  # fmt: skip
FURTHER = st.tuples(st.just(ADVANCE), st.just(ADVANCE), st.just(""), st.just({}), BACK_DAYS,
                    NOTES)  # fmt: skip
DETERMINE = st.tuples(st.just("fire"), st.just("determine"), st.just("director"), OVERRIDES,
                      BACK_DAYS, st.none())  # fmt: skip
PROGRESS = st.tuples(st.just("fire"), st.sampled_from(["open_rga", "open_review_24",
                                                       "open_review_36", "exit", "renew"]),
                     st.just("director"), st.just({}), BACK_DAYS, NOTES)  # fmt: skip
ESCALATE = st.tuples(st.just("fire"), st.just("escalate"), st.just("state_superintendent"),
                     st.sampled_from([{"option": "closure"},
                                      {"option": "isd_intervention,increased_supports"}]),
                     BACK_DAYS, NOTES)  # fmt: skip
# ... and anything at all.
ANYTHING = st.one_of(
    st.tuples(st.just("fire"), st.sampled_from([*AGREEMENT.event_names, "promote"]),
              st.sampled_from(ROLES), DATA | BENCHMARKS | MEASUREMENTS | OVERRIDES, BACK_DAYS,
              NOTES),
    st.tuples(st.just("sign"), st.sampled_from(PARTIES), st.sampled_from(ROLES), st.just({}),
              BACK_DAYS, st.none()),
)  # fmt: skip


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Pick a strategy with probability proportional to its weight."""
    table = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(table).flatmap(lambda strategy: strategy)


STEPS = st.lists(
    weighted((60, FURTHER), (3, START_ASSESSMENT), (6, SIGNATURE), (12, BENCHMARK), (10, MEASURE),
             (6, STEP), (6, DETERMINE), (6, PROGRESS), (1, ESCALATE), (16, ANYTHING)),
    min_size=20, max_size=60,
)  # fmt: skip


def advance(engine: sa.Engine, agreement: int, district: str) -> tuple[str, str, dict[str, str]]:
    """The event (with its actor's role and data) that takes the agreement one step further along
    its lifecycle, as staff would: so that runs reach the reviews and their outcomes."""
    with transaction(engine, read_only=True) as session:
        connection = session.connection()

        def scalars(sql: str, **params: Any) -> list[Any]:
            return list(connection.execute(sa.text(sql), {"id": agreement, **params}).scalars())

        state = scalars("SELECT state FROM agreement WHERE id = :id")[0]
        signed = set(scalars("SELECT party FROM signature WHERE agreement_id = :id"))
        reviews = connection.execute(
            sa.text("SELECT id, kind, determined_on FROM review WHERE agreement_id = :id "
                    "ORDER BY id DESC"), {"id": agreement}
        ).all()  # fmt: skip
        done = set(scalars("SELECT step FROM review_step WHERE review_id = :r",
                           r=reviews[0][0])) if reviews else set()  # fmt: skip
    if state == "identified":
        return "start_assessment", "liaison", {"liaison": LIAISON}
    if state == "needs_assessment":
        parties = PARTIES[:4] if district == PSA else PARTIES[:3]
        missing = [party for party in parties if party not in signed]
        return RECORD_SIGNATURE, "liaison", {"party": (missing or parties)[0]}
    if state == "signed":
        return "open_rga", "director", {}
    if state == "implementing":
        later = "open_review_36" if any(r[1] == "review_24" for r in reviews) else "open_review_24"
        return later, "director", {}
    if state in REVIEW_STATES and reviews:
        waiting = [s for s in load_rules("2017-10").review(state).steps if s not in done]
        if waiting:
            return AGREEMENT.steps[waiting[0]], "liaison", {}
        if reviews[0][2] is None:
            return "determine", "director", {}
        return ("exit" if district == PSA else "renew"), "director", {}
    return "escalate", "state_superintendent", {"option": "closure"}


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
        review = "review_id IN (SELECT id FROM review WHERE agreement_id = :id)"
        everything = (
            agreement_rows,
            rows("SELECT * FROM signature WHERE agreement_id = :id ORDER BY id"),
            rows("SELECT * FROM deadline WHERE agreement_id = :id ORDER BY id"),
            rows("SELECT * FROM timer WHERE agreement_id = :id ORDER BY id"),
            rows("SELECT * FROM agreement_school WHERE agreement_id = :id ORDER BY school_code"),
            rows("SELECT * FROM benchmark WHERE agreement_id = :id ORDER BY id"),
            rows("SELECT * FROM measurement WHERE benchmark_id IN "
                 "(SELECT id FROM benchmark WHERE agreement_id = :id) ORDER BY id"),
            rows("SELECT * FROM review WHERE agreement_id = :id ORDER BY id"),
            rows(f"SELECT * FROM review_step WHERE {review} ORDER BY id"),
            rows(f"SELECT * FROM determination WHERE {review} ORDER BY id"),
            rows("SELECT count(*) FROM audit"),
            rows("SELECT count(*) FROM outbox"),
        )  # fmt: skip
        return everything, state, trail


@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(district=st.sampled_from([TRAD, PSA]), covered=st.sampled_from(["", "{A}", "{A},{B}"]),
       steps=STEPS)  # fmt: skip
def test_random_event_sequences_stay_in_states_and_audit_each_applied_event_once(
    sqlite_template: Path, databases: Path, district: str, covered: str,
    steps: list[tuple[str, str, str, dict[str, str], int | None, str | None]],
) -> None:  # fmt: skip
    """Any sequence: the state is always defined; applied events add one audit row, refused none."""
    path = databases / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(sqlite_template, path)
    store = make_engine(f"sqlite:///{path}")
    schools = SCHOOLS[district]

    def named(data: dict[str, str]) -> dict[str, str]:
        return {key: value.format(**schools) for key, value in data.items()}

    try:
        with transaction(store) as session:
            for letter, code in schools.items():
                add_school(session, code=code, name=f"School {letter}", district_code=district,
                           csi=False, alternative=False, high_school=letter == "A",
                           actor=actor("director", district), ctx=Context(now=START))  # fmt: skip
            agreement = apply(
                session,
                Request("identify", actor("director", district), parent=district,
                        rules_version="2017-10",
                        data=named({"schools": covered} if covered else {})),
                Context(now=START),
            ).id  # fmt: skip
        assert agreement is not None
        for n, (kind, name, role, data, back, note) in enumerate(steps, start=1):
            ctx = Context(now=START + timedelta(days=n))
            on: date | None = None if back is None else ctx.today - timedelta(days=back)
            before, before_state, before_trail = observe(store, agreement)
            event_name, given, who = name, named(data), role
            if kind == "sign":
                event_name, given = RECORD_SIGNATURE, {"party": name}
            elif kind == ADVANCE:
                event_name, who, given = advance(store, agreement, district)
            try:
                with transaction(store) as session:
                    request = Request(event_name, actor(who, district), case=agreement, on=on,
                                      data=given, note=note)  # fmt: skip
                    apply(session, request, ctx)
            except PalError:
                assert observe(store, agreement)[0] == before, (kind, event_name, who, data)
                continue
            everything, state, trail = observe(store, agreement)
            assert state in STATES
            assert trail[: len(before_trail)] == before_trail  # no audit record lost or changed
            added = trail[len(before_trail) :]
            audited = everything[-2][0][0] - before[-2][0][0]
            assert audited == len(added) + (event_name == "renew")  # the renewal's own record
            if state in REVIEW_STATES:  # a review state always has its review
                assert everything[7][-1][2] == state
            event(f"applied {event_name}")
            if event_name != RECORD_SIGNATURE:
                assert [event for event, _, _ in added] == [event_name]
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
