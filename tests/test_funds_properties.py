"""Properties of fund requests: amounts add up to the cent, whatever they are; and random
sequences of the funds process's events, actors and data never leave its states, audit each
applied event once, and change nothing when refused."""

from __future__ import annotations

import itertools
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from helpers import DIRECTOR, LIAISON, STATE_SUPERINTENDENT, TRAD
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from states.context import Context
from states.errors import PalError
from states.funds import STATE_LABELS
from states.money import dollars, from_cents, parse_dollars, to_cents
from states.registry import process
from storage.db import make_engine, transaction
from workflow.actors import Actor
from workflow.engine import Request, apply
from workflow.funds_views import request_view
from workflow.registry import add_school

FUNDS = process("funds")
START = datetime(2025, 10, 6, 17, 0, tzinfo=UTC)
ACTORS = {
    "director": Actor(DIRECTOR, "director"),
    "liaison": Actor(LIAISON, "liaison"),
    "state_superintendent": Actor(STATE_SUPERINTENDENT, "state_superintendent"),
}
CENTS = st.integers(min_value=0, max_value=10_000_000_000)  # up to $100,000,000.00
SETTINGS = settings(deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])  # fmt: skip


@given(cents=CENTS)
@settings(max_examples=300, deadline=None)
def test_an_amount_is_written_read_and_stored_exactly(cents: int) -> None:
    """Dollars and cents go to text and back, and to cents and back, without losing a cent."""
    amount = from_cents(cents)
    assert parse_dollars(str(amount)) == amount
    assert parse_dollars(dollars(amount).removeprefix("$")) == amount
    assert to_cents(amount) == cents


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("funds-property")


@contextmanager
def planned(sqlite_template: Path, folder: Path) -> Iterator[tuple[sa.Engine, int, int]]:
    """A fresh copy of the seeded registry with an agreement and its one benchmark."""
    path = folder / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    ctx = Context(now=START)
    with transaction(engine) as session:
        add_school(session, code="TRAD-E", name="E", district_code=TRAD, csi=False,
                   alternative=False, high_school=False, actor=ACTORS["director"],
                   ctx=ctx)  # fmt: skip
        agreement = apply(session, Request("identify", ACTORS["director"], parent=TRAD), ctx).id
        data = {"school": "TRAD-E", "kind": "on_track", "baseline": "40", "target_18": "50",
                "target_36": "60"}  # fmt: skip
        apply(session, Request("add_benchmark", ACTORS["liaison"], case=agreement, data=data), ctx)
        benchmark = session.execute(sa.text("SELECT max(id) FROM benchmark")).scalar_one()
    try:
        yield engine, agreement, benchmark
    finally:
        engine.dispose()
        path.unlink(missing_ok=True)


def _new_request(session: Any, agreement: int, benchmark: int, ctx: Context) -> int:
    data = {"year": "2025-26", "rationale": "why", "serves": str(benchmark),
            "priorities": "literacy"}  # fmt: skip
    request = Request(FUNDS.commands["funds request"], ACTORS["liaison"], parent=str(agreement),
                      process="funds", data=data)  # fmt: skip
    return int(apply(session, request, ctx).id)


@settings(SETTINGS, max_examples=25)
@given(amounts=st.lists(CENTS, min_size=1, max_size=40))
def test_a_requests_total_is_the_exact_sum_of_its_activities(
    sqlite_template: Path, folder: Path, amounts: list[int]
) -> None:
    """Many random amounts of dollars and cents add up to their Decimal sum, to the cent."""
    ctx = Context(now=START)
    with planned(sqlite_template, folder) as (engine, agreement, benchmark), transaction(
        engine
    ) as session:
        request = _new_request(session, agreement, benchmark, ctx)
        for cents in amounts:
            data = {"category": "pd_teachers", "amount": str(from_cents(cents)), "metrics": "m"}
            apply(session, Request(FUNDS.commands["funds activity"], ACTORS["liaison"],
                                   case=request, process="funds", data=data), ctx)  # fmt: skip
        view = request_view(session, request, ctx.today)
    assert Decimal(view["total"]) == sum((from_cents(c) for c in amounts), Decimal("0.00"))
    assert view["total"] == str(from_cents(sum(amounts)))


ADVANCE = "advance"  # what staff would do next, worked out when applied
# Mostly steps forward, so sequences reach every state; the rest anything at all.
COMMANDS = st.one_of(st.just(ADVANCE), st.just(ADVANCE), st.sampled_from(sorted(FUNDS.commands)))
_NEXT = {
    "submitted": ("funds review", "liaison"),
    "under_review": ("funds approve", "director"),
    "approved": ("funds fund", "director"),
    "funded": ("funds report", "liaison"),
}


