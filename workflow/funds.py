"""Section 21(h) fund requests: what each `pal funds` command does.

Every change is an event of the `funds` process applied through `workflow.engine.apply`; the
events are looked up by the command that stands for them (`FUNDS.commands`), never named here.
The read models are in `workflow.funds_views`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from states.context import Context
from states.errors import NotAllowedInState
from states.labels import joined
from states.process import EventSpec
from states.registry import process
from storage import tables
from workflow.actors import Actor
from workflow.engine import Request, apply

FUNDS = process("funds")


def new_request(
    session: Session,
    agreement_id: int,
    actor: Actor,
    ctx: Context,
    *,
    year: str,
    rationale: str,
    serves: str,
    priorities: str,
) -> int:
    """Enter a request of agreement `agreement_id` for fiscal `year` (a draft); returns its id."""
    data = {"year": year, "rationale": rationale, "serves": serves, "priorities": priorities}
    request = Request(FUNDS.commands["funds request"], actor, parent=str(agreement_id),
                      process=FUNDS.name, data=data)  # fmt: skip
    return int(apply(session, request, ctx).id)


def add_activity(
    session: Session,
    request_id: int,
    actor: Actor,
    ctx: Context,
    *,
    category: str,
    amount: str,
    metrics: str,
) -> Any:
    """Add an activity to a draft (or returned) request; returns the request's row."""
    data = {"category": category, "amount": amount, "metrics": metrics}
    return step(session, "activity", request_id, actor, ctx, data=data)


def step(
    session: Session,
    command: str,
    request_id: int,
    actor: Actor,
    ctx: Context,
    *,
    on: date | None = None,
    note: str | None = None,
    data: dict[str, str] | None = None,
) -> Any:
    """Apply the event `pal funds COMMAND` stands for (submit, review, approve, deny, return,
    fund, report) to request `request_id`; returns the request's row as written."""
    event = FUNDS.event(FUNDS.commands[f"funds {command}"])
    _allowed_now(session, request_id, event)
    request = Request(event.name, actor, case=request_id, process=FUNDS.name, on=on, note=note,
                      data=data or {})  # fmt: skip
    return apply(session, request, ctx)


def _allowed_now(session: Session, request_id: int, event: EventSpec) -> None:
    """Refuse, in the program's words, a step the request's stage does not allow (the engine
    would refuse it too, in its own names)."""
    state = session.execute(
        select(tables.FUNDS_REQUEST.c.state).where(tables.FUNDS_REQUEST.c.id == request_id)
    ).scalar_one_or_none()
    if state is None or FUNDS.allows(state, event.name):
        return  # a request not on file is refused by the engine
    stages = joined((f"“{FUNDS.state_labels[s]}”" for s in event.sources), "or")
    raise NotAllowedInState(f"fund request {request_id} is at the stage “"
                            f"{FUNDS.state_labels[state]}”: it is possible to {event.label} only "
                            f"at {stages}")  # fmt: skip


def label_of(command: str) -> str:
    """What the event of `pal funds COMMAND` does, in words."""
    return FUNDS.event(FUNDS.commands[f"funds {command}"]).label
