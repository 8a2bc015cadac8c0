"""The sweep: fire every timer due at or before `now`, in due order, exactly once.

Timers are rows (`storage.models.Timer`); the sweep reads only what is due through the
(status, fire_at) index, claims a bounded batch, and commits each batch together with the outbox
rows and transitions it produced. Steps of one ladder supersede each other: after downtime, only
the latest due step of a ladder runs; the earlier ones are marked skipped and logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine, Select, bindparam, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session

from config.rules import load_rules
from notifications.group_commit import write_turn
from notifications.outbox import NOTICE_AGREEMENT_FIELDS, Notice, enqueue, enqueue_many
from states.calendar import local_date
from states.context import Context
from states.errors import ConcurrentModification, NotAllowedInState, PermissionDenied
from states.labels import reached_note
from states.registry import process
from states.rules import MAIN_PROCESS, RuleSet, TimerRule
from storage import tables
from storage.case_refs import CaseRef, in_case
from storage.db import transaction
from storage.models import Agreement, Deadline
from storage.records import records
from workflow.actors import SYSTEM_ACTOR
from workflow.cases import STORES
from workflow.engine import Request, apply

log = logging.getLogger("pal.sweep")
BATCH = 500
# Errors of the database itself, and a lost race for an agreement: the batch stops and is tried
# again by the next sweep, rather than its timers being marked failed.
_TRANSIENT = (OperationalError, InterfaceError, ConcurrentModification)


@dataclass
class SweepReport:
    fired: int = 0
    skipped: int = 0
    actions: list[str] = field(default_factory=list)
    # Timed actions the agreement's state did not allow; the liaison and director were told.
    blocked: list[str] = field(default_factory=list)
    emails: int = 0
    # Timers that could not run (broken rule data, a bug); each failed alone, recorded.
    failed: list[str] = field(default_factory=list)

    def add(self, other: SweepReport) -> None:
        self.fired += other.fired
        self.skipped += other.skipped
        self.actions.extend(other.actions)
        self.blocked.extend(other.blocked)
        self.emails += other.emails
        self.failed.extend(other.failed)


def sweep(
    engine: Engine,
    ctx: Context,
    batch: int = BATCH,
    *,
    stop: threading.Event | None = None,
    budget: float | None = None,
) -> SweepReport:
    """Fire everything due at `ctx.now`, batch by batch; when `stop` is set, end after the
    batch in hand (what is left is still due, for the next sweep).

    `budget` (seconds) bounds how long one batch holds the write lock: batches shrink (down to
    one timer) when they take longer, and grow back up to `batch` when they are quick. `pal
    serve` sets it, so that its delivery results, which go next (group_commit.write_turn), wait
    at most about that long on SQLite. Any batch size gives the same outcome.
    """
    report = SweepReport()
    _schedule_series(engine, ctx, report)
    size = batch
    while stop is None or not stop.is_set():
        done = SweepReport()
        try:
            # On SQLite each batch takes its turn for the write lock behind this process's
            # delivery results, which must be written within RECORD_LINGER (group_commit).
            with write_turn(engine), transaction(engine) as session, session.no_autoflush:
                started = time.monotonic()
                # No autoflush: each step's queries need not push the batch's earlier rows.
                due = _claim(session, ctx, size)
                if not due:
                    return report
                notices = _leading_notices(due)
                if notices:
                    _run_notices(session, notices, ctx, done)
                else:
                    _run_action(session, due[0], ctx, done)
        except ConcurrentModification as exc:
            # Someone changed an agreement while its timed step ran: nothing of this batch was
            # written, and every timer in it is still pending for the next sweep.
            log.warning("sweep batch rolled back, to be tried again: %s", exc)
            return report
        report.add(done)
        if budget is not None:
            size = _resized(size, batch, budget, time.monotonic() - started)
    return report


def _schedule_series(engine: Engine, ctx: Context, report: SweepReport) -> None:
    """Schedule the meeting series' next meetings (workflow.meeting_series), in a transaction
    of their own before the timers: a meeting scheduled now has its reminder timer already."""
    from workflow.meeting_series import schedule_ahead

    with write_turn(engine), transaction(engine) as session:
        scheduled = schedule_ahead(session, ctx)
    report.actions.extend(f"meeting {meeting}: meeting of a series scheduled"
                          for meeting in scheduled)  # fmt: skip


def _resized(size: int, most: int, budget: float, took: float) -> int:
    """The next batch's size: scaled towards `budget` seconds, between 1 and `most`."""
    if took <= 0:
        return most
    return max(1, min(most, int(size * budget / took)))


