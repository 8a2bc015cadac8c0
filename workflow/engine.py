"""Apply one event to one case, in the caller's transaction: the one path every caller takes.

The CLI, the sweep's timed actions and an event's follow-up all call `apply`. What an event
does is read from its description in `states/` (`EventSpec`); nothing here names an event. The
state change, its audit record, its deadlines, its notices, its follow-up and its successor are
written in the transaction the caller holds (`storage.db.transaction`), so they commit together
or not at all. Checks run before anything is written, in a fixed order: who is acting, the
state, the date (the case is read as of it), the event's data, then its guard.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from config.rules import load_rules
from config.settings import DEFAULT_RULES_VERSION
from states.context import Context
from states.errors import BadInput, ConcurrentModification, NotAllowedInState, NotFound
from states.process import Changes, EventSpec, Field, Process
from states.registry import process
from states.rules import MAIN_PROCESS, RuleSet
from storage.prepared import Prepared
from storage.roles import roles_held
from workflow import audit, corrections, deadlines
from workflow.actors import SYSTEM_ACTOR, Actor, normalize_email
from workflow.cases import STORES, CaseStore
from workflow.effects import after_transition
from workflow.text import TEXT_MAX, check_text


@dataclass(frozen=True)
class Request:
    """One event to apply: which, to what, by whom, with what data, effective when."""

    event: str
    actor: Actor
    case: int | None = None  # None for the event that creates a case
    parent: str | None = None  # what a new case belongs to (an agreement: its district's code)
    process: str = "agreement"
    on: date | None = None
    note: str | None = None
    # Raw values by field name: text, or for a `pairs` field a mapping a command collected.
    data: Mapping[str, str | Mapping[str, str]] = field(default_factory=dict)
    rules_version: str | None = None  # a new case's rules; the context's default if None
    # A step of the past written when going live (`workflow.going_live`): applied, dated and
    # audited like any other, but it tells nobody: its notices went out, if at all, before pal.
    quiet: bool = False

    def __post_init__(self) -> None:
        if self.note is not None:
            check_text(self.note, "--note", limit=TEXT_MAX)


def apply(session: Session, request: Request, ctx: Context) -> Any:
    """Apply `request`; returns the case's row as written (for a new case, the new row)."""
    definition = process(request.process)
    spec = definition.event(request.event)
    store = STORES[definition.name]
    if spec.creates:
        return _create(session, definition, spec, store, request, ctx)
    row = store.load(session, _case_id(request))
    return _transition(session, definition, spec, store, row, request, ctx)


def _transition(
    session: Session,
    definition: Process,
    spec: EventSpec,
    store: CaseStore,
    row: Any,
    request: Request,
    ctx: Context,
    looked_at: Any = None,
) -> Any:
    """Apply `spec` to the case `row` (as read in this transaction); `looked_at`: the case as
    of the row's last event with what `spec` reads, when the caller has it already."""
    rules = load_rules(row.rules_version).of(definition.name)
    rules.check_may(spec.permission_key, request.actor.roles, _doing(definition, spec))
    dest = definition.destination(row.state, spec.name)
    day = effective_date(request.on, ctx, row.last_event_on)
    case = None
    if spec.looks_at_case:  # only an event that looks at its case pays for loading it
        same = looked_at is not None and day == row.last_event_on
        case = looked_at if same else store.case_of(session, row, spec.reads, day)
    values, changes = _decide(session, spec, request, case, rules, day)
    source = row.state
    fixed = corrections.before_claim(session, store, row, changes) if corrections.is_correction(
        changes) else None  # fmt: skip
    # A corrective step is not an event of the case's life: the last event's date stays.
    dated = {} if spec.corrective else {"last_event_on": day}
    written = {"state": dest, **dated, "updated_at": ctx.now, **changes.columns}
    claim(session, store, row, written, named=definition.case_words(row.id))
    for child in changes.children:
        store.add_child(session, row, child, request.actor, ctx)
    final = dest in definition.terminal
    case_ref = store.ref(row)
    deadlines.close_for_event(session, case_ref, rules, spec.name, day, final=final)
    if dest != source and not final:
        deadlines.rearm_waiting(session, case_ref, day, ctx)
    if changes.waive:
        deadlines.waive(session, case_ref, changes.waive, day, changes.waived_because)
    if fixed is not None:
        fixed = corrections.after_claim(session, store, row, rules, changes, fixed, day, ctx)
    audited = {**values, **changes.audited, **(fixed.audited if fixed else {})}
    if spec.successor is not None:
        audited |= _hand_over(session, definition, spec, store, row, request, day, ctx)
    _audit(session, store, row, spec.name, source, dest, request, day, ctx, audited)
    if spec.successor is None:
        if not final:  # a case that has ended opens no deadlines, but is still told about
            deadlines.open_for_event(session, case_ref, rules, spec.name, day, ctx,
                                     year_end=_year_end(store, row),
                                     case_due=getattr(row, "due_on", None))  # fmt: skip
        if not request.quiet:
            after_transition(session, row, rules, spec.name, day, ctx, request.note,
                             changes.named, extra=fixed.notice if fixed else None,
                             told=changes.told, store=store)  # fmt: skip
    if spec.follow_up is not None:
        _follow_up(session, definition, spec, store, row, request, values, ctx)
    return row


