"""Check a rule version's data against its process before anything uses it.

Every name the data uses must exist: each role, event, permission key, deadline kind, party,
consequence and notice (a notice exists when its templates do). One typo in a rule file would
otherwise surface months later, in the sweep, as every agreement's reminders failing. The first
problem is reported with the file's name and the key that holds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from states.corrections import TOLD
from states.errors import BadInput, BadRules
from states.funds import fiscal_year
from states.labels import CONSEQUENCE_LABELS, PARTY_LABELS, ROLE_LABELS
from states.money import parse_dollars
from states.process import Process
from states.review import STEPS
from states.rules import COUNTED_FROM, MAIN_PROCESS, ROLES, SYSTEM

RECIPIENTS = (frozenset(ROLE_LABELS) - {SYSTEM}) | {TOLD}
ACTORS = frozenset({*ROLES, SYSTEM})

_TOP = {
    "version",
    "description",
    "accountability_options",
    "traditional_required_consequences",
    "signatures",
    "permissions",
    "deadlines",
    "timers",
    "transition_notices",
    "reviews",
    "determination",
    "notices",
    "processes",
    "funds",
}
# What a `[processes.NAME]` section may say: the rule data of another process's cases.
_SECTION = {"permissions", "deadlines", "timers", "transition_notices"}
_NOTICES = {"business_days"}
_FUNDS = {"appropriations"}
_REVIEW = {"steps", "targets", "needed_when"}
_NEEDED_WHEN = ("always", "any_off_track")
_DETERMINATION = {"met_at_least", "moved_more_than"}
_REQUIRED_TOP = ("version", "accountability_options", "signatures", "permissions", "deadlines")
_SIGNATURES = {"required", "psa_additional"}
_DEADLINE = {"kind", "opened_by", "met_by", "waived_by", "days", "months", "counted_from"}
_TIMER = {"deadline", "ladder", "offsets_days", "notice", "to", "action"} | {
    "otherwise_notice",
    "otherwise_to",
    "skip_when_opened_late",
}
_NOTICE = {"event", "notice", "to"}


@dataclass(frozen=True)
class _Checker:
    source: str
    process: Process
    notices: frozenset[str]
    permission_keys: frozenset[str]
    prefix: str = ""  # where its process's data is: "" (the top level) or `processes.NAME.`

    def fail(self, key: str, problem: str) -> None:
        raise BadRules(f"{self.source}: {self.prefix}{key}: {problem}")

    def keys(self, key: str, table: Any, allowed: set[str]) -> None:
        if not isinstance(table, Mapping):
            self.fail(key, "must be a table")
        for name in table:
            if name not in allowed:
                self.fail(f"{key}.{name}" if key else name, "unknown key")

    def names(self, key: str, value: Any, known: Iterable[str], what: str) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, "must be a list of names")
        known = set(known)
        for item in value:
            if item not in known:
                self.fail(key, f"unknown {what} {item!r} (known: {', '.join(sorted(known))})")
        return list(value)

    def notice(self, key: str, value: Any) -> None:
        if not isinstance(value, str) or value not in self.notices:
            self.fail(key, f"no notice {value!r}: it has no templates")

    def event(self, key: str, value: Any) -> None:
        if value not in self.process.event_names:
            self.fail(key, f"unknown event {value!r} of {self.process.label}")

    def number(self, key: str, value: Any) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(key, "must be a whole number")


def check(
    data: Mapping[str, Any],
    process: Process,
    notices: frozenset[str],
    source: str,
    processes: Mapping[str, Process] | None = None,
) -> None:
    """Raise BadRules naming `source` and the key of the first problem in `data`: its top level
    against `process`, each `[processes.NAME]` section against that one of `processes`. The
    top level's permission table may state the permission keys of every process."""
    processes = processes if processes is not None else {process.name: process}
    keys = process.permission_keys.union(*(p.permission_keys for p in processes.values()))
    checker = _Checker(source, process, notices, keys)
    checker.keys("", data, _TOP)
    for key in _REQUIRED_TOP:
        if key not in data:
            checker.fail(key, "missing")
    options = checker.names(
        "accountability_options", data["accountability_options"], CONSEQUENCE_LABELS, "option"
    )
    checker.names(
        "traditional_required_consequences",
        data.get("traditional_required_consequences", []),
        options,
        "option",
    )
    checker.keys("signatures", data["signatures"], _SIGNATURES)
    for name in _SIGNATURES:
        checker.names(f"signatures.{name}", data["signatures"].get(name, []), PARTY_LABELS, "party")
    _permissions(checker, data["permissions"])
    _scheduled(checker, data)
    _reviews(checker, data.get("reviews", {}))
    _determination(checker, data.get("determination", {}))
    _notices(checker, data.get("notices", {}))
    _funds(checker, data.get("funds", {}))
    _sections(checker, data.get("processes", {}), processes)


