"""A case of a process other than the agreement has deadlines, timers and notices of its own,
through the same engine path, rule data and sweep as the agreement's (storage.case_refs).

The process here is a fixture, registered for these tests only: a chore that belongs to an
agreement, is due ten days after it is started, reminded three days before, told overdue the day
after, and lapses by itself (a timed action of `system`) five days after.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import smtp_server as smtp
from helpers import DIRECTOR, LIAISON, TRAD, Pal, engine_for, execute, identify, person
from helpers import start_assessment as assess
from service_support import local, tick
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
)
from sqlmodel import Session

from config.rules import use_rules_dir
from states.context import Context
from states.process import Changes, EventSpec, Process
from states.registry import PROCESSES
from storage.case_refs import CaseRef
from storage.db import transaction
from workflow.actors import Actor
from workflow.cases import STORES
from workflow.engine import Request, apply

CHORES = Table(
    "chore",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("agreement_id", Integer, nullable=False),
    Column("state", String, nullable=False),
    Column("rules_version", String, nullable=False),
    Column("last_event_on", Date, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
)


def _belongs(case: Any, values: Mapping[str, Any], rules: Any, day: date) -> Changes:
    return Changes({"agreement_id": case.agreement_id})


CHORE = Process(
    name="chore",
    label="a chore",
    states=("open", "done", "lapsed"),
    terminal=frozenset({"done", "lapsed"}),
    events=(
        EventSpec("start_chore", "start a chore", dest="open", creates=True, effect=_belongs),
        EventSpec("finish_chore", "finish the chore", sources=("open",), dest="done"),
        EventSpec("lapse_chore", "let the chore lapse", sources=("open",), dest="lapsed"),
    ),
    state_labels={"open": "Open", "done": "Done", "lapsed": "Lapsed"},
    deadline_labels={"chore_due": "the chore"},
)

RULES = "chore-1"
RULES_TEXT = f"""
extends = "2017-10"
version = "{RULES}"

[processes.chore.permissions]
start_chore = ["liaison", "director"]
finish_chore = ["liaison", "director"]
lapse_chore = ["system"]

[[processes.chore.deadlines]]
kind = "chore_due"
opened_by = ["start_chore"]
met_by = ["finish_chore"]
days = 10

[[processes.chore.timers]]
deadline = "chore_due"
offsets_days = [-3]
notice = "deadline_reminder"
to = ["superintendent", "liaison"]

[[processes.chore.timers]]
deadline = "chore_due"
offsets_days = [1]
notice = "deadline_overdue"
to = ["liaison", "director"]

[[processes.chore.timers]]
deadline = "chore_due"
ladder = "chore_lapses"
offsets_days = [5]
action = "lapse_chore"
"""

# Started on a Monday: due Thursday 2019-01-17; reminded Monday 01-14, overdue Friday 01-18,
# lapsed Tuesday 01-22 (no weekend or holiday moves a notice).
STARTED = date(2019, 1, 7)
DUE = date(2019, 1, 17)


@dataclass(frozen=True)
class ChoreStore:
    """The fixture's cases: rows of `chore`, each belonging to an agreement."""

    table: Table = CHORES

    def load(self, session: Session, case_id: int) -> Any:
        found = session.execute(select(CHORES).where(CHORES.c.id == case_id)).first()
        assert found is not None
        return SimpleNamespace(**found._asdict())

    def case_of(self, session: Session, row: Any, reads: Any = frozenset(), day: Any = None) -> Any:
        return row

    def new_case(self, session: Session, parent: str) -> Any:
        return SimpleNamespace(agreement_id=int(parent))

    def insert(self, session: Session, values: Mapping[str, Any]) -> Any:
        row = {"version": 1, **values}
        inserted = session.execute(insert(CHORES).values(row))
        return SimpleNamespace(id=inserted.inserted_primary_key[0], **row)

    def add_child(self, *args: Any) -> None:
        raise AssertionError("a chore has no records beside it")

    def identity(self, case_id: int) -> Any:
        return ("chore", case_id)

    def subject(self, row: Any) -> tuple[str, int | None]:
        return f"chore:{row.id}", row.agreement_id

    def ref(self, row: Any) -> CaseRef:
        return CaseRef(row.agreement_id, "chore", row.id)

    def notice_facts(self, session: Session, row: Any) -> Mapping[str, Any]:
        return {"case": SimpleNamespace(about=f"chore number {row.id}")}


@pytest.fixture
def chores(mailed: Pal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pal]:
    """The seeded registry, mailing through the test SMTP server, with the chore process, its
    store, its table and its rule version: for this test only."""
    monkeypatch.setitem(PROCESSES, CHORE.name, CHORE)  # type: ignore[index]
    monkeypatch.setitem(STORES, CHORE.name, ChoreStore())  # type: ignore[index]
    folder = tmp_path / "chore_rules"
    folder.mkdir()
    (folder / f"{RULES}.toml").write_text(RULES_TEXT)
    mailed.env["PAL_RULES_DIR"] = str(folder)
    engine = engine_for(mailed.db_url)
    CHORES.create(engine)
    engine.dispose()
    use_rules_dir(folder)
    try:
        yield mailed
    finally:
        use_rules_dir(None)


