"""Enqueue notices as outbox rows, in the caller's transaction.

One row per (agreement, notice, occurrence, recipient), keyed by a unique idempotency key: a
second enqueue of the same occurrence adds nothing, so a sweep run twice sends nothing twice.
Each notice's bodies are stored as notifications.bodies describes: the first recipient's body as
the notice's reference in `mail_body` (once), each row's own body as a delta against it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Dialect, bindparam, insert
from sqlmodel import Session, select

from config.rules import load_rules
from notifications import bodies
from notifications.notice_dates import NoticeDates
from notifications.recipients import Directory, Recipients
from notifications.render import Rendered, mentions, render_once
from notifications.reviews import NEEDS, ReviewBook, due_step, due_step_key, review_name
from notifications.schools import NO_SCHOOLS, PlanSchools, covered_schools
from states.context import Context
from states.corrections import TOLD
from states.labels import party_label
from states.registry import process
from states.rules import DISTRICT_ROLES, MAIN_PROCESS, RuleSet
from storage import tables
from storage.case_refs import CaseRef, in_case, ref_of
from storage.prepared import Prepared, run_many

log = logging.getLogger("pal.notifications")

_TAKEN = Prepared(
    select(tables.OUTBOX.c.idempotency_key).where(
        tables.OUTBOX.c.idempotency_key.in_(bindparam("keys", expanding=True))
    )
)
# Keys looked up per query: well under SQLite's limit on bound parameters.
_CHUNK = 900
# The columns enqueue_many writes, in the order of its row tuples.
_COLUMNS = (
    "agreement_id",
    "notice",
    "occurrence",
    "recipient",
    "idempotency_key",
    "message_id",
    "subject",
    "body_ref",
    "body",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
    "sent_at",
    "to_name",
    "reply_to",
    "reply_to_name",
    "thread",
    "calendar_ref",
    "process",
    "case_id",
)
# The columns that hold `ctx.now` in every row enqueue_many writes; `sent_at` is always None.
_NOW_COLUMNS = ("next_attempt_at", "created_at")
# The columns enqueue_many writes bytes to (passed to the driver as they are).
_BINARY_COLUMNS = ("body_ref", "body", "calendar_ref")
# An unaddressed row's body: empty, stored like any other (every row has a reference).
_EMPTY = bodies.pack("", "")
_EMPTY_REF = bodies.digest(_EMPTY)
_EMPTY_DELTA = bodies.delta(_EMPTY, _EMPTY)


@dataclass(frozen=True)
class Office:
    """How to reach the Office of Partnership Districts (PAL_OFFICE_PHONE, PAL_OFFICE_WEB)."""

    phone: str
    web: str


@dataclass(frozen=True)
class DeadlineFacts:
    kind: str
    label: str
    due_on: date
    days_left: int


def message_id(key: str, domain: str = "pal.localhost") -> str:
    """The Message-ID of the row keyed `key`: the same on every attempt to send it."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


@dataclass(frozen=True)
class Headers:
    """What a row's headers say besides its subject: the recipient's name, the Reply-To (name
    and address), the thread (a deadline's series key) and the digest of the calendar file."""

    to_name: str | None = None
    reply_to: str | None = None
    reply_to_name: str | None = None
    thread: str | None = None
    calendar_ref: bytes | None = None


_NO_HEADERS = Headers()
# The recipient standing for whoever a meeting invites (`attendee_roles`, by its kind).
ATTENDEES = "attendees"
_NOBODY: tuple[str | None, str | None] = (None, None)


# What notices may say about an agreement: callers that load rows rather than Agreement objects
# (the sweep) select these columns.
NOTICE_AGREEMENT_FIELDS = (
    "id",
    "district_code",
    "cohort",
    "state",
    "rules_version",
    "liaison_email",
    "identified_on",
    "signed_on",
    "escalation_option",
)


