"""What a transition sets in motion besides its own row: the emails it owes people."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

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
    *,
    extra: Mapping[str, Any] | None = None,
    told: tuple[str, ...] = (),
) -> None:
    """Enqueue the notices `event` owes, in the caller's transaction (`note`: the reason given,
    for notices that tell it; `named`: people the event names by a role of its own; `extra`:
    what a correction's notice tells; `told`: who a notice to `told_before` goes to)."""
    from notifications.outbox import enqueue_transition_notices

    enqueue_transition_notices(
        session, agreement, rules, event, day, ctx, note=note, named=named, extra=extra,
        told=told,
    )  # fmt: skip
