"""Calendar arithmetic in the agency's terms: calendar days, calendar months, local end of day.

Pure functions: no database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from helpers import DETROIT
from hypothesis import given, settings
from hypothesis import strategies as st

from config.rules import load_rules
from states.calendar import add_days, add_months, end_of_day, local_date, local_instant
from states.context import Context


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2018, 8, 31), 18, date(2020, 2, 29)),  # signing on Aug 31 reaches the leap day
        (date(2018, 8, 31), 36, date(2021, 8, 31)),
        (date(2019, 8, 31), 18, date(2021, 2, 28)),  # ... or Feb 28 in a common year
        (date(2019, 1, 31), 1, date(2019, 2, 28)),
        (date(2020, 1, 31), 1, date(2020, 2, 29)),
        (date(2018, 5, 31), 1, date(2018, 6, 30)),
        (date(2020, 2, 29), 36, date(2023, 2, 28)),  # leap day + 36 months
        (date(2020, 2, 29), 48, date(2024, 2, 29)),
        (date(2020, 2, 29), 12, date(2021, 2, 28)),
        (date(2018, 3, 15), 18, date(2019, 9, 15)),
        (date(2018, 12, 31), 18, date(2020, 6, 30)),
        (date(2018, 11, 30), 3, date(2019, 2, 28)),
    ],
)
def test_add_months_is_calendar_month_arithmetic_clamped_to_month_end(
    start: date, months: int, expected: date
) -> None:
    """N months later is the same day of the month, or that month's last day if it is shorter."""
    assert add_months(start, months) == expected


@settings(database=None)
@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)), st.integers(0, 120))
def test_add_months_lands_in_the_right_month_on_the_same_or_last_day(
    start: date, months: int
) -> None:
    """add_months never spills into the following month and never shortens a day needlessly."""
    result = add_months(start, months)
    assert result.year * 12 + result.month == start.year * 12 + start.month + months
    next_month_first = (result.replace(day=28) + timedelta(days=4)).replace(day=1)
    last_day = (next_month_first - timedelta(days=1)).day
    assert result.day == min(start.day, last_day)


def test_add_days_counts_calendar_days_across_a_leap_day() -> None:
    """90 calendar days from 2020-01-01 is 2020-03-31 (February has 29 days)."""
    assert add_days(date(2020, 1, 1), 90) == date(2020, 3, 31)
    assert add_days(date(2018, 3, 1), 90) == date(2018, 5, 30)
    assert add_days(date(2017, 4, 1), 60) == date(2017, 5, 31)


@pytest.mark.parametrize(
    ("version", "anchor", "expected"),
    [
        ("2017-10", date(2018, 3, 1), {"plan_due": date(2018, 5, 30)}),
        ("2017-04", date(2018, 3, 1), {"plan_due": date(2018, 4, 30)}),
    ],
)
def test_rule_versions_set_the_plan_window(version: str, anchor: date,
                                           expected: dict[str, date]) -> None:  # fmt: skip
    """The plan window is rule data: 90 days by default, 60 under the April 2017 letters."""
    rules = load_rules(version)
    assert {r.kind: r.due(anchor) for r in rules.deadlines_opened_by("identify")} == expected


def test_signing_deadlines_are_18_and_36_calendar_months() -> None:
    """A plan signed 2018-08-31 has its RGA due 2020-02-29 and its 36-month review 2021-08-31."""
    rules = load_rules("2017-10")
    due = {r.kind: r.due(date(2018, 8, 31)) for r in rules.deadlines_opened_by("sign")}
    assert due == {
        "rga_due": date(2020, 2, 29),
        "review_24_due": date(2020, 8, 31),
        "review_36_due": date(2021, 8, 31),
    }


@pytest.mark.parametrize(
    ("day", "expected_utc", "hours_in_day"),
    [
        (date(2018, 1, 15), datetime(2018, 1, 16, 5, 0, tzinfo=UTC), 24),  # EST
        (date(2018, 7, 15), datetime(2018, 7, 16, 4, 0, tzinfo=UTC), 24),  # EDT
        (date(2018, 3, 10), datetime(2018, 3, 11, 5, 0, tzinfo=UTC), 24),  # eve of spring forward
        (date(2018, 3, 11), datetime(2018, 3, 12, 4, 0, tzinfo=UTC), 23),  # spring forward
        (date(2018, 11, 3), datetime(2018, 11, 4, 4, 0, tzinfo=UTC), 24),  # eve of fall back
        (date(2018, 11, 4), datetime(2018, 11, 5, 5, 0, tzinfo=UTC), 25),  # fall back
    ],
)
def test_end_of_day_is_local_midnight_in_detroit_across_dst(
    day: date, expected_utc: datetime, hours_in_day: int
) -> None:
    """A deadline due on D passes at the local midnight ending D, whatever DST does that day."""
    passes = end_of_day(day, DETROIT)
    assert passes == expected_utc
    assert passes.utcoffset() == timedelta(0)
    assert passes.astimezone(DETROIT).time() == time(0, 0)
    assert passes - end_of_day(day - timedelta(days=1), DETROIT) == timedelta(hours=hours_in_day)
    # The last instant of D is still D locally; the deadline's instant is already D + 1.
    assert local_date(passes - timedelta(microseconds=1), DETROIT) == day
    assert local_date(passes, DETROIT) == day + timedelta(days=1)


def test_local_instant_in_the_spring_forward_gap_resolves_forward() -> None:
    """02:30 on 2018-03-11 does not exist in Detroit; it becomes 03:30 EDT (07:30 UTC)."""
    instant = local_instant(date(2018, 3, 11), time(2, 30), DETROIT)
    assert instant == datetime(2018, 3, 11, 7, 30, tzinfo=UTC)
    assert instant.astimezone(DETROIT).time() == time(3, 30)


def test_local_instant_in_the_fall_back_overlap_is_the_first_occurrence() -> None:
    """01:30 on 2018-11-04 happens twice in Detroit; the first (EDT, 05:30 UTC) is used."""
    assert local_instant(date(2018, 11, 4), time(1, 30), DETROIT) == datetime(
        2018, 11, 4, 5, 30, tzinfo=UTC
    )


def test_local_instant_at_the_notice_hour_follows_dst() -> None:
    """08:00 local is 13:00 UTC in winter and 12:00 UTC in summer."""
    assert local_instant(date(2018, 1, 2), time(8), DETROIT) == datetime(2018, 1, 2, 13, tzinfo=UTC)
    assert local_instant(date(2018, 7, 2), time(8), DETROIT) == datetime(2018, 7, 2, 12, tzinfo=UTC)


def test_local_date_is_the_agency_date_not_the_utc_date() -> None:
    """03:00 UTC on March 2 is still March 1 in Detroit; a naive datetime is refused."""
    assert local_date(datetime(2018, 3, 2, 3, 0, tzinfo=UTC), DETROIT) == date(2018, 3, 1)
    assert local_date(datetime(2018, 3, 2, 5, 0, tzinfo=UTC), DETROIT) == date(2018, 3, 2)
    with pytest.raises(ValueError, match="aware"):
        local_date(datetime(2018, 3, 2, 3, 0), DETROIT)


def test_context_today_is_the_local_date_and_now_must_be_aware() -> None:
    """The engine's `today` is the local date of `now`; a naive `now` is refused."""
    assert Context(now=datetime(2018, 3, 2, 3, 0, tzinfo=UTC)).today == date(2018, 3, 1)
    with pytest.raises(ValueError, match="aware"):
        Context(now=datetime(2018, 3, 2, 3, 0))
