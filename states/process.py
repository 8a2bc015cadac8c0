"""What a process definition is made of: states, and events described once each.

A `Process` is pure data plus pure functions. The engine (`workflow.engine.apply`) reads an
`EventSpec` to know everything about an event: where it may fire and where it leads, who may fire
it (a key into the rule data's permission table), the data it takes, its guard, the columns and
records it writes, what follows it and whether it hands over to a successor case. The deadlines
it opens and meets and the notices it sends are rule data, keyed by the event's name, because
they change with the rule version an agreement keeps.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from states.errors import BadInput, NotAllowedInState, PalError, PermissionDenied
from states.labels import ROLE_LABELS, joined
from states.money import parse_dollars

if TYPE_CHECKING:
    from transitions import Machine

    from states.rules import RuleSet


@dataclass(frozen=True)
class Field:
    """One item of data an event takes (`--set NAME=VALUE` on the command line).

    `kind` says how the engine resolves the raw text: `text` is taken as given (stripped),
    `person` must be a person on file holding one of `roles` (the value becomes their address as
    on file), `choice` must be one of `choices(case, rules)` (with `many`, a comma list of them),
    `number` a finite decimal number, `money` an exact amount of dollars and cents (a Decimal,
    `states.money`), `date` an ISO date, and `pairs` names given values
    (`KEY=VALUE` items separated by `;`, or a mapping from a command that collects them).
    An optional field left out takes `default(case, rules)`, or is absent.
    """

    name: str
    kind: str = "text"
    required: bool = True
    roles: tuple[str, ...] = ()
    choices: Callable[[Any, RuleSet], Sequence[str]] | None = None
    many: bool = False
    default: Callable[[Any, RuleSet], Any] | None = None
    # How the choices are described in an error: "this agreement's consequences".
    choices_are: str = "the choices"

    def __post_init__(self) -> None:
        if self.kind not in FIELD_KINDS:
            raise ValueError(f"field {self.name}: unknown kind {self.kind!r}")
        if (self.kind == "person") != bool(self.roles):
            raise ValueError(f"field {self.name}: a person field, and only one, names roles")
        if (self.kind == "choice") != (self.choices is not None):
            raise ValueError(f"field {self.name}: a choice field, and only one, has choices")

    def check_choice(self, raw: str, case: Any, rules: RuleSet) -> str | tuple[str, ...]:
        assert self.choices is not None
        allowed = list(self.choices(case, rules))
        if not self.many:
            if raw not in allowed:
                raise BadInput(f"{raw!r} is not among {self.choices_are} ({', '.join(allowed)})")
            return raw
        chosen = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
        unknown = [item for item in chosen if item not in allowed]
        if not chosen or unknown:
            raise BadInput(
                f"unknown {self.name} {', '.join(unknown) or '(empty)'}; "
                f"choose from {', '.join(allowed)}"
            )
        return chosen


    def parse(self, raw: Any) -> Any:
        """A `number`, `date` or `pairs` value from what was given; refused in words if bad."""
        if self.kind == "number":
            return parse_number(raw, self.name)
        if self.kind == "money":
            return parse_dollars(raw, self.name)
        if self.kind == "date":
            return parse_date(raw, self.name)
        if self.kind == "pairs":
            return parse_pairs(raw, self.name)
        raise ValueError(f"field {self.name}: {self.kind} values are not parsed here")


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?", re.ASCII)


def parse_number(raw: str, name: str) -> float:
    """A decimal number written plainly (ASCII digits, an optional exponent), within 10^15."""
    text = str(raw).strip()
    if not _NUMBER.fullmatch(text):
        raise BadInput(f"{name} must be a number like 62.5, not {raw!r}")
    number = Decimal(text)
    if number and number.adjusted() > 15:
        raise BadInput(f"{name} must be a number below 10^16, not {raw!r}")
    return float(number) + 0.0  # -0 is 0


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def parse_date(raw: str, name: str) -> date:
    text = str(raw).strip()
    try:
        if not _DATE.fullmatch(text):  # fromisoformat also takes week dates (2019-W49-1)
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{name} must be a date (YYYY-MM-DD), not {raw!r}") from None


def parse_pairs(raw: Any, name: str) -> dict[str, str]:
    items = raw.items() if isinstance(raw, Mapping) else _split_pairs(str(raw), name)
    pairs: dict[str, str] = {}
    for raw_key, raw_value in items:
        key = str(raw_key).strip()
        if not key:
            raise BadInput(f"{name} takes NAME=VALUE items")
        if key in pairs:
            raise BadInput(f"{name} names {key} twice")
        pairs[key] = str(raw_value).strip()
    return pairs


def _split_pairs(text: str, name: str) -> list[tuple[str, str]]:
    found = []
    for item in filter(str.strip, text.split(";")):
        key, sep, value = item.partition("=")
        if not sep:
            raise BadInput(f"{name} takes NAME=VALUE items separated by ';', not {item!r}")
        found.append((key, value))
    return found


FIELD_KINDS = frozenset({"text", "person", "choice", "number", "money", "date", "pairs"})


@dataclass(frozen=True)
class Child:
    """A record an event appends beside its case (a signature, later a measurement)."""

    kind: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Changes:
    """What an event writes: columns of its case, records appended beside it, and deadline
    kinds it closes as no longer needed (`waive`, with the reason `waived_because`)."""

    columns: Mapping[str, Any] = field(default_factory=dict)
    children: tuple[Child, ...] = ()
    waive: tuple[str, ...] = ()
    waived_because: str = ""
    # What the audit row records besides the event's data (what the effect worked out).
    audited: Mapping[str, Any] = field(default_factory=dict)
    # People its notices may go to by a role of this event's own (rule data names it in `to`),
    # each an email: `former_liaison` for the liaison a reassignment replaces.
    named: Mapping[str, str] = field(default_factory=dict)
    # Corrections (see `Redate`): records taken out of the current record (a signature recorded
    # in error), each named by its kind and the values that identify it; the audit row keeps
    # everything about them. `reopen`: deadline kinds met by a withdrawn record, open again.
    removes: tuple[Child, ...] = ()
    reopen: tuple[str, ...] = ()
    # The effective date of the latest step moved; its deadlines and timers recomputed.
    redate: Redate | None = None
    # A deliberate move to another rule version: open deadlines recomputed under it.
    rules_version: str | None = None
    # Who a notice addressed to `told_before` (TOLD) goes to: the roles told of what is corrected.
    told: tuple[str, ...] = ()


@dataclass(frozen=True)
class Redate:
    """A correction of the effective date of a step (an event and the follow-up it fired):
    `events` moved from `old` to `new`; `records` are the (kind, field) of records they
    appended that hold that date (the latest record of each kind is re-dated)."""

    events: tuple[str, ...]
    old: date
    new: date
    records: tuple[tuple[str, str], ...] = ()


Guard = Callable[[Any, Mapping[str, Any], "RuleSet"], None]
Effect = Callable[[Any, Mapping[str, Any], "RuleSet", date], Changes]
# Why the event needs a note for this case (None when it does not).
NoteRule = Callable[[Any, "RuleSet"], str | None]
# What a guard or an effect may read of its case beyond its row; each costs queries, so an
# event names only what it uses: `history` (events since the case entered its state), `plan`
# (schools and benchmarks), `measurements` (the plan with each benchmark's latest measurement
# on or before the event's day), `review` (the latest review with its steps, and the statuses
# last determined), `trail` (every audit row of the case: what corrections look at),
# `amendments` (every version of the terms with its signatures, and the benchmarks of the
# amendment open, if any); of a fund request, `activities` (its activities and what its
# agreement's other requests left unreported).
READS = frozenset(
    {"history", "plan", "measurements", "review", "trail", "amendments", "activities"}
)


@dataclass(frozen=True)
class Successor:
    """The case an event hands over to: created in `state` under the current default rules,
    carrying `carry` columns over, linked both ways (`link_back` on the new case, `link_on`
    on the old). Deadlines and notices the event opens go to the successor."""

    state: str
    carry: tuple[str, ...]
    link_back: str
    link_on: str


@dataclass(frozen=True)
class EventSpec:
    """One event of a process, described once; every caller applies it through the engine."""

    name: str
    label: str  # in words a district reads: "open the 18-month Review of Goal Attainment"
    sources: tuple[str, ...] = ()
    # Where it leads; None for an event that records something and leaves the state as it is.
    dest: str | None = None
    # Sources from which it records but leads nowhere (`determine` in the 36-month review,
    # whose outcome is a separate event).
    stays_in: tuple[str, ...] = ()
    fields: tuple[Field, ...] = ()
    guard: Guard | None = None
    effect: Effect | None = None
    # Fired next by `system`, in the same transaction, when its own guard lets it; the note
    # its audit row carries is made from this event's data and who fired it.
    follow_up: str | None = None
    follow_up_note: Callable[[Mapping[str, Any], str], str] | None = None
    successor: Successor | None = None
    # Creates its case (it has no source state); its dest is where the case starts.
    creates: bool = False
    permission: str = ""  # key of the rule data's permission table; the event's name if empty
    reads: frozenset[str] = frozenset()
    note_required: NoteRule | None = None
    # Where the event keeps its effective date besides the case's last event: columns of the
    # case (`signed_on`) and fields of the records it appends (`signature.signed_on`). A date
    # correction moves them.
    dated: tuple[str, ...] = ()
    # Whether the event's date can be corrected afterwards (not when its outcome was worked
    # out as of its date, or it handed over to a successor).
    correctable: bool = True
    # A corrective step (a withdrawal, a date correction, a move to another rule version):
    # not an event of the case's life that a date correction could move.
    corrective: bool = False

    def __post_init__(self) -> None:
        if not self.reads <= READS:
            raise ValueError(f"{self.name}: unknown reads {sorted(self.reads - READS)}")
        if not set(self.stays_in) <= set(self.sources):
            raise ValueError(f"{self.name}: stays_in names a state it cannot fire from")

    @cached_property
    def looks_at_case(self) -> bool:
        """Whether applying it needs the case loaded: for its guard, its note rule, its choices
        or what it `reads`. An effect sees the case only then (otherwise None): one that looks
        at the case says what it reads."""
        return bool(
            self.guard or self.note_required or self.reads
            or any(f.kind == "choice" for f in self.fields)
        )  # fmt: skip

    @property
    def permission_key(self) -> str:
        return self.permission or self.name

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def _edges(spec: EventSpec) -> list[tuple[list[str], str | None]]:
    """The event's transitions for the Machine: where it leads, and where it stays."""
    moving = [s for s in spec.sources if s not in spec.stays_in]
    return [(moving, spec.dest), (list(spec.stays_in), None)]


