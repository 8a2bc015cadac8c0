"""A process's page: its stages and the steps between them, in words, with its diagram."""

from __future__ import annotations

from typing import Any

from states.process import Process
from workflow.dashboard.words import process_title

START = "(new case)"


def transitions(definition: Process) -> list[tuple[str, str, str]]:
    """(from stage, step, to stage) for every step of the process, in words."""
    labels = definition.state_labels
    rows = []
    for spec in definition.events:
        if spec.creates:
            rows.append((START, spec.label, labels[spec.dest or ""]))
            continue
        rows += [(labels[s], spec.label,
                  labels[s] if s in spec.stays_in or spec.dest is None else labels[spec.dest])
                 for s in spec.sources]  # fmt: skip
    return rows


def process_context(definition: Process) -> dict[str, Any]:
    return {
        "title": f"{process_title(definition.label)}: its stages and steps",
        "process": definition,
        "transitions": transitions(definition),
        "diagram": None,
    }
