"""The dashboard's words for the engine's names and its dates: Jinja filters over states/ labels.

Dates are ISO (2026-03-01) everywhere, with words for how far off they are; moments are in the
configured zone (`pal status`'s `at`, already local), to the minute.
"""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from states.labels import (
    BENCHMARK_KIND_LABELS,
    DIRECTION_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    STEP_LABELS,
    consequence_label,
    countdown,
    party_label,
    reached_note,
)
from states.registry import PROCESSES, process
from states.rules import SYSTEM


def stage(state: str, of_process: str = "agreement") -> str:
    """A state in words: `Planning` rather than `planning`."""
    return process(of_process).state_labels.get(state, state.replace("_", " "))


def event(name: str, of_process: str = "agreement") -> str:
    found = process(of_process).by_name.get(name)
    return found.label if found is not None else name.replace("_", " ")


def deadline(kind: str, of_process: str | None = None) -> str:
    """What a deadline is for (`the signed plan` -> `signed plan`)."""
    labels = process(of_process or "agreement").deadline_labels
    return labels.get(kind, kind.replace("_", " ")).removeprefix("the ")


def process_label(name: str) -> str:
    found = PROCESSES.get(name)
    return found.label if found is not None else name.replace("_", " ")


def process_title(label: str) -> str:
    """A process's label as a title: `Partnership agreement` for `a partnership agreement`."""
    for article in ("a ", "an ", "the "):
        label = label.removeprefix(article)
    return capital(label)


# The statuses of a version of an agreement's terms (workflow/amendment_views.py).
AMENDMENT_STATUS = {"drafting": "a draft, not yet in force", "in_force": "in force",
                    "superseded": "superseded", "not_signed": "not yet signed"}  # fmt: skip


def status(name: str | None) -> str:
    return STATUS_LABELS.get(name or "", "not determined")


def benchmark(found: dict[str, Any]) -> str:
    """A benchmark's name, with a capital as a label has (`Pupils on track...`)."""
    return capital(str(found["label"] or BENCHMARK_KIND_LABELS.get(found["kind"], "benchmark")))


# What became of a deadline, before the day it was closed on.
_CLOSED = {"met": "met on", "met_late": "met late, on", "waived": "waived on",
           "cancelled": "cancelled on"}  # fmt: skip


def deadline_state(found: dict[str, Any], today: date) -> tuple[str, str]:
    """What became of a deadline of `pal agreement show` in words, and the day it was closed
    on (empty while open): `("met late, on", "2018-12-28")`; an open one counts down from
    `today`, as the overview does: `("3 days overdue", "")`."""
    if found["status"] == "open":
        return countdown((date.fromisoformat(found["due"]) - today).days), ""
    closed = _CLOSED.get(found["status"], found["status"].replace("_", " "))
    return (closed, found["closed_on"]) if found["closed_on"] else (closed.removesuffix(" on"), "")


_ALL_DEADLINES = {k: v for p in PROCESSES.values() for k, v in p.deadline_labels.items()}
# The note the sweep wrote before it named a deadline by its label: `rga_due reached (due ...)`.
_OLD_REACHED = re.compile(r"([a-z0-9_]+) reached \(due (\d{4}-\d\d-\d\d)\)")


# The note of a last signature before it named the party by its label: `(last: mde, ...`.
_OLD_LAST = re.compile(r"\(last: ([a-z_]+), recorded by ")


def note(text: str | None) -> Markup:
    """An audit note, with the engine's names in notes stored before they were written in
    words (a deadline's, a party's) in words, an address breakable before its @."""
    text = _OLD_REACHED.sub(lambda m: reached_note(_ALL_DEADLINES, m[1], m[2]), text or "")
    return who(_OLD_LAST.sub(lambda m: f"(last: {party_label(m[1])}, recorded by ", text))


def who(text: str | None) -> Markup:
    """A person's address (or a note naming one) that may break before its @ in a narrow
    column, rather than widen the table past the screen; pal's own steps (`system`) in words."""
    text = ROLE_LABELS[SYSTEM] if text == SYSTEM else text or ""
    return Markup(str(escape(text)).replace("@", "<wbr>@"))


def step(name: str | None) -> str:
    return STEP_LABELS.get(name or "", (name or "").replace("_", " "))


def moment(stamp: dict[str, Any] | str | None, zone: tzinfo) -> str:
    """A moment (ISO with its offset, or `pal status`'s `{"at": ...}`) in `zone`, to the
    minute, with the zone's abbreviation: `2026-03-01 09:30 EST`."""
    if stamp is None:
        return "never"
    raw = stamp["at"] if isinstance(stamp, dict) else stamp
    return datetime.fromisoformat(raw).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def money(amount: str) -> str:
    """An exact amount (`"270000.00"`, as fund views give it) in dollars: `$270,000.00`."""
    return f"${Decimal(amount):,.2f}"


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


FILTERS = {
    "stage": stage,
    "event": event,
    "deadline": deadline,
    "process_label": process_label,
    "status": status,
    "benchmark": benchmark,
    "step": step,
    "moment": moment,
    "capital": capital,
    "note": note,
    "who": who,
    "money": money,
    "process_title": process_title,
    "amendment_status": lambda name: AMENDMENT_STATUS.get(name, name.replace("_", " ")),
    "countdown": countdown,
    "party": party_label,
    "consequence": consequence_label,
    "direction": lambda name: DIRECTION_LABELS.get(name, name),
}
