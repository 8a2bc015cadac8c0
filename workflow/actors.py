"""Who is acting: a person on file (by email, with a role) or the automated `system` actor."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session

from states.errors import BadInput, NotFound, PermissionDenied
from states.rules import SYSTEM
from storage.models import Contact

_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


@dataclass(frozen=True)
class Actor:
    email: str
    role: str


SYSTEM_ACTOR = Actor(SYSTEM, SYSTEM)


def normalize_email(raw: str) -> str:
    email = raw.strip().lower()
    if not _EMAIL.match(email):
        raise BadInput(f"malformed email address {raw!r}")
    return email


def person(session: Session, raw_email: str | None) -> Actor:
    """The person acting. `system` is refused: automated steps are never in a person's name."""
    if not raw_email:
        raise BadInput("who is acting? give --by EMAIL or set PAL_ACTOR")
    if raw_email.strip().lower() == SYSTEM:
        raise PermissionDenied("'system' is reserved for automated steps")
    email = normalize_email(raw_email)
    contact = session.get(Contact, email)
    if contact is None:
        raise NotFound(f"no person {email} on file (add them with `pal contact add`)")
    return Actor(email, contact.role)