def at(day: date) -> datetime:
    return datetime.fromisoformat(local(day))


BY_LIAISON = Actor(LIAISON, "liaison")


def fire(pal: Pal, event: str, *, case: int | None = None, parent: int | None = None,
         on: date = STARTED, by: Actor = BY_LIAISON) -> int:  # fmt: skip
    """Apply a chore event through the engine, as of `on`; returns the chore's id."""
    engine = engine_for(pal.db_url)
    request = Request(event, by, case=case, parent=None if parent is None else str(parent),
                      process=CHORE.name, on=on, rules_version=RULES)  # fmt: skip
    try:
        with transaction(engine) as session:
            row = apply(session, request, Context(now=at(on)))
            return int(row.id)
    finally:
        engine.dispose()


def agreement_with_liaison(pal: Pal) -> int:
    agreement = identify(pal, TRAD, on="2018-12-03")
    assess(pal, agreement, on="2018-12-04")
    return agreement


def sent(server: smtp.SmtpServer) -> list[tuple[str, str, str]]:
    """(the X-PAL-Key's case part, notice, recipient) of each message received, sorted."""
    found = []
    for item in server.received:
        recipients, message = item.rcpt_tos, item.message
        key = "".join(str(message["X-PAL-Key"]).split())
        _, case, notice, _ = key.split(":", 3)
        found.extend((case, notice, to) for to in recipients)
    return sorted(found)


def test_a_chore_is_reminded_told_overdue_and_lapsed_once_each(
    chores: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """The sweep queues the chore's reminder and overdue notice and fires its timed action, each
    once however often it ticks, addressed through the agreement the chore belongs to."""
    agreement = agreement_with_liaison(chores)
    chore = fire(chores, "start_chore", parent=agreement)
    smtp_server.received.clear()
    for day in (date(2019, 1, 14), date(2019, 1, 18), date(2019, 1, 22)):
        tick(chores, local(day))
        tick(chores, local(day))  # a second tick the same day adds nothing

    assert sent(smtp_server) == sorted([
        (f"chore{chore}", "deadline_reminder", person(TRAD, "superintendent")),
        (f"chore{chore}", "deadline_reminder", LIAISON),
        (f"chore{chore}", "deadline_overdue", LIAISON),
        (f"chore{chore}", "deadline_overdue", DIRECTOR),
    ])  # fmt: skip
    rows = execute(chores.db_url, "SELECT state FROM chore WHERE id = :id", id=chore)
    assert rows == [("lapsed",)]
    trail = execute(
        chores.db_url,
        "SELECT event, actor, effective_on FROM audit WHERE subject = :s ORDER BY id",
        s=f"chore:{chore}",
    )
    assert [(event, actor) for event, actor, _ in trail] == [
        ("start_chore", LIAISON),
        ("lapse_chore", "system"),
    ]
    assert str(trail[1][2]) == "2019-01-22"


def test_a_chore_finished_before_its_reminder_is_never_reminded(
    chores: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """Finishing the chore meets its deadline and stops its timers: nothing is sent or fired."""
    agreement = agreement_with_liaison(chores)
    chore = fire(chores, "start_chore", parent=agreement)
    fire(chores, "finish_chore", case=chore, on=date(2019, 1, 9))
    smtp_server.received.clear()
    tick(chores, local(date(2019, 1, 25)))

    assert smtp_server.received == []
    deadline = execute(chores.db_url, "SELECT status, process, case_id FROM deadline "
                       "WHERE process IS NOT NULL")  # fmt: skip
    assert deadline == [("met", "chore", chore)]
    timers = execute(chores.db_url, "SELECT DISTINCT status FROM timer WHERE case_id = :c",
                     c=chore)  # fmt: skip
    assert timers == [("cancelled",)]


def test_two_chores_of_one_agreement_each_get_their_own_notices_and_leave_its_own_alone(
    chores: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """Each chore's notices are keyed by the chore; the agreement's own deadlines are not the
    chores' (finishing one closes nothing of the agreement's, nor of the other chore's)."""
    agreement = agreement_with_liaison(chores)
    first = fire(chores, "start_chore", parent=agreement)
    second = fire(chores, "start_chore", parent=agreement)
    fire(chores, "finish_chore", case=first, on=date(2019, 1, 9))
    smtp_server.received.clear()
    tick(chores, local(date(2019, 1, 14)))

    assert sent(smtp_server) == sorted([
        (f"chore{second}", "deadline_reminder", person(TRAD, "superintendent")),
        (f"chore{second}", "deadline_reminder", LIAISON),
    ])  # fmt: skip
    own = execute(chores.db_url, "SELECT kind, status FROM deadline WHERE agreement_id = :a "
                  "AND process IS NULL", a=agreement)  # fmt: skip
    assert own == [("plan_due", "open")]
    shown = chores("agreement", "show", agreement, "--json").json()
    assert [d["kind"] for d in shown["deadlines"]] == ["plan_due"]
