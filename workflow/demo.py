"""`pal demo`: the fictional 2017-2018 cohorts (9, 7 and 21 districts) through their 36 months.

Everything goes through the real engine and sweep in simulated time; mail goes to the mail folder
(the file backend, always: a demo never talks to an SMTP server). Each plan's benchmarks, and the
measurements each review looks at, are CSV files the demo writes (in `demo-csv/`, next to the
mail folder) and imports as a liaison would.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import groupby
from pathlib import Path

from sqlalchemy import event
from sqlmodel import Session, col, func, select

from notifications.dispatch import deliver_all_due
from notifications.transports import FileTransport
from states.agreement import STATE_LABELS
from states.calendar import add_days, add_months, business_day_after, local_instant
from states.context import Context
from states.errors import NotAllowedInState
from states.funds import STATE_LABELS as FUNDS_STATES
from states.labels import STATUS_LABELS
from states.money import dollars
from storage import tables
from storage.migrate import upgrade
from storage.models import Agreement, Determination, District, Review, School
from storage.service_models import Outbox, Timer
from workflow import (
    action_items,
    amend,
    funds,
    meeting_series,
    meetings,
    plan,
    registry,
    reviews,
)
from workflow.actors import Actor
from workflow.app import App
from workflow.engine import Request, apply
from workflow.funds_store import benchmarks_of
from workflow.funds_views import budget_view
from workflow.progress import Progress, no_progress
from workflow.service import tick
from workflow.sweep import sweep

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
CSV_DIR = "demo-csv"

# The reviews in the order they come, and each school's status at each of them (what its
# measurements are made to show): the demo's outcomes follow from these.
REVIEWS = ("rga", "review_24", "review_36")
REVIEW_NAMES = {"rga": "18-month", "review_24": "24-month", "review_36": "36-month"}
STEADY = ("on_track", "on_track", "on_track")
LATE = ("off_track_progress", "on_track", "on_track")
SLOW = ("off_track_limited", "off_track_progress", "on_track")
STUCK = ("off_track_limited", "off_track_progress", "off_track_progress")
SLIPPING = ("off_track_progress", "off_track_progress", "off_track_limited")
# How far each status puts a measurement between the baseline (0) and the target (1).
REACH = {"on_track": (1.02, 1.2), "off_track_progress": (0.3, 0.8),
         "off_track_limited": (-0.3, -0.05)}  # fmt: skip
NEVER_SIGNS = 12  # overdue notices, the State Superintendent is told, escalates
SUPERINTENDENT_LEAVES = 3  # a new superintendent takes over during the plan window
LIAISON_REASSIGNED = 4  # another liaison takes the agreement over during the plan window
ESCALATED_AT_36 = frozenset({5, 30})  # off track at 36 months: two options, with the reason
EXIT_WITH_NOTE = frozenset({11, 26})  # a school still off track: the director explains the exit
OVERRIDDEN = 2  # the RGA conference agrees a better status for one school, with its reason
RENEWED = frozenset({7, 28})  # a school still off track at 36 months: renewed, and re-signed
CORRECTED = 9  # the MDE signature was recorded two days early: the director corrects the date
AMENDED = 1  # a year after signing, a 36-month target is lowered by an amendment, re-signed
# Marked high-need a month after signing: seven biweekly meetings with the State
# Superintendent, each raising two action items; the superintendent's are done late every other
# time (after an overdue notice), the liaison's on time.
HIGH_NEED_DISTRICT = 8
HIGH_NEED_MEETINGS = 7
# Benchmark kinds: (kind, label, baseline range, 18- and 36-month gains, lower is better).
KINDS = (
    ("on_track", "", (18.0, 32.0), 6.0, 12.0, False),
    ("proficiency_or_growth", "", (14.0, 28.0), 5.0, 10.0, False),
    ("attendance_rate", "", (84.0, 89.0), 2.0, 4.0, False),
)
GRADUATION = ("graduation_rate", "", (62.0, 72.0), 4.0, 8.0, False)
CHRONIC_ABSENCE = ("local", "Chronic absence", (27.0, 35.0), 4.0, 8.0, True)
EVIDENCE = {
    "on_track": "NWEA MAP growth report",
    "proficiency_or_growth": "M-STEP results",
    "attendance_rate": "student information system",
    "graduation_rate": "CEPI graduation data",
    "local": "district attendance office",
}


@dataclass(order=True)
class Step:
    day: date
    seq: int
    label: str
    run: Callable[[Session, Context], object]


class DemoRefused(NotAllowedInState):
    pass


@dataclass(frozen=True)
class Plan:
    """One district's schools and how each fares at each review."""

    index: int
    code: str
    csv_dir: Path
    schools: tuple[tuple[str, str, bool], ...]  # code, name, high school
    paths: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    renewal: bool = False

    @property
    def stem(self) -> str:
        return f"{self.code}-renewal" if self.renewal else self.code

    def off_track_at(self, kind: str) -> bool:
        return any(path[REVIEWS.index(kind)] != "on_track" for path in self.paths.values())


