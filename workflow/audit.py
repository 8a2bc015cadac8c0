"""Append to the audit log: who, what, when (effective and recorded), and why.

Each row is a link of its subject's hash chain ("agreement:3", "contact:a@b.example"): it holds
its place in the chain (`seq`), the hash of the row before it (`prev_hash`) and its own `hash`,
and `audit_chain` holds each chain's length and newest hash. `workflow.audit_verify` walks them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from states.context import Context
from states.errors import ConcurrentModification
from storage import tables
from storage.prepared import Prepared
from workflow.actors import Actor

_INSERT = Prepared(insert(tables.AUDIT))
_CHAIN = tables.AUDIT_CHAIN
# The chain's head, locked on PostgreSQL until the step commits: two writers of one subject
# take turns (SQLite's BEGIN IMMEDIATE already makes every writer wait for the one before).
_HEAD = Prepared(
    select(_CHAIN.c.length, _CHAIN.c.head)
    .where(_CHAIN.c.subject == bindparam("subject"))
    .with_for_update()
)
_START = Prepared(insert(_CHAIN))
_ADVANCE = Prepared(
    update(_CHAIN)
    .where(_CHAIN.c.subject == bindparam("chain"))
    .values(length=bindparam("length"), head=bindparam("head"))
)


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
    # Core statements: the audit row is never read back in this transaction.
    head = _HEAD.execute(session, {"subject": subject}).first()
    values: dict[str, Any] = {
        "agreement_id": agreement_id,
        "subject": subject,
        "event": event,
        "from_state": from_state,
        "to_state": to_state,
        "actor": actor.email,
        "effective_on": on,
        "recorded_at": ctx.now,
        "note": note,
        "data": _as_read_back(_json_ready(data or {})),
        "seq": head.length + 1 if head is not None else 1,
        "prev_hash": head.head if head is not None else None,
    }
    values["hash"] = row_hash(values)
    _INSERT.execute(session, values)
    chain = {"length": values["seq"], "head": values["hash"]}
    if head is None:
        try:
            _START.execute(session, {"subject": subject, **chain})
        except IntegrityError as exc:  # another writer started this chain first (PostgreSQL)
            raise ConcurrentModification(
                f"someone else wrote the first audit row of {subject} at the same time; nothing "
                "was changed, try again"
            ) from exc
    else:
        _ADVANCE.execute(session, {"chain": subject, **chain})


# What a row's hash covers: every column but its id and the hash itself.
HASHED = (
    "subject", "agreement_id", "event", "from_state", "to_state", "actor", "effective_on",
    "recorded_at", "note", "data", "seq", "prev_hash",
)  # fmt: skip


def row_hash(row: Mapping[str, Any]) -> str:
    """The hex SHA-256 of an audit row's content and the hash of the row before it: compact
    JSON with sorted keys of the HASHED columns as either database gives them back (the date
    as YYYY-MM-DD, the moment in UTC to the microsecond in ISO form, the data as JSON reads
    it)."""
    content = {name: row[name] for name in HASHED}
    content["effective_on"] = row["effective_on"].isoformat()
    content["recorded_at"] = _instant(row["recorded_at"])
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


_SCALARS = (str, int, float, bool, type(None))


def _as_read_back(data: dict[str, Any]) -> dict[str, Any]:
    """The data as the JSON column gives it back, so that the hash is of that: the same for
    text keys and plain values (most events); anything else once through JSON (a tuple comes
    back a list, a number key as text)."""
    if all(type(key) is str and type(value) in _SCALARS for key, value in data.items()):
        return data
    return json.loads(json.dumps(data))  # type: ignore[no-any-return]


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
