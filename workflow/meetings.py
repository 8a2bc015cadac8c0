"""Meetings: scheduled for a district (its running agreement), held or cancelled, listed.

Each step is an event of the `meeting` process applied by the engine (states.meeting): its audit
row, its invitation or cancellation, and the reminder two days before commit with it. A time is
given on the local clock of the configured zone and kept as a UTC instant, with the local time
as given for the words of its notices.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from states.context import Context
from states.errors import BadInput
from states.meeting import KIND_LABELS, MEETING
from storage.meeting_tables import MEETING as MEETINGS
from workflow.actors import Actor, normalize_email
from workflow.engine import Request, apply
from workflow.text import TEXT_MAX, check_text

_AT = "%Y-%m-%d %H:%M"


def local_start(raw: str, zone: ZoneInfo) -> datetime:
    """`YYYY-MM-DD HH:MM` on the local clock of `zone`, as an aware instant; a time the clock
    skips (the hour daylight time starts) is refused. A time the clock shows twice (the hour
    daylight time ends) is the first of the two, still on daylight time (fold 0): the same
    instant whoever gives it and whenever."""
    try:
        # On `zone`'s clock: the naive value is only compared with itself read back.
        naive = datetime.strptime(raw.strip(), _AT)  # noqa: DTZ007
    except ValueError:
        raise BadInput(f"--at must be a local date and time (YYYY-MM-DD HH:MM), not {raw!r}") \
            from None
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise BadInput(f"{raw} does not exist on the clock in {zone.key} (the clock skips it)")
    return aware


def schedule_meeting(
    session: Session,
    district: str,
    at: datetime,
    actor: Actor,
    ctx: Context,
    *,
    kind: str = "other",
    place: str | None = None,
    agenda: str | None = None,
    series: int | None = None,
) -> int:
    """Schedule a meeting of `district` at `at` (aware, in the future); returns its id."""
    if at <= ctx.now:
        raise BadInput(f"the meeting's time {at:%Y-%m-%d %H:%M} has passed")
    local = at.astimezone(ctx.tz)
    data = {
        "starts_at": at.astimezone(UTC).isoformat(),
        "meets_on": local.date().isoformat(),
        "at_local": local.strftime(_AT),
        "zone": ctx.tz.key,
        "kind": kind,
        **({"place": place} if place else {}),
        **({"agenda": agenda} if agenda else {}),
    }
    parent = district if series is None else f"{district}/{series}"
    request = Request(MEETING.commands["schedule"], actor, parent=parent, process=MEETING.name,
                      data=data)  # fmt: skip
    return int(apply(session, request, ctx).id)


def hold_meeting(
    session: Session, meeting: int, attendees: str, actor: Actor, ctx: Context,
    notes: str | None = None,
) -> None:  # fmt: skip
    """Record `meeting` held, with who attended (emails, comma-separated) and notes."""
    emails = [normalize_email(e) for e in attendees.split(",") if e.strip()]
    if not emails:
        raise BadInput("--attendees needs the email of at least one person who attended")
    data = {"attendees": ",".join(dict.fromkeys(emails)), **({"notes": notes} if notes else {})}
    request = Request(MEETING.commands["held"], actor, case=meeting, process=MEETING.name,
                      data=data)  # fmt: skip
    apply(session, request, ctx)


def cancel_meeting(session: Session, meeting: int, reason: str, actor: Actor, ctx: Context) -> None:
    """Cancel `meeting` for `reason`: the people invited get the cancellation."""
    check_text(reason, "--reason", limit=TEXT_MAX)
    request = Request(MEETING.commands["cancel"], actor, case=meeting, process=MEETING.name,
                      data={"reason": reason})  # fmt: skip
    apply(session, request, ctx)


def list_meetings(
    session: Session,
    *,
    district: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[dict[str, Any]]:
    """The meetings (of `district`, on days from `start` to `end`), soonest first."""
    query = select(MEETINGS).order_by(MEETINGS.c.starts_at, MEETINGS.c.id)
    if district is not None:
        query = query.where(MEETINGS.c.district_code == district)
    if start is not None:
        query = query.where(MEETINGS.c.due_on >= start)
    if end is not None:
        query = query.where(MEETINGS.c.due_on <= end)
    return [meeting_view(row) for row in session.execute(query).all()]


def meeting_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "district": row.district_code,
        "agreement": row.agreement_id,
        "series": row.series_id,
        "kind": row.kind,
        "kind_label": KIND_LABELS.get(row.kind, row.kind),
        "at": row.at_local,
        "zone": row.zone,
        "starts_at": row.starts_at.isoformat(),
        "place": row.place,
        "agenda": row.agenda,
        "state": row.state,
        "state_label": MEETING.state_labels[row.state],
        "attendees": row.attendees or [],
        "notes": row.notes,
        "reason": row.reason,
    }


def next_meeting(session: Session, agreement: int, now: datetime) -> dict[str, Any] | None:
    """The agreement's next scheduled meeting, or None."""
    found = session.execute(
        select(MEETINGS)
        .where(MEETINGS.c.agreement_id == agreement, MEETINGS.c.state == "scheduled",
               MEETINGS.c.starts_at >= now)
        .order_by(MEETINGS.c.starts_at)
        .limit(1)
    ).first()  # fmt: skip
    return meeting_view(found) if found is not None else None
