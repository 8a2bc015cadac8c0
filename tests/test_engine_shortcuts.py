"""The engine's short cuts give the answers of the long way: where an event leads (the Machine),
loading a case (session.get), meeting several deadline kinds at once (one UPDATE)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from helpers import DETROIT, DIRECTOR, Pal, signed_agreement

from config.rules import load_rules
from states.context import Context
from states.errors import NotAllowedInState, NotFound
from states.registry import process
from storage.db import make_engine, transaction
from storage.models import Agreement
from workflow import deadlines
from workflow.actors import Actor
from workflow.cases import STORES
from workflow.engine import Request, apply


class _RollBack(Exception):
    pass


@pytest.fixture
def store(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def test_destination_and_allows_are_the_machines_answer_for_every_state_and_event() -> None:
    definition = process("agreement")
    for spec in definition.events:
        if spec.creates:
            continue
        for state in definition.states:
            allowed = bool(definition.machine.get_transitions(trigger=spec.name, source=state))
            assert definition.allows(state, spec.name) == allowed
            if allowed:
                stays = spec.dest is None or state in spec.stays_in
                assert definition.destination(state, spec.name) == (state if stays else spec.dest)
            else:
                with pytest.raises(NotAllowedInState, match="is not allowed in state"):
                    definition.destination(state, spec.name)


def test_load_reads_the_row_as_the_session_would_see_it_and_refuses_an_unknown_id(
    seeded: Pal, store: sa.Engine
) -> None:
    agreement = signed_agreement(seeded)
    cases = STORES["agreement"]

    def load_then_roll_back() -> None:
        with transaction(store) as session:
            with pytest.raises(NotFound, match=f"no agreement {agreement + 1000}"):
                cases.load(session, agreement + 1000)
            row = cases.load(session, agreement)
            assert (row.id, row.state, row.version) == (agreement, "signed", 6)
            held = session.get(Agreement, agreement)
            assert held is not None
            held.cohort = "changed, not flushed"
            assert cases.load(session, agreement).cohort == "changed, not flushed"
            raise _RollBack

    with pytest.raises(_RollBack):
        load_then_roll_back()


def test_an_event_brings_an_orm_object_the_callers_session_holds_up_to_date(
    seeded: Pal, store: sa.Engine
) -> None:
    agreement = signed_agreement(seeded)
    with transaction(store) as session:
        held = session.get(Agreement, agreement)
        assert held is not None
        request = Request("open_rga", Actor(DIRECTOR, "director"), case=agreement)
        now = datetime(2020, 1, 2, 15, tzinfo=UTC)
        row = apply(session, request, Context(now=now, tz=DETROIT))
        assert (held.state, held.version) == (row.state, row.version) == ("rga", 7)
        assert not session.dirty  # brought up to date as stored, nothing left to write


def test_an_event_meeting_several_deadline_kinds_meets_each_open_one_and_stops_its_timers(
    seeded: Pal, store: sa.Engine
) -> None:
    agreement = signed_agreement(seeded)  # plan_due met; rga_due, review_24_due, review_36_due open
    shipped = load_rules("2017-10")
    rules = dataclasses.replace(
        shipped,
        deadlines=tuple(
            dataclasses.replace(rule, met_by=rule.met_by | {"open_rga"})
            for rule in shipped.deadlines
        ),
    )
    with transaction(store) as session:
        row = STORES["agreement"].load(session, agreement)
        closed = deadlines.close_for_event(
            session, row, rules, "open_rga", date(2020, 1, 2), final=False
        )
    assert closed == 3  # plan_due was met already
    with store.connect() as connection:
        found = connection.execute(
            sa.text("SELECT kind, status, closed_on FROM deadline WHERE agreement_id = :a"),
            {"a": agreement},
        ).all()
        timers = connection.execute(
            sa.text(
                "SELECT DISTINCT d.kind, t.status, t.outcome FROM timer t"
                " JOIN deadline d ON d.id = t.deadline_id WHERE t.agreement_id = :a"
            ),
            {"a": agreement},
        ).all()
    statuses = {kind: (status, str(closed_on)) for kind, status, closed_on in found}
    assert statuses["rga_due"] == ("met_late", "2020-01-02")  # due 2019-11-01
    assert statuses["review_24_due"] == ("met", "2020-01-02")  # due 2020-05-01
    assert statuses["review_36_due"] == ("met", "2020-01-02")  # due 2021-05-01
    assert statuses["plan_due"][0] == "met"
    assert {(kind, status, outcome) for kind, status, outcome in timers if kind != "plan_due"} == {
        ("rga_due", "cancelled", "deadline closed by open_rga"),
        ("review_24_due", "cancelled", "deadline closed by open_rga"),
        ("review_36_due", "cancelled", "deadline closed by open_rga"),
    }
