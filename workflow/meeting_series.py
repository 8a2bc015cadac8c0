"""Meeting series and high-need districts (issue 16).

A series meets at a cadence of its kind (config/meetings.toml: high-need districts every 14
days, District Implementation Teams monthly) from its start date, at the same local hour
(`start_time`) whatever the change of daylight time. Its meetings are scheduled ahead of time
(`schedule_ahead_days`) when it starts and by each sweep after, as the `system` actor, each
inviting whoever holds the kind's roles on the day its notices are made. A series ends on its
`--until` date, when its district stops being high-need (a high-need series), or when the
district's agreement ends; its meetings still to come are then cancelled.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session

from config.meetings import meeting_rules
from states.context import Context
from states.errors import BadInput, NotAllowedInState, PermissionDenied
from states.rules import MDE_ROLES
from storage.meeting_tables import HIGH_NEED, MEETING, MEETING_SERIES
from workflow import audit
from workflow.actors import SYSTEM_ACTOR, Actor
from workflow.case_tables import running_agreement
from workflow.meetings import cancel_meeting, schedule_meeting
from workflow.text import TEXT_MAX, check_text

HIGH_NEED_KIND = "high_need"


def _check_staff(actor: Actor) -> None:
    if not set(actor.roles) & set(MDE_ROLES):
        raise PermissionDenied(f"{actor.email} is not on the department's staff")


def is_high_need(session: Session, district: str, day: date) -> bool:
    """Whether `district` is marked high-need on `day` (its latest mark on or before it)."""
    found = session.execute(
        select(HIGH_NEED.c.high_need)
        .where(HIGH_NEED.c.district_code == district, HIGH_NEED.c.effective_on <= day)
        .order_by(HIGH_NEED.c.effective_on.desc(), HIGH_NEED.c.id.desc())
        .limit(1)
    ).scalar()
    return bool(found)


def mark_high_need(
    session: Session, district: str, on: date, reason: str, actor: Actor, ctx: Context,
    *, high_need: bool = True,
) -> None:  # fmt: skip
    """Mark `district` high-need from `on` (or no longer, `high_need` False: its high-need
    series end that day), audited."""
    _check_staff(actor)
    agreement = running_agreement(session, district)
    why = check_text(reason, "--reason", limit=TEXT_MAX)
    if not why:
        raise BadInput("--reason needs the reason")
    if is_high_need(session, district, on) == high_need:
        raise NotAllowedInState(f"district {district} is {'already' if high_need else 'not'} "
                                f"high-need on {on}")  # fmt: skip
    session.execute(insert(HIGH_NEED).values(
        district_code=district, high_need=high_need, effective_on=on, reason=why,
        recorded_by=actor.email, recorded_at=ctx.now))  # fmt: skip
    audit.record(session, subject=f"district:{district}", agreement_id=agreement,
                 event="high_need" if high_need else "high_need_ended", actor=actor, on=on,
                 ctx=ctx, note=why, data={"district": district})  # fmt: skip
    if not high_need:
        for series in _active(session, district=district, kind=HIGH_NEED_KIND):
            _end(session, series, on, "the district is no longer high-need", ctx)


def start_series(
    session: Session, district: str, kind: str, start: date, actor: Actor, ctx: Context,
    until: date | None = None,
) -> int:  # fmt: skip
    """Start a series of `kind` meetings of `district` on `start`; returns its id. Its first
    meetings are scheduled at once."""
    _check_staff(actor)
    rules = meeting_rules()
    rules.cadence(kind)
    agreement = running_agreement(session, district)
    if start < ctx.today:
        raise BadInput(f"the series cannot start in the past ({start}; today is {ctx.today})")
    if until is not None and until < start:
        raise BadInput(f"--until {until} is before --start {start}")
    if kind == HIGH_NEED_KIND and not is_high_need(session, district, start):
        raise NotAllowedInState(f"district {district} is not high-need on {start}: mark it "
                                "first (pal district high-need)")  # fmt: skip
    if _active(session, district=district, kind=kind):
        raise NotAllowedInState(f"district {district} already has a series of these meetings")
    found = session.execute(insert(MEETING_SERIES).values(
        district_code=district, kind=kind, start_on=start, until_on=until,
        at_time=rules.start_time, ended_on=None, created_by=actor.email, recorded_at=ctx.now,
    ).returning(MEETING_SERIES.c.id)).scalar_one()  # fmt: skip
    audit.record(session, subject=f"meeting_series:{found}", agreement_id=agreement,
                 event="series_started", actor=actor, on=ctx.today, ctx=ctx,
                 data={"district": district, "kind": kind, "start": start.isoformat(),
                       "until": until.isoformat() if until else None})  # fmt: skip
    # Only its own meetings: no other transaction sees this series until it commits, and the
    # others' are the sweep's (which takes their row locks: schedule_ahead).
    new = session.execute(select(MEETING_SERIES).where(MEETING_SERIES.c.id == found)).one()
    _schedule(session, new, ctx)
    return int(found)


def schedule_ahead(session: Session, ctx: Context) -> list[int]:
    """Schedule every meeting of a running series due within `schedule_ahead_days`, as
    `system`; end the series whose time is over. Returns the meetings scheduled.

    Several `pal serve` may sweep at once (PostgreSQL): each locks the running series' rows
    (in id order) before reading their meetings, so a second sweep waits for the first to
    commit and then finds its meetings scheduled (READ COMMITTED reads them afresh), or the
    series ended. A meeting is never scheduled, nor its people invited, twice; the unique
    (series, day) of migration 0018 guards it too. SQLite has one writer at a time already.
    """
    scheduled: list[int] = []
    for series in _active(session, lock=True):
        why = _why_ended(session, series, ctx.today)
        if why is not None:
            _end(session, series, ctx.today, why, ctx)
            continue
        scheduled += _schedule(session, series, ctx)
    return scheduled


def _schedule(session: Session, series: Any, ctx: Context) -> list[int]:
    return [schedule_meeting(session, series.district_code, moment, SYSTEM_ACTOR, ctx,
                             kind=series.kind, series=series.id)
            for moment in _owed(session, series, ctx)]  # fmt: skip


def _owed(session: Session, series: Any, ctx: Context) -> list[datetime]:
    """The moments of the series' meetings from today up to the horizon not yet scheduled."""
    rules = meeting_rules()
    cadence = rules.cadence(series.kind)
    horizon = date.fromordinal(ctx.today.toordinal() + rules.schedule_ahead_days)
    last = min(horizon, series.until_on) if series.until_on else horizon
    have = set(session.execute(
        select(MEETING.c.due_on).where(MEETING.c.series_id == series.id)).scalars())  # fmt: skip
    hour = time.fromisoformat(series.at_time)
    owed = []
    count = 0
    while (day := cadence.after(series.start_on, count)) <= last:
        moment = datetime.combine(day, hour, tzinfo=ctx.tz)
        if day not in have and moment > ctx.now:
            owed.append(moment)
        count += 1
    return owed


