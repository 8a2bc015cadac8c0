"""What the review notices tell: which review, its steps with their dates and who recorded
them, what comes next and by when, and each school's status, all in the program's words.

`ReviewBook.load` reads, for the agreements of many notices at once, only what their notices
use (see `NEEDS`): a notice that tells nothing about reviews costs no query. The facts are
plain values a template reads; no engine name reaches them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import Session

from config.rules import load_rules
from states.labels import STATUS_LABELS, STEP_LABELS
from states.registry import process
from states.rules import DeadlineRule
from storage import tables
from storage.records import records

# What each notice tells, beyond what every notice gets:
# - "review": the agreement's latest review with the steps recorded (and who recorded them);
# - "schools": that review's determination, school by school;
# - "deadlines": every deadline still open (transition notices load these anyway).
# A notice of the running review's step deadline (the sweep's reminders) needs none of them
# (no query): the review is the agreement's state, the step its deadline's kind.
NEEDS: Mapping[str, frozenset[str]] = {
    "review_step_reminder": frozenset(),
    "review_step_overdue": frozenset(),
    "review_opened": frozenset({"deadlines"}),
    "review_step_recorded": frozenset({"review", "deadlines"}),
    "review_determined": frozenset({"review", "schools", "deadlines"}),
    "exited": frozenset({"review", "schools"}),
}
DETERMINATION = "status determination"


_REVIEWS = (
    select(
        tables.REVIEW.c.id,
        tables.REVIEW.c.agreement_id,
        tables.REVIEW.c.kind,
        tables.REVIEW.c.opened_on,
        tables.REVIEW.c.determined_on,
        tables.REVIEW.c.determined_by,
        tables.PERSON.c.name.label("determined_by_name"),
    )
    .outerjoin(tables.PERSON, tables.PERSON.c.email == tables.REVIEW.c.determined_by)
    .where(tables.REVIEW.c.agreement_id.in_(bindparam("ids", expanding=True)))
    .order_by(tables.REVIEW.c.agreement_id, tables.REVIEW.c.id)
)
_STEPS = (
    select(
        tables.REVIEW_STEP.c.review_id,
        tables.REVIEW_STEP.c.step,
        tables.REVIEW_STEP.c.done_on,
        tables.REVIEW_STEP.c.recorded_by,
        tables.PERSON.c.name.label("recorded_by_name"),
    )
    .outerjoin(tables.PERSON, tables.PERSON.c.email == tables.REVIEW_STEP.c.recorded_by)
    .where(tables.REVIEW_STEP.c.review_id.in_(bindparam("ids", expanding=True)))
    .order_by(tables.REVIEW_STEP.c.review_id, tables.REVIEW_STEP.c.id)
)
_SCHOOLS = (
    select(
        tables.DETERMINATION.c.review_id,
        tables.DETERMINATION.c.school_code,
        tables.DETERMINATION.c.computed,
        tables.DETERMINATION.c.agreed,
        tables.DETERMINATION.c.reason,
        tables.DETERMINATION.c.inputs,
        tables.SCHOOL.c.name,
    )
    .join(tables.SCHOOL, tables.SCHOOL.c.code == tables.DETERMINATION.c.school_code)
    .where(tables.DETERMINATION.c.review_id.in_(bindparam("ids", expanding=True)))
    .order_by(tables.DETERMINATION.c.review_id, tables.SCHOOL.c.name, tables.SCHOOL.c.code)
)
_OPEN = (
    select(
        tables.DEADLINE.c.agreement_id,
        tables.DEADLINE.c.kind,
        tables.DEADLINE.c.due_on,
        tables.DEADLINE.c.opened_on,
    )
    .where(
        tables.DEADLINE.c.agreement_id.in_(bindparam("ids", expanding=True)),
        tables.DEADLINE.c.status == "open",
        tables.DEADLINE.c.process.is_(None),  # the agreement's own, not its other cases'
    )
    .order_by(tables.DEADLINE.c.agreement_id, tables.DEADLINE.c.due_on, tables.DEADLINE.c.id)
)


@dataclass(frozen=True)
class StepFacts:
    label: str
    due_on: date | None = None  # its own deadline, while open
    done_on: date | None = None
    by: str | None = None  # the name of who recorded it (their email if not on file)


@dataclass(frozen=True)
class SchoolFacts:
    code: str
    name: str
    status: str  # the status agreed, as people read it
    computed: str  # the status the rules gave
    reason: str | None  # why the conference agreed this status, when a reason is recorded
    overridden: bool  # the status agreed differs from the one the rules gave
    unmeasured: int  # benchmarks with no measurement by the determination
    no_benchmarks: bool = False  # the plan set the school no benchmark


@dataclass(frozen=True)
class ReviewFacts:
    label: str  # "18-month Review of Goal Attainment", ...
    opened_on: date
    steps: tuple[StepFacts, ...]  # every step this review takes, in order
    last: StepFacts | None  # the step recorded last
    next: StepFacts | None  # the step the review waits for
    # The first date still due from the next step on (its own, a later step's, or the
    # determination's), and what is due then.
    next_due: date | None
    next_due_for: str | None
    determination_due: date | None
    determined_on: date | None = None
    determined_by: str | None = None
    schools: tuple[SchoolFacts, ...] = ()
    targets: int = 18  # the months after signing whose targets the review judges against
    outcome_follows: bool = False  # determined, and the agreement waits for its outcome


@dataclass(frozen=True)
class _Shape:
    """A rule version's review deadlines: the deadline of each step that has one, and the kind
    of the determination's."""

    step_deadline: Mapping[str, str]
    determination: str | None

    def step_of(self, kind: str) -> str | None:
        """The label of the step (or the determination) a deadline kind is for."""
        for step, deadline in self.step_deadline.items():
            if deadline == kind:
                return STEP_LABELS[step]
        return DETERMINATION if kind == self.determination else None

    def key_of(self, kind: str) -> str | None:
        """The step a deadline kind is for, as `pal review step` names it (staff only)."""
        return next((step for step, d in self.step_deadline.items() if d == kind), None)