def _scheduled(checker: _Checker, data: Mapping[str, Any]) -> None:
    """The deadlines, timers and transition notices of one process's data."""
    kinds = _deadlines(checker, data.get("deadlines", []))
    _timers(checker, data.get("timers", []), kinds)
    for index, item in enumerate(data.get("transition_notices", [])):
        key = f"transition_notices[{index}]"
        checker.keys(key, item, _NOTICE)
        checker.event(f"{key}.event", item.get("event"))
        checker.notice(f"{key}.notice", item.get("notice"))
        checker.names(f"{key}.to", item.get("to"), RECIPIENTS, "role")


def _sections(checker: _Checker, table: Any, processes: Mapping[str, Process]) -> None:
    """Each `[processes.NAME]` section, against the process it names."""
    others = {name: p for name, p in processes.items() if name != MAIN_PROCESS}
    checker.keys("processes", table, set(others))
    for name, section in table.items():
        prefix = f"processes.{name}."
        process = others[name]
        inner = _Checker(checker.source, process, checker.notices, process.permission_keys, prefix)
        inner.keys("", section, _SECTION)
        _permissions(inner, section.get("permissions", {}))
        _scheduled(inner, section)


def _permissions(checker: _Checker, table: Any) -> None:
    # An event a version does not mention may be fired by nobody under it: a released version
    # need not change when a later release adds events.
    checker.keys("permissions", table, set(checker.permission_keys))
    for name, roles in table.items():
        checker.names(f"permissions.{name}", roles, ACTORS, "role")


def _deadlines(checker: _Checker, items: Any) -> set[str]:
    kinds: set[str] = set()
    for index, item in enumerate(items):
        key = f"deadlines[{index}]"
        checker.keys(key, item, _DEADLINE)
        kind = item.get("kind")
        if kind not in checker.process.deadline_labels:
            checker.fail(f"{key}.kind", f"unknown deadline kind {kind!r}")
        if kind in kinds:
            checker.fail(f"{key}.kind", f"deadline {kind!r} is stated twice")
        for name in ("opened_by", "met_by"):
            checker.names(f"{key}.{name}", item.get(name), checker.process.event_names, "event")
        checker.names(f"{key}.waived_by", item.get("waived_by", []),
                      checker.process.event_names, "event")  # fmt: skip
        if item.get("counted_from", "event") not in COUNTED_FROM:
            checker.fail(f"{key}.counted_from", f"must be one of {', '.join(COUNTED_FROM)}")
        for name in ("days", "months"):
            checker.number(f"{key}.{name}", item.get(name, 0))
            if item.get(name, 0) < 0:
                checker.fail(f"{key}.{name}", "a deadline falls after the event that opens it")
        kinds.add(kind)
    return kinds


