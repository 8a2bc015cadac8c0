"""The action item: a small process of its own, raised at a meeting, owned by a person on file.

An item is `open` until it is `done` or `dropped` (with the reason why). Its deadline is the due
date given when it is raised (rule data: `counted_from = "case_due"`); its owner is reminded
before it and told when it is overdue, through the same deadlines, timers and notices as every
process (the owner is the recipient `owner`: whoever holds the owner's role on the day).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from states.errors import BadInput
from states.process import Changes, EventSpec, Field, Process
from states.rules import RuleSet

NAME = "action_item"


def _raised(case: Any, values: Mapping[str, Any], rules: RuleSet, day: date) -> Changes:
    """What a new item writes: the meeting it was raised at, its owner (and the role they hold,
    which whoever holds it after them takes over), its due date and its text."""
    due: date = values["due"]
    if due < day:
        raise BadInput(f"the due date {due} is before the day the item is raised ({day})")
    return Changes({
        "agreement_id": case.agreement_id,
        "meeting_id": case.meeting_id,
        "owner_email": values["owner"],
        "owner_role": values["owner_role"],
        "due_on": due,
        "text": values["text"],
    })  # fmt: skip


def _reason(case: Any, rules: RuleSet) -> str:
    return "say why the item is dropped"


ACTION_ITEM = Process(
    name=NAME,
    label="an action item",
    states=("open", "done", "dropped"),
    terminal=frozenset({"done", "dropped"}),
    events=(
        EventSpec(
            "raise_action", "raise an action item", dest="open", creates=True,
            fields=(Field("owner"), Field("owner_role"), Field("due", kind="date"),
                    Field("text")),
            effect=_raised,
        ),
        EventSpec("complete_action", "record the action item done", sources=("open",),
                  dest="done"),
        EventSpec("drop_action", "drop the action item", sources=("open",), dest="dropped",
                  note_required=_reason),
    ),
    state_labels={"open": "Open", "done": "Done", "dropped": "Dropped"},
    deadline_labels={"action_due": "the action item"},
    commands={"add": "raise_action", "done": "complete_action", "drop": "drop_action"},
)
