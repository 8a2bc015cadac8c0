"""Notices go out on business days: a reminder that would fall on a weekend or a Michigan state
holiday goes on the business day before, an overdue notice on the one after; due dates and timed
actions keep their calendar days; rule data can turn it off."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from helpers import (
    DETROIT,
    DIRECTOR,
    TRAD,
    TRAD_PARTIES,
    Pal,
    add_district,
    execute,
    ok,
    rules_folder,
    sign,
    signed_agreement,
    start_assessment,
)

from config.rules import load_rules, use_rules_dir
from states.calendar import business_day_after, business_day_before, is_business_day
from states.errors import BadRules
from states.rules import TimerRule

REMINDER = TimerRule("plan_due", "plan_due", -1, "plan_reminder", ("superintendent",))
OVERDUE = TimerRule("plan_due", "plan_due", 1, "plan_overdue", ("liaison",))
ACTION = TimerRule("rga_due", "rga_due", 0, None, (), action="open_rga")


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        (date(2026, 12, 2), True),  # a Wednesday
        (date(2026, 12, 5), False),  # Saturday
        (date(2026, 12, 6), False),  # Sunday
        (date(2026, 1, 1), False),  # New Year's Day
        (date(2026, 11, 3), False),  # Election Day (Michigan, even years)
        (date(2026, 11, 27), False),  # the Friday after Thanksgiving (Michigan)
        (date(2026, 12, 24), False),  # Christmas Eve (Michigan)
        (date(2026, 12, 31), False),  # New Year's Eve (Michigan)
        (date(2026, 7, 3), False),  # Independence Day observed (the 4th is a Saturday)
        (date(2026, 10, 12), True),  # Columbus Day is not a Michigan state holiday
    ],
)
def test_a_business_day_is_a_weekday_that_is_no_michigan_state_holiday(
    day: date, open_: bool
) -> None:
    """Weekends and Michigan's state holidays (federal, observed, and the state's own) are
    closed; any other day is a business day."""
    assert is_business_day(day) is open_


def test_a_weekend_moves_a_reminder_to_the_friday_and_an_overdue_notice_to_the_monday() -> None:
    """Saturday 2026-12-05: a reminder goes on Friday the 4th, an overdue notice on Monday
    the 7th; a business day stays as it is."""
    saturday = date(2026, 12, 5)
    assert business_day_before(saturday) == date(2026, 12, 4)
    assert business_day_after(saturday) == date(2026, 12, 7)
    assert business_day_before(date(2026, 12, 2)) == business_day_after(date(2026, 12, 2))


def test_a_holiday_weekend_moves_past_every_closed_day() -> None:
    """Thanksgiving 2026 closes Thursday to Sunday: before it is Wednesday the 25th, after it
    Monday the 30th; Christmas Eve to Sunday 2026 likewise (Wednesday 23rd, Monday 28th)."""
    assert business_day_before(date(2026, 11, 28)) == date(2026, 11, 25)
    assert business_day_after(date(2026, 11, 26)) == date(2026, 11, 30)
    assert business_day_before(date(2026, 12, 25)) == date(2026, 12, 23)
    assert business_day_after(date(2026, 12, 24)) == date(2026, 12, 28)


def test_a_reminder_goes_on_the_business_day_before_and_an_overdue_notice_after() -> None:
    """Due Sunday 2026-12-06: the 1-day reminder (Saturday) goes on Friday the 4th, the 1-day
    overdue notice (Monday) stays; due Friday the 4th, the overdue notice (Saturday) goes on
    Monday the 7th."""
    assert REMINDER.fires_on(date(2026, 12, 6), business_days=True) == date(2026, 12, 4)
    assert OVERDUE.fires_on(date(2026, 12, 6), business_days=True) == date(2026, 12, 7)
    assert OVERDUE.fires_on(date(2026, 12, 4), business_days=True) == date(2026, 12, 7)


def test_a_step_with_an_action_keeps_its_calendar_day() -> None:
    """The RGA opens on its due date, a Saturday included: its steps are counted from it."""
    assert ACTION.fires_on(date(2026, 12, 5), business_days=True) == date(2026, 12, 5)


def test_without_business_days_every_step_keeps_its_calendar_day() -> None:
    """Rule data that turns business days off sends on the calendar day, weekend or not."""
    assert REMINDER.fires_on(date(2026, 12, 6), business_days=False) == date(2026, 12, 5)
    assert OVERDUE.fires_on(date(2026, 12, 4), business_days=False) == date(2026, 12, 5)


def test_the_shipped_rules_send_on_business_days() -> None:
    """2017-10 says `[notices] business_days = true`; 2017-04 inherits it."""
    assert load_rules("2017-10").business_days
    assert load_rules("2017-04").business_days


def test_business_days_must_be_true_or_false(tmp_path: Path) -> None:
    """`business_days = "yes"` is refused when the rules load, naming the key."""
    (tmp_path / "2099-03.toml").write_text(
        'extends = "2017-10"\nversion = "2099-03"\n[notices]\nbusiness_days = "yes"\n'
    )
    use_rules_dir(tmp_path)
    try:
        with pytest.raises(BadRules, match=r"notices\.business_days: must be true or false"):
            load_rules("2099-03")
    finally:
        use_rules_dir(None)


# --- the ladders the engine stores -----------------------------------------------------------


def _timers(pal: Pal, agreement: int) -> list[tuple[str, int, str | None, date]]:
    """Each timer of `agreement`: its deadline's kind, offset, action, and local day it fires."""
    rows = execute(
        pal.db_url,
        "SELECT d.kind, t.offset_days, t.action, t.fire_at FROM timer t "
        "JOIN deadline d ON d.id = t.deadline_id WHERE t.agreement_id = :id",
        id=agreement,
    )
    return [(kind, offset, action, _local_day(fire_at)) for kind, offset, action, fire_at in rows]