@dataclass(frozen=True)
class Notice:
    """One notice owed for one agreement, before it is addressed to anyone."""

    agreement: Any  # an Agreement, or a row with its columns
    notice: str
    occurrence: str
    roles: tuple[str, ...]
    deadline: Any | None = None  # a Deadline, or a row with its columns
    extra: Mapping[str, Any] = field(default_factory=dict)
    # The kinds of deadline the event behind the notice opened: the notice sets their dates,
    # and carries them as calendar entries (notifications.calendar).
    sets: tuple[str, ...] = ()
    # The case of another process the notice is about, which belongs to `agreement`; None
    # for a notice about the agreement itself.
    case: CaseRef | None = None

    @property
    def process(self) -> str:
        """The process of the case the notice is about."""
        return self.case.process if self.case is not None and self.case.process else MAIN_PROCESS


_OPEN_DEADLINES = Prepared(
    select(tables.DEADLINE.c.kind, tables.DEADLINE.c.due_on, tables.DEADLINE.c.opened_on)
    .where(in_case(tables.DEADLINE), tables.DEADLINE.c.status == "open")
    .order_by(tables.DEADLINE.c.due_on, tables.DEADLINE.c.id)
)


def enqueue_transition_notices(
    session: Session,
    agreement: Any,  # an Agreement, or the engine's row with its columns
    rules: RuleSet,
    event: str,
    day: date,
    ctx: Context,
    note: str | None = None,
    named: Mapping[str, str] | None = None,
    *,
    extra: Mapping[str, Any] | None = None,
    told: tuple[str, ...] = (),
    case: CaseRef | None = None,
    case_version: int | None = None,
) -> int:
    """Enqueue the notices `event` owes (`note`: the reason given, which they may tell;
    `named`: people the event names by a role of its own, e.g. the liaison it replaces;
    `extra`: more values for them; `told`: the roles a notice to `told_before` names; `case`:
    the case of another process, at `case_version`, that belongs to `agreement` and that the
    event befell)."""
    owed = transition_notices(
        session, agreement, rules, event, day, note, named, extra=extra, told=told, case=case,
        case_version=case_version,
    )  # fmt: skip
    return enqueue_many(session, owed, ctx, fresh=True) if owed else 0


def transition_notices(
    session: Session,
    agreement: Any,
    rules: RuleSet,
    event: str,
    day: date,
    note: str | None = None,
    named: Mapping[str, str] | None = None,
    *,
    extra: Mapping[str, Any] | None = None,
    told: tuple[str, ...] = (),
    case: CaseRef | None = None,
    case_version: int | None = None,
) -> list[Notice]:
    """The notices `event` owes, with the values they tell, not yet addressed or stored (the
    arguments are enqueue_transition_notices'); a preview renders them as it would."""
    notices = rules.notices_for(event)
    if not notices:
        return []
    session.flush()
    reason = note.strip() if note else ""
    extra = {"event_day": day, "note": reason or None, **(extra or {})}
    if named:
        extra["named"] = dict(named)
    # Plain records, not ORM objects: notices read a deadline's kind and dates only.
    found = _OPEN_DEADLINES.execute(session, (case or ref_of(agreement)).params).rows
    if any("deadlines" in NEEDS.get(n.notice, ()) for n in notices):
        # Notices that tell what is due next get every open deadline, from the same query.
        extra["open_deadlines"] = found
    upcoming = found[0] if found else None
    if case is None and agreement.renewed_from is not None:
        extra["renewed_from"] = agreement.renewed_from
    if any(mentions(n.notice, "amendment.") for n in notices):  # the amendment notices
        from notifications.amendments import latest_amendment

        extra["amendment"] = latest_amendment(session, agreement.id)
    # Of the case the event befell, at the version it made: a new occurrence each time.
    occurrence = f"{event}.v{agreement.version if case is None else case_version}"
    sets = tuple(rule.kind for rule in rules.deadlines_opened_by(event))
    return [Notice(agreement, n.notice, occurrence, _told(n.to, told), upcoming, extra, sets,
                   case) for n in notices]  # fmt: skip


