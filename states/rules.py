"""Rule data as typed, immutable values, and the pure decisions made from it.

The values come from versioned files in `config/rules/`; an agreement keeps the version it was
identified under, so changing a rule never changes an agreement already running.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from states.calendar import (
    add_days,
    add_months,
    business_day_after,
    business_day_before,
    fiscal_year_end,
)
from states.errors import BadInput, PermissionDenied
from states.review import DeterminationRule, ReviewRule

SYSTEM = "system"
MDE_ROLES = ("liaison", "director", "state_superintendent")
DISTRICT_ROLES = (
    "superintendent",
    "board_president",
    "authorizer",
    "isd_superintendent",
    "partner",
)
ROLES: tuple[str, ...] = (*MDE_ROLES, *DISTRICT_ROLES)
# The process whose rule data is the file's top level; another's is its `[processes.NAME]`.
MAIN_PROCESS = "agreement"
# What a deadline is counted from (`counted_from`): the day of the event that opens it, or
# the end of the case's state fiscal year (a fund request's own `year`, whatever day it is
# funded on; for a case of no one year, the year that day falls in), or the due date the case
# itself was given (an action item's).
COUNTED_FROM = ("event", "fiscal_year_end", "case_due")


@dataclass(frozen=True)
class DeadlineRule:
    """A deadline opened by an event, due a fixed time after that event, met by another event."""

    kind: str
    opened_by: frozenset[str]
    met_by: frozenset[str]
    days: int = 0
    months: int = 0
    # Events after which it is no longer needed: it closes as `waived`, its reminders stop.
    waived_by: frozenset[str] = frozenset()
    counted_from: str = "event"  # one of COUNTED_FROM

    def due(
        self, anchor: date, *, year_end: date | None = None, case_due: date | None = None
    ) -> date:
        """The due date of the deadline opened by an event on `anchor`; `year_end`: the last
        day of the case's own fiscal year, where it has one (else the year `anchor` falls in);
        `case_due`: the due date the case was given, for a deadline counted from it."""
        start = anchor
        if self.counted_from == "fiscal_year_end":
            start = year_end if year_end is not None else fiscal_year_end(anchor)
        elif self.counted_from == "case_due":
            if case_due is None:
                raise BadInput(f"the deadline {self.kind} needs the due date its case is given")
            start = case_due
        return add_days(add_months(start, self.months), self.days)


@dataclass(frozen=True)
class TimerRule:
    """One step of a ladder hanging off a deadline: a notice, an action, or both.

    Steps of one ladder supersede each other: when several are due at once, only the latest runs.
    """

    deadline: str
    ladder: str
    offset_days: int
    notice: str | None
    to: tuple[str, ...]
    action: str | None = None
    # Where the action is not allowed in the agreement's state, send this notice instead.
    otherwise_notice: str | None = None
    otherwise_to: tuple[str, ...] = ()
    # A reminder whose moment has already passed when its deadline opens is not sent at all
    # (a meeting scheduled for tomorrow: its invitation, just sent, says as much; a reminder
    # on its heels would be a second email about the same thing). Off by default: a plan
    # signed late is still reminded of its due date.
    skip_when_opened_late: bool = False

    def fires_on(self, due: date, business_days: bool) -> date:
        """The day this step runs for a deadline due on `due`.

        With `business_days`, a notice that would fall on a weekend or a Michigan state holiday
        goes on the business day before (a reminder: on or before the due date, so it is never
        later than the date it warns of) or after (an overdue notice: never before the date it
        reports passed). A step with an action is never moved: the action takes effect on the
        day the statute counts (a review opens on its due date, and its own steps are counted
        from that day); the notice sent when it cannot run goes with it.
        """
        day = add_days(due, self.offset_days)
        if not business_days or self.action is not None:
            return day
        return business_day_before(day) if self.offset_days <= 0 else business_day_after(day)


@dataclass(frozen=True)
class TransitionNotice:
    event: str
    notice: str
    to: tuple[str, ...]


@dataclass(frozen=True)
class RuleSet:
    version: str
    description: str
    accountability_options: tuple[str, ...]
    traditional_required: tuple[str, ...]
    signatories: tuple[str, ...]
    psa_signatories: tuple[str, ...]
    permissions: Mapping[str, frozenset[str]]
    deadlines: tuple[DeadlineRule, ...]
    timers: tuple[TimerRule, ...] = ()
    transition_notices: tuple[TransitionNotice, ...] = ()
    reviews: Mapping[str, ReviewRule] = field(default_factory=dict)
    determination: DeterminationRule = field(default_factory=DeterminationRule)
    # `[notices] business_days`: notices move off weekends and state holidays (TimerRule.fires_on).
    business_days: bool = False
    # `[funds.appropriations]`: the Section 21(h) appropriation of each state fiscal year.
    appropriations: Mapping[str, Decimal] = field(default_factory=dict)
    # The rules of the cases of other processes (`[processes.NAME]`), by process: see `of`.
    processes: Mapping[str, RuleSet] = field(default_factory=dict)

    def of(self, process: str) -> RuleSet:
        """The rules a case of `process` follows under this version: the agreement's are these;
        another process's are its section's deadlines, timers and notices, with the permissions
        of the top level and of its section (none of the agreement's deadlines or notices)."""
        if process == MAIN_PROCESS:
            return self
        found = self.processes.get(process)
        if found is None:  # a version that says nothing of the process: nothing is due
            found = replace(self, deadlines=(), timers=(), transition_notices=(), processes={})
        return found

    def appropriation(self, year: str) -> Decimal | None:
        return self.appropriations.get(year)

    def review(self, kind: str) -> ReviewRule:
        found = self.reviews.get(kind)
        if found is None:
            raise BadInput(f"rules {self.version} describe no review {kind!r}")
        return found

    def required_parties(self, psa: bool) -> tuple[str, ...]:
        return (*self.signatories, *self.psa_signatories) if psa else self.signatories

    def check_may(self, action: str, roles: str | Sequence[str], doing: str | None = None) -> None:
        """Refuse unless one of `roles` (a person may hold several) may take `action`;
        `doing`: what the action does, in words, where its name is not words people read."""
        held = (roles,) if isinstance(roles, str) else tuple(roles)
        allowed = self.permissions.get(action, frozenset())
        if not allowed.intersection(held):
            who = ", ".join(sorted(allowed)) or "nobody"
            raise PermissionDenied(
                f"a {' or '.join(held)} may not {doing or action} (allowed: {who})")  # fmt: skip

    def parse_consequences(self, raw: str | None, psa: bool) -> tuple[str, ...]:
        if raw is None:
            return self.accountability_options
        chosen = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
        unknown = [c for c in chosen if c not in self.accountability_options]
        if not chosen or unknown:
            raise BadInput(
                f"unknown consequence {', '.join(unknown) or '(empty)'}; "
                f"choose from {', '.join(self.accountability_options)}"
            )
        missing = [c for c in self.traditional_required if c not in chosen]
        if not psa and missing:
            raise BadInput(
                f"a traditional district's consequences must include {', '.join(missing)}"
            )
        return chosen

    def deadlines_opened_by(self, event: str) -> list[DeadlineRule]:
        return [rule for rule in self.deadlines if event in rule.opened_by]

    def deadline(self, kind: str) -> DeadlineRule:
        for rule in self.deadlines:
            if rule.kind == kind:
                return rule
        raise BadInput(f"rules {self.version} define no deadline {kind!r}")

    def timers_for(self, deadline_kind: str) -> list[TimerRule]:
        return [timer for timer in self.timers if timer.deadline == deadline_kind]

    def notices_for(self, event: str) -> list[TransitionNotice]:
        return [notice for notice in self.transition_notices if notice.event == event]


def _strings(value: Iterable[Any]) -> tuple[str, ...]:
    return tuple(str(item) for item in value)


def ruleset_from_mapping(data: Mapping[str, Any]) -> RuleSet:
    """Build a RuleSet from parsed TOML that `states.rule_check.check` has accepted."""
    permissions = _permissions(data.get("permissions", {}))
    deadlines, timers, notices = _scheduled(data)
    signatures = data["signatures"]
    reviews = {
        str(kind): ReviewRule(
            kind=str(kind),
            steps=_strings(item["steps"]),
            targets=int(item["targets"]),
            needed_when=str(item.get("needed_when", "always")),
        )
        for kind, item in data.get("reviews", {}).items()
    }
    shares = data.get("determination", {})
    default = DeterminationRule()
    determination = DeterminationRule(
        met_at_least=Fraction(shares.get("met_at_least", default.met_at_least)),
        moved_more_than=Fraction(shares.get("moved_more_than", default.moved_more_than)),
    )
    base = RuleSet(
        version=str(data["version"]),
        description=str(data.get("description", "")),
        accountability_options=_strings(data["accountability_options"]),
        traditional_required=_strings(data.get("traditional_required_consequences", ())),
        signatories=_strings(signatures["required"]),
        psa_signatories=_strings(signatures.get("psa_additional", ())),
        permissions=permissions,
        deadlines=deadlines,
        timers=timers,
        transition_notices=notices,
        reviews=reviews,
        determination=determination,
        business_days=bool(data.get("notices", {}).get("business_days", False)),
        appropriations={
            str(year): Decimal(str(amount)).quantize(Decimal("0.01"))
            for year, amount in data.get("funds", {}).get("appropriations", {}).items()
        },
    )
    sections = {
        str(name): replace(
            base,
            permissions={**permissions, **_permissions(section.get("permissions", {}))},
            deadlines=scheduled[0],
            timers=scheduled[1],
            transition_notices=scheduled[2],
        )
        for name, section in data.get("processes", {}).items()
        for scheduled in [_scheduled(section)]
    }
    return replace(base, processes=sections) if sections else base


def _permissions(table: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    return {str(k): frozenset(_strings(v)) for k, v in table.items()}


def _scheduled(
    data: Mapping[str, Any],
) -> tuple[tuple[DeadlineRule, ...], tuple[TimerRule, ...], tuple[TransitionNotice, ...]]:
    """The deadlines, timers and notices of one process's rule data (the top level, or a
    `[processes.NAME]` section)."""
    deadlines = tuple(
        DeadlineRule(
            kind=item["kind"],
            opened_by=frozenset(_strings(item["opened_by"])),
            met_by=frozenset(_strings(item["met_by"])),
            days=int(item.get("days", 0)),
            months=int(item.get("months", 0)),
            waived_by=frozenset(_strings(item.get("waived_by", ()))),
            counted_from=str(item.get("counted_from", "event")),
        )
        for item in data.get("deadlines", ())
    )
    timers = tuple(
        TimerRule(
            deadline=item["deadline"],
            ladder=item.get("ladder", item["deadline"]),
            offset_days=int(offset),
            notice=item.get("notice"),
            to=_strings(item.get("to", ())),
            action=item.get("action"),
            otherwise_notice=item.get("otherwise_notice"),
            otherwise_to=_strings(item.get("otherwise_to", ())),
            skip_when_opened_late=bool(item.get("skip_when_opened_late", False)),
        )
        for item in data.get("timers", ())
        for offset in item["offsets_days"]
    )
    notices = tuple(
        TransitionNotice(event=item["event"], notice=item["notice"], to=_strings(item["to"]))
        for item in data.get("transition_notices", ())
    )
    return deadlines, timers, notices
