"""`pal demo`: the fictional 2017-2018 cohorts (9, 7 and 21 districts) through their 36 months.

Everything goes through the real engine and sweep in simulated time; mail goes to the mail folder
(the file backend, always: a demo never talks to an SMTP server).
"""

from __future__ import annotations

import logging
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, func, select

from states.calendar import add_days, add_months, local_instant
from states.context import Context
from states.errors import NotAllowedInState
from storage.migrate import upgrade
from storage.models import Agreement, District
from storage.service_models import Outbox, Timer
from workflow import registry
from workflow.actors import Actor
from workflow.app import App
from workflow.engine import Request, apply
from workflow.service import tick

Echo = Callable[[str], None]
COHORTS = (
    ("2017-04", date(2017, 4, 3), 9, "2017-04"),
    ("2017-10", date(2017, 10, 2), 7, "2017-10"),
    ("2018-03", date(2018, 3, 1), 21, "2017-10"),
)
PLACES = (
    "Alder Creek",
    "Birch Harbor",
    "Cedar Falls",
    "Dune Point",
    "Elm Ridge",
    "Fox River",
    "Granite Bay",
    "Heron Lake",
    "Iron Hills",
    "Juniper Vale",
    "Kettle Moraine",
    "Lantern Bay",
    "Maple Bluff",
    "North Pines",
    "Oak Hollow",
    "Pine Shore",
    "Quarry Lake",
    "Red Cedar",
    "Sand Point",
    "Tamarack",
    "Upper Peninsula Bay",
    "Willow Run",
    "Walnut Grove",
    "Yarrow Glen",
    "Zephyr Lake",
    "Ashland Park",
    "Beacon Hill",
    "Copper Harbor",
    "Deer Creek",
    "Eagle Bluff",
    "Fern Valley",
    "Glen Arbor",
    "Hickory Corners",
    "Indian Springs",
    "Jackpine",
    "Kingfisher",
    "Lakeshore Heights",
)
DIRECTOR = "dana.director@mde.example"
STATE_SUPT = "sam.superintendent@mde.example"
LIAISONS = ("lee.liaison@mde.example", "pat.liaison@mde.example", "kim.liaison@mde.example")
NOON = time(12, 0)


@dataclass(order=True)
class Step:
    day: date
    seq: int
    label: str
    run: Callable[[Session, Context], object]


class DemoRefused(NotAllowedInState):
    pass


def run_demo(app: App, echo: Echo) -> None:
    upgrade(app.engine)
    with app.read() as session:
        if session.exec(select(func.count()).select_from(District)).one():
            raise DemoRefused(
                "the demo needs an empty database; remove pal.db or use --database-url"
            )
    steps, end = _script(app)
    # Roles with nobody on file are expected here; the summary counts them instead of warning.
    for name in ("pal.notifications", "pal.sweep"):
        logging.getLogger(name).setLevel(logging.ERROR)
    echo(f"pal demo: {sum(c[2] for c in COHORTS)} districts in 3 cohorts, simulated to {end}")
    _simulate(app, steps, end, echo)
    _summary(app, echo)


def _script(app: App) -> tuple[list[Step], date]:
    rng = random.Random(2017)
    clerk = Actor("demo@pal.local", "clerk")
    steps: list[Step] = []
    seq = iter(range(1_000_000))

    def at(day: date, label: str, run: Callable[[Session, Context], object]) -> None:
        steps.append(Step(day, next(seq), label, run))

    first = COHORTS[0][1]
    at(
        first - timedelta(days=7),
        "registered",
        lambda s, c: _register(s, c, clerk),
    )
    index, end = 0, first
    for cohort, identified_on, size, rules in COHORTS:
        for _ in range(size):
            index += 1
            end = max(end, _script_district(at, rng, index, cohort, identified_on, rules))
    return sorted(steps), end + timedelta(days=14)