def _timers(checker: _Checker, items: Any, kinds: set[str]) -> None:
    for index, item in enumerate(items):
        key = f"timers[{index}]"
        checker.keys(key, item, _TIMER)
        if not isinstance(item.get("ladder", ""), str):
            checker.fail(f"{key}.ladder", "must be a name")
        if item.get("deadline") not in kinds:
            checker.fail(f"{key}.deadline", f"no deadline {item.get('deadline')!r} in these rules")
        offsets = item.get("offsets_days")
        if not isinstance(offsets, list) or not offsets:
            checker.fail(f"{key}.offsets_days", "must be a list of whole numbers of days")
        for offset in offsets:
            checker.number(f"{key}.offsets_days", offset)
        if "notice" not in item and "action" not in item:
            checker.fail(key, "a step needs a notice, an action, or both")
        if "notice" in item:
            checker.notice(f"{key}.notice", item["notice"])
            checker.names(f"{key}.to", item.get("to"), RECIPIENTS, "role")
        if "action" in item:
            checker.event(f"{key}.action", item["action"])
            needs = [f.name for f in checker.process.event(item["action"]).fields if f.required]
            if needs:
                checker.fail(f"{key}.action", f"{item['action']} needs data a timer cannot give "
                             f"({', '.join(needs)})")  # fmt: skip
        elif "otherwise_notice" in item or "otherwise_to" in item:
            checker.fail(key, "otherwise_notice is for a step with an action")
        if "skip_when_opened_late" in item and (
            not isinstance(item["skip_when_opened_late"], bool) or "action" in item
        ):
            checker.fail(f"{key}.skip_when_opened_late", "is true or false, on a notice step only")
        if "otherwise_notice" in item:
            checker.notice(f"{key}.otherwise_notice", item["otherwise_notice"])
            checker.names(f"{key}.otherwise_to", item.get("otherwise_to"), RECIPIENTS, "role")


def _reviews(checker: _Checker, table: Any) -> None:
    # A review kind is the state the agreement is in while the review runs.
    checker.keys("reviews", table, set(checker.process.states))
    for kind, item in table.items():
        key = f"reviews.{kind}"
        checker.keys(key, item, _REVIEW)
        steps = checker.names(f"{key}.steps", item.get("steps"), STEPS, "step")
        if not steps or len(set(steps)) != len(steps):
            checker.fail(f"{key}.steps", "must name each step once")
        if [s for s in STEPS if s in steps] != steps:
            checker.fail(f"{key}.steps", f"must keep the order {', '.join(STEPS)}")
        if steps[-1] != "conference":
            checker.fail(f"{key}.steps", "a review ends with the structured conference")
        if item.get("targets") not in (18, 36):
            checker.fail(f"{key}.targets", "must be 18 or 36 (months after signing)")
        if item.get("needed_when", "always") not in _NEEDED_WHEN:
            checker.fail(f"{key}.needed_when", f"must be one of {', '.join(_NEEDED_WHEN)}")


def _determination(checker: _Checker, table: Any) -> None:
    checker.keys("determination", table, _DETERMINATION)
    for name, value in table.items():
        key = f"determination.{name}"
        try:
            share = Fraction(value) if isinstance(value, str) else None
        except (ValueError, ZeroDivisionError):
            share = None
        if share is None or not 0 <= share <= 1:
            checker.fail(key, 'must be a fraction between 0 and 1, written like "1/3"')


def _notices(checker: _Checker, table: Any) -> None:
    checker.keys("notices", table, _NOTICES)
    if not isinstance(table.get("business_days", False), bool):
        checker.fail("notices.business_days", "must be true or false")


def _funds(checker: _Checker, table: Any) -> None:
    checker.keys("funds", table, _FUNDS)
    appropriations = table.get("appropriations", {})
    if not isinstance(appropriations, Mapping):
        checker.fail("funds.appropriations", "must be a table of fiscal years")
    for year, amount in appropriations.items():
        key = f"funds.appropriations.{year}"
        try:
            if fiscal_year(year) != year:
                raise BadInput(year)
            parse_dollars(amount if isinstance(amount, str | int) else "?", key)
        except BadInput:
            checker.fail(key, 'must name a fiscal year like "2025-26" and an amount in dollars '
                         'like "6137400.00"')  # fmt: skip