# Built once: constructing statements costs more than running them on SQLite.
_TIMER_FIELDS = ("id", "agreement_id", "process", "case_id", "deadline_id", "ladder",
                 "offset_days", "action", "fire_at")  # fmt: skip
_DUE = (
    select(*(tables.TIMER.c[name] for name in _TIMER_FIELDS))
    .where(tables.TIMER.c.status == "pending", tables.TIMER.c.fire_at <= bindparam("now"))
    .order_by(tables.TIMER.c.fire_at, tables.TIMER.c.id)
    .limit(bindparam("batch"))
)
_LATER = tables.TIMER.alias("later")
# Of the claimed timers, those a later due step of the same ladder overtakes. A step another
# sweeper already ran (done or skipped) still overtakes; a cancelled or failed one does not.
_OVERTAKEN = select(tables.TIMER.c.id, _LATER.c.id.label("later_id"), _LATER.c.offset_days).where(
    tables.TIMER.c.id.in_(bindparam("claimed", expanding=True)),
    _LATER.c.deadline_id == tables.TIMER.c.deadline_id,
    _LATER.c.ladder == tables.TIMER.c.ladder,
    _LATER.c.status.not_in(("cancelled", "failed")),
    _LATER.c.fire_at > tables.TIMER.c.fire_at,
    _LATER.c.fire_at <= bindparam("now"),
)
_SETTLE = (
    update(tables.TIMER)
    .where(tables.TIMER.c.id.in_(bindparam("timers", expanding=True)))
    .values(status=bindparam("new_status"), done_at=bindparam("now"), outcome=bindparam("why"))
)
_IDS_PER_UPDATE = 900  # well under SQLite's limit on bound parameters
_DEADLINES = select(
    *(tables.DEADLINE.c[name] for name in ("id", "kind", "due_on", "status"))
).where(tables.DEADLINE.c.id.in_(bindparam("ids", expanding=True)))
_AGREEMENTS = select(*(tables.AGREEMENT.c[name] for name in NOTICE_AGREEMENT_FIELDS)).where(
    tables.AGREEMENT.c.id.in_(bindparam("ids", expanding=True))
)


def _claim(session: Session, ctx: Context, batch: int) -> list[Any]:
    query = _DUE
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return records(session, query, {"now": ctx.now, "batch": batch})


def _leading_notices(due: list[Any]) -> list[Any]:
    """The due timers before the first timed action: they only queue mail, so run as one set.

    An action changes the agreement's state and closes deadlines, so it runs alone, and
    whatever follows it is claimed again afterwards and sees what it did.
    """
    for index, timer in enumerate(due):
        if timer.action is not None:
            return due[:index]
    return due


def _run_notices(session: Session, due: list[Any], ctx: Context, report: SweepReport) -> None:
    """Run the notices as one set; if that fails, find the timers that fail on their own, mark
    them failed, and run the rest as one set again: a broken timer fails alone."""
    try:
        with session.begin_nested():
            done = SweepReport()
            _notices_as_set(session, due, ctx, done)
    except _TRANSIENT:
        raise
    except Exception as exc:
        log.warning("a batch of %d timers failed (%s); finding the broken ones", len(due), exc)
        done = SweepReport()
        broken = _broken(session, due, ctx)
        for timer, error in broken:
            _fail(session, timer, error, ctx, done)
        failed = {timer.id for timer, _ in broken}
        rest = [timer for timer in due if timer.id not in failed]
        if rest:
            with session.begin_nested():
                _notices_as_set(session, rest, ctx, done)
    report.add(done)


