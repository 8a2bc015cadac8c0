"""The template filters that turn engine names into the program's words, and the values only
some notices are given (the others see them as None, so a template may test them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from functools import lru_cache
from typing import Any

from notifications.schools import NO_SCHOOLS
from states.labels import (
    STAFF_ROLES,
    STATUS_LABELS,
    consequence_label,
    countdown,
    days,
    joined,
    urgency,
    when,
)
from states.registry import process


def stage(state: str) -> str:
    """`Implementing the plan` for `implementing`."""
    return process("agreement").state_labels.get(state) or _plain(state)


def consequences(options: str | None) -> str:
    """`Intervention by the ISD and Increased supports from MDE` for a comma-joined list."""
    chosen = [part.strip() for part in (options or "").split(",") if part.strip()]
    return joined(consequence_label(option) for option in chosen)


def sentence(text: str) -> str:
    """The text with its first letter capitalised (and the rest as it was: `MDE` stays)."""
    return text[:1].upper() + text[1:]


def _plain(name: str) -> str:
    return name.replace("_", " ")


@lru_cache(maxsize=4096)
def monthday(day: date) -> str:
    """`June 2, 2017`: a date short enough for a subject."""
    return f"{day:%B} {day.day}, {day.year}"


def names(items: Any, conjunction: str = "and") -> str:
    """`a, b and c` for a list of words (labels, names)."""
    return joined([str(item) for item in items or ()], conjunction)


FILTERS: Mapping[str, Callable[..., Any]] = {
    "stage": stage,
    "consequences": consequences,
    "sentence": sentence,
    "names": names,
    "monthday": monthday,
    # A number of days left (from the day the notice is made) in words: see states.labels.
    "countdown": countdown,
    "urgency": urgency,
    "days": days,
    "when": when,
}
# Values a notice may be given: the day of the event (`event_day`) and the reason given for it
# (`note`), the review it is about (`review`, `review_name`), the review step its deadline is
# for (`due_step`), the deadlines still open (`open_deadlines`), and the agreement a renewal
# follows (`renewed_from`); and, for every notice, the statuses a school may be given.
OPTIONAL: Mapping[str, Any] = {
    "statuses": joined(STATUS_LABELS.values(), "or"),
    "event_day": None,
    "note": None,
    "review": None,
    "review_name": None,
    "due_step": None,
    "due_step_key": None,  # that step as `pal review step` names it (for PAL staff only)
    "open_deadlines": (),
    "renewed_from": None,
    "waits": False,  # an action that could not run waits for the agreement's next stage
    "correction": None,  # what a date correction moved (the notice date_corrected)
    "amendment": None,  # the amendment an amendment notice is about
    # The case of another process a notice is about (a fund request: `CaseStore.notice_facts`),
    # with `about`, a phrase naming it ("the request of $125,000.00 for 2025-26").
    "case": None,
    # The roles of the office's own people: a template tests `recipient.role in staff_roles`
    # to add its one "For PAL staff:" line.
    "staff_roles": STAFF_ROLES,
    # The schools the plan covers, with `.names` joined (notifications.schools).
    "plan_schools": NO_SCHOOLS,
    "office": None,  # the office's phone and web address (set for every notice by the outbox)
    "subject": "",  # the notice's subject, for the HTML's title and heading (render.py)
}