def _told(roles: tuple[str, ...], told: tuple[str, ...]) -> tuple[str, ...]:
    """`roles` with `told_before` standing for `told` (whoever was told of what a correction
    corrects)."""
    expanded = (r for role in roles for r in (told if role == TOLD else (role,)))
    return tuple(dict.fromkeys(expanded))


def enqueue(session: Session, owed: Notice, ctx: Context) -> int:
    return enqueue_many(session, [owed], ctx)


def enqueue_many(
    session: Session, owed: Sequence[Notice], ctx: Context, *, fresh: bool = False
) -> int:
    """Add one outbox row per person owed each notice; returns how many rows were added.

    Set-based whatever the number of notices: one directory load, one lookup of the keys already
    taken, one rendering per notice and one multi-row INSERT. `fresh`: the notices' keys cannot
    be taken by an earlier transaction (a transition's occurrence names the agreement version it
    made), so they are not looked up; the unique key would refuse a duplicate all the same.
    """
    if not owed:
        return 0
    directory, addressed, facts = _address(session, owed, ctx)
    keys = [] if fresh else [key for item, to in addressed for key in _keys(item, to)]
    taken = _taken(session, keys) if keys else set()
    dialect = session.get_bind().dialect
    direct = _direct_insert(dialect)
    if direct is None:
        stamps = (ctx.now, ctx.now)
    else:
        stamps = (direct.next_attempt_at(ctx.now), direct.created_at(ctx.now))
    rows: list[tuple[Any, ...]] = []
    references: dict[bytes, bytes] = {}
    dates = NoticeDates.load(session, owed, ctx)
    for item, recipients in addressed:
        rows.extend(_rows(item, recipients, directory, taken, facts, stamps, references, dates))
    if not rows:
        return 0
    stored = [(ref, bodies.reference(packed)) for ref, packed in references.items()]
    if direct is None:
        session.execute(
            bodies.insert_if_absent(dialect.name),
            [{"digest": digest, "content": content} for digest, content in stored],
        )
        session.execute(
            insert(tables.OUTBOX), [dict(zip(_COLUMNS, row, strict=True)) for row in rows]
        )
    else:
        run_many(session, direct.mail_body_sql, stored)
        run_many(session, direct.sql, rows)
    return len(rows)


def _address(
    session: Session, owed: Sequence[Notice], ctx: Context
) -> tuple[Directory, list[tuple[Notice, Recipients]], _Facts]:
    """Who each notice goes to, and the values it is rendered with: the one path both sending
    (enqueue_many) and previewing (render_owed) take."""
    owed = [_invited(item) for item in owed]
    roles = {role for item in owed for role in item.roles}
    owners = [item.extra["owner"] for item in owed if "owner" in item.extra]
    roles |= {owner.role for owner in owners}  # whoever holds an owner's role after them
    tell_parties = any(mentions(item.notice, "missing_parties") for item in owed)
    directory = Directory.load(
        session,
        [item.agreement for item in owed],
        roles,
        day=ctx.today,
        parties=tell_parties,
        named=[email for item in owed for email in item.extra.get("named", {}).values()],
        owners=[owner.email for owner in owners],
    )
    addressed = [
        (item, directory.resolve(item.agreement, item.roles, item.extra.get("named"),
                                 item.extra.get("owner")))
        for item in owed
    ]  # fmt: skip
    schools = covered_schools(session, (item.agreement.id for item in owed))
    office = Office(ctx.office_phone, ctx.office_web)
    facts = _Facts(directory, ctx.today, _reviews(session, owed), schools, office)
    return directory, addressed, facts


def _invited(item: Notice) -> Notice:
    """`item` with the recipient `attendees` standing for the roles its meeting invites."""
    if ATTENDEES not in item.roles:
        return item
    invited = item.extra.get("attendee_roles", ())
    roles = (r for role in item.roles for r in (invited if role == ATTENDEES else (role,)))
    return replace(item, roles=tuple(dict.fromkeys(roles)))


