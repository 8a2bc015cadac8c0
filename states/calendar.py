"""Calendar arithmetic in the agency's terms: local dates, calendar days, calendar months, and
the business days on which notices go out."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

# Saturday and Sunday, as date.weekday() counts them.
_WEEKEND = (5, 6)
# A guard against a holiday table that closes every day: no real calendar needs more.
_LONGEST_CLOSURE = 31


def add_days(start: date, days: int) -> date:
    return start + timedelta(days=days)


def add_months(start: date, months: int) -> date:
    """Calendar-month arithmetic, clamped to the month's last day (Aug 31 + 18 months = Feb 29)."""
    result: date = start + relativedelta(months=months)
    return result


def fiscal_year_end(day: date) -> date:
    """The last day of the state fiscal year `day` falls in (October 1 to September 30)."""
    return date(day.year if day.month <= 9 else day.year + 1, 9, 30)


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


@cache
def _michigan_holidays(year: int) -> frozenset[date]:
    """Michigan's state holidays in `year`, as the `holidays` package lists them (federal ones,
    their observed days, and the state's own: the Friday after Thanksgiving, Christmas Eve, New
    Year's Eve, Election Day in even years)."""
    # Imported when first needed: it costs about 60 ms, which read-only commands never pay.
    import holidays

    return frozenset(holidays.country_holidays("US", subdiv="MI", years=year))


def is_business_day(day: date) -> bool:
    """A weekday that is not a Michigan state holiday: a day the agency's offices are open."""
    return day.weekday() not in _WEEKEND and day not in _michigan_holidays(day.year)


def business_day_before(day: date) -> date:
    """`day` if it is a business day, else the last business day before it."""
    return _step_to_business_day(day, -1)


def business_day_after(day: date) -> date:
    """`day` if it is a business day, else the first business day after it."""
    return _step_to_business_day(day, 1)


def _step_to_business_day(day: date, step: int) -> date:
    found = day
    for _ in range(_LONGEST_CLOSURE):
        if is_business_day(found):
            return found
        found += timedelta(days=step)
    raise ValueError(f"no business day within {_LONGEST_CLOSURE} days of {day}")
