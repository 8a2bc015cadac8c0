"""The partnership-agreement process: states, events and the one shared transitions Machine.

The Machine is the definition, never a per-case object: the engine asks it where an event leads
from a row's state and applies the answer to the row itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from states.errors import BadInput, NotAllowedInState

if TYPE_CHECKING:
    from transitions import Machine

STATES: tuple[str, ...] = (
    "identified",
    "needs_assessment",
    "signed",
    "rga",
    "implementing",
    "review_24",
    "review_36",
    "exited",
    "next_level_accountability",
)
TERMINAL: frozenset[str] = frozenset({"exited", "next_level_accountability"})
ACTIVE: tuple[str, ...] = tuple(s for s in STATES if s not in TERMINAL)

INITIAL = "identified"
CREATE_EVENT = "identify"
# Recorded in the audit log like an event, but changes no state; the last one fires `sign`.
RECORD_SIGNATURE = "record_signature"


@dataclass(frozen=True)
class Edge:
    event: str
    sources: tuple[str, ...]
    dest: str


EDGES: tuple[Edge, ...] = (
    Edge("start_assessment", ("identified",), "needs_assessment"),
    Edge("sign", ("needs_assessment",), "signed"),
    Edge("open_rga", ("signed",), "rga"),
    Edge("determine", ("rga",), "implementing"),
    Edge("open_review_24", ("implementing",), "review_24"),
    Edge("complete_review_24", ("review_24",), "implementing"),
    Edge("open_review_36", ("implementing",), "review_36"),
    Edge("exit", ("review_36",), "exited"),
    Edge("renew", ("review_36",), "needs_assessment"),
    Edge("escalate", ACTIVE, "next_level_accountability"),
)
EVENTS: tuple[str, ...] = (CREATE_EVENT, *(edge.event for edge in EDGES))
# Events whose behaviour is defined in the graph but not yet implemented by the engine.
PLANNED_EVENTS: frozenset[str] = frozenset(
    {"determine", "open_review_24", "complete_review_24", "exit", "renew"}
)


@cache
def machine() -> Machine:
    """The one Machine for this process definition, built on first use (~ms, once per process)."""
    from transitions import Machine

    return Machine(
        model=None,
        states=list(STATES),
        initial=INITIAL,
        transitions=[
            {"trigger": edge.event, "source": list(edge.sources), "dest": edge.dest}
            for edge in EDGES
        ],
        auto_transitions=False,
        send_event=True,
    )


def destination(state: str, event: str) -> str:
    """Where `event` leads from `state`; raises if the event is unknown or not allowed there."""
    if state not in STATES:
        raise BadInput(f"unknown state {state!r}")
    if event == CREATE_EVENT:
        raise NotAllowedInState(f"{CREATE_EVENT} creates an agreement; it cannot be fired on one")
    found: Any = machine().get_transitions(trigger=event, source=state)
    if not found:
        if event not in EVENTS:
            raise BadInput(f"unknown event {event!r}; events: {', '.join(EVENTS)}")
        allowed = ", ".join(allowed_events(state)) or "none (final state)"
        raise NotAllowedInState(f"{event} is not allowed in state {state} (allowed: {allowed})")
    dest: str = found[0].dest
    return dest


def allowed_events(state: str) -> list[str]:
    triggers: list[str] = machine().get_triggers(state)
    return [event for event in EVENTS if event in triggers]


def is_active(state: str) -> bool:
    return state not in TERMINAL