def render_owed(
    session: Session, owed: Sequence[Notice], ctx: Context
) -> list[tuple[Notice, Any, Rendered]]:
    """Each notice of `owed` as each person it goes to would receive it, rendered exactly as
    enqueue_many renders it, and nothing stored: (notice, person, message)."""
    _, addressed, facts = _address(session, owed, ctx)
    rendered: list[tuple[Notice, Any, Rendered]] = []
    for item, recipients in addressed:
        if recipients.people:
            content = render_once(item.notice, facts.values(item))
            rendered.extend((item, p, content.to(p)) for p in recipients.people)
    return rendered


@dataclass(frozen=True)
class _DirectInsert:
    """The outbox INSERT (and the reference bodies' INSERT before it) as SQLAlchemy compiles it
    for a driver that takes positional parameters, handed to the driver with the rows as
    SQLAlchemy would hand them: the same SQL and the same values, the datetimes through the same
    bind processors (so stored byte for byte alike), without SQLAlchemy's per-row work. Only the
    `now` columns have processors that change a value; the binary ones wrap bytes for the
    driver, which takes bytes as they are."""

    sql: str
    mail_body_sql: str
    next_attempt_at: Callable[[datetime], Any]
    created_at: Callable[[datetime], Any]


_DIRECT: dict[tuple[type[Dialect], str], _DirectInsert | None] = {}


def _direct_insert(dialect: Dialect) -> _DirectInsert | None:
    """The direct INSERT for this dialect, or None to let SQLAlchemy run it (PostgreSQL)."""
    key = (type(dialect), dialect.paramstyle)
    if key not in _DIRECT:
        _DIRECT[key] = _compile_direct(dialect)
    return _DIRECT[key]


def _compile_direct(dialect: Dialect) -> _DirectInsert | None:
    if dialect.name != "sqlite" or not dialect.positional:
        return None
    compiled = insert(tables.OUTBOX).compile(dialect=dialect, column_keys=list(_COLUMNS))
    if tuple(compiled.positiontup or ()) != _COLUMNS:
        return None
    processors = {
        name: tables.OUTBOX.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        for name in _COLUMNS
    }
    sent_at = processors.pop("sent_at")
    now = [processors.pop(name) for name in _NOW_COLUMNS]
    binary = [processors.pop(name) for name in _BINARY_COLUMNS]
    if any(processors.values()) or (sent_at is not None and sent_at(None) is not None):
        return None  # a column whose values SQLAlchemy would change: let it run the INSERT
    mail_body = _compile_mail_body(dialect)
    if mail_body is None or not all(_passes_bytes(p) for p in binary):
        return None
    next_attempt_at, created_at = (p if p is not None else _unchanged for p in now)
    return _DirectInsert(compiled.string, mail_body, next_attempt_at, created_at)


def _compile_mail_body(dialect: Dialect) -> str | None:
    """The reference bodies' INSERT for the direct path, or None if it would not fit it."""
    compiled = bodies.insert_if_absent(dialect.name).compile(dialect=dialect)
    if tuple(compiled.positiontup or ()) != ("digest", "content"):
        return None
    if not all(_passes_bytes(_processor(c.type, dialect)) for c in tables.MAIL_BODY.c):
        return None
    return compiled.string


def _processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    processor: Callable[[Any], Any] | None = type_.dialect_impl(dialect).bind_processor(dialect)
    return processor


def _passes_bytes(processor: Callable[[Any], Any] | None) -> bool:
    """Whether a binary column's bind processor only wraps bytes for the driver (sqlite3's
    memoryview), so that the bytes themselves store the same BLOB."""
    if processor is None:
        return True
    sample = b"\x00pal\xff"
    wrapped = processor(sample)
    return isinstance(wrapped, bytes | memoryview) and bytes(wrapped) == sample


def _unchanged(value: datetime) -> datetime:
    return value


def _keys(item: Notice, recipients: Recipients) -> list[str]:
    prefix = _prefix(item)
    return [prefix + p.email for p in recipients.people] + [
        prefix + f"role:{role}" for role in recipients.missing
    ]


