"""The template filters that turn engine names into the program's words, and the values only
some notices are given (the others see them as None, so a template may test them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from states.labels import CONSEQUENCE_LABELS, STATUS_LABELS, joined
from states.registry import process


def stage(state: str) -> str:
    """`Implementing the plan` for `implementing`."""
    return process("agreement").state_labels.get(state) or _plain(state)


def consequences(options: str | None) -> str:
    """`Intervention by the ISD and Increased supports from MDE` for a comma-joined list."""
    chosen = [part.strip() for part in (options or "").split(",") if part.strip()]
    return joined(CONSEQUENCE_LABELS.get(option) or _plain(option) for option in chosen)


def sentence(text: str) -> str:
    """The text with its first letter capitalised (and the rest as it was: `MDE` stays)."""
    return text[:1].upper() + text[1:]


def _plain(name: str) -> str:
    return name.replace("_", " ")


FILTERS: Mapping[str, Callable[..., Any]] = {
    "stage": stage,
    "consequences": consequences,
    "sentence": sentence,
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
    "open_deadlines": (),
    "renewed_from": None,
    "waits": False,  # an action that could not run waits for the agreement's next stage
    "correction": None,  # what a date correction moved (the notice date_corrected)
    "amendment": None,  # the amendment an amendment notice is about
}
