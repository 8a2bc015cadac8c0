"""Open deadlines (and their timer ladders) when an event fires; close them when one meets them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from functools import cache
from typing import Any

from sqlalchemy import bindparam, case, insert, update
from sqlmodel import Session, select

from states.calendar import end_of_day, local_instant
from states.context import Context
from states.rules import RuleSet
from storage import tables
from storage.case_refs import CaseRef, in_case, ref_of
from storage.prepared import Prepared
from workflow.cases import AnyAgreement

# Whose deadlines: an agreement (its row, or an ORM object of it: its own deadlines), or a case
# of another process, named by its CaseRef (`storage.case_refs`).
Case = AnyAgreement | CaseRef


def open_for_event(
    session: Session,
    case: Case,
    rules: RuleSet,
    event: str,
    on: date,
    ctx: Context,
    *,
    year_end: date | None = None,
    case_due: date | None = None,
) -> int:
    """Open the deadlines `event` opens, each with its timer ladder; returns how many opened.
    `year_end`: the last day of the case's own fiscal year, if it has one; `case_due`: the due
    date the case was given (an action item's), for a deadline counted from it.

    Two Core INSERTs whatever the number: one for the deadlines (returning their ids), one for
    all their timers. A review opens three deadlines with nine timers.
    """
    opened = rules.deadlines_opened_by(event)
    if not opened:
        return 0
    due = {rule.kind: rule.due(on, year_end=year_end, case_due=case_due) for rule in opened}
    assert len(due) == len(opened), "one deadline of each kind"
    _open(session, ref_of(case), rules, due, on, ctx)
    return len(opened)


def _open(
    session: Session,
    case: CaseRef,
    rules: RuleSet,
    due: dict[str, date],
    on: date,
    ctx: Context,
    *,
    ran: Mapping[tuple[str, str, int], datetime] | None = None,
) -> None:
    """Open a deadline of each kind in `due`, opened `on`, each with its timer ladder.

    `ran` (a deadline recomputed by a correction, a rule migration, a withdrawal): when each
    reminder step of the deadline it replaces went out, by (kind, ladder, offset). A step that
    went out no later than the new one would is written as skipped, not sent again; one whose
    new moment is later (the date moved on) reminds of the corrected date. Actions still run.
    """
    values: dict[str, Any] = {**case.columns, "opened_on": on}
    for i, (kind, due_on) in enumerate(due.items()):
        values |= {f"kind{i}": kind, f"due_on{i}": due_on, f"due_at{i}": end_of_day(due_on, ctx.tz)}
    inserted = _open_statement(len(due)).execute(session, values).rows
    at = time(ctx.notice_hour, 0)
    # Matched by kind, which is unique among one event's deadlines: the order of RETURNING
    # rows is not guaranteed for a multi-row INSERT.
    timers = [
        {
            **case.columns,
            "deadline_id": deadline_id,
            "ladder": step.ladder,
            "offset_days": step.offset_days,
            "notice": step.notice,
            "action": step.action,
            "fire_at": local_instant(step.fires_on(due[kind], rules.business_days), at, ctx.tz),
        }
        for deadline_id, kind in inserted
        for step in rules.timers_for(kind)
    ]
    late = {(kind, step.ladder, step.offset_days) for _, kind in inserted
            for step in rules.timers_for(kind) if step.skip_when_opened_late}  # fmt: skip
    if late:
        timers = _skip_late(session, timers, late, dict(inserted), ctx)
    if ran:
        kinds = dict(inserted)
        sent = [
            t for t in timers
            if t["action"] is None
            and t["fire_at"] <= ran.get((kinds[t["deadline_id"]], t["ladder"], t["offset_days"]),
                                     _NEVER)
        ]  # fmt: skip
        if sent:
            timers = [t for t in timers if t not in sent]
            _PASSED.executemany(session, [{**t, "done_at": ctx.now} for t in sent])
    if timers:
        _SCHEDULE.executemany(session, timers)


@cache
def _open_statement(count: int) -> Prepared:
    """One multi-row INSERT of `count` deadlines of one case, returning their ids."""
    deadline = tables.DEADLINE.c
    rows = [
        {
            deadline.agreement_id: bindparam("agreement_id"),
            deadline.process: bindparam("process", type_=deadline.process.type),
            deadline.case_id: bindparam("case_id", type_=deadline.case_id.type),
            deadline.kind: bindparam(f"kind{i}"),
            deadline.due_on: bindparam(f"due_on{i}", type_=deadline.due_on.type),
            deadline.due_at: bindparam(f"due_at{i}", type_=deadline.due_at.type),
            deadline.status: "open",
            deadline.opened_on: bindparam("opened_on", type_=deadline.opened_on.type),
            deadline.closed_on: None,
        }
        for i in range(count)
    ]
    return Prepared(insert(tables.DEADLINE).values(rows).returning(deadline.id, deadline.kind))


def _skip_late(
    session: Session,
    timers: list[dict[str, Any]],
    late: set[tuple[str, str, int]],
    kinds: Mapping[int, str],
    ctx: Context,
) -> list[dict[str, Any]]:
    """The steps to schedule: those marked `skip_when_opened_late` whose moment has passed are
    written as skipped instead, with why."""
    passed = [
        t for t in timers
        if (kinds[t["deadline_id"]], t["ladder"], t["offset_days"]) in late
        and t["fire_at"] <= ctx.now
    ]  # fmt: skip
    if passed:
        _OPENED_LATE.executemany(session, [{**t, "done_at": ctx.now} for t in passed])
    return [t for t in timers if t not in passed]


_SCHEDULE = Prepared(insert(tables.TIMER).values(status="pending", done_at=None, outcome=None))
_PASSED = Prepared(
    insert(tables.TIMER).values(
        status="skipped",
        outcome="sent for the deadline this one replaces, no later than it would be now",
    )
)

_OPENED_LATE = Prepared(
    insert(tables.TIMER).values(
        status="skipped",
        outcome="its moment had passed when the deadline opened (the notice that opened it "
        "said as much)",
    )
)


# Statements are built once: constructing one costs more than running it on SQLite.
@cache
def _meet_statement(kinds: int) -> Prepared:
    # One per number of kinds met, each kind its own parameter (`kind0`, `kind1`...): an
    # expanding IN would be rewritten at every execution.
    return Prepared(
        update(tables.DEADLINE)
        .where(
            in_case(tables.DEADLINE),
            tables.DEADLINE.c.status == "open",
            tables.DEADLINE.c.kind.in_([bindparam(f"kind{i}") for i in range(kinds)]),
        )
        .values(
            status=case((tables.DEADLINE.c.due_on >= bindparam("day"), "met"), else_="met_late"),
            closed_on=bindparam("day"),
        )
    )


_CANCEL = Prepared(
    update(tables.DEADLINE)
    .where(in_case(tables.DEADLINE), tables.DEADLINE.c.status == "open")
    .values(status="cancelled", closed_on=bindparam("day"))
)
_STOP_TIMERS = Prepared(
    update(tables.TIMER)
    .where(
        in_case(tables.TIMER),
        tables.TIMER.c.status.in_(("pending", "waiting")),
        tables.TIMER.c.deadline_id.in_(
            select(tables.DEADLINE.c.id).where(
                in_case(tables.DEADLINE),
                tables.DEADLINE.c.status != "open",
            )
        ),
    )
    .values(status="cancelled", outcome=bindparam("why"))
)


def close_for_event(
    session: Session, case: Case, rules: RuleSet, event: str, on: date, *, final: bool
) -> int:
    """Meet the deadlines `event` satisfies; cancel every open one when the case ends.

    Returns how many deadlines closed; an event that touches no deadline costs no query. Rows
    already loaded in the session are not refreshed: callers that hold some (the sweep) expire.
    """
    met_kinds = [rule.kind for rule in rules.deadlines if event in rule.met_by]
    waived_kinds = [rule.kind for rule in rules.deadlines if event in rule.waived_by]
    if not (met_kinds or waived_kinds or final):
        return 0
    scope = ref_of(case).params
    closed = 0
    if met_kinds:
        params: dict[str, Any] = {**scope, "day": on}
        params.update((f"kind{i}", kind) for i, kind in enumerate(met_kinds))
        closed += _meet_statement(len(met_kinds)).execute(session, params).rowcount
    for kind in waived_kinds:
        closed += _waive_kind(session, scope, kind, on)
    if final:
        closed += _CANCEL.execute(session, {**scope, "day": on}).rowcount
    if closed:
        # Reminders stop the moment their deadline is met or closed.
        why = f"deadline closed by {event}"
        _STOP_TIMERS.execute(session, {**scope, "why": why})
    return closed


def waive(session: Session, case: Case, kinds: tuple[str, ...], on: date, why: str) -> int:
    """Close the open deadlines of `kinds` as no longer needed (`waived`), and stop their
    reminders with `why`; returns how many closed."""
    scope = ref_of(case).params
    closed = sum(_waive_kind(session, scope, kind, on) for kind in kinds)
    if closed:
        _STOP_TIMERS.execute(session, {**scope, "why": why})
    return closed


def _waive_kind(session: Session, scope: dict[str, Any], kind: str, on: date) -> int:
    return _WAIVE.execute(session, {**scope, "waived": kind, "day": on}).rowcount


_WAIVE = Prepared(
    update(tables.DEADLINE)
    .where(
        in_case(tables.DEADLINE),
        tables.DEADLINE.c.status == "open",
        tables.DEADLINE.c.kind == bindparam("waived"),
    )
    .values(status="waived", closed_on=bindparam("day"))
)


_REARM = Prepared(
    update(tables.TIMER)
    .where(in_case(tables.TIMER), tables.TIMER.c.status == "waiting")
    .values(
        status="pending",
        # Never before the moment it was due: a change of state recorded as of an earlier
        # day does not make the action earlier than its deadline.
        fire_at=case(
            (tables.TIMER.c.fire_at > bindparam("at"), tables.TIMER.c.fire_at),
            else_=bindparam("at"),
        ),
    )
)


def rearm_waiting(session: Session, case: Case, on: date, ctx: Context) -> None:
    """Timed actions that waited for the case to change state run again at the next sweep
    after `on`'s notice hour (or their own moment, if later): the state they wait for may have
    come."""
    at = local_instant(on, time(ctx.notice_hour, 0), ctx.tz)
    _REARM.execute(session, {**ref_of(case).params, "at": at})


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


# --- corrections: deadlines recomputed from a corrected date or under other rules ----------------

# A deadline closed because it was worked out from a date since corrected, or under the rule
# version the agreement no longer follows: reopened at once from the right date or rules.
CORRECTED = "corrected"
MIGRATED = "migrated"
# A deadline met by a record since withdrawn: open again (as a new row) until it is met again.
REOPENED = "reopened"

_OPEN_ROWS = (
    select(
        tables.DEADLINE.c.id,
        tables.DEADLINE.c.kind,
        tables.DEADLINE.c.due_on,
        tables.DEADLINE.c.opened_on,
    )
    .where(in_case(tables.DEADLINE), tables.DEADLINE.c.status == "open")
    .order_by(tables.DEADLINE.c.id)
)


def _close_and_stop(
    session: Session, agreement: AnyAgreement, ids: list[int], status: str, on: date, why: str
) -> None:
    """Close the deadlines `ids` with `status`; their pending and waiting timers stop (the ones
    already run stay as they are)."""
    if not ids:
        return
    session.execute(
        update(tables.DEADLINE)
        .where(tables.DEADLINE.c.id.in_(ids))
        .values(status=status, closed_on=on)
    )
    session.execute(
        update(tables.TIMER)
        .where(
            tables.TIMER.c.deadline_id.in_(ids),
            tables.TIMER.c.status.in_(("pending", "waiting")),
        )
        .values(status="cancelled", outcome=why)
    )


def recompute_opened(
    session: Session, agreement: AnyAgreement, rules: RuleSet, redate: Any, on: date, ctx: Context
) -> list[tuple[str, date, date]]:
    """The open deadlines `redate.events` opened on `redate.old`: closed as `corrected` and
    opened again from `redate.new` with fresh timers. Returns (kind, due before, due now)."""
    opened = (rule for event in redate.events for rule in rules.deadlines_opened_by(event))
    kinds = {rule.kind: rule for rule in opened}
    found = [
        row
        for row in session.execute(_OPEN_ROWS, ref_of(agreement).params).all()
        if row.kind in kinds and row.opened_on == redate.old
    ]
    why = f"deadline corrected: its date moved from {redate.old} to {redate.new}"
    _close_and_stop(session, agreement, [row.id for row in found], CORRECTED, on, why)
    due = {row.kind: kinds[row.kind].due(redate.new) for row in found}
    if due:
        ran = _ran(session, [row.id for row in found])
        _open(session, ref_of(agreement), rules, due, redate.new, ctx, ran=ran)
    return [(row.kind, row.due_on, due[row.kind]) for row in found]


def recompute_for_rules(
    session: Session, agreement: AnyAgreement, rules: RuleSet, on: date, ctx: Context
) -> list[tuple[str, date, date | None]]:
    """Every open deadline closed as `migrated` and opened again under `rules`, from the date
    it was opened, with that version's timers (a kind those rules do not have stays closed).
    Returns (kind, due before, due now or None)."""
    found = session.execute(_OPEN_ROWS, ref_of(agreement).params).all()
    why = f"deadline recomputed under rules {rules.version}"
    _close_and_stop(session, agreement, [row.id for row in found], MIGRATED, on, why)
    known = {rule.kind: rule for rule in rules.deadlines}
    by_day: dict[date, dict[str, date]] = {}
    for row in found:
        if row.kind in known:
            by_day.setdefault(row.opened_on, {})[row.kind] = known[row.kind].due(row.opened_on)
    ran = _ran(session, [row.id for row in found])
    for opened_on, due in by_day.items():
        _open(session, ref_of(agreement), rules, due, opened_on, ctx, ran=ran)
    return [
        (row.kind, row.due_on, by_day.get(row.opened_on, {}).get(row.kind)) for row in found
    ]


def redate_met(
    session: Session,
    agreement: AnyAgreement,
    rules: RuleSet,
    events: tuple[str, ...],
    old: date,
    new: date,
) -> None:
    """Deadlines `events` met on `old` are met on `new` instead (on time or late as that
    makes them)."""
    kinds = sorted({rule.kind for rule in rules.deadlines if set(events) & rule.met_by})
    if not kinds:
        return
    session.execute(
        update(tables.DEADLINE)
        .where(
            in_case(tables.DEADLINE),
            tables.DEADLINE.c.kind.in_(kinds),
            tables.DEADLINE.c.status.in_(("met", "met_late")),
            tables.DEADLINE.c.closed_on == old,
        )
        .values(
            status=case((tables.DEADLINE.c.due_on >= new, "met"), else_="met_late"),
            closed_on=new,
        ),
        ref_of(agreement).params,
    )


def reopen_met(
    session: Session,
    agreement: AnyAgreement,
    rules: RuleSet,
    kinds: tuple[str, ...],
    on: date,
    ctx: Context,
) -> list[str]:
    """The latest met deadline of each of `kinds` closes as `reopened` and opens again as a
    new row with the same dates and a fresh timer ladder; returns the kinds reopened."""
    reopened = []
    for kind in kinds:
        latest = session.execute(
            select(tables.DEADLINE.c.id, tables.DEADLINE.c.due_on, tables.DEADLINE.c.opened_on)
            .where(
                in_case(tables.DEADLINE),
                tables.DEADLINE.c.kind == kind,
                tables.DEADLINE.c.status.in_(("met", "met_late")),
            )
            .order_by(tables.DEADLINE.c.id.desc())
            .limit(1),
            ref_of(agreement).params,
        ).first()
        if latest is None:
            continue
        session.execute(
            update(tables.DEADLINE)
            .where(tables.DEADLINE.c.id == latest.id)
            .values(status=REOPENED)
        )
        _open(session, ref_of(agreement), rules, {kind: latest.due_on}, latest.opened_on, ctx,
              ran=_ran(session, [latest.id]))  # fmt: skip
        reopened.append(kind)
    return reopened


# How a timer whose moment passed before its agreement was imported is closed (going live). For
# a recomputed deadline it counts as run: pal would have sent it, had it run all along, and a
# correction or a rule migration must not now mail anyone about that past.
BEFORE_GO_LIVE = "before_go_live"

# Later than any moment: a step the replaced deadline never ran is never taken for sent.
_NEVER = datetime.max.replace(tzinfo=UTC)


def _ran(session: Session, deadline_ids: list[int]) -> dict[tuple[str, str, int], datetime]:
    """When each reminder step of these (closed) deadlines went out, was passed over for a
    later one or passed before going live, by (kind, ladder, offset): what their replacements
    must not send again."""
    if not deadline_ids:
        return {}
    rows = session.execute(
        select(tables.DEADLINE.c.kind, tables.TIMER.c.ladder, tables.TIMER.c.offset_days,
               tables.TIMER.c.fire_at)
        .join(tables.DEADLINE, tables.DEADLINE.c.id == tables.TIMER.c.deadline_id)
        .where(
            tables.TIMER.c.deadline_id.in_(deadline_ids),
            tables.TIMER.c.status.in_(("done", "skipped", BEFORE_GO_LIVE)),
            tables.TIMER.c.notice.is_not(None),
        )
    ).all()  # fmt: skip
    return {(r.kind, r.ladder, r.offset_days): r.fire_at for r in rows}
