"""Districts, schools and people on file. Every change is audited like any other."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlmodel import Session, col, select

from states.context import Context
from states.errors import BadInput, NotAllowedInState, NotFound
from states.rules import DISTRICT_ROLES, ROLES
from storage.models import Contact, District, School
from workflow import audit
from workflow.actors import Actor, normalize_email
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


def import_districts(session: Session, text: str, actor: Actor, ctx: Context) -> list[District]:
    """All rows or none: the first bad line aborts the caller's transaction, named by number."""
    return import_rows(
        text, CSV_HEADER, lambda row: add_district(session, _row_to_input(row), actor, ctx)
    )


def import_rows(
    text: str, header: Sequence[str], each: Callable[[Mapping[str, str]], Imported]
) -> list[Imported]:
    """`each` of the CSV `text`'s rows (its header exactly `header`), in order: all or none.

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
        for row in reader:
            if None in row or any(value is None for value in row.values()):
                raise BadInput(f"expected {len(header)} fields")
            done.append(each(row))
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
) -> Contact:
    address = normalize_email(email)
    if role not in ROLES:
        raise BadInput(f"unknown role {quoted(role)}; roles: {', '.join(ROLES)}")
    if role in DISTRICT_ROLES and not district_code:
        raise BadInput(f"a {role} belongs to a district: give --district CODE")
    if district_code is not None and session.get(District, district_code) is None:
        raise NotFound(f"no district {quoted(district_code)} on file")
    if session.get(Contact, address) is not None:
        raise BadInput(f"{address} is already on file")
    contact = Contact(
        email=address, name=_text(name, "name") or "", role=role, district_code=district_code
    )
    return _registered(session, contact, f"contact:{address}", "contact_add", actor, ctx)


def list_contacts(session: Session, district_code: str | None = None) -> list[Contact]:
    query = select(Contact).order_by(
        col(Contact.district_code), col(Contact.role), col(Contact.email)
    )
    if district_code is not None:
        if session.get(District, district_code) is None:
            raise NotFound(f"no district {quoted(district_code)} on file")
        query = query.where(Contact.district_code == district_code)
    return list(session.exec(query))


Row = TypeVar("Row", District, School, Contact)


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
