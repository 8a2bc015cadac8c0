"""Calendar arithmetic in the agency's terms: local dates, calendar days, calendar months."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta


def add_days(start: date, days: int) -> date:
    return start + timedelta(days=days)


def add_months(start: date, months: int) -> date:
    """Calendar-month arithmetic, clamped to the month's last day (Aug 31 + 18 months = Feb 29)."""
    result: date = start + relativedelta(months=months)
    return result


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The instant a deadline "due on `day`" passes: local midnight after `day`, in UTC."""
    return local_instant(day + timedelta(days=1), time(0, 0), tz)


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """A local wall-clock time on `day` as an aware UTC instant (DST gaps resolve forward)."""
    local = datetime.combine(day, at, tzinfo=tz)
    # Round-trip through UTC normalises a non-existent local time (spring-forward gap).
    return local.astimezone(UTC)


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    if instant.tzinfo is None:
        raise ValueError("aware datetime required")
    return instant.astimezone(tz).date()