@dataclass(frozen=True)
class Process:
    """A process definition: its states and its events, with one shared transitions Machine.

    The Machine is the definition, never a per-case object: the engine asks it where an event
    leads from a row's state and applies the answer to the row itself.
    """

    name: str
    label: str
    states: tuple[str, ...]
    terminal: frozenset[str]
    events: tuple[EventSpec, ...]
    state_labels: Mapping[str, str]
    # The deadline kinds its rule data may name, with the words a notice uses for each.
    deadline_labels: Mapping[str, str] = field(default_factory=dict)
    # CLI commands that stand for an event (`pal agreement sign` records a signature).
    commands: Mapping[str, str] = field(default_factory=dict)
    # Named steps, each recorded by its own event (`pal review step ID evidence`).
    steps: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [spec.name for spec in self.events]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: an event is described twice")
        creates = [spec for spec in self.events if spec.creates]
        if len(creates) != 1:
            raise ValueError(f"{self.name}: exactly one event creates a case")
        for spec in self.events:
            for state in (*spec.sources, *([spec.dest] if spec.dest else [])):
                if state not in self.states:
                    raise ValueError(f"{self.name}.{spec.name}: unknown state {state!r}")
            if spec.follow_up is not None and spec.follow_up not in names:
                raise ValueError(f"{self.name}.{spec.name}: unknown follow-up {spec.follow_up!r}")
            if spec.successor is not None and spec.successor.state not in self.states:
                raise ValueError(f"{self.name}.{spec.name}: unknown successor state")
        if set(self.state_labels) != set(self.states):
            raise ValueError(f"{self.name}: every state, and only they, need a label")
        for command, event in (*self.commands.items(), *self.steps.items()):
            if event not in names:
                raise ValueError(f"{self.name}: command {command} names unknown event {event!r}")

    @cached_property
    def by_name(self) -> Mapping[str, EventSpec]:
        return {spec.name: spec for spec in self.events}

    @cached_property
    def create(self) -> EventSpec:
        return next(spec for spec in self.events if spec.creates)

    @property
    def active(self) -> tuple[str, ...]:
        return tuple(s for s in self.states if s not in self.terminal)

    @property
    def event_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.events)

    @cached_property
    def permission_keys(self) -> frozenset[str]:
        return frozenset(spec.permission_key for spec in self.events)

    def case_words(self, case_id: int) -> str:
        """One case in words: `partnership agreement 2`, `Section 21(h) fund request 4`, `action
        item 3` (not the audit log's `funds_request:4`)."""
        return f"{re.sub(r'^an? ', '', self.label)} {case_id}"

    def event(self, name: str) -> EventSpec:
        found = self.by_name.get(name)
        if found is None:
            raise BadInput(f"unknown event {name!r}; events: {', '.join(self.event_names)}")
        return found

    @cached_property
    def machine(self) -> Machine:
        """The one Machine for this definition, built on first use (~ms, once per process)."""
        from transitions import Machine

        moves = [spec for spec in self.events if not spec.creates]
        return Machine(
            model=None,
            states=list(self.states),
            initial=self.create.dest,
            transitions=[
                {"trigger": spec.name, "source": sources, "dest": dest}
                for spec in moves
                for sources, dest in _edges(spec)
                if sources
            ],
            auto_transitions=False,
            send_event=True,
        )

    @cached_property
    def _moves(self) -> frozenset[tuple[str, str]]:
        """The (state, event) pairs the Machine lets fire, asked of it once per pair."""
        return frozenset(
            (state, spec.name)
            for spec in self.events
            if not spec.creates
            for state in self.states
            if self.machine.get_transitions(trigger=spec.name, source=state)
        )

    def destination(self, state: str, event: str) -> str:
        """Where `event` leads from `state`; raises if it is unknown or not allowed there."""
        if state not in self.states:
            raise BadInput(f"unknown state {state!r}")
        spec = self.event(event)
        if spec.creates:
            raise NotAllowedInState(f"{event} creates {self.label}; it cannot be fired on one")
        if (state, event) not in self._moves:
            allowed = ", ".join(self.allowed_events(state)) or "none (final state)"
            raise NotAllowedInState(f"{event} is not allowed in state {state} (allowed: {allowed})")
        if spec.dest is None or state in spec.stays_in:
            return state
        return spec.dest

    def allows(self, state: str, event: str) -> bool:
        """Whether `event` may fire from `state` (what the machine says, looked up in a set)."""
        return (state, event) in self._moves

    def allowed_events(self, state: str) -> list[str]:
        triggers: list[str] = self.machine.get_triggers(state)
        return [name for name in self.event_names if name in triggers]

    def is_active(self, state: str) -> bool:
        return state not in self.terminal

    def refusal_in_words(self, spec: EventSpec, state: str, rules: RuleSet, error: PalError) -> str:
        """Why `spec` could not be applied automatically, in words a district reads."""
        if isinstance(error, PermissionDenied):
            allowed = sorted(rules.permissions.get(spec.permission_key, frozenset()))
            who = [ROLE_LABELS.get(role, role) for role in allowed if role != "system"]
            return (
                f"the rules this agreement follows (version {rules.version}) leave it to "
                f"{joined(who, 'or') or 'nobody'} to {spec.label}, so pal did not do it itself"
            )
        if state not in spec.sources:
            where = joined((f"“{self.state_labels[s]}”" for s in spec.sources), "or")
            return (
                f"the agreement is at the stage “{self.state_labels[state]}”, and this can only "
                f"be done at {where}"
            )
        return str(error)
