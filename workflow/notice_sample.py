"""Sample notices: a small fictional agreement walked through its life by the real engine, in a
throwaway database, until the notice asked for is in its outbox.

What `pal notice preview NOTICE` shows without `--agreement` is therefore what pal would send:
the same events, the same sweep, the same outbox rows and bodies, only the people and the
district are invented. Nothing touches the configured database.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from config.rules import load_rules
from config.settings import Settings
from states.calendar import add_days, add_months, local_instant
from states.context import Context
from states.funds import FUNDS
from states.meeting import MEETING
from states.rules import RuleSet
from storage import tables
from workflow import amend, funds, meetings, plan, registry, reviews
from workflow.actors import Actor
from workflow.app import App, open_app
from workflow.engine import Request, apply
from workflow.funds_store import benchmarks_of
from workflow.logs import quieted

CODE = "99001"
DISTRICT = "Riverbend Academy"
SCHOOLS = (("99001-1", "Riverbend Elementary", False), ("99001-2", "Riverbend High", True))
DIRECTOR = Actor("dana.director@mde.example", "director")
STATE_SUPERINTENDENT = Actor("sam.superintendent@mde.example", "state_superintendent")
LIAISON = Actor("kim.liaison@mde.example", "liaison")
NEW_LIAISON = Actor("lee.liaison@mde.example", "liaison")
CLERK = Actor("sample@pal.local", "clerk")
PEOPLE = (
    (DIRECTOR.email, "Dana Director", "director", None),
    (STATE_SUPERINTENDENT.email, "Sam Superintendent", "state_superintendent", None),
    (LIAISON.email, "Kim Liaison", "liaison", None),
    (NEW_LIAISON.email, "Lee Liaison", "liaison", None),
    ("superintendent@riverbend.example", "Renée Superintendent", "superintendent", CODE),
    ("board_president@riverbend.example", "Bo President", "board_president", CODE),
    ("authorizer@riverbend.example", "Ava Authorizer", "authorizer", CODE),
    ("isd_superintendent@riverbend.example", "Ira ISD Superintendent", "isd_superintendent", CODE),
    ("partner@riverbend.example", "Pat Partner", "partner", CODE),
)
# Identified on a Monday; the plan is signed late, so its overdue notices are sent too.
IDENTIFIED_ON = date(2025, 3, 3)
NOON = time(12, 0)

Step = Callable[[Session, Context], object]


@contextmanager
def sample_outbox(settings: Settings, notice: str) -> Iterator[tuple[App, list[int]]]:
    """An app on a throwaway database in which the sample agreement has been walked until
    `notice` was queued, with the ids of that notice's outbox rows (empty if the walk never
    owes it under these rules)."""
    with tempfile.TemporaryDirectory(prefix="pal-sample-") as folder:
        url = f"sqlite:///{Path(folder) / 'sample.db'}"
        sample = settings.model_copy(update={"database_url": url, "mail_dir": Path(folder)})
        with open_app(sample, check=False) as app, quieted():
            from storage.migrate import upgrade

            upgrade(app.engine)
            yield app, _walk(app, notice)



def _walk(app: App, notice: str) -> list[int]:
    rules = load_rules(app.settings.rules_version)
    if notice in _funds_only(rules):
        script = _funds_script()
    elif notice in _meetings_only(rules):
        script = _meetings_script()
    else:
        script = _script(_outcome(notice))
    for day, step in script:
        _sweep_until(app, local_instant(day, NOON, app.settings.tz))
        found = _rows(app, notice)
        if found:
            return found
        with app.write() as session:
            step(session, app.context(local_instant(day, NOON, app.settings.tz)))
        found = _rows(app, notice)
        if found:
            return found
    return []


def _rows(app: App, notice: str) -> list[int]:
    with app.read() as session:
        # The first occurrence of the notice the walk sent.
        occurrence = session.execute(
            select(tables.OUTBOX.c.occurrence)
            .where(tables.OUTBOX.c.notice == notice)
            .order_by(tables.OUTBOX.c.id)
            .limit(1)
        ).scalar()
        if occurrence is None:
            return []
        ids = session.execute(
            select(tables.OUTBOX.c.id)
            .where(
                tables.OUTBOX.c.notice == notice,
                tables.OUTBOX.c.occurrence == occurrence,
                tables.OUTBOX.c.status != "unaddressed",
            )
            .order_by(tables.OUTBOX.c.id)
        ).scalars()
        return list(ids)


def _sweep_until(app: App, moment: datetime) -> None:
    """Run the sweep at each pending timer's moment up to `moment`, as the service would."""
    from workflow.sweep import sweep

    while True:
        with app.read() as session:
            due = session.execute(
                select(func.min(tables.TIMER.c.fire_at)).where(
                    tables.TIMER.c.status == "pending", tables.TIMER.c.fire_at <= moment
                )
            ).scalar()
        if due is None:
            return
        sweep(app.engine, app.context(_aware(due)))


