"""Districts, schools and people on file. Every change is audited like any other."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlmodel import Session, col, select

from states.context import Context
from states.errors import BadInput, NotAllowedInState, NotFound
from states.labels import ROLE_LABELS
from states.rules import DISTRICT_ROLES, ROLES
from storage.models import Assignment, District, Person, School
from storage.roles import held_on
from workflow import audit
from workflow.actors import Actor, normalize_email
from workflow.progress import Progress, no_progress
from workflow.text import check_text, optional_text, quoted

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
CSV_HEADER = ("code", "name", "isd", "psa", "authorizer")
Imported = TypeVar("Imported")


@dataclass(frozen=True)
class DistrictInput:
    code: str
    name: str
    isd: str | None = None
    psa: bool = False
    authorizer: str | None = None


def _code(raw: str, what: str) -> str:
    code = raw.strip()
    if not _CODE.match(code):
        raise BadInput(f"malformed {what} code {quoted(raw)} (letters, digits, . _ -)")
    return code


def _text(raw: str | None, what: str, required: bool = True) -> str | None:
    """A name or label: printable, at most NAME_MAX characters (see `workflow.text`)."""
    value = optional_text(raw, what)
    if required and not value:
        raise BadInput(f"{what} may not be empty")
    return value


def add_district(session: Session, spec: DistrictInput, actor: Actor, ctx: Context) -> District:
    code = _code(spec.code, "district")
    name = _text(spec.name, "district name")
    authorizer = _text(spec.authorizer, "authorizer", required=False)
    if spec.psa and not authorizer:
        raise BadInput(f"district {code} is a PSA: give its --authorizer")
    if authorizer and not spec.psa:
        raise BadInput(f"district {code} has an authorizer but is not a PSA (add --psa)")
    if session.get(District, code) is not None:
        raise BadInput(f"district {code} is already on file")
    district = District(
        code=code,
        name=name or "",
        isd=_text(spec.isd, "isd", required=False),
        psa=spec.psa,
        authorizer=authorizer,
    )
    return _registered(session, district, f"district:{code}", "district_add", actor, ctx)


def import_districts(
    session: Session, text: str, actor: Actor, ctx: Context, progress: Progress = no_progress
) -> list[District]:
    """All rows or none: the first bad line aborts the caller's transaction, named by number."""
    return import_rows(
        text,
        CSV_HEADER,
        lambda row: add_district(session, _row_to_input(row), actor, ctx),
        progress,
    )


def import_rows(
    text: str,
    header: Sequence[str],
    each: Callable[[Mapping[str, str]], Imported],
    progress: Progress = no_progress,
) -> list[Imported]:
    """`each` of the CSV `text`'s rows (its header exactly `header`), in order: all or none.

    `progress` is told the lines done after each row, of the lines after the header.

    A refusal of any row (bad input, or not allowed: exit 2 or 3 as it is) is re-raised naming
    its line; the caller's transaction then rolls every row back. What the csv module cannot read
    (a field over its limit of 131,072 characters, a quote left open) is bad input on the line it
    stopped at, like a bad value.
    """
    lines = _Lines(text)
    reader = csv.DictReader(lines)
    try:
        found = tuple(name.strip().lower() for name in (reader.fieldnames or ()))
        if found != tuple(header):
            shown = check_text(",".join(found), "header", limit=len(",".join(found)))
            raise BadInput(f"header must be {','.join(header)}, found {shown}")
        reader.fieldnames = list(found)
        done = []
        total = max(text.count("\n", 0, len(text) - 1), 1)  # lines after the header's
        for row in reader:
            if None in row or any(value is None for value in row.values()):
                raise BadInput(f"expected {len(header)} fields")
            done.append(each(row))
            progress(min(lines.read - 1, total), total)
    except (BadInput, NotAllowedInState) as exc:
        raise type(exc)(f"line {max(reader.line_num, 1)}: {exc}") from exc
    except csv.Error as exc:
        # The reader counts a line once it has parsed it: the bad one is the last one read.
        raise BadInput(f"line {max(lines.read, 1)}: {_csv_problem(exc)}") from exc
    return done


class _Lines:
    """The lines of a text, counting how many the csv reader has taken."""

    def __init__(self, text: str) -> None:
        self._lines = iter(io.StringIO(text))
        self.read = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.read += 1
        return line


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a field is longer than {csv.field_size_limit():,} characters"
    return f"not readable as CSV ({text})"


def _row_to_input(row: Mapping[str, str | None]) -> DistrictInput:
    psa_raw = (row["psa"] or "").strip().lower()
    if psa_raw not in ("true", "false", ""):
        raise BadInput(f"psa must be true or false, not {quoted(row['psa'] or '')}")
    return DistrictInput(
        code=row["code"] or "",
        name=row["name"] or "",
        isd=row["isd"],
        psa=psa_raw == "true",
        authorizer=row["authorizer"],
    )


def list_districts(session: Session) -> list[District]:
    return list(session.exec(select(District).order_by(col(District.code))))


