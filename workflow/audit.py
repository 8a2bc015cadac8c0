"""Append to the audit log: who, what, when (effective and recorded), and why."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlmodel import Session

from storage.models import Audit
from workflow.actors import Actor
from workflow.context import Context


def record(
    session: Session,
    *,
    subject: str,
    event: str,
    actor: Actor,
    on: date,
    ctx: Context,
    agreement_id: int | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    note: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    session.add(
        Audit(
            agreement_id=agreement_id,
            subject=subject,
            event=event,
            from_state=from_state,
            to_state=to_state,
            actor=actor.email,
            effective_on=on,
            recorded_at=ctx.now,
            note=note,
            data=dict(data or {}),
        )
    )
