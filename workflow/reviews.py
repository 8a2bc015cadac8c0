"""The reviews of an agreement: recording each step and the status determination.

Each is an event of the agreement, applied through `workflow.engine.apply`; the events are looked
up by step (`AGREEMENT.steps`) and by the command that stands for them (`AGREEMENT.commands`),
never named here. The review's read model is `workflow.views.review_view`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlmodel import Session

from states.context import Context
from states.errors import BadInput
from states.registry import process
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
    data = {"override": dict(overrides or {}), "reason": dict(reasons or {})}
    request = Request(AGREEMENT.commands["review determine"], actor, case=agreement_id, on=on,
                      note=note, data=data)  # fmt: skip
    return str(apply(session, request, ctx).state)


def review_view(session: Session, agreement_id: int, *, today: date) -> dict[str, Any]:
    """The open (else latest) review (`review show --json`): the read model of `workflow.views`."""
    return views.review_view(session, agreement_id, today=today)
