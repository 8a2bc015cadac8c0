"""What a transition sets in motion besides its own row: the emails it owes people."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlmodel import Session

from states.context import Context
from states.rules import MAIN_PROCESS, RuleSet
from workflow.cases import STORES, AnyAgreement, CaseStore


def after_transition(
    session: Session,
    case: Any,
    rules: RuleSet,
    event: str,
    day: date,
    ctx: Context,
    note: str | None = None,
    named: Mapping[str, str] | None = None,
    *,
    extra: Mapping[str, Any] | None = None,
    told: tuple[str, ...] = (),
    store: CaseStore | None = None,
) -> None:
    """Enqueue the notices `event` owes, in the caller's transaction (`note`: the reason given,
    for notices that tell it; `named`: people the event names by a role of its own; `extra`:
    what a correction's notice tells; `told`: who a notice to `told_before` goes to).

    `case` is the row of an agreement, or of a case of another process when `store` (that
    process's) says it belongs to an agreement: its notices are addressed through that
    agreement, and tell what the store gives of the case (`CaseStore.notice_facts`)."""
    from notifications.outbox import enqueue_transition_notices

    ref = store.ref(case) if store is not None else None
    agreement: AnyAgreement = case
    if ref is not None and ref.process is not None:
        assert store is not None
        agreement = STORES[MAIN_PROCESS].load(session, ref.agreement_id)
        extra = {**store.notice_facts(session, case), **(extra or {})}
    else:
        ref = None  # the agreement's own notices: keyed and worded as they always were
    enqueue_transition_notices(
        session, agreement, rules, event, day, ctx, note=note, named=named, extra=extra,
        told=told, case=ref, case_version=case.version if ref is not None else None,
    )  # fmt: skip