def _prefix(item: Notice) -> str:
    # Unique per (case, notice, occurrence): a case of another process is named after its
    # agreement (`a12:funds7:`); the agreement's own notices keep the keys they always had.
    case = item.case.key if item.case is not None else ""
    return f"a{item.agreement.id}:{case}{item.notice}:{item.occurrence}:"


def _taken(session: Session, keys: list[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        taken.update(_TAKEN.execute(session, {"keys": chunk}).scalars())
    return taken


def _rows(
    item: Notice,
    recipients: Recipients,
    directory: Directory,
    taken: set[str],
    facts: _Facts,
    stamps: tuple[Any, Any],
    references: dict[bytes, bytes],
    dates: NoticeDates,
) -> list[tuple[Any, ...]]:
    """The outbox rows of one notice whose keys are not taken; `taken` grows with them, and
    `references` (digest: packed body) with the notice's reference body and calendar file."""
    prefix = _prefix(item)
    district = directory.district(item.agreement)
    people = [p for p in recipients.people if prefix + p.email not in taken]
    rows = []
    if people:
        thread, calendar = dates.of(item, district, people)
        calendar_ref = None
        if calendar is not None:
            calendar_ref = bodies.digest(calendar)
            references[calendar_ref] = calendar
        liaison = directory.liaison(item.agreement)
        # The Reply-To of a district's people: the liaison, none when no liaison is named.
        replied = (liaison.email, liaison.name or None) if liaison is not None else _NOBODY
        content = render_once(item.notice, facts.values(item))
        messages = [content.to(person) for person in people]
        packed = [bodies.pack(message.text, message.html) for message in messages]
        reference = packed[0]
        ref = bodies.digest(reference)
        references[ref] = reference
        frames = content.frames()
        for person, message, own in zip(people, messages, packed, strict=True):
            key = prefix + person.email
            taken.add(key)
            body = (message.subject, ref, bodies.delta(reference, own, frames))
            # A district's answer goes to the liaison, not to the office's mailbox.
            district_facing = person.role in DISTRICT_ROLES and person.email != replied[0]
            reply = replied if district_facing else _NOBODY
            headers = Headers(person.name or None, reply[0], reply[1], thread, calendar_ref)
            row = (item, key, person.email, stamps, body, "pending")
            rows.append(_outbox_tuple(*row, domain=dates.domain, headers=headers))
    for role in recipients.missing:
        key = prefix + f"role:{role}"
        if key not in taken:
            taken.add(key)
            log.warning(
                "%s for agreement %s: nobody on file as %s", item.notice, item.agreement.id, role
            )
            references[_EMPTY_REF] = _EMPTY
            rows.append(_unaddressed(item, key, role, district, stamps, dates.domain))
    return rows


def _reviews(session: Session, owed: Sequence[Notice]) -> ReviewBook:
    """The review facts the notices tell, loaded at once (no query when none tells any)."""
    wanted = []
    for item in owed:
        needs = NEEDS.get(item.notice, frozenset())
        if "open_deadlines" in item.extra:
            needs -= {"deadlines"}  # the caller loaded them
        if needs:
            wanted.append((item.agreement, needs))
    if not wanted:
        return ReviewBook.empty()
    return ReviewBook.load(session, wanted)


class _Facts:
    """The values each notice of one enqueue_many is rendered with. What many notices share
    (the facts of a deadline kind and due date, the parties a rule version requires) is worked
    out once; each notice still gets its own dict and its own list of missing parties."""

    def __init__(
        self,
        directory: Directory,
        today: date,
        reviews: ReviewBook,
        schools: Mapping[int, PlanSchools],
        office: Office,
    ) -> None:
        self.directory = directory
        # The day the notice is made: the countdown a notice tells counts from it, not from its
        # nominal offset (a notice moved off a weekend tells the days really left).
        self.today = today
        self.reviews = reviews
        self.schools = schools
        self.office = office
        self.deadlines: dict[tuple[str, str, date], DeadlineFacts] = {}
        self.required: dict[tuple[str, bool], tuple[str, ...]] = {}

    def values(self, item: Notice) -> dict[str, Any]:
        agreement = item.agreement
        directory = self.directory
        district = directory.district(agreement)
        facts = None
        if item.deadline is not None:
            facts = self.deadline(item.deadline.kind, item.deadline.due_on, item.process)
        signed = set(directory.signed_parties(agreement))
        values = {
            "agreement": agreement,
            "district": district,
            "liaison": directory.liaison(agreement),
            "deadline": facts,
            # The parties whose signatures the plan still lacks, by their names.
            "missing_parties": [
                party_label(p)
                for p in self.parties(agreement.rules_version, district.psa)
                if p not in signed
            ],
            "plan_schools": self.schools.get(agreement.id, NO_SCHOOLS),
            "office": self.office,
            **item.extra,
        }
        if "named" in item.extra:
            # Each person the event names, as on file (None when they hold the role no more).
            values["named"] = {
                role: directory.by_email.get(email) for role, email in item.extra["named"].items()
            }
        if item.notice in NEEDS:
            self.add_review(item, values)
        return values

    def add_review(self, item: Notice, values: dict[str, Any]) -> None:
        """The review facts of the notice: the review, its step the deadline is for, and the
        open deadlines in words."""
        agreement = item.agreement
        version = agreement.rules_version
        given = item.extra.get("open_deadlines")
        deadlines = self.reviews.open_deadlines(agreement, given)
        values["review"] = self.reviews.facts(agreement, item.notice, deadlines)
        values["review_name"] = review_name(version, agreement.state)
        values["open_deadlines"] = [self.deadline(d.kind, d.due_on) for d in deadlines]
        if item.deadline is not None:
            values["due_step"] = due_step(version, item.deadline.kind)
            values["due_step_key"] = due_step_key(version, item.deadline.kind)

    def deadline(self, kind: str, due_on: date, of: str = MAIN_PROCESS) -> DeadlineFacts:
        """The facts of a deadline of `kind` (a kind of process `of`) due on `due_on`."""
        found = self.deadlines.get((of, kind, due_on))
        if found is None:
            label = process(of).deadline_labels.get(kind, kind)
            found = DeadlineFacts(kind, label, due_on, (due_on - self.today).days)
            self.deadlines[(of, kind, due_on)] = found
        return found

    def parties(self, version: str, psa: bool) -> tuple[str, ...]:
        found = self.required.get((version, psa))
        if found is None:
            found = self.required[(version, psa)] = load_rules(version).required_parties(psa)
        return found


def _unaddressed(
    item: Notice, key: str, role: str, district: Any, stamps: tuple[Any, Any], domain: str
) -> tuple[Any, ...]:
    subject = f"{item.notice} for {district.code}"
    why = f"nobody on file as {role} for district {district.code}"
    content = (subject, _EMPTY_REF, _EMPTY_DELTA)
    return _outbox_tuple(item, key, f"({role})", stamps, content, "unaddressed", why, domain=domain)


def _outbox_tuple(
    item: Notice,
    key: str,
    recipient: str,
    stamps: tuple[Any, Any],
    content: tuple[str, bytes, bytes],
    status: str,
    last_error: str | None = None,
    *,
    domain: str,
    headers: Headers = _NO_HEADERS,
) -> tuple[Any, ...]:
    """One outbox row, in the column order of the INSERT; `content` is its subject, reference
    digest and body (compressed against that reference)."""
    next_attempt_at, created_at = stamps
    subject, body_ref, body = content
    return (
        item.agreement.id,
        item.notice,
        item.occurrence,
        recipient,
        key,
        message_id(key, domain),
        subject,
        body_ref,
        body,
        status,
        0,
        next_attempt_at,
        last_error,
        created_at,
        None,
        headers.to_name,
        headers.reply_to,
        headers.reply_to_name,
        headers.thread,
        headers.calendar_ref,
        item.case.process if item.case is not None else None,
        item.case.case_id if item.case is not None else None,
    )