def _local_day(value: object) -> date:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:  # SQLite hands the stored UTC instant back naive
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(DETROIT).date()


def _due(pal: Pal, agreement: int) -> dict[str, date]:
    rows = execute(
        pal.db_url, "SELECT kind, due_on FROM deadline WHERE agreement_id = :id", id=agreement
    )
    return {kind: date.fromisoformat(str(due)) for kind, due in rows}


def test_no_notice_of_a_ladder_fires_on_a_weekend_or_holiday(seeded: Pal) -> None:
    """Agreements signed on each of 14 days (so their due dates fall on every day of the week):
    no notice step of their ladders fires on a closed day, each a few days at most from its
    calendar day on the same side of it; the actions keep their calendar days."""
    first = date(2018, 5, 1)
    for n in range(14):
        signed_on = first + timedelta(days=n)
        district = f"D{n:02d}"  # one active agreement per district
        add_district(seeded, district)
        agreement = signed_agreement(seeded, district, signed_on=signed_on.isoformat())
        due = _due(seeded, agreement)
        timers = _timers(seeded, agreement)
        assert timers
        for kind, offset, action, day in timers:
            calendar_day = due[kind] + timedelta(days=offset)
            if action is not None:
                assert day == calendar_day, (kind, offset)
                continue
            assert is_business_day(day), (signed_on, kind, offset, day)
            if offset <= 0:
                assert calendar_day - timedelta(days=4) <= day <= calendar_day
            else:
                assert calendar_day <= day <= calendar_day + timedelta(days=4)


def test_turned_off_in_rule_data_notices_keep_their_calendar_days(
    seeded: Pal, tmp_path: Path
) -> None:
    """Under a version with `business_days = false`, the 90-day reminder of an RGA due on
    Friday 2019-11-01 fires on Saturday 2019-08-03, its calendar day."""
    text = 'extends = "2017-10"\nversion = "2099-04"\n[notices]\nbusiness_days = false\n'
    with rules_folder(seeded, tmp_path / "rules", {"2099-04": text}) as pal:
        agreement = _signed_under(pal, "2099-04")
        days = {(k, o): d for k, o, _, d in _timers(pal, agreement)}
    assert days[("rga_due", -90)] == date(2019, 8, 3)


def _signed_under(pal: Pal, version: str) -> int:
    """A traditional district's agreement identified on 2018-03-01 under rule version `version`
    and signed on 2018-05-01 (its RGA due on Friday 2019-11-01)."""
    out = ok(pal, "agreement", "identify", TRAD, "--on", "2018-03-01", "--by", DIRECTOR,
             "--rules", version)  # fmt: skip
    agreement = int(out.strip())
    start_assessment(pal, agreement, on="2018-03-01")
    sign(pal, agreement, TRAD_PARTIES, on="2018-05-01")
    return agreement


def test_a_rule_migration_moves_the_recomputed_reminders_to_business_days(
    seeded: Pal, tmp_path: Path
) -> None:
    """Signed under a version without business days, then migrated to 2017-10: the RGA's
    90-day reminder, recomputed, moves from Saturday 2019-08-03 to Friday 2019-08-02; the RGA
    itself still opens on Friday 2019-11-01."""
    text = 'extends = "2017-10"\nversion = "2099-05"\n[notices]\nbusiness_days = false\n'
    with rules_folder(seeded, tmp_path / "rules", {"2099-05": text}) as pal:
        agreement = _signed_under(pal, "2099-05")
        ok(pal, "agreement", "migrate", agreement, "--rules", "2017-10", "--reason",
           "the district was sent the October letter", "--by", DIRECTOR)  # fmt: skip
        pending = execute(
            pal.db_url,
            "SELECT d.kind, t.offset_days, t.fire_at FROM timer t JOIN deadline d "
            "ON d.id = t.deadline_id WHERE t.agreement_id = :id AND t.status = 'pending'",
            id=agreement,
        )
    days = {(kind, offset): _local_day(at) for kind, offset, at in pending}
    assert days[("rga_due", -90)] == date(2019, 8, 2)
    assert days[("rga_due", 0)] == date(2019, 11, 1)