def _register(session: Session, ctx: Context, clerk: Actor) -> None:
    for email, name, role in (
        (DIRECTOR, "Dana Director", "director"),
        (STATE_SUPT, "Sam Superintendent", "state_superintendent"),
        *((e, e.split(".")[0].title() + " Liaison", "liaison") for e in LIAISONS),
    ):
        registry.add_contact(
            session, email=email, name=name, role=role, district_code=None, actor=clerk, ctx=ctx
        )
    for index, place in enumerate(PLACES, start=1):
        code, psa = f"8{index:04d}", index % 6 == 0
        registry.add_district(
            session,
            registry.DistrictInput(
                code=code,
                name=f"{place} {'Academy' if psa else 'Public Schools'}",
                isd=f"{place.split()[0]} ISD",
                psa=psa,
                authorizer="Central Michigan University" if psa else None,
            ),
            clerk,
            ctx,
        )
        slug = place.lower().replace(" ", "")
        roles = ["superintendent", "isd_superintendent", *(["authorizer"] if psa else [])]
        if (
            index % 10 != 7
        ):  # a few districts have no board president on file: visible in the outbox
            roles.append("board_president")
        for role in roles:
            registry.add_contact(
                session,
                email=f"{role}@{slug}.example",
                name=f"{place} {role.replace('_', ' ').title()}",
                role=role,
                district_code=code,
                actor=clerk,
                ctx=ctx,
            )


def _script_district(
    at: Callable[..., None],
    rng: random.Random,
    index: int,
    cohort: str,
    identified_on: date,
    rules: str,
) -> date:
    agreement_id, code, psa = index, f"8{index:04d}", index % 6 == 0
    by = {
        "director": _actor(DIRECTOR, "director"),
        "ss": _actor(STATE_SUPT, "state_superintendent"),
    }
    liaison = _actor(LIAISONS[index % 3], "liaison")
    case = _Fixed(agreement_id)
    at(
        identified_on,
        f"identify {code}",
        lambda s, c: apply(
            s,
            Request(
                "identify",
                by["director"],
                parent=code,
                on=c.today,
                data={"cohort": cohort},
                rules_version=rules,
            ),
            c,
        ),
    )
    at(
        add_days(identified_on, 7),
        f"start_assessment {agreement_id}",
        lambda s, c: _fire(s, c, case, "start_assessment", liaison, {"liaison": liaison.email}),
    )
    window = 60 if rules == "2017-04" else 90
    if index == 12:  # never signs: overdue notices, the State Superintendent is told, escalates
        at(
            add_days(identified_on, window + 40),
            f"escalate {agreement_id}",
            lambda s, c: _fire(
                s,
                c,
                case,
                "escalate",
                by["ss"],
                {"option": "isd_intervention"},
                note="plan not signed 40 days after the deadline",
            ),
        )
        return identified_on
    late = index % 8 == 3
    signed_on = add_days(
        identified_on, window + rng.randint(3, 20) if late else rng.randint(35, window - 2)
    )
    _script_plan(at, case, signed_on, psa, liaison)
    if index % 9 == 4:  # one district's RGA is never concluded: the 36-month action cannot run
        return add_months(signed_on, 36)
    review_36 = _script_reviews(at, case, signed_on, index, by["director"])
    if index % 7 != 0:
        return review_36
    # Renewed: a new agreement under the current rules, re-signed and clocked from its signing.
    renewal = _Renewal(agreement_id)
    resigned_on = add_days(review_36, 10 + rng.randint(40, 80))
    _script_plan(at, renewal, resigned_on, psa, liaison)
    return _script_reviews(at, renewal, resigned_on, index + 1, by["director"])


class _Fixed:
    """An agreement whose id is known when the script is written."""

    def __init__(self, agreement_id: int) -> None:
        self.agreement_id = agreement_id

    def id(self, session: Session) -> int:
        return self.agreement_id

    def __str__(self) -> str:
        return str(self.agreement_id)


class _Renewal(_Fixed):
    """The agreement that renews `agreement_id`: its id is known once the renewal happened."""

    def id(self, session: Session) -> int:
        renewed = session.get(Agreement, self.agreement_id)
        assert renewed is not None and renewed.renewed_as is not None
        return renewed.renewed_as

    def __str__(self) -> str:
        return f"renewal of {self.agreement_id}"


def _script_plan(
    at: Callable[..., None], case: _Fixed, signed_on: date, psa: bool, liaison: Actor
) -> None:
    parties = ["board", "superintendent", *(["authorizer"] if psa else []), "mde"]
    for offset, party in enumerate(parties):
        at(
            add_days(signed_on, offset - len(parties) + 1),
            f"sign {case} {party}",
            lambda s, c, p=party: _fire(s, c, case, "record_signature", liaison, {"party": p}),
        )