class _DryRun(Exception):
    """Raised to roll back a savepoint whose work only had to be tried."""


def _broken(session: Session, due: list[Any], ctx: Context) -> list[tuple[Any, Exception]]:
    """The timers that fail when run alone; each try is rolled back, whatever its outcome."""
    broken = []
    for timer in due:
        try:
            with session.begin_nested():
                _notices_as_set(session, [timer], ctx, SweepReport())
                raise _DryRun
        except _DryRun:
            pass
        except _TRANSIENT:
            raise
        except Exception as exc:
            broken.append((timer, exc))
    return broken


def _notices_as_set(session: Session, due: list[Any], ctx: Context, report: SweepReport) -> None:
    superseded = _superseded(session, due, ctx)
    deadlines = _by_id(session, _DEADLINES, {t.deadline_id for t in due})
    agreements = _by_id(session, _AGREEMENTS, {t.agreement_id for t in due})
    others = _other_cases(session, due)
    owed: list[Notice] = []
    outcomes = _Outcomes()
    # The step of each (process, rule version, deadline kind, ladder, offset): the same for
    # many timers.
    steps: dict[tuple[str | None, str, str, str, int], TimerRule] = {}
    for timer in due:
        deadline = deadlines[timer.deadline_id]
        if timer.id in superseded:
            _skip(outcomes, timer, superseded[timer.id], report)
        elif deadline.status != "open":
            outcomes.add(timer, "cancelled", f"deadline already {deadline.status}")
        else:
            agreement = agreements[timer.agreement_id]
            other = others.get((timer.process, timer.case_id)) if timer.process else None
            version = other.row.rules_version if other else agreement.rules_version
            key = (timer.process, version, deadline.kind, timer.ladder, timer.offset_days)
            step = steps.get(key)
            if step is None:
                rules = load_rules(version).of(timer.process or MAIN_PROCESS)
                step = steps[key] = _step(rules, deadline.kind, timer)
            assert step.notice is not None
            told = f"timer{timer.id}"
            owed.append(Notice(agreement, step.notice, told, step.to, deadline) if other is None
                        else Notice(agreement, step.notice, told, step.to, deadline, other.facts,
                                    case=other.ref))  # fmt: skip
            outcomes.add(timer, "done", "sent")
            report.fired += 1
    report.emails += enqueue_many(session, owed, ctx)
    outcomes.write(session, ctx)


def _run_action(session: Session, due: Any, ctx: Context, report: SweepReport) -> None:
    done = SweepReport()
    try:
        with session.begin_nested():
            _action(session, due, ctx, done)
    except _TRANSIENT:
        raise
    except Exception as exc:
        done = SweepReport()
        _fail(session, due, exc, ctx, done)
    report.add(done)


@dataclass(frozen=True)
class _Case:
    """The case a timer is of: an agreement (`ref` None), or a case of another process that
    belongs to `agreement`, with what its notices tell of it (`facts`)."""

    process: str
    row: Any
    agreement: Any
    ref: CaseRef | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def rules(self) -> RuleSet:
        return load_rules(self.row.rules_version).of(self.process)


def _other_cases(session: Session, due: list[Any]) -> dict[tuple[str, int], _Case]:
    """The cases of other processes the timers `due` are of, each loaded by its store (none
    when every timer is an agreement's own)."""
    found: dict[tuple[str, int], _Case] = {}
    for timer in due:
        at = (timer.process, timer.case_id)
        if timer.process is not None and at not in found:
            store = STORES[timer.process]
            row = store.load(session, timer.case_id)
            ref = CaseRef(timer.agreement_id, timer.process, timer.case_id)
            found[at] = _Case(timer.process, row, None, ref, dict(store.notice_facts(session, row)))
    return found