def _year_end(store: CaseStore, row: Any) -> date | None:
    """The last day of the case's own fiscal year, where its process has one (a fund request:
    its store's `fiscal_year_end`); a store of a process without one need not say so."""
    ends = getattr(store, "fiscal_year_end", None)
    return None if ends is None else ends(row)


def _doing(definition: Process, spec: EventSpec) -> str | None:
    """What `spec` does in words, for an error line; None for the agreement, whose event names
    are its CLI's own words (`sign`, `amend`), as its messages have always said."""
    return None if definition.name == MAIN_PROCESS else spec.label


def _case_id(request: Request) -> int:
    if request.case is None:
        raise BadInput(f"{request.event} needs the {request.process} it applies to")
    return request.case


def _create(
    session: Session,
    definition: Process,
    spec: EventSpec,
    store: CaseStore,
    request: Request,
    ctx: Context,
) -> Any:
    version = request.rules_version or ctx.rules_version or DEFAULT_RULES_VERSION
    rules = load_rules(version).of(definition.name)
    rules.check_may(spec.permission_key, request.actor.roles, _doing(definition, spec))
    if request.parent is None:
        raise BadInput(f"{spec.name} needs what the new {definition.name} belongs to")
    case = store.new_case(session, request.parent)
    day = effective_date(request.on, ctx, previous=None)
    values, changes = _decide(session, spec, request, case, rules, day)
    assert spec.dest is not None
    return _start(
        session, store, spec.name, spec.dest, changes, request, rules, day, ctx,
        {**values, **changes.audited, "rules": rules.version},
    )  # fmt: skip


def _decide(
    session: Session,
    spec: EventSpec,
    request: Request,
    case: Any,
    rules: RuleSet,
    day: date,
) -> tuple[dict[str, Any], Changes]:
    """The event's checked data and what it changes: its fields, its guard, its note, then its
    effect, all before anything is written."""
    values = _resolve(session, spec, request.data, case, rules, day)
    if spec.guard is not None:
        spec.guard(case, values, rules)
    _check_note(spec, case, rules, request.note)
    changes = spec.effect(case, values, rules, day) if spec.effect else Changes()
    return values, changes


def _check_note(spec: EventSpec, case: Any, rules: RuleSet, note: str | None) -> None:
    if spec.note_required is None or (note and note.strip()):
        return
    why = spec.note_required(case, rules)
    if why is not None:
        raise BadInput(f"to {spec.label}, pal needs --note: {why}")


