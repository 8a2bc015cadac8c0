"""Apply an event to one agreement in one transaction.

Each function here runs inside a transaction the caller holds (`storage.db.transaction`), so the
state change, its audit record, its deadlines and its outgoing mail commit together or not at all.
Checks run in a fixed order: who is acting, what they name, the state, then the event's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import Table, bindparam, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from config.rules import load_rules
from states.agreement import (
    CREATE_EVENT,
    EVENTS,
    INITIAL,
    RECORD_SIGNATURE,
    TERMINAL,
    destination,
)
from states.context import Context
from states.errors import BadInput, ConcurrentModification, NotAllowedInState, NotFound
from states.rules import RuleSet
from storage.models import Agreement, Contact, District, Signature
from workflow import audit, deadlines
from workflow.actors import SYSTEM_ACTOR, Actor, normalize_email
from workflow.effects import after_transition

# Data each event accepts through `--set KEY=VALUE`; anything else is a typo, refused.
EVENT_DATA: Mapping[str, frozenset[str]] = {
    "start_assessment": frozenset({"liaison"}),
    "escalate": frozenset({"option"}),
}
REQUIRED_DATA: Mapping[str, frozenset[str]] = EVENT_DATA


def effective_date(on: date | None, ctx: Context, previous: date | None) -> date:
    """`--on` defaults to today; it may not be in the future nor before the previous event."""
    today = ctx.today
    chosen = on or today
    if chosen > today:
        raise BadInput(f"date {chosen} is in the future (today is {today})")
    if previous is not None and chosen < previous:
        raise BadInput(f"date {chosen} is before the agreement's previous event ({previous})")
    return chosen


def load_agreement(session: Session, agreement_id: int) -> Agreement:
    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        raise NotFound(f"no agreement {agreement_id}")
    return agreement


def load_district(session: Session, code: str) -> District:
    district = session.get(District, code)
    if district is None:
        raise NotFound(f"no district {code!r} on file")
    return district


def identify(
    session: Session,
    *,
    district_code: str,
    actor: Actor,
    ctx: Context,
    on: date | None = None,
    cohort: str | None = None,
    consequences: str | None = None,
    rules_version: str,
    note: str | None = None,
) -> Agreement:
    rules = load_rules(rules_version)
    rules.check_may(CREATE_EVENT, actor.role)
    district = load_district(session, district_code)
    day = effective_date(on, ctx, previous=None)
    chosen = rules.parse_consequences(consequences, district.psa)
    running = session.exec(
        select(Agreement.id).where(
            Agreement.district_code == district.code,
            Agreement.state.not_in(TERMINAL),  # type: ignore[attr-defined]
        )
    ).first()
    if running is not None:
        raise NotAllowedInState(f"district {district.code} already has active agreement {running}")
    agreement = Agreement(
        district_code=district.code,
        cohort=cohort,
        state=INITIAL,
        rules_version=rules.version,
        consequences=",".join(chosen),
        identified_on=day,
        last_event_on=day,
        updated_at=ctx.now,
    )
    try:
        # A savepoint, so the losing side of a race fails cleanly with a clear error.
        with session.begin_nested():
            session.add(agreement)
    except IntegrityError as exc:  # another identify of this district won the race
        raise NotAllowedInState(
            f"district {district.code} already has an active agreement"
        ) from exc
    created = {"consequences": list(chosen), "cohort": cohort, "rules": rules.version}
    audit.agreement_event(
        session, agreement, CREATE_EVENT, None, INITIAL, actor, day, ctx, note, created
    )
    deadlines.open_for_event(session, agreement, rules, CREATE_EVENT, day, ctx)
    after_transition(session, agreement, rules, CREATE_EVENT, day, ctx)
    return agreement


def fire(
    session: Session,
    *,
    agreement_id: int,
    event: str,
    actor: Actor,
    ctx: Context,
    on: date | None = None,
    note: str | None = None,
    data: Mapping[str, str] | None = None,
) -> Agreement:
    agreement = load_agreement(session, agreement_id)
    rules = load_rules(agreement.rules_version)
    if event not in EVENTS:
        raise BadInput(f"unknown event {event!r}; events: {', '.join(EVENTS)}")
    rules.check_may(event, actor.role)
    dest = destination(agreement.state, event)
    given = dict(data or {})
    _check_data(event, given)
    day = effective_date(on, ctx, agreement.last_event_on)
    if event == "sign":
        _check_all_signed(session, agreement, rules)
    changes = _event_changes(session, agreement, event, given)
    if "liaison_email" in changes:
        given["liaison"] = str(changes["liaison_email"])  # audited as on file, not as typed
    return transition(session, agreement, rules, event, dest, actor, day, ctx, note, given, changes)


def _check_data(event: str, given: Mapping[str, str]) -> None:
    allowed = EVENT_DATA.get(event, frozenset())
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise BadInput(
            f"{event} takes no --set {', '.join(unknown)}"
            + (f" (it takes {', '.join(sorted(allowed))})" if allowed else "")
        )
    missing = sorted(REQUIRED_DATA.get(event, frozenset()) - set(given))
    if missing:
        raise BadInput(f"{event} needs --set {missing[0]}=...")


def _event_changes(
    session: Session, agreement: Agreement, event: str, given: Mapping[str, str]
) -> dict[str, object]:
    """Validate the event's data and return the agreement columns it sets."""
    if event == "start_assessment":
        email = normalize_email(given["liaison"])
        contact = session.get(Contact, email)
        if contact is None:
            raise NotFound(f"no person {email} on file")
        if contact.role not in ("liaison", "director"):
            raise BadInput(f"{email} is a {contact.role}, not a liaison or director")
        return {"liaison_email": email}
    if event == "escalate":
        option = given["option"]
        if option not in agreement.consequence_list:
            raise BadInput(
                f"{option!r} is not among this agreement's consequences "
                f"({', '.join(agreement.consequence_list)})"
            )
        return {"escalation_option": option}
    return {}