def _advance(
    engine: sa.Engine, request: int, state: str, note: str | None
) -> tuple[str, str, dict[str, str]]:
    """The command that takes the request further (under review: with a note, a return), who
    gives it and its data."""
    with engine.connect() as connection:
        complete = connection.execute(sa.text(
            "SELECT count(*) FROM funds_activity WHERE request_id = :id AND amount_cents > 0 "
            "AND metrics <> ''"), {"id": request}).scalar_one()  # fmt: skip
    if state in ("draft", "returned"):
        if not complete:
            return "funds activity", "liaison", {"category": "pd_teachers", "amount": "1000.00",
                                                 "metrics": "observed"}  # fmt: skip
        return "funds submit", "liaison", {}
    if state == "under_review" and note:
        return "funds return", "director", {}
    command, role = _NEXT.get(state, ("funds deny", "director"))
    return command, role, {"effectiveness": "met"} if command == "funds report" else {}
STEP = st.tuples(
    COMMANDS,
    st.sampled_from(sorted(ACTORS)),
    st.sampled_from([None, "a reason, in writing"]),
    st.sampled_from(["1.00", "0", "3000000.00", "0.015", "-1"]),
    st.sampled_from(["", "metrics"]),
)


def _observe(engine: sa.Engine, request: int) -> tuple[Any, str, list[tuple[Any, ...]]]:
    """Every row a step may touch, the request's state and its audit trail (event, from, to)."""
    with engine.connect() as connection:
        def rows(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in connection.execute(sa.text(sql), {"id": request}).all()]

        everything = (
            rows("SELECT * FROM funds_request ORDER BY id"),
            rows("SELECT * FROM funds_activity ORDER BY id"),
            rows("SELECT * FROM funds_budget ORDER BY year"),
            rows("SELECT count(*) FROM audit"),
            # the agreement's own deadlines and notices (migration 0017), not the request's
            rows("SELECT * FROM deadline WHERE process IS NULL"),
            rows("SELECT count(*) FROM outbox WHERE process IS NULL"),
        )
        state = rows("SELECT state FROM funds_request WHERE id = :id")[0][0]
        trail = rows("SELECT event, from_state, to_state FROM audit WHERE subject = "
                     "'funds_request:' || :id ORDER BY id")  # fmt: skip
    return everything, state, trail


@settings(SETTINGS, max_examples=50)
@given(steps=st.lists(STEP, max_size=25))
def test_random_event_sequences_stay_in_states_and_audit_each_applied_event_once(
    sqlite_template: Path, folder: Path, steps: list[tuple[str, str, str | None, str, str]]
) -> None:
    """Any sequence: the state is defined; applied events add one audit row, refused none."""
    with planned(sqlite_template, folder) as store:
        _run(store, steps)


def _run(store: tuple[sa.Engine, int, int], steps: list[tuple[str, str, str | None, str, str]]
         ) -> None:  # fmt: skip
    engine, agreement, benchmark = store
    with transaction(engine) as session:
        request = _new_request(session, agreement, benchmark, Context(now=START))
    for n, (drawn, drawn_role, note, amount, text) in enumerate(steps, start=1):
        before, before_state, before_trail = _observe(engine, request)
        command, role = drawn, drawn_role
        given_data = {"category": "pd_leaders", "amount": amount, "metrics": text,
                      "effectiveness": text}  # fmt: skip
        if command == ADVANCE:
            command, role, given_data = _advance(engine, request, before_state, note)
        spec = FUNDS.event(FUNDS.commands[command])
        data = {k: v for k, v in given_data.items() if spec.field(k) is not None}
        try:
            with transaction(engine) as session:
                apply(session, Request(spec.name, ACTORS[role], case=request, process="funds",
                                       note=note, data=data),
                      Context(now=START + timedelta(days=n)))  # fmt: skip
        except PalError:
            assert _observe(engine, request)[0] == before, (command, role, data)
            continue
        everything, state, trail = _observe(engine, request)
        assert state in STATE_LABELS
        assert trail[: len(before_trail)] == before_trail  # no audit record lost or changed
        assert [entry[0] for entry in trail[len(before_trail):]] == [spec.name]
        assert everything[3][0][0] == before[3][0][0] + 1
        # A request's steps touch its own deadlines and notices, never the agreement's.
        assert everything[4:] == before[4:]
        event(f"applied {spec.name}")
    _, state, trail = _observe(engine, request)
    assert trail[0] == ("funds_enter", None, "draft")
    for (_, _, reached), (_, left, _) in itertools.pairwise(trail):
        assert left == reached
    assert trail[-1][2] == state
    event(f"ended in {state}")
