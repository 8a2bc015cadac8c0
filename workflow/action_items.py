"""Action items: raised at a meeting with an owner, a due date and text; done or dropped.

Each step is an event of the `action_item` process (states.action_item) applied by the engine:
its audit row, its deadline and the owner's reminders commit with it. The owner is a person on
file holding a role in the meeting's district, or at the department; the item remembers that
role, so whoever holds it after them is reminded instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session

from states.action_item import ACTION_ITEM
from states.context import Context
from states.errors import BadInput, NotFound
from storage import tables
from storage.meeting_tables import ACTION_ITEM as ITEMS
from storage.meeting_tables import MEETING as MEETINGS
from storage.roles import held_on
from workflow.actors import Actor, normalize_email
from workflow.case_tables import MEETING_STORE
from workflow.engine import Request, apply
from workflow.text import TEXT_MAX, check_text


def add_action(
    session: Session, meeting: int, owner: str, due: date, text: str, actor: Actor, ctx: Context
) -> int:
    """Raise an action item at `meeting`, owned by `owner`, due on `due`; returns its id."""
    email = normalize_email(owner)
    district = MEETING_STORE.load(session, meeting).district_code
    data = {"owner": email, "owner_role": owner_role(session, email, district, ctx.today),
            "due": due.isoformat(), "text": check_text(text, "--text", limit=TEXT_MAX)}  # fmt: skip
    request = Request(ACTION_ITEM.commands["add"], actor, parent=str(meeting),
                      process=ACTION_ITEM.name, data=data)  # fmt: skip
    return int(apply(session, request, ctx).id)


def owner_role(session: Session, email: str, district: str, day: date) -> str:
    """The role `email` holds on `day` in `district` (or at the department): what makes them
    the owner, and what their successor takes over."""
    held = session.execute(
        select(tables.ASSIGNMENT.c.role, tables.ASSIGNMENT.c.district_code)
        .where(tables.ASSIGNMENT.c.email == email, held_on(day),
               or_(tables.ASSIGNMENT.c.district_code == district,
                   tables.ASSIGNMENT.c.district_code.is_(None)))
        .order_by(tables.ASSIGNMENT.c.district_code.is_(None), tables.ASSIGNMENT.c.id)
    ).first()  # fmt: skip
    if held is None:
        if session.execute(select(tables.PERSON.c.email).where(
                tables.PERSON.c.email == email)).first() is None:  # fmt: skip
            raise NotFound(f"no person {email} on file")
        raise BadInput(f"{email} holds no role in district {district} or at the department today")
    return str(held.role)


def close_action(
    session: Session, item: int, how: str, actor: Actor, ctx: Context, note: str | None = None
) -> None:
    """Record `item` done (`how` "done") or dropped ("drop", which needs the reason `note`)."""
    if how == "drop" and not (note and note.strip()):
        raise BadInput("dropping an action item needs the reason: give --note")
    request = Request(ACTION_ITEM.commands[how], actor, case=item, process=ACTION_ITEM.name,
                      note=note)  # fmt: skip
    apply(session, request, ctx)


def list_actions(
    session: Session,
    today: date,
    *,
    district: str | None = None,
    owner: str | None = None,
    liaison: str | None = None,
    agreement: int | None = None,
    only_open: bool = False,
    overdue: bool = False,
) -> list[dict[str, Any]]:
    """The action items (of `district`, of `owner`, of the districts `liaison` is the liaison
    of; open ones, overdue ones), due first."""
    query = (
        select(ITEMS, MEETINGS.c.district_code, MEETINGS.c.at_local)
        .join(MEETINGS, MEETINGS.c.id == ITEMS.c.meeting_id)
        .join(tables.AGREEMENT, tables.AGREEMENT.c.id == ITEMS.c.agreement_id)
        .order_by(ITEMS.c.due_on, ITEMS.c.id)
    )
    if district is not None:
        query = query.where(MEETINGS.c.district_code == district)
    if liaison is not None:
        query = query.where(tables.AGREEMENT.c.liaison_email == normalize_email(liaison))
    if agreement is not None:
        query = query.where(ITEMS.c.agreement_id == agreement)
    if only_open or overdue:
        query = query.where(ITEMS.c.state == "open")
    if overdue:
        query = query.where(ITEMS.c.due_on < today)
    rows = session.execute(query).all()
    owners = current_owners(session, rows, today)
    wanted = normalize_email(owner) if owner is not None else None
    return [action_view(row, today, owners[row.id]) for row in rows
            if wanted is None or owners[row.id] == wanted]  # fmt: skip


def current_owners(session: Session, rows: Sequence[Any], day: date) -> dict[int, str]:
    """Who owns each item on `day`, as its notices are addressed (notifications.recipients
    `Owner`): the owner named while they hold the role they held, else whoever holds that role
    in the district (or at the department) on the day; the owner named if nobody does."""
    roles = sorted({row.owner_role for row in rows})
    held = session.execute(
        select(tables.ASSIGNMENT.c.email, tables.ASSIGNMENT.c.role,
               tables.ASSIGNMENT.c.district_code)
        .where(tables.ASSIGNMENT.c.role.in_(roles), held_on(day))
        .order_by(tables.ASSIGNMENT.c.id)
    ).all() if roles else []  # fmt: skip
    by_place: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    for h in held:
        by_place[h.role, h.district_code].append(h.email)
    owners = {}
    for row in rows:
        # The district's holder before the department's, as the notices' Directory has it.
        holders = by_place[row.owner_role, row.district_code] + by_place[row.owner_role, None]
        owners[row.id] = (row.owner_email if row.owner_email in holders or not holders
                          else holders[0])  # fmt: skip
    return owners


def action_view(row: Any, today: date, owner: str | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "meeting": row.meeting_id,
        "district": row.district_code,
        "agreement": row.agreement_id,
        # Who owns it now (whoever took over the role of the owner it was raised with).
        "owner": owner or row.owner_email,
        "raised_with_owner": row.owner_email,
        "owner_role": row.owner_role,
        "due_on": row.due_on.isoformat(),
        "text": row.text,
        "state": row.state,
        "state_label": ACTION_ITEM.state_labels[row.state],
        "overdue": row.state == "open" and row.due_on < today,
        # When it was done or dropped, and whether that was after its due date.
        "closed_on": None if row.state == "open" else row.last_event_on.isoformat(),
        "late": row.state != "open" and row.last_event_on > row.due_on,
    }