def run_demo(app: App, echo: Echo, progress: Progress = no_progress) -> None:
    upgrade(app.engine)
    _without_waiting_for_the_disk(app)
    with app.read() as session:
        if session.exec(select(func.count()).select_from(District)).one():
            raise DemoRefused(
                "the demo needs an empty database; remove pal.db or use --database-url"
            )
    csv_dir = app.settings.mail_dir.parent / CSV_DIR
    csv_dir.mkdir(parents=True, exist_ok=True)
    steps, end = _script(csv_dir)
    # Roles with nobody on file are expected here; the summary counts them instead of warning.
    for name in ("pal.notifications", "pal.sweep"):
        logging.getLogger(name).setLevel(logging.ERROR)
    echo(f"pal demo: {sum(c[2] for c in COHORTS)} districts in 3 cohorts, simulated to {end}")
    _simulate(app, steps, end, echo, progress)
    _summary(app, echo, csv_dir)


def _without_waiting_for_the_disk(app: App) -> None:
    """A demo's database is for looking at, not for keeping: on SQLite its commits do not wait
    for the disk (WAL with synchronous=NORMAL; the mail files are not synced either, see
    `_deliver`)."""
    if app.engine.dialect.name != "sqlite":
        return

    @event.listens_for(app.engine, "connect")
    def _relaxed(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")  # type: ignore[attr-defined]

    app.engine.dispose()  # connections already open were made with synchronous=FULL


def _script(csv_dir: Path) -> tuple[list[Step], date]:
    rng = random.Random(2017)
    clerk = Actor("demo@pal.local", "clerk")
    steps: list[Step] = []
    seq = iter(range(1_000_000))

    def at(day: date, label: str, run: Callable[[Session, Context], object]) -> None:
        # People record their steps on working days: a step meant for a weekend or a state
        # holiday happens on the next business day (the order of the script is kept).
        steps.append(Step(business_day_after(day), next(seq), label, run))

    first = COHORTS[0][1]
    plans = [_plan(index, csv_dir) for index in range(1, len(PLACES) + 1)]
    at(
        first - timedelta(days=7),
        "registered",
        lambda s, c: _register(s, c, clerk, plans),
    )
    index, end = 0, first
    for cohort, identified_on, size, rules in COHORTS:
        for _ in range(size):
            index += 1
            district = plans[index - 1]
            end = max(end, _script_district(at, rng, district, cohort, identified_on, rules))
    end = max(end, _script_funds(at))
    return sorted(steps), end + timedelta(days=14)


def _plan(index: int, csv_dir: Path) -> Plan:
    """The district's schools (an elementary and a high school, or one school) and each
    school's path through the reviews."""
    code, place = f"8{index:04d}", PLACES[index - 1]
    if index % 3 == 0:
        names: tuple[str, ...] = ("Elementary", "High School")
    else:
        names = ("Elementary",) if index % 2 else ("Middle School",)
    schools = tuple(
        (f"{code}{n}", f"{place} {name}", name == "High School")
        for n, name in enumerate(names, start=1)
    )
    paths: tuple[tuple[str, str, str], ...]
    if index in ESCALATED_AT_36:
        paths = (SLIPPING, STUCK)
    elif index in RENEWED:
        paths = (STUCK, LATE)
    elif index in EXIT_WITH_NOTE:
        paths = (STUCK, STEADY)
    elif index % 3 != 2:  # every school On-Track at the RGA: no 24-month review
        paths = (STEADY, STEADY)
    else:  # off track at the RGA, On-Track by 36 months
        paths = (SLOW,) if index % 2 == 0 else (LATE,)
    # A district with one school takes the first path.
    taken = zip(schools, paths, strict=False)
    return Plan(index, code, csv_dir, schools, {school[0]: path for school, path in taken})


def _register(session: Session, ctx: Context, clerk: Actor, plans: list[Plan]) -> None:
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
        for school, name, high in plans[index - 1].schools:
            registry.add_school(
                session, code=school, name=name, district_code=code, csi=True,
                alternative=False, actor=clerk, ctx=ctx, high_school=high,
            )  # fmt: skip
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
    district: Plan,
    cohort: str,
    identified_on: date,
    rules: str,
) -> date:
    index = district.index
    agreement_id, code, psa = index, district.code, index % 6 == 0
    by = {
        "director": _actor(DIRECTOR, "director"),
        "ss": _actor(STATE_SUPT, "state_superintendent"),
    }
    liaison = _actor(LIAISONS[index % 3], "liaison")
    case = _Fixed(agreement_id)
    schools = ",".join(school for school, _, _ in district.schools)
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
                data={"cohort": cohort, "schools": schools},
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
    _script_benchmarks(at, case, district, add_days(identified_on, 21), liaison)
    window = 60 if rules == "2017-04" else 90
    if index == SUPERINTENDENT_LEAVES:
        # Mid-way through the plan window the superintendent leaves: later reminders reach the
        # new one only.
        at(
            add_days(identified_on, window // 2),
            f"superintendent replaced in {code}",
            lambda s, c: _superintendent_change(s, c, by["director"], code, index),
        )
    if index == LIAISON_REASSIGNED:
        at(
            add_days(identified_on, window // 2),
            f"assign_liaison {agreement_id}",
            lambda s, c: _fire(s, c, case, "assign_liaison", by["director"],
                               {"liaison": LIAISONS[(index + 1) % 3]}),
        )  # fmt: skip
    if index == NEVER_SIGNS:
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
    if index == CORRECTED:  # the RGA and the 24- and 36-month reviews are counted from it
        signed_on = add_days(signed_on, 2)
        at(add_days(signed_on, 1), f"correct {case}",
           lambda s, c, on=signed_on: _fire(
               s, c, case, "correct_date", by["director"], {"on": on.isoformat()},
               note="the MDE signature was recorded the day it was sent, two days before it "
               "was signed"))  # fmt: skip
    if index == AMENDED:
        _script_amendment(at, case, add_months(signed_on, 12), psa, liaison)
    if index == HIGH_NEED_DISTRICT:
        _script_high_need(at, district, add_days(signed_on, 30), liaison)
    if index % 9 == 4:  # the RGA stalls after its evidence: the 24- and 36-month actions cannot run
        rga = add_months(signed_on, 18)
        _script_measurements(at, case, district, "rga", add_days(rga, 7), liaison)
        _script_step(at, case, "evidence", add_days(rga, 40), liaison)
        return add_months(signed_on, 36)
    outcome = _script_reviews(at, case, signed_on, district, by, liaison)
    if index not in RENEWED:
        return outcome
    # Renewed: a new agreement under the current rules, its plan re-entered and re-signed, and
    # clocked from its signing.
    renewal = _Renewal(agreement_id)
    renewed_on = outcome
    resigned_on = add_days(renewed_on, rng.randint(40, 80))
    again = Plan(index, code, district.csv_dir, district.schools,
                 dict.fromkeys(district.paths, STEADY), renewal=True)  # fmt: skip
    _script_benchmarks(at, renewal, again, add_days(renewed_on, 14), liaison)
    _script_plan(at, renewal, resigned_on, psa, liaison)
    return _script_reviews(at, renewal, resigned_on, again, by, liaison)


# Section 21(h) funds, fiscal year 2025-26: the agreements whose RGA stalled (still running)
# request funds. By agreement: the day the request is entered and submitted, its activities,
# and what follows, each (command, day, note or data). One is returned with comments, changed
# and submitted again; one is denied; the others are approved, funded and their effectiveness
# reported (one late, after its overdue notice; one decided late).
FUNDS_YEAR = "2025-26"
FUNDS_METRICS = "share of the teachers taking part observed using the practice each semester"
FUNDS_SCRIPT: tuple[tuple[int, date, tuple[tuple[str, str], ...],
                          tuple[tuple[str, date, str | None], ...]], ...] = (
    (4, date(2025, 10, 6), (("pd_teachers", "180000.00"), ("teacher_mentors", "45500.00")), (
        ("review", date(2025, 10, 7), None),
        ("approve", date(2025, 10, 30), None),
        ("fund", date(2025, 11, 17), None),
        ("report", date(2026, 11, 10), "reading scores of the mentored classrooms rose 9 points"),
    )),
    (13, date(2025, 10, 14), (("instructional_time", "240000.00"),), (
        ("review", date(2025, 10, 15), None),
        ("return", date(2025, 11, 3), "tie the extended day to the attendance benchmark, and "
                                      "give its metrics by grade"),
        ("activity", date(2025, 11, 12), "pd_leaders:30000.00"),
        ("submit", date(2025, 11, 12), None),
        ("review", date(2025, 11, 13), None),
        ("approve", date(2025, 12, 10), None),
        ("fund", date(2026, 1, 12), None),
        ("report", date(2026, 12, 3), "attendance in the extended-day grades rose 3 points"),
    )),
    (22, date(2025, 11, 3), (("innovative_initiative", "900000.00"),), (
        ("review", date(2025, 11, 4), None),
        ("deny", date(2025, 11, 24), "the initiative names no effect on student growth or "
                                     "proficiency that could be measured this year"),
    )),
    (31, date(2026, 2, 2), (("pd_leaders", "60000.00"), ("pd_teachers", "75250.50")), (
        ("review", date(2026, 2, 3), None),
        ("approve", date(2026, 3, 9), None),
        ("fund", date(2026, 3, 16), None),
        ("report", date(2026, 11, 2), "four of five coached principals met their goals"),
    )),
)  # fmt: skip


def _script_funds(at: Callable[..., None]) -> date:
    """The fiscal year of fund requests; returns its last day scripted."""
    director = _actor(DIRECTOR, "director")
    last = date.min
    for agreement, entered, activities, then in FUNDS_SCRIPT:
        liaison = _actor(LIAISONS[agreement % 3], "liaison")
        request = _Request(agreement)
        at(entered, f"funds request {agreement}",
           lambda s, c, a=agreement, items=activities, by=liaison: _request_funds(s, c, a, items,
                                                                                  by))  # fmt: skip
        for command, day, said in then:
            by = director if command in ("approve", "deny", "return", "fund") else liaison
            at(day, f"funds {command} {request}",
               lambda s, c, cmd=command, x=said, who=by, r=request: _funds_step(s, c, r, cmd, x,
                                                                                 who))  # fmt: skip
            last = max(last, day)
    return last


def _request_funds(session: Session, ctx: Context, agreement: int,
                   activities: tuple[tuple[str, str], ...], by: Actor) -> object:  # fmt: skip
    benchmark = benchmarks_of(session, agreement)[0]
    request = funds.new_request(
        session, agreement, by, ctx, year=FUNDS_YEAR, serves=str(benchmark),
        rationale="the schools' benchmarks lag where the plan's strategies need more adults "
        "trained and more time with students", priorities="literacy,p8",
    )  # fmt: skip
    for category, amount in activities:
        funds.add_activity(session, request, by, ctx, category=category, amount=amount,
                           metrics=FUNDS_METRICS)  # fmt: skip
    return funds.step(session, "submit", request, by, ctx, on=ctx.today)


def _funds_step(session: Session, ctx: Context, request: _Request, command: str,
                said: str | None, by: Actor) -> object:  # fmt: skip
    """`pal funds COMMAND` as staff would give it: a return's comments or a denial's reason
    as its note, a report's effectiveness, an added activity (`CATEGORY:AMOUNT`)."""
    found = request.id(session)
    if command == "activity":
        category, amount = (said or "").split(":")
        return funds.add_activity(session, found, by, ctx, category=category, amount=amount,
                                  metrics=FUNDS_METRICS)  # fmt: skip
    if command == "report":
        return funds.step(session, command, found, by, ctx, on=ctx.today,
                          data={"effectiveness": said or ""})  # fmt: skip
    return funds.step(session, command, found, by, ctx, on=ctx.today, note=said)


def _funds_summary(app: App, echo: Echo) -> None:
    with app.read() as session:
        states = Counter(session.execute(select(tables.FUNDS_REQUEST.c.state)).scalars().all())
        budget = budget_view(session, FUNDS_YEAR, app.settings.rules_version)
    told = "; ".join(f"{FUNDS_STATES[s]} {n}" for s, n in sorted(states.items()))
    amount = {name: dollars(Decimal(budget[name])) for name in ("approved", "appropriation",
                                                                 "funded")}  # fmt: skip
    echo(f"Section 21(h) fund requests {FUNDS_YEAR}: {told}; approved {amount['approved']} of "
         f"{amount['appropriation']}, funded {amount['funded']}")  # fmt: skip


def _superintendent_change(
    session: Session, ctx: Context, clerk: Actor, code: str, index: int
) -> None:
    slug = PLACES[index - 1].lower().replace(" ", "")
    registry.end_contact(
        session, email=f"superintendent@{slug}.example", role="superintendent",
        district_code=code, on=ctx.today, actor=clerk, ctx=ctx,
    )  # fmt: skip
    registry.add_contact(
        session, email=f"new.superintendent@{slug}.example",
        name=f"{PLACES[index - 1]} New Superintendent", role="superintendent",
        district_code=code, on=ctx.today, actor=clerk, ctx=ctx,
    )  # fmt: skip


class _Fixed:
    """An agreement whose id is known when the script is written."""

    def __init__(self, agreement_id: int) -> None:
        self.agreement_id = agreement_id

    def id(self, session: Session) -> int:
        return self.agreement_id

    def __str__(self) -> str:
        return str(self.agreement_id)


class _Request(_Fixed):
    """The latest fund request of agreement `agreement_id`: its id is known once entered."""

    def id(self, session: Session) -> int:
        found = session.execute(
            select(func.max(tables.FUNDS_REQUEST.c.id)).where(
                tables.FUNDS_REQUEST.c.agreement_id == self.agreement_id
            )
        ).scalar()
        assert found is not None
        return int(found)

    def __str__(self) -> str:
        return f"request of {self.agreement_id}"


class _Renewal(_Fixed):
    """The agreement that renews `agreement_id`: its id is known once the renewal happened."""

    def id(self, session: Session) -> int:
        renewed = session.get(Agreement, self.agreement_id)
        assert renewed is not None and renewed.renewed_as is not None
        return renewed.renewed_as

    def __str__(self) -> str:
        return f"renewal of {self.agreement_id}"


def _script_high_need(at: Callable[..., None], district: Plan, marked_on: date,
                      liaison: Actor) -> None:  # fmt: skip
    """The district marked high-need, its series started the Monday after next, and each of
    its meetings held with two action items raised, closed on time or late."""
    code = district.code
    start = add_days(marked_on, 14 - marked_on.weekday())
    until = add_days(start, 14 * (HIGH_NEED_MEETINGS - 1))
    at(marked_on, f"high-need {code}",
       lambda s, c: _mark_high_need(s, c, code, start, until, liaison))  # fmt: skip
    owner = f"superintendent@{PLACES[district.index - 1].lower().replace(' ', '')}.example"
    for k in range(HIGH_NEED_MEETINGS):
        day = add_days(start, 14 * k)
        at(day, f"meeting held in {code}",
           lambda s, c, d=day: _hold_and_raise(s, c, code, d, owner, liaison))  # fmt: skip
        at(add_days(day, 6), f"action done {code}",
           lambda s, c, d=day: _close_items(s, c, code, d, liaison.email, liaison))  # fmt: skip
        closed = add_days(day, 9 if k % 2 == 0 else 20)  # due on day + 10
        at(closed, f"action done {code}",
           lambda s, c, d=day: _close_items(s, c, code, d, owner, liaison))  # fmt: skip


def _mark_high_need(session: Session, ctx: Context, code: str, start: date, until: date,
                    liaison: Actor) -> None:  # fmt: skip
    meeting_series.mark_high_need(session, code, ctx.today, "chronic absence above 40%", liaison,
                                  ctx)  # fmt: skip
    meeting_series.start_series(session, code, "high_need", start, liaison, ctx, until)


def _hold_and_raise(session: Session, ctx: Context, code: str, day: date, owner: str,
                    liaison: Actor) -> None:  # fmt: skip
    found = meetings.list_meetings(session, district=code, start=day, end=day)
    meeting = found[0]["id"]
    meetings.hold_meeting(session, meeting, f"{liaison.email}, {STATE_SUPT}, {owner}", liaison,
                          ctx, notes="attendance and the reading plan reviewed")  # fmt: skip
    action_items.add_action(session, meeting, owner, add_days(day, 10),
                            "Send the attendance data by school", liaison, ctx)  # fmt: skip
    action_items.add_action(session, meeting, liaison.email, add_days(day, 7),
                            "Arrange the reading coach's visits", liaison, ctx)  # fmt: skip


def _close_items(session: Session, ctx: Context, code: str, day: date, owner: str,
                 liaison: Actor) -> None:  # fmt: skip
    """Record done the open items `owner` was given at the meeting of `day`."""
    found = meetings.list_meetings(session, district=code, start=day, end=day)
    for item in action_items.list_actions(session, ctx.today, district=code, owner=owner,
                                          only_open=True):  # fmt: skip
        if item["meeting"] == found[0]["id"]:
            action_items.close_action(session, item["id"], "done", liaison, ctx)


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


def _script_amendment(
    at: Callable[..., None], case: _Fixed, day: date, psa: bool, liaison: Actor
) -> None:
    """An amendment: the liaison opens it and lowers the plan's first benchmark's 36-month
    target halfway back to its 18-month one; every party signs it over the next days, and the
    last signature puts it in force (the clocks stay where they were)."""

    def open_and_change(session: Session, ctx: Context) -> object:
        agreement_id = case.id(session)
        first = plan.list_benchmarks(session, agreement_id)[0]
        number = amend.open_amendment(
            session, agreement_id, "36-month target revised after the first year's data",
            liaison, ctx,
        )  # fmt: skip
        lowered = (first["target_18"] + first["target_36"]) / 2
        return amend.edit_draft(session, first["id"], number, {"target_36": f"{lowered:g}"},
                                liaison, ctx)  # fmt: skip

    at(day, f"amend {case}", open_and_change)
    parties = ["board", "superintendent", *(["authorizer"] if psa else []), "mde"]
    for offset, party in enumerate(parties, start=3):
        at(
            add_days(day, offset),
            f"amendment {case} {party}",
            lambda s, c, p=party: amend.sign(s, case.id(s), 1, p, liaison, c),
        )


def _script_benchmarks(
    at: Callable[..., None], case: _Fixed, district: Plan, day: date, liaison: Actor
) -> None:
    """The plan's benchmarks, written to a CSV file and imported by the liaison."""
    rng = random.Random(f"benchmarks {district.stem}")
    rows = []
    for school, _, high in district.schools:
        kinds = (*KINDS, *([GRADUATION] if high else []))
        kinds += (CHRONIC_ABSENCE,) if district.index % 4 == 0 else ()
        for kind, label, (low, high_), gain_18, gain_36, lower in kinds:
            baseline = round(rng.uniform(low, high_), 1)
            sign = -1 if lower else 1
            targets = [round(baseline + sign * gain, 1) for gain in (gain_18, gain_36)]
            rows.append([school, kind, label, baseline, *targets, "lower" if lower else "higher"])
    path = district.csv_dir / f"benchmarks-{district.stem}.csv"
    path.write_text(_csv(plan.BENCHMARK_HEADER, rows), encoding="utf-8")

    def run(session: Session, ctx: Context) -> object:
        text = path.read_text(encoding="utf-8")
        return plan.import_benchmarks(session, case.id(session), text, liaison, ctx)

    at(day, f"benchmarks {case}", run)


def _script_measurements(
    at: Callable[..., None], case: _Fixed, district: Plan, kind: str, day: date, liaison: Actor
) -> None:
    """The measurements a review looks at, as of the day it opened: written to a CSV file (the
    benchmarks' ids are known once imported) and imported by the liaison."""
    path = district.csv_dir / f"measurements-{district.stem}-{kind}.csv"
    measured_on = add_days(day, -7)

    def run(session: Session, ctx: Context) -> object:
        agreement_id = case.id(session)
        rng = random.Random(f"measurements {district.stem} {kind}")
        rows = []
        for benchmark in plan.list_benchmarks(session, agreement_id):
            wanted = district.paths[benchmark["school"]][REVIEWS.index(kind)]
            baseline = benchmark["baseline"]
            target = benchmark["target_36" if kind == "review_36" else "target_18"]
            value = baseline + (target - baseline) * rng.uniform(*REACH[wanted])
            rows.append([benchmark["id"], round(value, 2), measured_on.isoformat(),
                         f"{EVIDENCE[benchmark['kind']]}, {measured_on:%B %Y}"])  # fmt: skip
        path.write_text(_csv(plan.MEASUREMENT_HEADER, rows), encoding="utf-8")
        text = path.read_text(encoding="utf-8")
        return plan.import_measurements(session, agreement_id, text, liaison, ctx)

    at(day, f"measurements {case}", run)


def _csv(header: tuple[str, ...], rows: Sequence[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


# Each review's steps, days after it opens (evidence due at 30, conference at 60,
# determination at 90), for the full reviews and the 24-month one.
FULL_REVIEW = (("evidence", 21), ("self_assessment", 28), ("partner_assessment", 35),
               ("mde_assessment", 42), ("conference", 50))  # fmt: skip
SHORT_REVIEW = (("evidence", 21), ("conference", 45))
DETERMINED_AFTER = 56
OUTCOME_AFTER = 70


def _script_reviews(
    at: Callable[..., None],
    case: _Fixed,
    signed_on: date,
    district: Plan,
    by: Mapping[str, Actor],
    liaison: Actor,
) -> date:
    """The RGA (opened by the service at 18 months), a 24-month review when a school was off
    track at the RGA (opened by the service at 24 months), the 36-month review, and its outcome
    (whose day it returns)."""
    _script_review(at, case, district, "rga", add_months(signed_on, 18), by, liaison)
    if district.off_track_at("rga"):
        _script_review(at, case, district, "review_24", add_months(signed_on, 24), by, liaison)
    review_36 = add_months(signed_on, 36)
    _script_review(at, case, district, "review_36", review_36, by, liaison)
    outcome = add_days(review_36, OUTCOME_AFTER)
    _script_outcome(at, case, district, outcome, by)
    return outcome


def _script_review(
    at: Callable[..., None],
    case: _Fixed,
    district: Plan,
    kind: str,
    opened_on: date,
    by: Mapping[str, Actor],
    liaison: Actor,
) -> None:
    _script_measurements(at, case, district, kind, add_days(opened_on, 7), liaison)
    late = 12 if kind == "rga" and district.index % 5 == 2 else 0  # reminded, then overdue
    for step, after in SHORT_REVIEW if kind == "review_24" else FULL_REVIEW:
        _script_step(at, case, step, add_days(opened_on, after + late), liaison)
    overrides: dict[str, str] = {}
    reasons: dict[str, str] = {}
    if kind == "rga" and district.index == OVERRIDDEN and not district.renewal:
        school = next(s for s, path in district.paths.items() if path[0] == "off_track_limited")
        overrides[school] = "off_track_progress"
        reasons[school] = (
            "the spring screening, later than the state data, shows most pupils moving toward "
            "grade level"
        )

    def run(session: Session, ctx: Context) -> object:
        return reviews.determine(session, case.id(session), by["director"], ctx,
                                 overrides=overrides, reasons=reasons)  # fmt: skip

    at(add_days(opened_on, DETERMINED_AFTER + late), f"determine_{kind} {case}", run)


def _script_step(
    at: Callable[..., None], case: _Fixed, step: str, day: date, liaison: Actor
) -> None:
    def run(session: Session, ctx: Context) -> object:
        evidence = "evidence binder on the shared drive" if step == "evidence" else None
        return reviews.record_step(session, case.id(session), step, liaison, ctx,
                                   evidence=evidence)  # fmt: skip

    at(day, f"step {case} {step}", run)


def _script_outcome(
    at: Callable[..., None], case: _Fixed, district: Plan, day: date, by: Mapping[str, Actor]
) -> None:
    """Renewed, escalated, or exited (with the director's note when a school is off track)."""
    if district.index in RENEWED and not district.renewal:
        why = "a new three-year plan for the schools still short of their 36-month targets"
        at(day, f"renew {case}",
           lambda s, c: _fire(s, c, case, "renew", by["director"], note=why))  # fmt: skip
    elif district.index in ESCALATED_AT_36 and not district.renewal:
        note = ("schools still Off-Track with Limited Progress at 36 months: the ISD intervenes, "
                "with increased supports from the department")  # fmt: skip
        at(
            day,
            f"escalate {case}",
            lambda s, c: _fire(s, c, case, "escalate", by["ss"],
                               {"option": "isd_intervention,increased_supports"}, note=note),
        )  # fmt: skip
    else:
        reason = (
            "one school is still Off-Track with Progress; the district continues its plan "
            "with its ISD, as agreed at the structured conference"
            if district.off_track_at("review_36")
            else None
        )
        at(day, f"exit {case}",
           lambda s, c: _fire(s, c, case, "exit", by["director"], note=reason))  # fmt: skip


def _fire(
    session: Session,
    ctx: Context,
    case: _Fixed,
    event: str,
    actor: Actor,
    data: dict[str, str] | None = None,
    note: str | None = None,
) -> object:
    request = Request(event, actor, case=case.id(session), on=ctx.today, data=data or {}, note=note)
    return apply(session, request, ctx)


def _actor(email: str, role: str) -> Actor:
    return Actor(email, role)


LABELS = {
    "identify": "identified",
    "start_assessment": "liaisons named",
    "assign_liaison": "liaisons reassigned",
    "superintendent": "superintendents replaced",
    "benchmarks": "benchmark files imported",
    "sign": "signatures",
    "measurements": "measurement files imported",
    "step": "review steps",
    "determine_rga": "RGA determinations",
    "determine_review_24": "24-month determinations",
    "determine_review_36": "36-month determinations",
    "exit": "exits",
    "renew": "renewals",
    "escalate": "ESCALATED",
    "correct": "dates corrected",
    "registered": "districts and people registered",
    "amend": "amendments opened and changed",
    "amendment": "amendment signatures",
    "funds": "fund request steps",
    "high-need": "districts marked high-need",
    "meeting": "meetings held",
    "action": "action items done",
}


def _simulate(
    app: App, steps: list[Step], end: date, echo: Echo, progress: Progress = no_progress
) -> None:
    """Day by day: the timers due before noon run (the sweep, at each one's moment), then the
    day's steps, each in its own transaction; `progress` counts the steps done."""
    log: dict[str, Counter[str]] = defaultdict(Counter)
    delivered = ""  # the mail is delivered twice a simulated year, and at the end
    done, total = 0, len(steps) + 1
    for day, todays in groupby([*steps, Step(end, 10**9, "end", lambda s, c: None)],
                               key=lambda step: step.day):  # fmt: skip
        moment = local_instant(day, NOON, app.settings.tz)
        _tick_until(app, moment, log)
        for step in todays:
            with app.write() as session:
                step.run(session, app.context(moment))
            if step.label != "end":
                log[f"{step.day:%Y-%m}"][LABELS[step.label.split()[0]]] += 1
            done += 1
            progress(done, total)
        half = f"{day.year}-{(day.month - 1) // 6}"
        if half != delivered:
            _deliver(app, moment)
            delivered = half
    tick(app, moment)  # what is left, through the service's own pass (its heartbeat too)
    for month in sorted(log):
        echo(f"  {month}  " + ", ".join(f"{what} {n}" for what, n in log[month].items()))


def _deliver(app: App, moment: datetime) -> None:
    """Deliver the mail queued so far to the mail folder, as the service would at `moment`."""

    async def deliver() -> None:
        transport = FileTransport(app.settings.mail_dir, fsync=False)
        async with transport:
            await deliver_all_due(app.engine, transport, moment, app.settings.mail_from)

    asyncio.run(deliver())


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
        report = sweep(app.engine, app.context(due))
        month = f"{due.astimezone(app.settings.tz):%Y-%m}"
        if report.emails:
            log[month]["reminders and notices queued"] += report.emails
        for action in report.actions:
            log[month][f"pal, automatically: {action.split(': ', 1)[1].split(';')[0]}"] += 1
        for blocked in report.blocked:
            log[month][f"not possible: {blocked.split(': ', 1)[1].split(', while')[0]}"] += 1


def _summary(app: App, echo: Echo, csv_dir: Path) -> None:
    with app.read() as session:
        states = Counter(session.exec(select(Agreement.state)).all())
        mail = Counter(session.exec(select(Outbox.status)).all())
        _statuses(session, echo)
    echo("agreements by stage: " + "; ".join(
        f"{STATE_LABELS[s]} {n}" for s, n in sorted(states.items())))  # fmt: skip
    echo("outbox: " + ", ".join(f"{s} {n}" for s, n in sorted(mail.items())))
    if mail.get("unaddressed"):
        echo("  unaddressed: notices owed to a role with nobody on file (see `pal outbox list`)")
    _funds_summary(app, echo)
    files = len(list(csv_dir.glob("*.csv")))
    echo(f"benchmarks and measurements imported from {files} CSV files in {csv_dir}/")
    echo(
        f"mail written to {app.settings.mail_dir}/ ; try `pal agreement show 12`, "
        f"`pal agreement show {AMENDED} --amendment 1`, "
        "`pal review show 2`, `pal funds list`, `pal outbox list --status unaddressed`, "
        "`pal status`, "
        f"`pal meeting list --district 8{HIGH_NEED_DISTRICT:04d}`, "
        f"`pal action list --district 8{HIGH_NEED_DISTRICT:04d}`"
    )


def _statuses(session: Session, echo: Echo) -> None:
    """Each school's status as agreed at each review of each agreement, in the program's words."""
    names = dict(session.exec(select(School.code, School.name)).all())
    districts = dict(session.exec(select(District.code, District.name)).all())
    found = session.execute(
        select(Review.agreement_id, Review.kind, Determination.school_code,  # type: ignore[call-overload]
               Determination.computed, Determination.agreed)
        .join(Determination, col(Determination.review_id) == Review.id)
        .order_by(col(Review.id), col(Determination.id))
    ).all()  # fmt: skip
    by_agreement: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for agreement_id, kind, school, computed, agreed in found:
        mark = "*" if agreed != computed else ""
        by_agreement[agreement_id][school].append(
            f"{REVIEW_NAMES[kind]} {STATUS_LABELS[agreed]}{mark}"
        )
    echo("each school's status at the 18-month (RGA), 24-month and 36-month reviews"
         " (* agreed at the conference, with a written reason):")  # fmt: skip
    width = max(len(name) for name in names.values())
    for agreement in session.exec(select(Agreement).order_by(col(Agreement.id))):
        assert agreement.id is not None
        schools = by_agreement.get(agreement.id)
        state = STATE_LABELS[agreement.state]
        renews = f" (renews {agreement.renewed_from})" if agreement.renewed_from else ""
        echo(f"  agreement {agreement.id}{renews}, {districts[agreement.district_code]}: {state}"
             + ("" if schools else " (no review determined)"))  # fmt: skip
        for school, statuses in (schools or {}).items():
            echo(f"    {names[school]:<{width}}  " + " | ".join(statuses))