def _script_reviews(
    at: Callable[..., None], case: _Fixed, signed_on: date, index: int, director: Actor
) -> date:
    """The RGA determined, a 24-month review for some, and the 36-month decision."""
    at(
        add_days(add_months(signed_on, 18), 45),
        f"determine {case}",
        lambda s, c: _fire(s, c, case, "determine", director),
    )
    if index % 3 == 0:
        _review_24(at, case, add_months(signed_on, 24), director)
    review_36 = add_months(signed_on, 36)
    event = "renew" if index % 7 == 0 else "exit"
    at(add_days(review_36, 10), f"{event} {case}", lambda s, c: _fire(s, c, case, event, director))
    return review_36


def _fire(
    session: Session,
    ctx: Context,
    case: _Fixed,
    event: str,
    actor: Actor,
    data: dict[str, str] | None = None,
    note: str | None = None,
) -> object:
    request = Request(
        event, actor, case=case.id(session), on=ctx.today, data=data or {}, note=note
    )
    return apply(session, request, ctx)


def _review_24(at: Callable[..., None], case: _Fixed, day: date, director: Actor) -> None:
    for offset, event in ((0, "open_review_24"), (21, "complete_review_24")):
        at(
            add_days(day, offset),
            f"{event} {case}",
            lambda s, c, e=event: _fire(s, c, case, e, director),
        )


def _actor(email: str, role: str) -> Actor:
    return Actor(email, role)


LABELS = {
    "identify": "identified",
    "start_assessment": "liaisons named",
    "sign": "signatures",
    "determine": "RGA determinations",
    "open_review_24": "24-month reviews",
    "complete_review_24": "24-month reviews closed",
    "exit": "exits",
    "renew": "renewals",
    "escalate": "ESCALATED",
    "registered": "districts and people registered",
}


def _simulate(app: App, steps: list[Step], end: date, echo: Echo) -> None:
    log: dict[str, Counter[str]] = defaultdict(Counter)
    for step in [*steps, Step(end, 10**9, "end", lambda s, c: None)]:
        moment = local_instant(step.day, NOON, app.settings.tz)
        _tick_until(app, moment, log)
        with app.write() as session:
            step.run(session, app.context(moment))
        tick(app, moment)
        if step.label != "end":
            log[f"{step.day:%Y-%m}"][LABELS[step.label.split()[0]]] += 1
    for month in sorted(log):
        echo(f"  {month}  " + ", ".join(f"{what} {n}" for what, n in log[month].items()))


def _tick_until(app: App, moment: datetime, log: dict[str, Counter[str]]) -> None:
    while True:
        with app.read() as session:
            due = session.exec(
                select(Timer.fire_at)
                .where(Timer.status == "pending", Timer.fire_at <= moment)
                .order_by(col(Timer.fire_at))
            ).first()
        if due is None:
            return
        report = tick(app, due).sweep
        month = f"{due.astimezone(app.settings.tz):%Y-%m}"
        if report.emails:
            log[month]["reminders and notices queued"] += report.emails
        for action in report.actions:
            log[month][f"system {action.split(': ')[1].split(' ')[0]}"] += 1
        for blocked in report.blocked:
            log[month][f"BLOCKED {blocked.split(': ')[1].split(' ')[0]}"] += 1


def _summary(app: App, echo: Echo) -> None:
    with app.read() as session:
        states = Counter(session.exec(select(Agreement.state)).all())
        mail = Counter(session.exec(select(Outbox.status)).all())
    echo("agreements by state: " + ", ".join(f"{s} {n}" for s, n in sorted(states.items())))
    echo("outbox: " + ", ".join(f"{s} {n}" for s, n in sorted(mail.items())))
    if mail.get("unaddressed"):
        echo("  unaddressed: notices owed to a role with nobody on file (see `pal outbox list`)")
    echo(
        f"mail written to {app.settings.mail_dir}/ ; try `pal agreement show 12`, "
        "`pal outbox list --status unaddressed`, `pal status`"
    )
