"""Who a notice goes to: roles in the rule data resolved to people on file for one agreement."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from states.rules import DISTRICT_ROLES
from storage.models import Agreement, Contact, District, Signature

# Whom each signing party stands for when a notice goes to "signatories".
PARTY_ROLES = {
    "board": "board_president",
    "superintendent": "superintendent",
    "authorizer": "authorizer",
    "mde": "director",
}


@dataclass
class Recipients:
    people: list[Contact] = field(default_factory=list)
    # Roles the notice is owed to with nobody on file: logged, and visible in the outbox.
    missing: list[str] = field(default_factory=list)

    def add(self, found: Iterable[Contact], role: str) -> None:
        found = list(found)
        if not found:
            self.missing.append(role)
        known = {p.email for p in self.people}
        self.people.extend(p for p in found if p.email not in known)


def resolve(
    session: Session, agreement: Agreement, district: District, roles: Iterable[str]
) -> Recipients:
    result = Recipients()
    for role in _expand(session, agreement, roles):
        if role == "authorizer" and not district.psa:
            continue  # only a PSA has an authorizer
        result.add(_people(session, agreement, district, role), role)
    return result


def _expand(session: Session, agreement: Agreement, roles: Iterable[str]) -> list[str]:
    expanded: list[str] = []
    for role in roles:
        if role == "signatories":
            parties = session.exec(
                select(Signature.party).where(Signature.agreement_id == agreement.id)
            ).all()
            expanded.extend(PARTY_ROLES[p] for p in parties if p in PARTY_ROLES)
        else:
            expanded.append(role)
    return list(dict.fromkeys(expanded))


def _people(session: Session, agreement: Agreement, district: District, role: str) -> list[Contact]:
    if role == "liaison":
        liaison = session.get(Contact, agreement.liaison_email) if agreement.liaison_email else None
        return [liaison] if liaison else []
    query = select(Contact).order_by(col(Contact.email))
    if role == "district_all":
        query = query.where(Contact.district_code == district.code)
    elif role in DISTRICT_ROLES:
        query = query.where(Contact.role == role, Contact.district_code == district.code)
    else:
        query = query.where(Contact.role == role)
    return list(session.exec(query))