def transition(
    session: Session,
    agreement: Agreement,
    rules: RuleSet,
    event: str,
    dest: str,
    actor: Actor,
    day: date,
    ctx: Context,
    note: str | None = None,
    data: Mapping[str, str] | None = None,
    changes: Mapping[str, object] | None = None,
) -> Agreement:
    """Change state and write everything that goes with it; the caller has run every check."""
    source = agreement.state
    moved: dict[str, object] = {"state": dest, "last_event_on": day, "updated_at": ctx.now}
    if event == "sign":
        moved["signed_on"] = day
    claim(session, agreement, {**moved, **(changes or {})})
    audit.agreement_event(session, agreement, event, source, dest, actor, day, ctx, note, data)
    deadlines.close_for_event(session, agreement, rules, event, day, final=dest in TERMINAL)
    deadlines.open_for_event(session, agreement, rules, event, day, ctx)
    after_transition(session, agreement, rules, event, day, ctx)
    return agreement


_AGREEMENT: Table = Agreement.__table__  # type: ignore[attr-defined]
# SET columns come from the parameters given; the WHERE clause is the optimistic lock.
_CLAIM = update(_AGREEMENT).where(
    _AGREEMENT.c.id == bindparam("_id"), _AGREEMENT.c.version == bindparam("_read_version")
)


def claim(session: Session, agreement: Agreement, values: Mapping[str, object]) -> None:
    """Write `values` only if nobody changed the row since we read it (optimistic lock).

    One UPDATE both checks and bumps the version and applies the change; the loaded object is
    brought up to date without a second write.
    """
    changes = {"version": agreement.version + 1, **values}
    result = session.execute(
        _CLAIM, {"_id": agreement.id, "_read_version": agreement.version, **changes}
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConcurrentModification(
            f"agreement {agreement.id} was changed by someone else; reload and try again"
        )
    for name, value in changes.items():
        set_committed_value(agreement, name, value)


def record_signature(
    session: Session,
    *,
    agreement_id: int,
    party: str,
    actor: Actor,
    ctx: Context,
    on: date | None = None,
) -> Agreement:
    """Record one party's signature; the last required one fires `sign` as the system actor."""
    agreement = load_agreement(session, agreement_id)
    rules = load_rules(agreement.rules_version)
    rules.check_may(RECORD_SIGNATURE, actor.role)
    district = load_district(session, agreement.district_code)
    required = rules.required_parties(district.psa)
    known = (*rules.signatories, *rules.psa_signatories)
    if party not in known:
        raise BadInput(f"unknown party {party!r}; parties: {', '.join(known)}")
    if party not in required:
        raise BadInput(f"{party} does not sign for {district.code}: it is not a PSA")
    if agreement.state != "needs_assessment":
        raise NotAllowedInState(
            f"signatures are recorded in needs_assessment; agreement {agreement.id} is "
            f"{agreement.state}"
        )
    signed = {s.party: s for s in _signatures(session, agreement)}
    if party in signed:
        raise NotAllowedInState(f"{party} already signed on {signed[party].signed_on}")
    day = effective_date(on, ctx, agreement.last_event_on)
    claim(session, agreement, {"last_event_on": day, "updated_at": ctx.now})
    assert agreement.id is not None
    session.add(
        Signature(
            agreement_id=agreement.id,
            party=party,
            signed_on=day,
            recorded_by=actor.email,
            recorded_at=ctx.now,
        )
    )
    audit.record(
        session,
        subject=f"agreement:{agreement.id}",
        agreement_id=agreement.id,
        event=RECORD_SIGNATURE,
        from_state=agreement.state,
        to_state=agreement.state,
        actor=actor,
        on=day,
        ctx=ctx,
        data={"party": party},
    )
    if set(required) <= {*signed, party}:
        note = f"all required signatures recorded (last: {party}, recorded by {actor.email})"
        transition(session, agreement, rules, "sign", "signed", SYSTEM_ACTOR, day, ctx, note)
    return agreement


def _check_all_signed(session: Session, agreement: Agreement, rules: RuleSet) -> None:
    district = load_district(session, agreement.district_code)
    signed = {s.party for s in _signatures(session, agreement)}
    missing = [p for p in rules.required_parties(district.psa) if p not in signed]
    if missing:
        raise NotAllowedInState(f"the plan still needs signatures from {', '.join(missing)}")


def _signatures(session: Session, agreement: Agreement) -> list[Signature]:
    return list(session.exec(select(Signature).where(Signature.agreement_id == agreement.id)))
