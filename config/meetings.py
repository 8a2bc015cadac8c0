"""The meetings' rule data (config/meetings.toml): who is invited, how often a series meets."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from states.calendar import add_days, add_months
from states.errors import BadInput

PATH = Path(__file__).with_name("meetings.toml")


@dataclass(frozen=True)
class Cadence:
    """How often a series meets: every `days` days, or every `months` months."""

    days: int = 0
    months: int = 0

    def after(self, start: date, count: int) -> date:
        """The day of the series' meeting number `count` (0: the first, on `start`)."""
        return add_days(add_months(start, self.months * count), self.days * count)


@dataclass(frozen=True)
class MeetingRules:
    attendees: dict[str, tuple[str, ...]]
    cadences: dict[str, Cadence]
    schedule_ahead_days: int
    # The local hour a series' meetings start at ("HH:MM").
    start_time: str

    def roles(self, kind: str) -> tuple[str, ...]:
        return self.attendees.get(kind, ())

    def cadence(self, kind: str) -> Cadence:
        found = self.cadences.get(kind)
        if found is None:
            raise BadInput(f"no series of {kind!r} meetings; series: {', '.join(self.cadences)}")
        return found


@cache
def meeting_rules() -> MeetingRules:
    data = tomllib.loads(PATH.read_text())
    return MeetingRules(
        attendees={kind: tuple(roles) for kind, roles in data["attendees"].items()},
        cadences={kind: Cadence(**every) for kind, every in data["cadence"].items()},
        schedule_ahead_days=int(data["schedule_ahead_days"]),
        start_time=str(data["start_time"]),
    )