def add_school(
    session: Session,
    *,
    code: str,
    name: str,
    district_code: str,
    csi: bool,
    alternative: bool,
    actor: Actor,
    ctx: Context,
    high_school: bool = False,
) -> School:
    code = _code(code, "school")
    if session.get(District, district_code) is None:
        raise NotFound(f"no district {quoted(district_code)} on file")
    if session.get(School, code) is not None:
        raise BadInput(f"school {code} is already on file")
    school = School(
        code=code,
        name=_text(name, "school name") or "",
        district_code=district_code,
        csi=csi,
        alternative=alternative,
        high_school=high_school,
    )
    return _registered(session, school, f"school:{code}", "school_add", actor, ctx)


def add_contact(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    district_code: str | None,
    actor: Actor,
    ctx: Context,
    phone: str | None = None,
    on: date | None = None,
) -> Assignment:
    """A role for a person, held from `on` (None: since before any recorded date).

    A new email adds the person; a known one adds the assignment (its name as on file: a
    different name is refused, to be changed with `contact edit`)."""
    address = normalize_email(email)
    role = _role(role, district_code)
    if district_code is not None and session.get(District, district_code) is None:
        raise NotFound(f"no district {quoted(district_code)} on file")
    given_name = _text(name, "name") or ""
    given_phone = _text(phone, "phone", required=False)
    if on is not None and on > ctx.today:
        raise BadInput(f"date {on} is in the future (today is {ctx.today})")
    known = session.get(Person, address)
    if known is not None:
        if known.name != given_name:
            raise BadInput(
                f"{address} is on file as {quoted(known.name)}; change the name with "
                "`pal contact edit` first"
            )
        if given_phone is not None and known.phone != given_phone:
            raise BadInput(
                f"{address} is on file with phone {quoted(known.phone or '(none)')}; change it "
                "with `pal contact edit` first"
            )
        for held in _assignments(session, address, role, district_code):
            if held.ended_on is None or (on is not None and on < held.ended_on):
                raise BadInput(f"{address} already holds {_where(role, district_code)}")
    else:
        session.add(Person(email=address, name=given_name, phone=given_phone))
        session.flush()  # before the assignment that refers to it
    assignment = Assignment(email=address, role=role, district_code=district_code, started_on=on)
    session.add(assignment)
    session.flush()
    audit.record(
        session, subject=f"contact:{address}", event="contact_add", actor=actor,
        on=on or ctx.today, ctx=ctx,
        data={"name": given_name, "phone": given_phone, "new_person": known is None,
              **_assignment_data(assignment)},
    )  # fmt: skip
    return assignment


def end_contact(
    session: Session,
    *,
    email: str,
    role: str,
    district_code: str | None,
    on: date,
    actor: Actor,
    ctx: Context,
) -> Assignment:
    """The person no longer holds the role from `on`: from that day no notice of the role
    reaches them."""
    address = normalize_email(email)
    role = _role(role, district_code)
    if session.get(Person, address) is None:
        raise NotFound(f"no person {address} on file")
    held = [a for a in _assignments(session, address, role, district_code) if a.ended_on is None]
    if not held:
        raise NotAllowedInState(f"{address} does not hold {_where(role, district_code)}")
    assignment = held[-1]
    if assignment.started_on is not None and on <= assignment.started_on:
        raise BadInput(
            f"{on} is not after the day {address} started as {_where(role, district_code)} "
            f"({assignment.started_on})"
        )
    assignment.ended_on = on
    session.add(assignment)
    session.flush()
    audit.record(
        session, subject=f"contact:{address}", event="contact_end", actor=actor, on=on, ctx=ctx,
        data=_assignment_data(assignment),
    )  # fmt: skip
    return assignment


def edit_contact(
    session: Session,
    *,
    email: str,
    name: str | None,
    phone: str | None,
    actor: Actor,
    ctx: Context,
) -> Person:
    """A person's name or phone; the audit row keeps what they were."""
    address = normalize_email(email)
    found = session.get(Person, address)
    if found is None:
        raise NotFound(f"no person {address} on file")
    changes: dict[str, str | None] = {}
    if name is not None:
        changes["name"] = _text(name, "name")
    if phone is not None:
        # An empty phone removes it.
        changes["phone"] = _text(phone, "phone", required=False)
    return _edited(session, found, changes, f"contact:{address}", "contact_edit", actor, ctx)


@dataclass(frozen=True)
class ContactRow:
    """One role held by one person, as `contact list` shows it."""

    email: str
    name: str
    phone: str | None
    role: str
    district_code: str | None
    started_on: date | None
    ended_on: date | None

    def as_dict(self) -> dict[str, object]:
        return {
            "email": self.email,
            "name": self.name,
            "phone": self.phone,
            "role": self.role,
            "district_code": self.district_code,
            "started_on": self.started_on.isoformat() if self.started_on else None,
            "ended_on": self.ended_on.isoformat() if self.ended_on else None,
        }


