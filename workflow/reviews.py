"""The reviews of an agreement: recording each step and the status determination.

Each is an event of the agreement, applied through `workflow.engine.apply`; the events are looked
up by step (`AGREEMENT.steps`) and by the command that stands for them (`AGREEMENT.commands`),
never named here. The review's read model is `workflow.views.review_view`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from states.context import Context
from states.errors import BadInput, NotAllowedInState, NotFound
from states.registry import process
from storage import tables
from workflow import views
from workflow.actors import Actor
from workflow.engine import Request, apply
from workflow.text import quoted

AGREEMENT = process("agreement")


def record_step(
    session: Session,
    agreement_id: int,
    step: str,
    actor: Actor,
    ctx: Context,
    on: date | None = None,
    note: str | None = None,
    evidence: str | None = None,
) -> str:
    """Record that the open review's `step` was done (on `on`, default today); returns the
    agreement's state (a step leaves it in its review)."""
    event = AGREEMENT.steps.get(step)
    if event is None:
        raise BadInput(f"unknown step {quoted(step)}; steps: {', '.join(AGREEMENT.steps)}")
    _review_open(session, agreement_id, event)
    data = {"evidence": evidence} if evidence is not None else {}
    request = Request(event, actor, case=agreement_id, on=on, note=note, data=data)
    return str(apply(session, request, ctx).state)


def determine(
    session: Session,
    agreement_id: int,
    actor: Actor,
    ctx: Context,
    on: date | None = None,
    overrides: Mapping[str, str] | None = None,
    reasons: Mapping[str, str] | None = None,
    note: str | None = None,
) -> str:
    """Record the open review's determination: each school's status as the rules compute it,
    or as the conference agreed (`overrides`, each with its written reason in `reasons`).
    Returns the agreement's state after it."""
    event = AGREEMENT.commands["review determine"]
    _review_open(session, agreement_id, event)
    data = {"override": dict(overrides or {}), "reason": dict(reasons or {})}
    request = Request(event, actor, case=agreement_id, on=on, note=note, data=data)
    return str(apply(session, request, ctx).state)


def _review_open(session: Session, agreement_id: int, event: str) -> None:
    """Refuse, in the program's words, a step or a determination when no review is open."""
    state = session.execute(
        select(tables.AGREEMENT.c.state).where(tables.AGREEMENT.c.id == agreement_id)
    ).scalar_one_or_none()
    if state is None:
        raise NotFound(f"no agreement {agreement_id}")
    if state not in AGREEMENT.event(event).sources:
        stage = AGREEMENT.state_labels[state]
        raise NotAllowedInState(f"no review is open: the agreement is at the stage “{stage}”")


def review_view(session: Session, agreement_id: int, *, today: date) -> dict[str, Any]:
    """The open (else latest) review (`review show --json`): the read model of `workflow.views`."""
    return views.review_view(session, agreement_id, today=today)
