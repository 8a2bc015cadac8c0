"""The stores of the processes whose cases are rows of one Core table each: meetings and action
items (storage.meeting_tables). Each case belongs to an agreement: its deadlines, timers and
notices name it (storage.case_refs), and its audit trail is its own subject (`meeting:7`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, insert, select
from sqlmodel import Session

from config.meetings import meeting_rules
from notifications.meeting_invites import Invite
from notifications.recipients import Owner
from states.action_item import ACTION_ITEM
from states.agreement import TERMINAL
from states.context import Context
from states.errors import NotAllowedInState, NotFound
from states.labels import ZONE_WORDS
from states.meeting import KIND_LABELS, MEETING
from states.process import Child
from storage import tables
from storage.case_refs import CaseRef
from storage.meeting_tables import ACTION_ITEM as ACTION_ITEMS
from storage.meeting_tables import MEETING as MEETINGS
from workflow.actors import Actor


@dataclass(frozen=True)
class TableStore:
    """A process's cases as rows of `table`: `parent` makes a new case from what it belongs to
    (the engine's `Request.parent`), `facts` is what its notices tell of one."""

    table: Table
    process: str
    parent: Callable[[Session, str], Any]
    facts: Callable[[Session, Any], Mapping[str, Any]]

    def load(self, session: Session, case_id: int) -> Any:
        found = session.execute(select(self.table).where(self.table.c.id == case_id)).first()
        if found is None:
            raise NotFound(f"no {self.process.replace('_', ' ')} {case_id}")
        return SimpleNamespace(**found._asdict())

    def case_of(self, session: Session, row: Any, reads: Any = frozenset(), day: Any = None) -> Any:
        return row  # what its guards and effects look at is the row itself

    def new_case(self, session: Session, parent: str) -> Any:
        return self.parent(session, parent)

    def insert(self, session: Session, values: Mapping[str, Any]) -> Any:
        # Every column, as the row will read back: those the event does not set are empty.
        row = {**{c.name: None for c in self.table.c if c.name != "id"}, "version": 1, **values}
        inserted = session.execute(insert(self.table).values(row).returning(self.table.c.id))
        return SimpleNamespace(id=inserted.scalar_one(), **row)

    def add_child(self, session: Session, row: Any, child: Child, actor: Actor,
                  ctx: Context) -> None:  # fmt: skip
        raise ValueError(f"{self.process} has no records of kind {child.kind!r}")

    def identity(self, case_id: int) -> Any:
        return (self.process, case_id)  # never held by a session as an ORM object

    def subject(self, row: Any) -> tuple[str, int | None]:
        return f"{self.process}:{row.id}", row.agreement_id

    def ref(self, row: Any) -> CaseRef:
        return CaseRef(row.agreement_id, self.process, row.id)

    def notice_facts(self, session: Session, row: Any) -> Mapping[str, Any]:
        return self.facts(session, row)


def running_agreement(session: Session, code: str) -> int:
    """The id of district `code`'s running agreement (a meeting belongs to it), or refused."""
    district = session.execute(
        select(tables.DISTRICT.c.code).where(tables.DISTRICT.c.code == code)
    ).first()
    if district is None:
        raise NotFound(f"no district {code!r} on file")
    found = session.execute(
        select(tables.AGREEMENT.c.id).where(
            tables.AGREEMENT.c.district_code == code, tables.AGREEMENT.c.state.not_in(TERMINAL)
        )
    ).scalar()
    if found is None:
        raise NotAllowedInState(f"district {code} has no partnership agreement running")
    return int(found)


def _new_meeting(session: Session, parent: str) -> Any:
    """`parent`: the district's code, or `CODE/SERIES` for a meeting of a series."""
    code, _, series = parent.partition("/")
    return SimpleNamespace(agreement_id=running_agreement(session, code), district_code=code,
                           series_id=int(series) if series else None)  # fmt: skip


def _meeting_facts(session: Session, row: Any) -> Mapping[str, Any]:
    kind = KIND_LABELS.get(row.kind, row.kind)
    about = SimpleNamespace(about=f"the {kind} of {_when(row)}")
    meeting = SimpleNamespace(label=kind, when=_when(row), place=row.place, agenda=row.agenda,
                              reason=row.reason, day=row.due_on)  # fmt: skip
    invite = Invite(
        meeting_id=row.id, agreement_id=row.agreement_id, starts_at=row.starts_at,
        summary=kind[0].upper() + kind[1:], location=row.place, description=row.agenda,
        sequence=row.version - 1, cancelled=row.state == "cancelled",
    )  # fmt: skip
    return {"case": about, "meeting": meeting, "invite": invite,
            "attendee_roles": meeting_rules().roles(row.kind)}  # fmt: skip


def _when(row: Any) -> str:
    """`Tuesday, March 10, 2026 at 10:00 a.m. Eastern Time`: the clock the meeting was given on,
    in the words a district reads (not the zone's database name)."""
    local = datetime.fromisoformat(row.at_local).replace(tzinfo=ZoneInfo(row.zone))
    clock = f"{local.hour % 12 or 12}:{local.minute:02d} {'a.m.' if local.hour < 12 else 'p.m.'}"
    zone = ZONE_WORDS.get(row.zone) or local.tzname() or row.zone
    return f"{local:%A, %B} {local.day}, {local.year} at {clock} {zone}"


def _new_action(session: Session, parent: str) -> Any:
    """`parent`: the meeting the item is raised at, which must not have been cancelled."""
    meeting = MEETING_STORE.load(session, int(parent))
    if meeting.state == "cancelled":
        raise NotAllowedInState(f"meeting {meeting.id} was cancelled: raise the item elsewhere")
    return SimpleNamespace(agreement_id=meeting.agreement_id, meeting_id=meeting.id,
                           district_code=meeting.district_code)  # fmt: skip


def _action_facts(session: Session, row: Any) -> Mapping[str, Any]:
    return {"case": SimpleNamespace(about=f"“{row.text}”"),
            "owner": Owner(row.owner_email, row.owner_role)}  # fmt: skip


MEETING_STORE = TableStore(MEETINGS, MEETING.name, _new_meeting, _meeting_facts)
ACTION_ITEM_STORE = TableStore(ACTION_ITEMS, ACTION_ITEM.name, _new_action, _action_facts)
