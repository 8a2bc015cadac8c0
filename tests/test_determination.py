"""The determination business rule, as pure functions of states/review.py: each branch and
boundary of `school_status`, when a benchmark is met or shows progress, and which measurement and
which targets a review judges by."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from states.review import (
    BenchmarkInput,
    DeterminationRule,
    Measured,
    PlannedBenchmark,
    determine,
    school_status,
)

RULE = DeterminationRule()  # the default: at least 1/3 met, or more than 1/2 of the rest moved
DAY = date(2019, 12, 2)


def bench(value: float | None, *, baseline: float = 40, target: float = 50,
          lower: bool = False, n: int = 1) -> BenchmarkInput:  # fmt: skip
    return BenchmarkInput(
        id=n, kind="local", label=f"measure {n}", baseline=baseline, target=target,
        lower_is_better=lower, value=value, measured_on=None if value is None else DAY,
    )  # fmt: skip


MET = 55.0  # at or beyond the target of 50
MOVED = 45.0  # above the baseline of 40, below the target
STUCK = 40.0  # at the baseline: no progress


def school(*values: float | None) -> list[BenchmarkInput]:
    return [bench(value, n=n) for n, value in enumerate(values, start=1)]


# --- met and progress ----------------------------------------------------------------------------


def test_a_benchmark_is_met_at_its_target_exactly() -> None:
    """Higher is better: the target value itself is met; just below it is not."""
    assert bench(50).met and bench(50.1).met
    assert not bench(49.9).met


def test_a_lower_is_better_benchmark_is_met_at_or_below_its_target() -> None:
    """Lower is better: the target value itself is met, above it not."""
    assert bench(8, baseline=12, target=8, lower=True).met
    assert bench(7, baseline=12, target=8, lower=True).met
    assert not bench(8.5, baseline=12, target=8, lower=True).met


def test_progress_is_a_move_from_the_baseline_toward_the_target() -> None:
    """Higher is better: above the baseline is progress; at or below it is none."""
    assert bench(41).progress
    assert not bench(40).progress and not bench(39).progress


def test_a_lower_is_better_benchmark_progresses_when_below_its_baseline() -> None:
    """Lower is better: below the baseline is progress; at or above it is none."""
    assert bench(11, baseline=12, target=8, lower=True).progress
    assert not bench(12, baseline=12, target=8, lower=True).progress
    assert not bench(13, baseline=12, target=8, lower=True).progress


def test_a_benchmark_without_a_measurement_is_neither_met_nor_moved() -> None:
    """No value: not met, no progress, and its record says value and date null."""
    missing = bench(None)
    assert not missing.met and not missing.progress
    record = missing.as_record()
    assert (record["value"], record["measured_on"], record["met"], record["progress"]) == (
        None, None, False, False
    )  # fmt: skip


def test_the_record_keeps_every_input_in_words_a_reader_needs() -> None:
    """The recorded input names baseline, target, direction, value, date, met and progress."""
    assert bench(7, baseline=12, target=8, lower=True).as_record() == {
        "id": 1, "kind": "local", "label": "measure 1", "baseline": 12, "target": 8,
        "direction": "lower", "value": 7, "measured_on": "2019-12-02", "met": True,
        "progress": True,
    }  # fmt: skip


# --- the status of a school ----------------------------------------------------------------------


def test_every_benchmark_met_is_on_track() -> None:
    """All met: On-Track."""
    assert school_status(school(MET, MET, 50), RULE) == "on_track"


def test_all_but_one_met_is_off_track_with_progress() -> None:
    """One benchmark missed, even with the others met, is off track (with progress)."""
    assert school_status(school(MET, MET, STUCK), RULE) == "off_track_progress"


def test_exactly_a_third_met_is_off_track_with_progress() -> None:
    """1 of 3 met (exactly a third), none of the rest moved: Off-Track with Progress."""
    assert school_status(school(MET, STUCK, STUCK), RULE) == "off_track_progress"


def test_just_under_a_third_met_without_progress_is_limited() -> None:
    """1 of 4 met (under a third), none of the rest moved: Off-Track with Limited Progress."""
    assert school_status(school(MET, STUCK, STUCK, STUCK), RULE) == "off_track_limited"


def test_progress_on_more_than_half_of_the_rest_is_off_track_with_progress() -> None:
    """None of 3 met, 2 of them moved (more than half): Off-Track with Progress."""
    assert school_status(school(MOVED, MOVED, STUCK), RULE) == "off_track_progress"


def test_progress_on_exactly_half_of_the_rest_is_limited() -> None:
    """None of 4 met, 2 of them moved (exactly half, not more): Limited Progress."""
    assert school_status(school(MOVED, MOVED, STUCK, STUCK), RULE) == "off_track_limited"


def test_under_a_third_met_with_most_of_the_rest_moved_is_progress() -> None:
    """1 of 4 met, 2 of the 3 others moved (more than half of the rest): Progress."""
    assert school_status(school(MET, MOVED, MOVED, STUCK), RULE) == "off_track_progress"


def test_nothing_met_or_moved_is_limited() -> None:
    """No benchmark met, none moved: Off-Track with Limited Progress."""
    assert school_status(school(STUCK, 30, STUCK), RULE) == "off_track_limited"


def test_unmeasured_benchmarks_count_as_missed_and_not_moved() -> None:
    """Two met and one unmeasured is off track; three unmeasured is limited progress."""
    assert school_status(school(MET, MET, None), RULE) == "off_track_progress"
    assert school_status(school(None, None, None), RULE) == "off_track_limited"
    assert school_status(school(MOVED, MOVED, None, None), RULE) == "off_track_limited"


def test_a_school_without_benchmarks_is_limited() -> None:
    """No benchmark at all: nothing shows the school on track, so limited progress."""
    assert school_status([], RULE) == "off_track_limited"


def test_lower_is_better_benchmarks_count_like_the_others() -> None:
    """A lower-is-better benchmark at its target is met; one below its baseline has moved."""
    on = [bench(8, baseline=12, target=8, lower=True, n=1), bench(MET, n=2)]
    assert school_status(on, RULE) == "on_track"
    moving = [bench(11, baseline=12, target=8, lower=True, n=1), bench(MOVED, n=2),
              bench(STUCK, n=3)]  # fmt: skip
    assert school_status(moving, RULE) == "off_track_progress"
    rising = [bench(13, baseline=12, target=8, lower=True, n=1), bench(STUCK, n=2),
              bench(MOVED, n=3), bench(STUCK, n=4)]  # fmt: skip
    assert school_status(rising, RULE) == "off_track_limited"


def test_the_shares_are_rule_data() -> None:
    """Another rule version's shares change the result for the same benchmarks."""
    strict = DeterminationRule(met_at_least=Fraction(1, 2), moved_more_than=Fraction(2, 3))
    third = school(MET, STUCK, STUCK)
    assert school_status(third, RULE) == "off_track_progress"
    assert school_status(third, strict) == "off_track_limited"
    lenient = DeterminationRule(met_at_least=Fraction(1, 4), moved_more_than=Fraction(1, 3))
    assert school_status(school(MET, STUCK, STUCK, STUCK), lenient) == "off_track_progress"