def _case_of(session: Session, timer: Any) -> _Case:
    agreement = session.get(Agreement, timer.agreement_id)
    assert agreement is not None
    if timer.process is None:
        return _Case(MAIN_PROCESS, agreement, agreement)
    other = _other_cases(session, [timer])[(timer.process, timer.case_id)]
    return _Case(other.process, other.row, agreement, other.ref, other.facts)


def _action(session: Session, due: Any, ctx: Context, report: SweepReport) -> None:
    outcomes = _Outcomes()
    superseded = _superseded(session, [due], ctx)
    deadline = session.get(Deadline, due.deadline_id)
    assert deadline is not None
    case = _case_of(session, due)
    if due.id in superseded:
        _skip(outcomes, due, superseded[due.id], report)
    elif deadline.status != "open":
        outcomes.add(due, "cancelled", f"deadline already {deadline.status}")
    elif (moot := _moot(session, case.rules, deadline, ctx)) is not None:
        outcomes.add(due, "skipped", moot)
    else:
        step = _step(case.rules, deadline.kind, due)
        if step.notice:  # a step may carry a notice as well as its action
            owed = Notice(case.agreement, step.notice, f"timer{due.id}", step.to, deadline,
                          case.facts, case=case.ref)  # fmt: skip
            report.emails += enqueue(session, owed, ctx)
        outcomes.add(due, *_act(session, case, deadline, step, due, ctx, report))
        report.fired += 1
    outcomes.write(session, ctx)


def _moot(session: Session, rules: RuleSet, deadline: Deadline, ctx: Context) -> str | None:
    """Why the action on `deadline` should not run: an action that waives its deadline is due
    too (the RGA determined so late that the 36-month review is due as well as the 24-month
    one). That action runs instead, and waives this deadline. It counts as due when another
    sweeper (`SKIP LOCKED` past this timer) already tried it and it waits for the agreement's
    state: alone, the sweep would have found it pending, in due order."""
    waived_by = rules.deadline(deadline.kind).waived_by
    if not waived_by:
        return None
    later = session.execute(
        select(tables.TIMER.c.action).where(
            in_case(tables.TIMER),
            tables.TIMER.c.status.in_(("pending", "waiting")),
            tables.TIMER.c.fire_at <= ctx.now,
            tables.TIMER.c.action.in_(sorted(waived_by)),
        ),
        CaseRef(deadline.agreement_id, deadline.process, deadline.case_id).params,
    ).first()
    if later is None:
        return None
    return f"{later.action} is due too, and waives {deadline.kind}"


def _fail(session: Session, timer: Any, exc: Exception, ctx: Context, report: SweepReport) -> None:
    """Record a timer that cannot run (broken rule data, a bug): it fails alone, visibly."""
    why = f"{type(exc).__name__}: {exc}"[:500]
    log.error("timer %s of agreement %s failed: %s", timer.id, timer.agreement_id, why)
    report.failed.append(f"agreement {timer.agreement_id}: timer {timer.id}: {why}")
    outcomes = _Outcomes()
    outcomes.add(timer, "failed", why)
    outcomes.write(session, ctx)