def list_contacts(
    session: Session,
    district_code: str | None = None,
    *,
    every: bool = False,
    day: date | None = None,
) -> list[ContactRow]:
    """Who holds which role: on `day` (the current holders), or every assignment ever when
    `every`."""
    query = (
        select(Person, Assignment)
        .join(Assignment, col(Assignment.email) == col(Person.email))
        .order_by(
            col(Assignment.district_code), col(Assignment.role), col(Person.email),
            col(Assignment.id),
        )
    )  # fmt: skip
    if district_code is not None:
        _district_on_file(session, district_code)
        query = query.where(Assignment.district_code == district_code)
    if not every:
        assert day is not None
        query = query.where(held_on(day))
    return [
        ContactRow(
            p.email, p.name, p.phone, a.role, a.district_code, a.started_on, a.ended_on
        )
        for p, a in session.exec(query)
    ]


def edit_district(
    session: Session,
    code: str,
    *,
    name: str | None,
    isd: str | None,
    authorizer: str | None,
    actor: Actor,
    ctx: Context,
) -> District:
    found = session.get(District, code)
    if found is None:
        raise NotFound(f"no district {quoted(code)} on file")
    changes: dict[str, str | None] = {}
    if name is not None:
        changes["name"] = _text(name, "district name")
    if isd is not None:
        changes["isd"] = _text(isd, "isd", required=False)  # empty: no ISD
    if authorizer is not None:
        if not found.psa:
            raise BadInput(f"district {code} is not a PSA: it has no authorizer")
        changes["authorizer"] = _text(authorizer, "authorizer")
    return _edited(session, found, changes, f"district:{code}", "district_edit", actor, ctx)


def list_schools(session: Session, district_code: str | None = None) -> list[School]:
    query = select(School).order_by(col(School.district_code), col(School.code))
    if district_code is not None:
        _district_on_file(session, district_code)
        query = query.where(School.district_code == district_code)
    return list(session.exec(query))


def edit_school(
    session: Session,
    code: str,
    *,
    name: str | None,
    csi: bool | None,
    high_school: bool | None,
    actor: Actor,
    ctx: Context,
) -> School:
    found = session.get(School, code)
    if found is None:
        raise NotFound(f"no school {quoted(code)} on file")
    changes: dict[str, str | bool | None] = {}
    if name is not None:
        changes["name"] = _text(name, "school name")
    if csi is not None:
        changes["csi"] = csi
    if high_school is not None:
        changes["high_school"] = high_school
    return _edited(session, found, changes, f"school:{code}", "school_edit", actor, ctx)


def _district_on_file(session: Session, code: str) -> None:
    if session.get(District, code) is None:
        raise NotFound(f"no district {quoted(code)} on file")


def _role(role: str, district_code: str | None) -> str:
    if role not in ROLES:
        raise BadInput(f"unknown role {quoted(role)}; roles: {', '.join(ROLES)}")
    if role in DISTRICT_ROLES and not district_code:
        raise BadInput(f"a {role} belongs to a district: give --district CODE")
    if role not in DISTRICT_ROLES and district_code:
        raise BadInput(f"a {role} is not a district's role: leave out --district")
    return role


def _where(role: str, district_code: str | None) -> str:
    label = ROLE_LABELS.get(role, role)
    return f"the role of {label}" + (f" in {district_code}" if district_code else "")


def _assignments(
    session: Session, email: str, role: str, district_code: str | None
) -> list[Assignment]:
    query = (
        select(Assignment)
        .where(Assignment.email == email, Assignment.role == role)
        .where(Assignment.district_code == district_code if district_code else
               col(Assignment.district_code).is_(None))
        .order_by(col(Assignment.id))
    )  # fmt: skip
    return list(session.exec(query))


def _assignment_data(assignment: Assignment) -> dict[str, object]:
    return {
        "email": assignment.email,
        "role": assignment.role,
        "district_code": assignment.district_code,
        "started_on": assignment.started_on.isoformat() if assignment.started_on else None,
        "ended_on": assignment.ended_on.isoformat() if assignment.ended_on else None,
    }


Edited = TypeVar("Edited", District, School, Person)


def _edited(
    session: Session,
    row: Edited,
    changes: Mapping[str, object],
    subject: str,
    event: str,
    actor: Actor,
    ctx: Context,
) -> Edited:
    """Apply `changes` and audit them with what each field was; nothing given is refused."""
    if not changes:
        raise BadInput("nothing to change: give at least one option")
    before = {name: getattr(row, name) for name in changes}
    changed = {name: value for name, value in changes.items() if before[name] != value}
    if not changed:
        raise BadInput("nothing to change: every value given is already on file")
    for name, value in changed.items():
        setattr(row, name, value)
    session.add(row)
    session.flush()
    audit.record(
        session, subject=subject, event=event, actor=actor, on=ctx.today, ctx=ctx,
        data={"changed": {name: {"from": before[name], "to": value}
                          for name, value in changed.items()}},
    )  # fmt: skip
    return row


Row = TypeVar("Row", District, School)


def _registered(
    session: Session, row: Row, subject: str, event: str, actor: Actor, ctx: Context
) -> Row:
    """Add a piece of reference data and audit it, with everything it was given."""
    session.add(row)
    session.flush()
    audit.record(
        session, subject=subject, event=event, actor=actor, on=ctx.today, ctx=ctx,
        data=row.model_dump(),
    )  # fmt: skip
    return row
