"""A meeting of a district's partnership: scheduled, then held (who attended, notes) or cancelled.

A process of its own, so that its invitation, its reminder two days before and its cancellation
go through the same engine path, rule data and sweep as every notice: scheduling sends the
invitation (an `.ics` with METHOD:REQUEST), cancelling the cancellation (METHOD:CANCEL), and its
deadline `meeting_day` (the local day it meets) carries the reminder. Who is invited is rule data
by the meeting's kind (`attendees`: the roles, resolved to whoever holds them on the day).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from states.errors import BadInput
from states.process import Changes, EventSpec, Field, Process
from states.rules import RuleSet

NAME = "meeting"
# The kinds of meeting (seed 000: high-need districts every two weeks; seed 003: the District
# Implementation Team monthly; seed 001: the RGA's structured conference), with their labels.
KIND_LABELS = {
    "high_need": "high-need district meeting",
    "dit": "District Implementation Team meeting",
    "conference": "structured conference",
    "other": "partnership meeting",
}


def _kinds(case: Any, rules: RuleSet) -> tuple[str, ...]:
    return tuple(KIND_LABELS)


def _scheduled(case: Any, values: Mapping[str, Any], rules: RuleSet, day: date) -> Changes:
    starts_at = datetime.fromisoformat(values["starts_at"])
    meets_on: date = values["meets_on"]
    if meets_on < day:
        raise BadInput(f"the meeting's day {meets_on} is before today ({day})")
    return Changes({
        "agreement_id": case.agreement_id,
        "district_code": case.district_code,
        "series_id": case.series_id,
        "kind": values["kind"],
        "starts_at": starts_at,
        "due_on": meets_on,
        "at_local": values["at_local"],
        "zone": values["zone"],
        "place": values["place"],
        "agenda": values["agenda"],
    })  # fmt: skip


def _held(case: Any, values: Mapping[str, Any], rules: RuleSet, day: date) -> Changes:
    if day < case.due_on:
        raise BadInput(f"the meeting is on {case.due_on}: it cannot be held before ({day})")
    attendees = [email.strip() for email in values["attendees"].split(",") if email.strip()]
    return Changes({"attendees": attendees, "notes": values["notes"]})


def _cancelled(case: Any, values: Mapping[str, Any], rules: RuleSet, day: date) -> Changes:
    return Changes({"reason": values["reason"]})


MEETING = Process(
    name=NAME,
    label="a meeting",
    states=("scheduled", "held", "cancelled"),
    terminal=frozenset({"held", "cancelled"}),
    events=(
        EventSpec(
            "schedule_meeting", "schedule a meeting", dest="scheduled", creates=True,
            fields=(Field("starts_at"), Field("meets_on", kind="date"), Field("at_local"),
                    Field("zone"),
                    Field("kind", kind="choice", choices=_kinds, choices_are="the kinds"),
                    Field("place", required=False), Field("agenda", required=False)),
            effect=_scheduled,
        ),
        EventSpec(
            "hold_meeting", "record the meeting held", sources=("scheduled",), dest="held",
            fields=(Field("attendees"), Field("notes", required=False)),
            # Its effect looks at the meeting's day: an event whose effect sees the case says
            # what it reads (the meeting's store reads its row whatever is named).
            effect=_held, reads=frozenset({"history"}),
        ),
        EventSpec(
            "cancel_meeting", "cancel the meeting", sources=("scheduled",), dest="cancelled",
            fields=(Field("reason"),), effect=_cancelled,
        ),
    ),
    state_labels={"scheduled": "Scheduled", "held": "Held", "cancelled": "Cancelled"},
    deadline_labels={"meeting_day": "the meeting"},
    commands={"schedule": "schedule_meeting", "held": "hold_meeting",
              "cancel": "cancel_meeting"},
)
