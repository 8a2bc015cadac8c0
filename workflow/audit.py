"""Append to the audit log: who, what, when (effective and recorded), and why."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from states.context import Context
from storage import tables
from storage.prepared import Prepared
from workflow.actors import Actor

_INSERT = Prepared(insert(tables.AUDIT))


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
    # A Core insert: the audit row is never read back in this transaction.
    _INSERT.execute(
        session,
        {
            "agreement_id": agreement_id,
            "subject": subject,
            "event": event,
            "from_state": from_state,
            "to_state": to_state,
            "actor": actor.email,
            "effective_on": on,
            "recorded_at": ctx.now,
            "note": note,
            "data": _json_ready(data or {}),
        },
    )


def _json_ready(data: Mapping[str, Any]) -> dict[str, Any]:
    """The event's data as JSON holds it: a date (a `date` field's value) as YYYY-MM-DD."""
    return {key: value.isoformat() if isinstance(value, date) else value
            for key, value in data.items()}  # fmt: skip


def agreement_event(
    session: Session,
    agreement: Any,
    event: str,
    source: str | None,
    dest: str,
    actor: Actor,
    on: date,
    ctx: Context,
    note: str | None,
    data: Mapping[str, Any] | None,
) -> None:
    """The audit row of one event on an agreement: the state it left and the one it entered."""
    record(
        session,
        subject=f"agreement:{agreement.id}",
        agreement_id=agreement.id,
        event=event,
        from_state=source,
        to_state=dest,
        actor=actor,
        on=on,
        ctx=ctx,
        note=note,
        data=data,
    )
