"""The dashboard's words for the engine's names and its dates: Jinja filters over states/ labels.

Dates are ISO (2026-03-01) everywhere, with words for how far off they are; moments are in the
configured zone (`pal status`'s `at`, already local), to the minute.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from states.labels import (
    BENCHMARK_KIND_LABELS,
    DIRECTION_LABELS,
    STATUS_LABELS,
    STEP_LABELS,
    consequence_label,
    countdown,
    party_label,
)
from states.registry import PROCESSES, process


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
    return str(found["label"] or BENCHMARK_KIND_LABELS.get(found["kind"], "benchmark"))


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
    "money": money,
    "process_title": process_title,
    "amendment_status": lambda name: AMENDMENT_STATUS.get(name, name.replace("_", " ")),
    "countdown": countdown,
    "party": party_label,
    "consequence": consequence_label,
    "direction": lambda name: DIRECTION_LABELS.get(name, name),
}
