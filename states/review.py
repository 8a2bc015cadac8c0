"""The reviews of an agreement, as pure data and pure decisions: which steps a review takes, in
what order, and the status each school is determined to have from its benchmarks.

The business rule that turns benchmarks into a status is rule data (`DeterminationRule`): the
agency's own table ("RGA Performance Level Business Rule Metrics") is not public, so the default
is a stand-in that a later rule version can replace without touching code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, NamedTuple

STATUSES = ("on_track", "off_track_progress", "off_track_limited")
OFF_TRACK = frozenset({"off_track_progress", "off_track_limited"})
# The review steps in the order seed 001 gives them; a review kind takes some of them.
STEPS = ("evidence", "self_assessment", "partner_assessment", "mde_assessment", "conference")
BENCHMARK_KINDS = (
    "on_track",
    "proficiency_or_growth",
    "graduation_rate",
    "attendance_rate",
    "local",
)
# Kinds a school has at most one of; `local` ones are told apart by their label.
SINGLE_KINDS = frozenset(BENCHMARK_KINDS) - {"local"}
# The kinds the law requires of every school's benchmarks (MCL 388.1622p), and of a high school.
REQUIRED_KINDS = ("on_track", "proficiency_or_growth", "attendance_rate")
HIGH_SCHOOL_KINDS = ("graduation_rate",)


def missing_kinds(present: set[str] | frozenset[str], high_school: bool) -> tuple[str, ...]:
    """The kinds the law requires of a school that its benchmarks do not include yet."""
    required = (*REQUIRED_KINDS, *HIGH_SCHOOL_KINDS) if high_school else REQUIRED_KINDS
    return tuple(kind for kind in required if kind not in present)


@dataclass(frozen=True)
class ReviewRule:
    """One kind of review, as a rule version describes it."""

    kind: str
    steps: tuple[str, ...]
    # Which targets the review judges against: 18 or 36 (months after signing).
    targets: int
    # When the review is needed at all: "always", or "any_off_track" (a school was off track
    # at the latest determination before it).
    needed_when: str = "always"


@dataclass(frozen=True)
class DeterminationRule:
    """A school is on track when every benchmark is met. Otherwise it is off track with progress
    when at least `met_at_least` of its benchmarks are met, or more than `moved_more_than` of
    those not met moved from the baseline toward the target; otherwise off track with limited
    progress."""

    met_at_least: Fraction = Fraction(1, 3)
    moved_more_than: Fraction = Fraction(1, 2)


@dataclass(frozen=True)
class BenchmarkInput:
    """One benchmark as a determination sees it: the latest value on or before the day."""

    id: int
    kind: str
    label: str | None
    baseline: float
    target: float
    lower_is_better: bool
    value: float | None
    measured_on: date | None

    @property
    def met(self) -> bool:
        if self.value is None:
            return False
        return self.value <= self.target if self.lower_is_better else self.value >= self.target

    @property
    def progress(self) -> bool:
        """Moved from the baseline toward the target (a target equal to its baseline is met
        without moving)."""
        if self.value is None:
            return False
        if self.lower_is_better:
            return self.value < self.baseline
        return self.value > self.baseline

    def as_record(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "baseline": self.baseline,
            "target": self.target,
            "direction": "lower" if self.lower_is_better else "higher",
            "value": self.value,
            "measured_on": self.measured_on.isoformat() if self.measured_on else None,
            "met": self.met,
            "progress": self.progress,
        }


def school_status(benchmarks: Sequence[BenchmarkInput], rule: DeterminationRule) -> str:
    """The status the rule gives a school with these benchmarks (none: limited progress, as
    nothing shows the school is on track)."""
    if not benchmarks:
        return "off_track_limited"
    met = sum(1 for b in benchmarks if b.met)
    if met == len(benchmarks):
        return "on_track"
    not_met = [b for b in benchmarks if not b.met]
    moved = sum(1 for b in not_met if b.progress)
    if Fraction(met, len(benchmarks)) >= rule.met_at_least:
        return "off_track_progress"
    if Fraction(moved, len(not_met)) > rule.moved_more_than:
        return "off_track_progress"
    return "off_track_limited"


class Measured(NamedTuple):
    """One measurement (a named tuple: a plan holds hundreds, built at every determination)."""

    value: float
    on: date


def benchmark_record(values: Mapping[str, Any]) -> dict[str, Any]:
    """A benchmark as stored, from what it was given (in the plan or in an amendment's draft)."""
    return {
        "school_code": values["school"],
        "kind": values["kind"],
        "label": values.get("label"),
        "baseline": values["baseline"],
        "target_18": values["target_18"],
        "target_36": values["target_36"],
        "lower_is_better": values["direction"] == "lower",
    }


@dataclass(frozen=True)
class PlannedBenchmark:
    """A benchmark of the plan, with every measurement recorded for it."""

    id: int
    school: str
    kind: str
    label: str | None
    baseline: float
    target_18: float
    target_36: float
    lower_is_better: bool
    measurements: tuple[Measured, ...] = ()

    def at(self, day: date, targets: int) -> BenchmarkInput:
        """This benchmark as judged on `day` against the `targets`-month targets."""
        latest: Measured | None = None
        for measured in self.measurements:
            if measured.on <= day and (latest is None or measured.on >= latest.on):
                latest = measured
        return BenchmarkInput(
            id=self.id,
            kind=self.kind,
            label=self.label,
            baseline=self.baseline,
            target=self.target_36 if targets == 36 else self.target_18,
            lower_is_better=self.lower_is_better,
            value=latest.value if latest else None,
            measured_on=latest.on if latest else None,
        )


@dataclass(frozen=True)
class SchoolResult:
    school: str
    computed: str
    agreed: str
    reason: str | None
    inputs: tuple[BenchmarkInput, ...]


def determine(
    schools: Sequence[str],
    benchmarks: Sequence[PlannedBenchmark],
    day: date,
    targets: int,
    rule: DeterminationRule,
    overrides: Mapping[str, str],
    reasons: Mapping[str, str],
) -> tuple[SchoolResult, ...]:
    """Each school's computed status, and the status agreed (an override, or the computed)."""
    results = []
    for school in schools:
        inputs = tuple(b.at(day, targets) for b in benchmarks if b.school == school)
        computed = school_status(inputs, rule)
        agreed = overrides.get(school, computed)
        results.append(SchoolResult(school, computed, agreed, reasons.get(school), inputs))
    return tuple(results)


@dataclass(frozen=True)
class StepDone:
    step: str
    on: date


@dataclass(frozen=True)
class OpenReview:
    """The agreement's latest review, as its guards see it."""

    kind: str
    opened_on: date
    steps: tuple[StepDone, ...] = ()
    determined_on: date | None = None

    @property
    def done(self) -> tuple[str, ...]:
        return tuple(step.step for step in self.steps)


def next_step(review: OpenReview, rule: ReviewRule) -> str | None:
    """The step the review waits for, or None once every step is recorded."""
    for step in rule.steps:
        if step not in review.done:
            return step
    return None
