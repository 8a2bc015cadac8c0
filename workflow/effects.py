"""What a transition sets in motion besides its own row: the emails it owes people."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlmodel import Session

from states.context import Context
from states.rules import RuleSet
from workflow.cases import AnyAgreement


def after_transition(
    session: Session,
    agreement: AnyAgreement,
    rules: RuleSet,
    event: str,
    day: date,
    ctx: Context,
    note: str | None = None,
    named: Mapping[str, str] | None = None,
) -> None:
    """Enqueue the notices `event` owes, in the caller's transaction (`note`: the reason given,
    for notices that tell it; `named`: people the event names by a role of its own)."""
    from notifications.outbox import enqueue_transition_notices

    enqueue_transition_notices(session, agreement, rules, event, day, ctx, note=note, named=named)