def _start(
    session: Session,
    store: CaseStore,
    event: str,
    state: str,
    changes: Changes,
    request: Request,
    rules: RuleSet,
    day: date,
    ctx: Context,
    audited: Mapping[str, Any],
    note: str | None = None,
) -> Any:
    """Insert a new case in `state` under `rules`, with its audit row, the deadlines `event`
    opens and the notices it sends: how a case begins, whether created or handed over."""
    row = store.insert(
        session,
        {
            "state": state,
            "rules_version": rules.version,
            "last_event_on": day,
            "updated_at": ctx.now,
            **changes.columns,
        },
    )
    for child in changes.children:
        store.add_child(session, row, child, request.actor, ctx)
    _audit(session, store, row, event, None, state, request, day, ctx, audited, note)
    # A case given its own due date (an action item) has deadlines counted from it.
    deadlines.open_for_event(session, store.ref(row), rules, event, day, ctx,
                             year_end=_year_end(store, row),
                             case_due=getattr(row, "due_on", None))  # fmt: skip
    if not request.quiet:
        after_transition(session, row, rules, event, day, ctx, request.note, store=store)
    return row


def _hand_over(
    session: Session,
    definition: Process,
    spec: EventSpec,
    store: CaseStore,
    row: Any,
    request: Request,
    day: date,
    ctx: Context,
) -> dict[str, Any]:
    """Start the successor case: under the current default rules, linked both ways; the
    deadlines and notices of `spec` are the successor's."""
    successor = spec.successor
    assert successor is not None
    rules = load_rules(ctx.rules_version or DEFAULT_RULES_VERSION).of(definition.name)
    carried = {name: getattr(row, name) for name in successor.carry}
    columns = {**carried, "identified_on": day, successor.link_back: row.id}
    audited = {successor.link_back: row.id, "rules": rules.version}
    note = f"follows {definition.name} {row.id}"
    new = _start(
        session, store, spec.name, successor.state, Changes(columns), request, rules, day, ctx,
        audited, note,
    )  # fmt: skip
    claim(session, store, row, {successor.link_on: new.id, "updated_at": ctx.now})
    return {successor.link_on: new.id}


def _follow_up(
    session: Session,
    definition: Process,
    spec: EventSpec,
    store: CaseStore,
    row: Any,
    request: Request,
    values: Mapping[str, Any],
    ctx: Context,
) -> None:
    """Fire `spec.follow_up` as `system` when the rules let it and its guard passes."""
    assert spec.follow_up is not None
    follower = definition.event(spec.follow_up)
    rules = load_rules(row.rules_version).of(definition.name)
    if SYSTEM_ACTOR.role not in rules.permissions.get(follower.permission_key, frozenset()):
        return
    if not definition.allows(row.state, follower.name):
        return
    case = None
    if follower.guard is not None or follower.looks_at_case:
        case = store.case_of(session, row, follower.reads)
    if follower.guard is not None:
        try:
            follower.guard(case, {}, rules)
        except (NotAllowedInState, BadInput):
            return
    note = spec.follow_up_note(values, request.actor.email) if spec.follow_up_note else None
    if request.quiet and request.note:  # an imported step's follow-up is noted as imported too
        note = f"{request.note}; {note}" if note else request.note
    fired = Request(
        follower.name,
        SYSTEM_ACTOR,
        case=row.id,
        process=definition.name,
        on=row.last_event_on,
        note=note,
        quiet=request.quiet,
    )
    # The row and the case as just read: the follow-up starts from them, not a second read.
    _transition(session, definition, follower, store, row, fired, ctx, looked_at=case)


def _resolve(
    session: Session,
    spec: EventSpec,
    given: Mapping[str, str | Mapping[str, str]],
    case: Any,
    rules: RuleSet,
    today: date,
) -> dict[str, Any]:
    """The event's data, checked against its fields: unknown or missing names are refused."""
    unknown = sorted(set(given) - {f.name for f in spec.fields})
    if unknown:
        takes = ", ".join(f.name for f in spec.fields)
        raise BadInput(
            f"{spec.name} takes no --set {', '.join(unknown)}"
            + (f" (it takes {takes})" if takes else "")
        )
    values: dict[str, Any] = {}
    for item in spec.fields:
        raw = given.get(item.name)
        if isinstance(raw, Mapping):
            if item.kind != "pairs":
                raise BadInput(f"{spec.name} takes one value for {item.name}")
            values[item.name] = _value(session, item, raw, case, rules, today) if raw else None
            continue
        # A blank choice list is a choice, and refused as one ("unknown ... (empty)").
        if raw is None or (not raw.strip() and not item.many):
            if item.required:
                # In the words of the step, not of one command: the CLI's plan and review
                # commands and CSV imports reach here as well as `fire --set`.
                raise BadInput(f"a value for {item.name} is needed to {spec.label}")
            if item.default is not None:
                values[item.name] = item.default(case, rules)
            elif raw is not None or item.kind == "text":
                values[item.name] = None
            continue
        values[item.name] = _value(session, item, raw.strip(), case, rules, today)
    return values


