"""Who a notice goes to: roles in the rule data resolved to people on file.

A `Directory` loads, in a handful of set-based queries, everything needed to address the notices
of many agreements at once (districts, contacts, liaisons, signatures); resolving is then pure.
One agreement or five hundred cost the same number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, Protocol

from sqlalchemy import BindParameter, and_, bindparam, select, union
from sqlmodel import Session

from states.rules import DISTRICT_ROLES
from storage import tables
from storage.prepared import Prepared
from storage.roles import held_on

# Whom each signing party stands for when a notice goes to "signatories".
PARTY_ROLES = {
    "board": "board_president",
    "superintendent": "superintendent",
    "authorizer": "authorizer",
    "mde": "director",
}
# Roles that are not looked up by the role column of a contact.
_DERIVED = {"liaison", "signatories", "district_all", "former_liaison", "owner"}
# Roles an event names its own person for (`Changes.named`): looked up among the liaisons.
_NAMED = {"former_liaison"}
# Who may be an agreement's liaison (`start_assessment`, `assign_liaison`): addressed as the
# liaison while they hold one of these roles.
LIAISON_ROLES = ("liaison", "director")

# Built once: building a statement costs more than running it on SQLite.
_VALUES: BindParameter[Any] = bindparam("values", expanding=True)
_DISTRICTS = Prepared(select(tables.DISTRICT).where(tables.DISTRICT.c.code.in_(_VALUES)))
# Everyone a batch of notices may go to, as held on the day: the people of the districts, those
# holding the roles that are not a district's, and the liaisons named (as long as they hold the
# role). A UNION of one indexed lookup per list given (an OR of the three would scan the whole
# table), built once for each combination of lists.
_ASSIGNMENT, _PERSON = tables.ASSIGNMENT, tables.PERSON
_LOOKUPS = {
    "codes": _ASSIGNMENT.c.district_code.in_(bindparam("codes", expanding=True)),
    "roles": _ASSIGNMENT.c.role.in_(bindparam("roles", expanding=True)),
    "emails": and_(
        _ASSIGNMENT.c.email.in_(bindparam("emails", expanding=True)),
        _ASSIGNMENT.c.role.in_(LIAISON_ROLES),
    ),
    # The owners of action items, whatever role they hold.
    "owners": _ASSIGNMENT.c.email.in_(bindparam("owners", expanding=True)),
}


@dataclass(frozen=True)
class Owner:
    """Who owns a case (an action item): a person, and the role they held when it was given to
    them. While they hold that role, notices to `owner` go to them; once they do not, to whoever
    holds it on the day (their successor: "Records that change")."""

    email: str
    role: str


@cache
def _people(given: tuple[str, ...]) -> Prepared:
    lookups = [
        select(
            _PERSON.c.email, _PERSON.c.name, _PERSON.c.phone,
            _ASSIGNMENT.c.role, _ASSIGNMENT.c.district_code,
        )
        .join(_PERSON, _PERSON.c.email == _ASSIGNMENT.c.email)
        .where(_LOOKUPS[name], held_on(bindparam("day")))
        for name in given
    ]  # fmt: skip
    if len(lookups) == 1:
        return Prepared(lookups[0])
    everyone = union(*lookups).subquery()
    return Prepared(select(everyone).order_by(everyone.c.email))


_SIGNED = Prepared(
    select(tables.SIGNATURE.c.agreement_id, tables.SIGNATURE.c.party)
    .where(tables.SIGNATURE.c.agreement_id.in_(_VALUES))
    .order_by(tables.SIGNATURE.c.id)
)


class AgreementLike(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def district_code(self) -> str: ...
    @property
    def liaison_email(self) -> str | None: ...


@dataclass
class Recipients:
    people: list[Any] = field(default_factory=list)
    # Roles the notice is owed to with nobody on file: logged, and visible in the outbox.
    missing: list[str] = field(default_factory=list)
    # The emails of `people`.
    emails: set[str] = field(default_factory=set, repr=False, compare=False)

    def add(self, found: Sequence[Any], role: str) -> None:
        if not found:
            self.missing.append(role)
        for person in found:
            if person.email not in self.emails:
                self.emails.add(person.email)
                self.people.append(person)


@dataclass
class Directory:
    districts: dict[str, Any]
    by_district: dict[str, list[Any]]
    by_role: dict[str, list[Any]]
    by_email: dict[str, Any]
    parties: dict[int, list[str]]
    # What the owners named hold on the day, by email: each assignment held.
    by_owner: dict[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        session: Session,
        agreements: Sequence[AgreementLike],
        roles: Iterable[str],
        *,
        day: date,
        parties: bool = True,
        named: Iterable[str] = (),
        owners: Iterable[str] = (),
    ) -> Directory:
        """Everything needed to address notices to `roles` as held on `day`; the parties who
        signed each agreement too when `parties` (notices that tell them) or `roles` names the
        signatories."""
        codes = sorted({a.district_code for a in agreements})
        ids = sorted({a.id for a in agreements if a.id is not None})
        liaisons = sorted({a.liaison_email for a in agreements if a.liaison_email} | set(named))
        global_roles = sorted(
            {r for r in roles if r not in DISTRICT_ROLES and r not in _DERIVED}
            | ({"director"} if "signatories" in roles else set())
        )

        districts = {d.code: d for d in _DISTRICTS.execute(session, {"values": codes}).rows}
        by_district: dict[str, list[Any]] = defaultdict(list)
        by_role: dict[str, list[Any]] = defaultdict(list)
        by_email: dict[str, Any] = {}
        by_owner: dict[str, list[Any]] = defaultdict(list)
        wanted_codes, wanted_roles = set(codes), set(global_roles)
        wanted_owners = sorted(set(owners))
        lists = {"codes": codes, "roles": global_roles, "emails": liaisons, "owners": wanted_owners}
        given = {name: values for name, values in lists.items() if values}
        found = _people(tuple(given)).execute(session, {**given, "day": day}).rows if given else []
        for person in found:
            if person.district_code in wanted_codes:
                # Keyed by district, and by district and role: resolving is then a lookup.
                by_district[person.district_code].append(person)
                by_district[f"{person.district_code}\x00{person.role}"].append(person)
            if person.role in wanted_roles:
                by_role[person.role].append(person)
            if person.role in LIAISON_ROLES:
                by_email[person.email] = person
            if person.email in wanted_owners:
                by_owner[person.email].append(person)
        signed: dict[int, list[str]] = defaultdict(list)
        if parties or "signatories" in roles:
            for row in _SIGNED.execute(session, {"values": ids}).rows:
                signed[row.agreement_id].append(row.party)
        return cls(districts, by_district, by_role, by_email, signed, by_owner)

    def district(self, agreement: AgreementLike) -> Any:
        return self.districts[agreement.district_code]

    def signed_parties(self, agreement: AgreementLike) -> list[str]:
        return self.parties.get(agreement.id or 0, [])

    def liaison(self, agreement: AgreementLike) -> Any | None:
        return self.by_email.get(agreement.liaison_email) if agreement.liaison_email else None

    def resolve(
        self,
        agreement: AgreementLike,
        roles: Iterable[str],
        named: Mapping[str, str] | None = None,
        owner: Owner | None = None,
    ) -> Recipients:
        """Who holds each of `roles` for `agreement`; a role the event names someone for
        (`named`, e.g. the liaison it replaced) is that person, as long as they hold the role;
        `owner` is the case's owner, or whoever holds their role after them."""
        district = self.district(agreement)
        result = Recipients()
        for role in self._expand(agreement, roles):
            if role == "authorizer" and not district.psa:
                continue  # only a PSA has an authorizer
            if role == "owner":
                result.add(self._owner(agreement, owner), role)
                continue
            if role in _NAMED:
                email = (named or {}).get(role)
                if email is None:
                    continue  # the event names nobody for it (no liaison was replaced)
                found = self.by_email.get(email)
                result.add([found] if found is not None else [], role)
                continue
            found = self._people(agreement, role)
            if role == "district_all" and not district.psa:
                # Only a PSA has an authorizer: one on file for another district is not told.
                found = [p for p in found if p.role != "authorizer"]
            result.add(found, role)
        return result

    def _owner(self, agreement: AgreementLike, owner: Owner | None) -> list[Any]:
        if owner is None:
            return []
        mine = (agreement.district_code, None)
        held = [p for p in self.by_owner.get(owner.email, [])
                if p.role == owner.role and p.district_code in mine]  # fmt: skip
        return held[:1] or self._people(agreement, owner.role)

    def _expand(self, agreement: AgreementLike, roles: Iterable[str]) -> list[str]:
        expanded: list[str] = []
        for role in roles:
            if role == "signatories":
                parties = self.signed_parties(agreement)
                expanded.extend(PARTY_ROLES[p] for p in parties if p in PARTY_ROLES)
            else:
                expanded.append(role)
        return list(dict.fromkeys(expanded))

    def _people(self, agreement: AgreementLike, role: str) -> list[Any]:
        if role == "liaison":
            liaison = self.liaison(agreement)
            return [liaison] if liaison is not None else []
        if role == "district_all":
            return self.by_district.get(agreement.district_code, [])
        if role in DISTRICT_ROLES:
            return self.by_district.get(f"{agreement.district_code}\x00{role}", [])
        return self.by_role.get(role, [])
