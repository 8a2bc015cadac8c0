"""Going live: the history that brings a new agreement to the stage it reached before pal.

Pure: from what an office knows of an agreement already under way (when it was identified, its
liaison, when each party signed, the stage it is at) and its rules, the events that take a new
agreement there, each with its date. `workflow.going_live` applies them through the engine,
like any other caller, so their deadlines are worked out as if pal had run all along.

A step the office gives no date for is dated on the day pal would itself have taken it (a
timed action: the day its timer fell due, once that day has come), otherwise on the day of the
step before it: the latest date known.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from states.calendar import add_days
from states.errors import BadInput
from states.process import Process
from states.rules import RuleSet


@dataclass(frozen=True)
class KnownHistory:
    """What an office knows of one agreement under way, as its import file says it."""

    identified_on: date
    state: str
    psa: bool = False
    liaison: str | None = None
    signed: Mapping[str, date] = field(default_factory=dict)  # party -> the day it signed


@dataclass(frozen=True)
class Step:
    """One event of the history, as of `on`, with its data as a command would give it."""

    event: str
    on: date
    data: Mapping[str, str] = field(default_factory=dict)


def path_to(process: Process, state: str) -> tuple[str, ...]:
    """The events that move a new case of `process` to `state` the shortest way (never through
    a final state, a correction or a hand-over), in order; () for the state a case starts in."""
    start = process.create.dest
    assert start is not None
    came_by: dict[str, tuple[str, ...]] = {start: ()}
    waiting = deque([start])
    while waiting:
        here = waiting.popleft()
        if here == state:
            return came_by[here]
        for spec in process.events:
            if spec.creates or spec.corrective or spec.successor or not process.allows(
                here, spec.name
            ):
                continue
            there = process.destination(here, spec.name)
            if there not in came_by and there not in process.terminal:
                came_by[there] = (*came_by[here], spec.name)
                waiting.append(there)
    raise BadInput(f"no way leads a new {process.name} to {state}")


def history(process: Process, known: KnownHistory, rules: RuleSet, today: date) -> list[Step]:
    """The steps after the creating one (dated `known.identified_on`) that bring a new case to
    `known.state`, in order. Refuses what the stage leaves unused or missing, in words."""
    label = process.state_labels[known.state]
    signing = next(spec for spec in process.events if spec.follow_up == "sign")
    steps: list[Step] = []
    # What each step opened, and when: a timed step's day is counted from its deadline.
    opened: dict[str, date] = {kind.kind: known.identified_on
                               for kind in rules.deadlines_opened_by(process.create.name)}
    state = process.create.dest
    assert state is not None
    day = known.identified_on
    liaison_used = False
    for event in path_to(process, known.state):
        data: dict[str, str] = {}
        if event == signing.follow_up:
            steps.extend(_signatures(signing.name, known, rules, label, day, complete=True))
            day = max([day, *known.signed.values()])
            state = process.destination(state, event)
            _opened(rules, event, day, opened)
            continue
        if event == "start_assessment":
            data["liaison"] = known.liaison or ""
            liaison_used = True
        if state in rules.reviews and process.event(event).dest not in (None, state):
            # Ending a review (its determination): its steps first, in the rules' order.
            steps.extend(
                Step(process.steps[name], day) for name in rules.review(state).steps
            )
        day = max(day, _timed_day(rules, event, opened, today) or day)
        steps.append(Step(event, day, data))
        state = process.destination(state, event)
        _opened(rules, event, day, opened)
    if known.liaison and not liaison_used:
        raise BadInput(f"a liaison is named when the needs assessment starts, not at “{label}”")
    if state == known.state and process.allows(state, signing.name) and known.signed:
        steps.extend(_signatures(signing.name, known, rules, label, day, complete=False))
    elif known.signed and not any(s.event == signing.name for s in steps):
        raise BadInput(f"signatures are recorded during the needs assessment, not at “{label}”")
    return steps


def _signatures(
    event: str, known: KnownHistory, rules: RuleSet, label: str, after: date, *, complete: bool
) -> list[Step]:
    """A step per signature, oldest first; when the plan must be signed, every party's."""
    missing = [p for p in rules.required_parties(known.psa) if p not in known.signed]
    if complete and missing:
        raise BadInput(f"“{label}” needs the day each party signed: {', '.join(missing)} missing")
    if not complete and not missing:
        raise BadInput(f"every party signed, so the plan is signed: the state is not “{label}”")
    ordered = sorted(known.signed.items(), key=lambda item: (item[1], item[0]))
    return [Step(event, on, {"party": party}) for party, on in ordered]


def _opened(rules: RuleSet, event: str, day: date, opened: dict[str, date]) -> None:
    for rule in rules.deadlines_opened_by(event):
        opened[rule.kind] = day


def _timed_day(rules: RuleSet, event: str, opened: Mapping[str, date], today: date) -> date | None:
    """The day pal's own timer would have taken `event`, if it has come; None otherwise."""
    for timer in rules.timers:
        if timer.action == event and timer.deadline in opened:
            due = rules.deadline(timer.deadline).due(opened[timer.deadline])
            fired = add_days(due, timer.offset_days)
            return fired if fired <= today else None
    return None