def _shape(version: str) -> _Shape:
    # Keyed by the deadlines themselves: a version's file may differ between rule folders.
    return _shape_of(load_rules(version).deadlines)


@cache
def _shape_of(deadlines: tuple[DeadlineRule, ...]) -> _Shape:
    events = process("agreement").steps
    step_deadline = {
        step: rule.kind
        for step, event in events.items()
        for rule in deadlines
        if event in rule.met_by
    }
    kinds = set(step_deadline.values())
    # The events that open a review: those that open its steps' deadlines.
    opening = {event for rule in deadlines if rule.kind in kinds for event in rule.opened_by}
    others = [r.kind for r in deadlines if r.opened_by & opening and r.kind not in kinds]
    return _Shape(step_deadline, others[0] if others else None)


def due_step(version: str, kind: str) -> str | None:
    """What a review deadline of `kind` is for, in words (None for other deadlines)."""
    return _shape(version).step_of(kind)


def due_step_key(version: str, kind: str) -> str | None:
    """The step a review deadline of `kind` is for, as the command `pal review step` names it
    (for the one line a notice tells PAL staff); None for the determination and others."""
    return _shape(version).key_of(kind)


def review_name(version: str, state: str) -> str | None:
    """The review an agreement in `state` is in, in words (None outside a review)."""
    if state in load_rules(version).reviews:
        return process("agreement").state_labels[state]
    return None