def _aware(moment: datetime) -> datetime:
    # SQLite hands a stored UTC moment back without its zone.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _fire(event: str, actor: Actor, data: dict[str, str] | None = None,
          note: str | None = None) -> Step:  # fmt: skip
    def run(session: Session, ctx: Context) -> object:
        # The sample database holds one agreement: id 1.
        request = Request(event, actor, case=1, on=ctx.today, data=data or {}, note=note)
        return apply(session, request, ctx)

    return run


def _register(session: Session, ctx: Context) -> object:
    registry.add_district(
        session,
        registry.DistrictInput(code=CODE, name=DISTRICT, isd="Riverbend ISD", psa=True,
                               authorizer="Central Michigan University"),
        CLERK,
        ctx,
    )  # fmt: skip
    for school, name, high in SCHOOLS:
        registry.add_school(session, code=school, name=name, district_code=CODE, csi=True,
                            alternative=False, actor=CLERK, ctx=ctx, high_school=high)  # fmt: skip
    for email, name, role, district in PEOPLE:
        registry.add_contact(session, email=email, name=name, role=role, district_code=district,
                             actor=CLERK, ctx=ctx)  # fmt: skip
    return None


def _identify(session: Session, ctx: Context) -> object:
    schools = ",".join(code for code, _, _ in SCHOOLS)
    request = Request("identify", DIRECTOR, parent=CODE, on=ctx.today, data={"schools": schools})
    return apply(session, request, ctx)


def _signatures(*parties: str) -> Step:
    def run(session: Session, ctx: Context) -> object:
        for party in parties:
            _fire("record_signature", NEW_LIAISON, {"party": party})(session, ctx)
        return None

    return run


def _amendment(session: Session, ctx: Context) -> object:
    return amend.open_amendment(
        session, 1, "the attendance target revised after the first year's data", NEW_LIAISON, ctx
    )


def _amendment_signed(session: Session, ctx: Context) -> object:
    for party in ("board", "superintendent", "authorizer", "mde"):
        amend.sign(session, 1, 1, party, NEW_LIAISON, ctx)
    return None


def _review_steps(*steps: str) -> Step:
    def run(session: Session, ctx: Context) -> object:
        for step in steps:
            reviews.record_step(session, 1, step, NEW_LIAISON, ctx)
        return None

    return run


def _determine(session: Session, ctx: Context) -> object:
    return reviews.determine(session, 1, DIRECTOR, ctx)


ALL_STEPS = ("evidence", "self_assessment", "partner_assessment", "mde_assessment", "conference")


def _script(outcome: Step) -> list[tuple[date, Step]]:
    """The sample agreement's life, day by day, ending with `outcome`: every notice the shipped
    rules owe is sent at least once along it."""
    signed_on = add_days(IDENTIFIED_ON, 121)  # a month after the plan was due
    rga = add_months(signed_on, 18)
    review_24 = add_months(signed_on, 24)
    review_36 = add_months(signed_on, 36)
    return [
        (add_days(IDENTIFIED_ON, -7), _register),
        (IDENTIFIED_ON, _identify),
        (
            add_days(IDENTIFIED_ON, 2),
            _fire("start_assessment", LIAISON, {"liaison": LIAISON.email}),
        ),
        (
            add_days(IDENTIFIED_ON, 14),
            _fire("assign_liaison", DIRECTOR, {"liaison": NEW_LIAISON.email}),
        ),
        (add_days(signed_on, -7), _signatures("board", "superintendent", "authorizer")),
        (signed_on, _signatures("mde")),
        (
            add_days(signed_on, 1),
            _fire(
                "correct_date",
                DIRECTOR,
                {"on": add_days(signed_on, -1).isoformat()},
                note="the MDE signature was recorded a day after it was given",
            ),
        ),
        (add_months(signed_on, 6), _amendment),
        (add_days(add_months(signed_on, 6), 7), _amendment_signed),
        # The RGA opens on its due date by itself; its steps are recorded late, and it is
        # determined after the 24-month review fell due, which then waits for it.
        (add_days(rga, 45), _review_steps(*ALL_STEPS)),
        (add_days(review_24, 3), _determine),
        (add_days(review_24, 40), _review_steps("evidence", "conference")),
        (add_days(review_24, 70), _determine),
        (add_days(review_36, 20), _review_steps(*ALL_STEPS)),
        (add_days(review_36, 60), _determine),
        (add_days(review_36, 75), outcome),
    ]


def _funds_only(rules: RuleSet) -> set[str]:
    """The notices only a fund request is sent (the walk for them is `_funds_script`)."""
    return _notices(rules.of(FUNDS.name)) - _notices(rules)


def _meetings_only(rules: RuleSet) -> set[str]:
    """The notices only a meeting is sent (the walk for them is `_meetings_script`)."""
    return _notices(rules.of(MEETING.name)) - _notices(rules) - _notices(rules.of(FUNDS.name))


def _meetings_script() -> list[tuple[date, Step]]:
    """The sample district meets: its high-need meeting reminded, another one cancelled."""
    return [
        (add_days(IDENTIFIED_ON, -7), _register),
        (IDENTIFIED_ON, _identify),
        (add_days(IDENTIFIED_ON, 2),
         _fire("start_assessment", LIAISON, {"liaison": LIAISON.email})),
        (add_days(IDENTIFIED_ON, 10), _meeting(21, place="Riverbend board room",
                                               agenda="Attendance; the reading plan")),
        (add_days(IDENTIFIED_ON, 22), _meeting(42)),
        (add_days(IDENTIFIED_ON, 23), lambda session, ctx: meetings.cancel_meeting(
            session, 2, "the superintendent is at the state conference", LIAISON, ctx)),
    ]  # fmt: skip