def _value(
    session: Session,
    item: Field,
    raw: str | Mapping[str, str],
    case: Any,
    rules: RuleSet,
    today: date,
) -> Any:
    if item.kind == "pairs":
        pairs: dict[str, str] = item.parse(raw)
        for value in pairs.values():
            check_text(value, item.name, limit=TEXT_MAX)
        return pairs
    assert isinstance(raw, str)
    if item.kind == "person":
        email = normalize_email(raw)
        roles = roles_held(session, email, today)
        if roles is None:
            raise NotFound(f"no person {email} on file")
        if not set(roles).intersection(item.roles):
            held = " and ".join(roles) or "holds no role today"
            raise BadInput(f"{email} is {held}, not a {' or '.join(item.roles)}")
        return email  # audited as on file, not as typed
    if item.kind == "choice":
        return item.check_choice(raw, case, rules)
    if item.kind in {"number", "money", "date"}:
        return item.parse(raw)
    return check_text(raw, item.name, limit=TEXT_MAX)


def effective_date(on: date | None, ctx: Context, previous: date | None) -> date:
    """`--on` defaults to today; it may not be in the future nor before the previous event."""
    today = ctx.today
    chosen = on or today
    if chosen > today:
        raise BadInput(f"date {chosen} is in the future (today is {today})")
    if previous is not None and chosen < previous:
        raise BadInput(f"date {chosen} is before the agreement's previous event ({previous})")
    return chosen


def _audit(
    session: Session,
    store: CaseStore,
    row: Any,
    event: str,
    source: str | None,
    dest: str,
    request: Request,
    day: date,
    ctx: Context,
    data: Mapping[str, Any],
    note: str | None = None,
) -> None:
    subject, agreement_id = store.subject(row)
    audit.record(
        session,
        subject=subject,
        agreement_id=agreement_id,
        event=event,
        from_state=source,
        to_state=dest,
        actor=request.actor,
        on=day,
        ctx=ctx,
        note=note if note is not None else request.note,
        data={k: _recordable(v) for k, v in data.items()},
    )


def _recordable(value: Any) -> Any:
    """An audited value as JSON holds it: a list for a tuple, an exact amount as its text."""
    if isinstance(value, tuple):
        return list(value)
    return str(value) if isinstance(value, Decimal) else value


@cache
def _claim_statement(table: Table) -> Prepared:
    # Built once per table: constructing a statement costs more than running it on SQLite.
    # SET columns come from the parameters given; the WHERE clause is the optimistic lock.
    return Prepared(
        update(table).where(
            table.c.id == bindparam("_id"), table.c.version == bindparam("_read_version")
        )
    )


def claim(
    session: Session,
    store: CaseStore,
    row: Any,
    values: Mapping[str, object],
    *,
    named: str | None = None,
) -> None:
    """Write `values` only if nobody changed the row since we read it (optimistic lock);
    `named`: the case in words, for the error line (default: as the audit log names it).

    One UPDATE both checks and bumps the version and applies the change; the row read is
    brought up to date, and so is an ORM object of it that the caller's session holds.
    """
    statement = _claim_statement(store.table)
    changes = {"version": row.version + 1, **values}
    result = statement.execute(session, {"_id": row.id, "_read_version": row.version, **changes})
    if result.rowcount != 1:
        raise ConcurrentModification(
            f"{named or store.subject(row)[0].replace(':', ' ')} was changed by someone else; "
            "reload and try again"
        )
    for name, value in changes.items():
        setattr(row, name, value)
    held = session.identity_map.get(store.identity(row.id)) if session.identity_map else None
    if held is not None:
        for name, value in changes.items():
            set_committed_value(held, name, value)