@dataclass
class ReviewBook:
    """The review facts of many agreements, loaded set-based for the notices that use them."""

    reviews: dict[int, Any]
    steps: dict[int, list[Any]]
    schools: dict[int, list[Any]]
    deadlines: dict[int, list[Any]]

    @classmethod
    def empty(cls) -> ReviewBook:
        return cls({}, {}, {}, {})

    @classmethod
    def load(cls, session: Session, owed: Iterable[tuple[Any, Iterable[str]]]) -> ReviewBook:
        """`owed`: (agreement, what its notice needs of `NEEDS`); loads that, nothing else."""
        wanted: dict[str, set[int]] = {"review": set(), "schools": set(), "deadlines": set()}
        for agreement, needs in owed:
            for need in needs:
                wanted[need].add(agreement.id)
        book = cls.empty()
        ids = sorted(wanted["review"] | wanted["schools"])
        if ids:
            for row in records(session, _REVIEWS, {"ids": ids}):
                book.reviews[row.agreement_id] = row  # the latest wins
        latest = sorted(r.id for r in book.reviews.values())
        if latest:
            for row in records(session, _STEPS, {"ids": latest}):
                book.steps.setdefault(row.review_id, []).append(row)
        determined = sorted(
            r.id for a, r in book.reviews.items() if a in wanted["schools"] and r.determined_on
        )
        if determined:
            for row in records(session, _SCHOOLS, {"ids": determined}):
                book.schools.setdefault(row.review_id, []).append(row)
        if wanted["deadlines"]:
            book.deadlines = {a: [] for a in wanted["deadlines"]}
            for row in records(session, _OPEN, {"ids": sorted(wanted["deadlines"])}):
                book.deadlines[row.agreement_id].append(row)
        return book

    def open_deadlines(self, agreement: Any, given: Sequence[Any] | None) -> Sequence[Any]:
        """The agreement's open deadlines: those the caller gave, else those loaded."""
        if given is not None:
            return given
        return self.deadlines.get(agreement.id, ())

    def facts(self, agreement: Any, notice: str, deadlines: Sequence[Any]) -> ReviewFacts | None:
        """The agreement's latest review as `notice` tells it; None when it tells none."""
        needs = NEEDS.get(notice)
        if not needs:
            return None
        row = self.reviews.get(agreement.id)
        if row is None:
            if agreement.state not in load_rules(agreement.rules_version).reviews:
                return None
            # Just opened: the review is the agreement's state, opened on its last event.
            return build(agreement, agreement.state, agreement.last_event_on, (), deadlines)
        determined = self.schools.get(row.id, ()) if "schools" in needs else ()
        return build(agreement, row.kind, row.opened_on, self.steps.get(row.id, ()), deadlines,
                     row, determined)  # fmt: skip


def build(
    agreement: Any,
    kind: str,
    opened_on: date,
    done: Sequence[Any],
    deadlines: Sequence[Any],
    review: Any | None = None,
    determined: Sequence[Any] = (),
) -> ReviewFacts:
    """The facts of one review of `agreement` from its rows (`done`: its recorded steps)."""
    rules = load_rules(agreement.rules_version)
    rule = rules.review(kind)
    shape = _shape(agreement.rules_version)
    # The review's own deadlines: opened with it (earlier ones belong to the agreement).
    due = {d.kind: d.due_on for d in deadlines if d.opened_on >= opened_on}
    recorded = {row.step: row for row in done}
    steps = []
    for step in rule.steps:
        row = recorded.get(step)
        steps.append(
            StepFacts(
                STEP_LABELS[step],
                None if row else due.get(shape.step_deadline.get(step, "")),
                row.done_on if row else None,
                (row.recorded_by_name or row.recorded_by) if row else None,
            )
        )
    # Steps are recorded in order: the last one done is the one recorded last.
    last = next((s for s in reversed(steps) if s.done_on is not None), None)
    waiting = next((s for s in steps if s.done_on is None), None)
    determination_due = due.get(shape.determination or "")
    ahead: list[tuple[date | None, str]] = [
        (s.due_on, s.label) for s in steps if s.done_on is None and s.due_on is not None
    ]
    next_due, next_due_for = (ahead or [(determination_due, DETERMINATION)])[0]
    determined_on = review.determined_on if review is not None else None
    return ReviewFacts(
        label=process("agreement").state_labels[kind],
        opened_on=opened_on,
        steps=tuple(steps),
        last=last,
        next=waiting,
        next_due=next_due,
        next_due_for=next_due_for if next_due is not None else None,
        determination_due=determination_due,
        determined_on=determined_on,
        determined_by=(review.determined_by_name or review.determined_by) if review else None,
        schools=tuple(_school(row) for row in determined),
        targets=rule.targets,
        outcome_follows=determined_on is not None and agreement.state == kind,
    )


def _school(row: Any) -> SchoolFacts:
    return SchoolFacts(
        code=row.school_code,
        name=row.name,
        status=_status(row.agreed),
        computed=_status(row.computed),
        reason=row.reason,
        overridden=row.agreed != row.computed,
        unmeasured=sum(1 for item in row.inputs or () if item.get("value") is None),
        no_benchmarks=not row.inputs,
    )


def _status(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " "))