def _meeting(days: int, place: str | None = None, agenda: str | None = None) -> Step:
    """A high-need meeting of the sample district `days` after its identification, at 10:00."""
    def run(session: Session, ctx: Context) -> object:
        starts = datetime.combine(add_days(IDENTIFIED_ON, days), time(10), tzinfo=ctx.tz)
        return meetings.schedule_meeting(session, CODE, starts, LIAISON, ctx, kind="high_need",
                                         place=place, agenda=agenda)  # fmt: skip

    return run


def _notices(rules: RuleSet) -> set[str]:
    return {*(s.notice for s in rules.timers if s.notice),
            *(s.otherwise_notice for s in rules.timers if s.otherwise_notice),
            *(n.notice for n in rules.transition_notices)}  # fmt: skip


# The sample agreement's fund requests for fiscal year 2025-26: one returned with comments,
# decided late and funded (its report reminded), one denied.
FUNDS_YEAR = "2025-26"
FUNDED_ON = date(2026, 1, 15)


def _funds_script() -> list[tuple[date, Step]]:
    """The sample agreement, signed, asks for funds: every notice of a fund request is sent."""
    signed_on = add_days(IDENTIFIED_ON, 121)
    return [
        (add_days(IDENTIFIED_ON, -7), _register),
        (IDENTIFIED_ON, _identify),
        (add_days(IDENTIFIED_ON, 2),
         _fire("start_assessment", LIAISON, {"liaison": LIAISON.email})),
        (add_days(IDENTIFIED_ON, 14), _benchmark),
        (signed_on, _signatures("board", "superintendent", "authorizer", "mde")),
        (date(2025, 10, 6), _request(("pd_teachers", "100000.00"), ("teacher_mentors", "25000"))),
        (date(2025, 10, 7), _funds(1, "review", LIAISON)),
        (date(2025, 10, 30), _funds(1, "return", DIRECTOR,
                                    note="tie the mentors to the on-track benchmark")),
        (date(2025, 11, 3), _request(("innovative_initiative", "400000.00"))),
        (date(2025, 11, 4), _funds(2, "review", LIAISON)),
        (date(2025, 11, 10), _funds(1, "submit", LIAISON)),
        (date(2025, 11, 11), _funds(1, "review", LIAISON)),
        (date(2025, 11, 24), _funds(2, "deny", DIRECTOR,
                                    note="the initiative names no measurable effect this year")),
        (date(2025, 12, 15), _funds(1, "approve", DIRECTOR)),
        (FUNDED_ON, _funds(1, "fund", DIRECTOR)),
        (date(2026, 12, 31), _funds(1, "report", LIAISON, effectiveness="scores rose 9 points")),
    ]  # fmt: skip


def _benchmark(session: Session, ctx: Context) -> object:
    fields = {"school": SCHOOLS[0][0], "kind": "on_track", "baseline": "40", "target_18": "50",
              "target_36": "60"}  # fmt: skip
    return plan.add_benchmark(session, 1, fields, LIAISON, ctx, on=ctx.today)


def _request(*activities: tuple[str, str]) -> Step:
    def run(session: Session, ctx: Context) -> object:
        request = funds.new_request(
            session, 1, LIAISON, ctx, year=FUNDS_YEAR, rationale="early literacy lags",
            serves=",".join(map(str, benchmarks_of(session, 1))), priorities="literacy",
        )  # fmt: skip
        for category, amount in activities:
            funds.add_activity(session, request, LIAISON, ctx, category=category, amount=amount,
                               metrics="share of teachers observed using the practice")  # fmt: skip
        return funds.step(session, "submit", request, LIAISON, ctx, on=ctx.today)

    return run


def _funds(request: int, command: str, actor: Actor, note: str | None = None,
           **data: str) -> Step:  # fmt: skip
    def run(session: Session, ctx: Context) -> object:
        # The sample database's requests: 1 and 2, in the order entered.
        return funds.step(session, command, request, actor, ctx, on=ctx.today, note=note,
                          data=data)  # fmt: skip

    return run


# How the walk ends, for each notice an outcome sends (any other notice: an exit).
_OUTCOMES: dict[str, tuple[str, Actor, dict[str, str], str]] = {
    "renewed": ("renew", DIRECTOR, {},
                "a new three-year plan for the school still short of its targets"),
    "escalated": ("escalate", STATE_SUPERINTENDENT, {"option": "isd_intervention"},
                  "both schools Off-Track with Limited Progress at 36 months"),
    "exited": ("exit", DIRECTOR, {}, "the district continues its plan with its ISD"),
}  # fmt: skip


def _outcome(notice: str) -> Step:
    event, actor, data, note = _OUTCOMES.get(notice, _OUTCOMES["exited"])
    return _fire(event, actor, data, note)