# --- which measurement, which targets ------------------------------------------------------------


def planned(*measured: tuple[float, date], school_code: str = "S1", kind: str = "on_track",
            n: int = 1) -> PlannedBenchmark:  # fmt: skip
    return PlannedBenchmark(
        id=n, school=school_code, kind=kind, label=None, baseline=40, target_18=50, target_36=60,
        lower_is_better=False, measurements=tuple(Measured(v, on) for v, on in measured),
    )  # fmt: skip


def test_the_latest_measurement_on_or_before_the_day_is_used() -> None:
    """Of measurements before, on and after the day, the one on the day is judged; later ignored."""
    benchmark = planned((41, date(2019, 6, 1)), (52, DAY), (30, date(2019, 12, 3)))
    judged = benchmark.at(DAY, 18)
    assert (judged.value, judged.measured_on, judged.met) == (52, DAY, True)
    earlier = benchmark.at(date(2019, 12, 1), 18)
    assert (earlier.value, earlier.measured_on, earlier.met) == (41, date(2019, 6, 1), False)


def test_measurements_only_after_the_day_leave_the_benchmark_unmeasured() -> None:
    """A measurement taken after the determination day does not count."""
    judged = planned((70, date(2020, 1, 1))).at(DAY, 18)
    assert (judged.value, judged.measured_on, judged.met, judged.progress) == (
        None, None, False, False
    )  # fmt: skip


def test_the_18_and_36_month_reviews_judge_against_their_own_targets() -> None:
    """A value of 55 meets the 18-month target (50) but not the 36-month one (60)."""
    benchmark = planned((55, DAY))
    assert benchmark.at(DAY, 18).target == 50 and benchmark.at(DAY, 18).met
    assert benchmark.at(DAY, 36).target == 60 and not benchmark.at(DAY, 36).met
    assert benchmark.at(DAY, 36).progress


def test_determine_gives_each_school_its_own_status_and_keeps_the_agreed_one() -> None:
    """Each covered school is judged on its own benchmarks; an override is the agreed status
    with its reason, the computed one kept beside it; a school without any is limited."""
    benchmarks = [
        planned((55, DAY), school_code="S1", n=1),
        planned((45, DAY), school_code="S2", n=2),
        planned((39, DAY), school_code="S2", kind="attendance_rate", n=3),
    ]
    results = determine(
        ["S1", "S2", "S3"], benchmarks, DAY, 18, RULE,
        {"S2": "off_track_progress"}, {"S2": "a new principal since March"},
    )  # fmt: skip
    found = {r.school: (r.computed, r.agreed, r.reason, len(r.inputs)) for r in results}
    assert found == {
        "S1": ("on_track", "on_track", None, 1),
        "S2": ("off_track_limited", "off_track_progress", "a new principal since March", 2),
        "S3": ("off_track_limited", "off_track_limited", None, 0),
    }


@pytest.mark.parametrize("high_school", [True, False])
def test_a_school_without_a_graduation_benchmark_is_judged_on_the_others(
    high_school: bool,
) -> None:
    """A school with no graduation-rate benchmark is on track when its other benchmarks are met;
    a high school's missed graduation rate keeps it off track."""
    benchmarks = [planned((55, DAY), n=1), planned((52, DAY), kind="attendance_rate", n=2)]
    if high_school:
        benchmarks.append(planned((41, DAY), kind="graduation_rate", n=3))
    [result] = determine(["S1"], benchmarks, DAY, 18, RULE, {}, {})
    assert result.computed == ("off_track_progress" if high_school else "on_track")
    assert ("graduation_rate" in {b.kind for b in result.inputs}) == high_school
