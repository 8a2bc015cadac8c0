"""How the engine applies a correction's `Changes`: records withdrawn, dates moved, rules switched.

Nothing here names an event: what to withdraw, which dates to move and which deadlines follow
come from the event's `Changes` (worked out in `states/`). History is never edited: the audit
log keeps the withdrawn record and the old date, timers already run and mail already queued stay
as they are; deadlines opened from a wrong date close as `corrected` (`migrated` for a move to
another rule version) and open again from the right one (workflow/deadlines.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, delete, func, select, update
from sqlmodel import Session

from config.rules import load_rules
from states.context import Context
from states.errors import NotAllowedInState
from states.labels import PARTY_LABELS, STEP_LABELS
from states.process import Changes, Child
from states.registry import process
from states.rules import RuleSet
from storage import tables
from workflow import deadlines


@dataclass(frozen=True)
class Moved:
    """A deadline a correction moved, in words: what it is for, when it was due, when it is."""

    label: str
    was: date
    now: date


@dataclass(frozen=True)
class Correction:
    """What a notice of a corrected date tells."""

    event_label: str
    was: date
    now: date
    moved: tuple[Moved, ...] = ()


@dataclass
class Applied:
    """What applying a correction adds to the audit row, and to the notices it owes."""

    audited: dict[str, Any] = field(default_factory=dict)
    notice: dict[str, Any] = field(default_factory=dict)


def is_correction(changes: Changes) -> bool:
    return bool(
        changes.removes or changes.reopen or changes.redate or changes.rules_version is not None
    )


def before_claim(session: Session, store: Any, row: Any, changes: Changes) -> Applied:
    """Checks and removals made before the case's row is written: the new rule version must
    exist (refused as bad input otherwise), and withdrawn records leave the current record."""
    applied = Applied()
    if changes.rules_version is not None:
        load_rules(changes.rules_version)  # an unknown or broken version is refused here
    removed = [store.remove_child(session, row, child) for child in changes.removes]
    if removed:
        applied.audited["withdrawn"] = removed
    return applied


def after_claim(
    session: Session,
    store: Any,
    row: Any,
    rules: RuleSet,
    changes: Changes,
    applied: Applied,
    day: date,
    ctx: Context,
) -> Applied:
    """Dates moved and deadlines recomputed, after the row is written."""
    if changes.reopen:
        kinds = deadlines.reopen_met(session, row, rules, changes.reopen, day, ctx)
        if kinds:
            applied.audited["reopened"] = kinds
    redate = changes.redate
    if redate is not None:
        for kind, name in redate.records:
            store.redate_child(session, row, kind, name, redate.old, redate.new)
        deadlines.redate_met(session, row, rules, redate.events, redate.old, redate.new)
        moved = deadlines.recompute_opened(session, row, rules, redate, day, ctx)
        applied.audited["deadlines_moved"] = [_moved_record(m) for m in moved]
        definition = process("agreement")
        labels = definition.deadline_labels
        applied.notice["correction"] = Correction(
            definition.event(redate.events[-1]).label,
            redate.old,
            redate.new,
            tuple(Moved(labels.get(kind, kind), was, now) for kind, was, now in moved),
        )
    if changes.rules_version is not None:
        new_rules = load_rules(changes.rules_version)
        recomputed = deadlines.recompute_for_rules(session, row, new_rules, day, ctx)
        applied.audited["deadlines_moved"] = [_moved_record(m) for m in recomputed]
    return applied


def _moved_record(moved: tuple[str, date, date | None]) -> dict[str, Any]:
    kind, was, now = moved
    return {"kind": kind, "was": was.isoformat(), "now": now.isoformat() if now else None}


# --- the records a correction touches ------------------------------------------------------------

def _json(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, date | datetime) else value
        for key, value in values.items()
    }


def remove_record(session: Session, agreement_id: int, child: Child) -> dict[str, Any]:
    """Delete the record `child` names (of the agreement's); returns everything it held."""
    table, scope = _where(child.kind, agreement_id)
    conditions = [scope, *(table.c[name] == value for name, value in child.values.items())]
    found = session.execute(select(table).where(*conditions)).mappings().all()
    if len(found) != 1:
        raise NotAllowedInState(f"there is no {_described(child)} on file to withdraw")
    record = dict(found[0])
    session.execute(delete(table).where(table.c.id == record["id"]))
    return {"record": child.kind, **_json(record)}


def redate_record(
    session: Session, agreement_id: int, kind: str, name: str, old: date, new: date
) -> None:
    """Move `name` of the agreement's latest record of `kind` from `old` to `new`."""
    table, scope = _where(kind, agreement_id)
    latest = select(func.max(table.c.id)).where(scope).scalar_subquery()
    session.execute(
        update(table).where(table.c.id == latest, table.c[name] == old).values({name: new})
    )


def _where(kind: str, agreement_id: int) -> tuple[Table, Any]:
    """The table of records of `kind`, and the condition for those of one agreement."""
    if kind == "signature":
        return tables.SIGNATURE, tables.SIGNATURE.c.agreement_id == agreement_id
    if kind == "review":
        return tables.REVIEW, tables.REVIEW.c.agreement_id == agreement_id
    if kind == "review_step":
        # Of the agreement's latest review: the one a step can be withdrawn from.
        latest = select(func.max(tables.REVIEW.c.id)).where(
            tables.REVIEW.c.agreement_id == agreement_id
        )
        return tables.REVIEW_STEP, tables.REVIEW_STEP.c.review_id == latest.scalar_subquery()
    if kind == "measurement":
        plan = select(tables.BENCHMARK.c.id).where(tables.BENCHMARK.c.agreement_id == agreement_id)
        return tables.MEASUREMENT, tables.MEASUREMENT.c.benchmark_id.in_(plan)
    raise ValueError(f"agreement has no records of kind {kind!r} that can be corrected")


def _described(child: Child) -> str:
    values = child.values
    if child.kind == "signature":
        return f"signature of the {PARTY_LABELS.get(values['party'], values['party'])}"
    if child.kind == "measurement":
        return f"measurement of benchmark {values['benchmark_id']} dated {values['measured_on']}"
    if child.kind == "review_step":
        return f"{STEP_LABELS.get(values['step'], values['step'])} in the open review"
    return child.kind.replace("_", " ")