class _Outcomes:
    """How each timer of a step settled, grouped so that one UPDATE writes each outcome."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str, str], list[int]] = defaultdict(list)

    def add(self, timer: Any, status: str, why: str) -> None:
        self.groups[(status, why)].append(timer.id)

    def write(self, session: Session, ctx: Context) -> None:
        for (status, why), ids in self.groups.items():
            for start in range(0, len(ids), _IDS_PER_UPDATE):
                chunk = ids[start : start + _IDS_PER_UPDATE]
                values = {"timers": chunk, "new_status": status, "now": ctx.now, "why": why}
                session.execute(_SETTLE, values)


def _superseded(session: Session, due: list[Any], ctx: Context) -> dict[int, Any]:
    """Each due timer that a later due step of its ladder overtakes, with the latest such step."""
    found: dict[int, Any] = {}
    claimed = [timer.id for timer in due]
    for row in session.execute(_OVERTAKEN, {"claimed": claimed, "now": ctx.now}):
        if row.id not in found or row.offset_days > found[row.id].offset_days:
            found[row.id] = row
    return found


def _by_id(session: Session, query: Select[Any], ids: set[int]) -> dict[int, Any]:
    return {row.id: row for row in records(session, query, {"ids": sorted(ids)})}


def _skip(outcomes: _Outcomes, timer: Any, later: Any, report: SweepReport) -> None:
    # Per timer, so debug: the service logs one line per sweep with the count (workflow.service).
    log.debug("timer %s skipped: superseded by timer %s", timer.id, later.later_id)
    report.skipped += 1
    outcomes.add(timer, "skipped", f"superseded by the step at {later.offset_days:+d} days")


def _step(rules: RuleSet, kind: str, timer: Any) -> TimerRule:
    for step in rules.timers_for(kind):
        if step.ladder == timer.ladder and step.offset_days == timer.offset_days:
            return step
    raise LookupError(f"rules {rules.version} have no step {timer.ladder}{timer.offset_days:+d}")


def _act(
    session: Session,
    case: _Case,
    deadline: Deadline,
    step: TimerRule,
    timer: Any,
    ctx: Context,
    report: SweepReport,
) -> tuple[str, str]:
    """Apply the step's event as `system`, through the engine like any other caller (and so
    under the same permission table); returns the timer's status and why.

    When it is refused, the people named are told why. Refused because the agreement is not yet
    at a stage the event starts from (the RGA is still open when the 24-month review falls
    due), the timer waits: the agreement's next change of state re-arms it (see
    `deadlines.rearm_waiting`), so the review opens as soon as it can, however late."""
    assert step.action is not None
    row = case.row
    day = max(_timer_day(timer, ctx), row.last_event_on)
    note = reached_note(process(case.process).deadline_labels, deadline.kind, deadline.due_on)
    definition = process(case.process)
    state, named = row.state, definition.case_words(row.id)
    spec = definition.event(step.action)
    request = Request(step.action, SYSTEM_ACTOR, case=row.id, process=case.process, on=day,
                      note=note)  # fmt: skip
    try:
        with session.begin_nested():
            written = apply(session, request, ctx)
    except (PermissionDenied, NotAllowedInState) as exc:
        log.warning("%s: %s not possible: %s", named, step.action, exc)
        at = definition.state_labels.get(state, state)
        report.blocked.append(f"{named}: {spec.label}, while at {at}")
        later = isinstance(exc, NotAllowedInState) and state not in spec.sources
        if step.otherwise_notice:
            reason = definition.refusal_in_words(spec, state, case.rules, exc)
            words = {**case.facts, "action": step.action, "action_label": spec.label,
                     "reason": reason, "waits": later}  # fmt: skip
            owed = Notice(
                case.agreement, step.otherwise_notice, f"timer{timer.id}", step.otherwise_to,
                deadline, words, case=case.ref,
            )  # fmt: skip
            report.emails += enqueue(session, owed, ctx)
        why = f"{step.action} not possible: {exc}; told {', '.join(step.otherwise_to)}"
        return ("waiting", why) if later else ("done", why)
    # The transition closed deadlines and timers with set-based UPDATEs: reload what we hold.
    session.expire_all()
    now_at = definition.state_labels.get(written.state, written.state)
    report.actions.append(f"{named}: {spec.label}; now at {now_at}")
    return "done", f"fired {step.action}"


def _timer_day(timer: Any, ctx: Context) -> date:
    return local_date(timer.fire_at, ctx.tz)
