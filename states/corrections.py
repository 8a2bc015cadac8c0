"""Corrections: the pure decisions behind withdrawing a record and correcting a date.

Mistakes are corrected by new audited steps, never by editing history. A withdrawal takes a
record (a signature, a measurement, a review step) out of the current record; the audit row
keeps everything about it. A date correction moves the effective date of the agreement's latest
step: its latest event, with the follow-up that event fired in the same step (the last
signature and the signing). What the step derived from its date (columns, records, deadlines,
timers) moves with it; the engine applies that from `Changes.redate`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from states.errors import BadInput, NotAllowedInState
from states.process import Changes, Process, Redate
from states.rules import RuleSet

# The event that corrects a date, and the role a notice of it names for "whoever was told".
CORRECT_DATE = "correct_date"
TOLD = "told_before"


@dataclass(frozen=True)
class TrailEntry:
    """One audit row of a case, as corrections read it."""

    id: int
    event: str
    on: date
    actor: str
    data: Mapping[str, Any]


def current_dates(trail: Sequence[TrailEntry]) -> dict[int, date]:
    """Each audit row's effective date, as later date corrections left it."""
    dates: dict[int, date] = {}
    for entry in trail:
        dates[entry.id] = entry.on
        if entry.event == CORRECT_DATE:
            moved_to = date.fromisoformat(str(entry.data["to"]))
            for corrected in entry.data.get("corrected", ()):
                dates[int(corrected)] = moved_to
    return dates


def latest_step(
    trail: Sequence[TrailEntry], definition: Process
) -> tuple[list[TrailEntry], date | None]:
    """The agreement's latest step (its latest event, and the event that fired it as its
    follow-up) and the date of the event before it, as corrected; refused when the latest step
    is a correction or cannot be corrected."""
    life = [entry for entry in trail if entry.event != CORRECT_DATE]
    if not life:
        raise NotAllowedInState("nothing is recorded yet whose date could be corrected")
    last = life[-1]
    spec = definition.event(last.event)
    if spec.corrective:
        raise NotAllowedInState(
            f"the latest step is a correction (to {spec.label}); it has no date to correct"
        )
    step = [last]
    if len(life) > 1:
        before = definition.by_name.get(life[-2].event)
        if before is not None and before.follow_up == last.event:
            step.insert(0, life[-2])
    for entry in step:
        if not definition.event(entry.event).correctable:
            label = definition.event(entry.event).label
            raise NotAllowedInState(
                f"the latest step ({label}) was worked out as of its date, which cannot be "
                "corrected"
            )
    dates = current_dates(trail)
    previous = life[-len(step) - 1] if len(life) > len(step) else None
    return step, dates[previous.id] if previous is not None else None


def date_corrected(
    trail: Sequence[TrailEntry], new: date, today: date, rules: RuleSet, definition: Process
) -> Changes:
    """What a correction of the latest step's date to `new` changes (checked first)."""
    step, before = latest_step(trail, definition)
    old = current_dates(trail)[step[-1].id]
    label = definition.event(step[-1].event).label
    if new > today:
        raise BadInput(f"the corrected date {new} is in the future (today is {today})")
    if before is not None and new < before:
        raise BadInput(
            f"the corrected date {new} is before the agreement's previous event ({before})"
        )
    if new == old:
        raise BadInput(f"the latest step ({label}) is already recorded as of {new}")
    columns: dict[str, Any] = {"last_event_on": new}
    records: list[tuple[str, str]] = []
    told: list[str] = []
    named: dict[str, str] = {}
    for entry in step:
        spec = definition.event(entry.event)
        for where in spec.dated:
            kind, dot, name = where.partition(".")
            if dot:
                records.append((kind, name))
            else:
                columns[where] = new
        for notice in rules.notices_for(entry.event):
            told.extend(notice.to)
        # A role the event named someone for (the liaison it replaced) is in its audit data
        # under the role's name: they were told, so they are told of the correction too.
        named.update({role: entry.data[role] for role in told if entry.data.get(role)})
    events = tuple(entry.event for entry in step)
    return Changes(
        columns,
        redate=Redate(events, old, new, tuple(records)),
        told=tuple(dict.fromkeys(told)),
        named=named,
        audited={
            "corrected_event": events[-1],
            "events": list(events),
            "from": old.isoformat(),
            "to": new.isoformat(),
            "corrected": [entry.id for entry in step],
        },
    )