def _why_ended(session: Session, series: Any, today: date) -> str | None:
    if series.until_on is not None and today > series.until_on:
        return "the series has reached its end date"
    try:
        running_agreement(session, series.district_code)
    except NotAllowedInState:
        return "the district's partnership agreement has ended"
    if series.kind == HIGH_NEED_KIND and not is_high_need(session, series.district_code, today):
        return "the district is no longer high-need"
    return None


def _active(
    session: Session, *, district: str | None = None, kind: str | None = None, lock: bool = False
) -> list[Any]:
    query = select(MEETING_SERIES).where(MEETING_SERIES.c.ended_on.is_(None))
    if lock:
        query = query.with_for_update(of=MEETING_SERIES)
    if district is not None:
        query = query.where(MEETING_SERIES.c.district_code == district)
    if kind is not None:
        query = query.where(MEETING_SERIES.c.kind == kind)
    return list(session.execute(query.order_by(MEETING_SERIES.c.id)).all())


def _end(session: Session, series: Any, on: date, why: str, ctx: Context) -> None:
    """End `series` on `on` for `why`: its meetings scheduled after that are cancelled."""
    session.execute(update(MEETING_SERIES).where(MEETING_SERIES.c.id == series.id)
                    .values(ended_on=on))  # fmt: skip
    audit.record(session, subject=f"meeting_series:{series.id}", agreement_id=None,
                 event="series_ended", actor=SYSTEM_ACTOR, on=on, ctx=ctx, note=why,
                 data={"district": series.district_code, "kind": series.kind})  # fmt: skip
    later = session.execute(select(MEETING.c.id).where(
        MEETING.c.series_id == series.id, MEETING.c.state == "scheduled",
        MEETING.c.due_on >= on)).scalars()  # fmt: skip
    for meeting in list(later):
        cancel_meeting(session, meeting, why, SYSTEM_ACTOR, ctx)
