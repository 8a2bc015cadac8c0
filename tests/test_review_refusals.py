"""Bad plan and review input is refused in words, with exit 2 or 3, and changes nothing."""

from __future__ import annotations

import pytest
from helpers import (
    DIRECTOR,
    LIAISON,
    TRAD,
    TRAD_PARTIES,
    Pal,
    assert_error,
    at_review_36,
    deadline,
    fire,
    identify,
    measure,
    planning_school,
    record_steps,
    review_done,
    show,
    sign,
    signed_off_track,
    snapshot,
    start_assessment,
)


def benchmark(pal: Pal, agreement: int, *values: str) -> tuple[int, str]:
    """`benchmark add` for R1's attendance rate: (exit code, stderr)."""
    baseline, target_18, target_36, *extra = values
    result = pal("benchmark", "add", agreement, "--school", "R1", "--kind", "attendance_rate",
                 "--baseline", baseline, "--target-18", target_18, "--target-36", target_36,
                 *extra, "--on", "2018-04-01", "--by", LIAISON)  # fmt: skip
    return result.exit_code, result.stderr


@pytest.mark.parametrize(
    "values",
    [
        ("90", "85", "95"),
        ("90", "95", "80"),
        ("10", "12", "8", "--lower-is-better"),
        ("50", "60", "55"),
    ],
)
def test_a_target_behind_the_baseline_is_refused(seeded: Pal, values: tuple[str, ...]) -> None:
    """A target on the wrong side of the baseline for its direction is bad input."""
    agreement = planning_school(seeded, "R1")
    before = snapshot(seeded.db_url)
    code, stderr = benchmark(seeded, agreement, *values)
    assert (code, "is behind the" in stderr) == (2, True), stderr
    assert snapshot(seeded.db_url) == before


def test_a_target_equal_to_the_baseline_is_kept(seeded: Pal) -> None:
    """Holding a level already reached is a target: equal to the baseline is accepted."""
    agreement = planning_school(seeded, "R1")
    assert benchmark(seeded, agreement, "95", "95", "96")[0] == 0


@pytest.mark.parametrize("value", ["1e999999999999999999", "1_000", "１２", "nan", "1e16", ""])
def test_a_number_not_written_plainly_is_refused(seeded: Pal, value: str) -> None:
    """Huge exponents, underscores, non-ASCII digits, NaN and blanks are bad input (2)."""
    agreement = planning_school(seeded, "R1")
    before = snapshot(seeded.db_url)
    code, stderr = benchmark(seeded, agreement, value, "95", "96")
    assert code == 2 and stderr.startswith("error: "), stderr
    assert "internal" not in stderr
    assert snapshot(seeded.db_url) == before


def test_a_second_value_for_the_same_date_is_refused(seeded: Pal) -> None:
    """A benchmark has one measurement per date: a second is not allowed (3)."""
    agreement, measured = signed_off_track(seeded, "R1")
    measure(seeded, agreement, measured, 82, "2019-01-15", on="2019-01-20")
    result = seeded("benchmark", "measure", measured, "--value", "83", "--on", "2019-01-15",
                    "--by", LIAISON)  # fmt: skip
    assert_error(result, 3, mentions="already has a measurement dated 2019-01-15")


def test_a_benchmark_number_written_with_a_leading_zero_is_the_same_benchmark(
    seeded: Pal,
) -> None:
    """`01` names benchmark 1 wherever a benchmark is named."""
    agreement, measured = signed_off_track(seeded, "R1")
    fire(seeded, agreement, "record_measurement", "--set", f"benchmark=0{measured}",
         "--set", "value=81", "--set", "on=2019-01-15", by=LIAISON, on="2019-01-20")  # fmt: skip
    assert show(seeded, agreement)["history"][-1]["event"] == "record_measurement"


def test_an_override_to_the_computed_status_is_refused(seeded: Pal) -> None:
    """Overriding a school to the status the rules already give it is bad input (2)."""
    agreement, _ = signed_off_track(seeded, "R1")  # never measured: Limited Progress
    fire(seeded, agreement, "open_rga", by=DIRECTOR, on="2019-11-01")
    record_steps(seeded, agreement, on="2019-11-05")
    result = seeded(
        "review",
        "determine",
        agreement,
        "--override",
        "R1=off_track_limited",
        "--reason",
        "R1=as computed",
        "--by",
        DIRECTOR,
        "--on",
        "2019-11-06",
    )
    assert_error(result, 2, mentions="nothing to override")


def test_an_rga_that_judged_no_school_keeps_the_24_month_review(seeded: Pal) -> None:
    """With no school in the plan, nothing is On-Track: the 24-month review is not waived."""
    agreement = identify(seeded, TRAD)
    start_assessment(seeded, agreement)
    sign(seeded, agreement, TRAD_PARTIES, on="2018-05-01")
    fire(seeded, agreement, "open_rga", by=DIRECTOR, on="2019-11-01")
    review_done(seeded, agreement, on="2019-11-05")
    assert deadline(show(seeded, agreement), "review_24_due")["status"] == "open"


def test_renewal_needs_the_reason_it_tells_the_district(seeded: Pal) -> None:
    """`renew` without a note is bad input (2): the renewal notice tells the reason."""
    agreement = at_review_36(seeded)
    result = seeded("agreement", "fire", agreement, "renew", "--by", DIRECTOR, "--on", "2021-05-10")
    assert_error(result, 2, mentions="needs --note")


def test_a_week_date_is_not_a_measurement_date(seeded: Pal) -> None:
    """A measurement dated `2019-W49-1` is refused (2): dates are YYYY-MM-DD everywhere."""
    agreement, measured = signed_off_track(seeded, "R1")
    result = seeded("agreement", "fire", agreement, "record_measurement", "--set",
                    f"benchmark={measured}", "--set", "value=81", "--set", "on=2019-W49-1",
                    "--by", LIAISON, "--on", "2019-12-10")  # fmt: skip
    assert_error(result, 2, mentions="YYYY-MM-DD")


def test_a_step_with_no_review_open_is_refused_in_words(seeded: Pal) -> None:
    """`review step` before any review opens names the agreement's stage, not an event (3)."""
    agreement, _ = signed_off_track(seeded, "R1")
    result = seeded("review", "step", agreement, "evidence", "--by", LIAISON)
    assert_error(result, 3, mentions="no review is open: the agreement is at the stage “Plan")
    assert "record_evidence" not in result.stderr
