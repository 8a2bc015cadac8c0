"""Who is acting: a person on file (by email, with a role) or the automated `system` actor."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from states.errors import BadInput, NotFound, PermissionDenied
from states.rules import SYSTEM
from storage.roles import roles_held
from workflow.text import quoted

# RFC 5322 dot-atom local part (no quoted strings: a quote breaks the headers that carry it) and
# RFC 1035 host names of at least two labels (no address literals).
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
LOCAL_MAX = 64  # RFC 5321 4.5.3.1.1
ADDRESS_MAX = 254  # RFC 5321 4.5.3.1.3: a path of 256 octets, less its angle brackets
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Actor:
    email: str
    role: str
    # The other roles the person holds today: a permission given to any of them counts.
    more_roles: tuple[str, ...] = ()

    @property
    def roles(self) -> tuple[str, ...]:
        return (self.role, *self.more_roles)


SYSTEM_ACTOR = Actor(SYSTEM, SYSTEM)


def normalize_email(raw: str) -> str:
    """`raw` as pal keeps an address (lower case, no surrounding blanks), or BadInput.

    The one check for every address that enters pal (`contact add`, `--by`, `--set
    liaison=...`): only what SMTP carries without extensions and a header holds unquoted, an
    ASCII dot-atom local part of at most 64 characters at a host name, at most 254 in all.
    """
    email = raw.strip().lower()
    shown = quoted(raw)
    if _CONTROL.search(email):
        raise BadInput(f"malformed email address {shown}: it contains a control character")
    # Asked of the text as given: lower() maps some non-ASCII letters to ASCII (K, the Kelvin
    # sign, becomes k), which would accept an address other than the one typed.
    if not raw.strip().isascii():
        raise BadInput(
            f"malformed email address {shown}: pal sends mail without SMTPUTF8, so an address "
            "must be ASCII (a domain in its xn-- form)"
        )
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        raise BadInput(f"malformed email address {shown}: expected local-part@domain")
    if '"' in local or "\\" in local:
        raise BadInput(f"malformed email address {shown}: quoted local parts are not accepted")
    if "=?" in local:
        # A reader decodes it as an RFC 2047 encoded word: the address would change in transit.
        raise BadInput(f"malformed email address {shown}: '=?' may not appear before @")
    if not _LOCAL.fullmatch(local):
        raise BadInput(
            f"malformed email address {shown}: the part before @ may hold letters, digits, dots "
            "(not first, last or doubled) and !#$%&'*+/=?^_`{|}~-"
        )
    labels = domain.split(".")
    if len(labels) < 2 or labels[-1].isdigit() or not all(map(_LABEL.fullmatch, labels)):
        raise BadInput(
            f"malformed email address {shown}: the domain must be a host name such as "
            "mde.example (labels of letters, digits and inner hyphens)"
        )
    if len(local) > LOCAL_MAX:
        raise BadInput(
            f"malformed email address {shown}: the part before @ is {len(local)} characters "
            f"long; SMTP allows {LOCAL_MAX}"
        )
    if len(email) > ADDRESS_MAX:
        raise BadInput(
            f"malformed email address {shown}: it is {len(email)} characters long; SMTP allows "
            f"{ADDRESS_MAX}"
        )
    return email


def person(session: Session, raw_email: str | None, day: date) -> Actor:
    """The person acting, with the roles they hold on `day`. `system` is refused: automated
    steps are never in a person's name."""
    if not raw_email:
        raise BadInput("who is acting? give --by EMAIL or set PAL_ACTOR")
    if raw_email.strip().lower() == SYSTEM:
        raise PermissionDenied("'system' is reserved for automated steps")
    email = normalize_email(raw_email)
    found = roles_held(session, email, day)
    if found is None:
        raise NotFound(f"no person {email} on file (add them with `pal contact add`)")
    if not found:
        raise PermissionDenied(f"{email} holds no role today")
    return Actor(email, found[0], tuple(found[1:]))
