"""Section 21(h) fund requests through the CLI: the guidelines checked at submission, the
appropriation, a return and a resubmission, the audit trail, and bad input refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from funds_helpers import (
    YEAR,
    add_activity,
    agreement_with_benchmark,
    approved,
    budget,
    new_request,
    show_request,
    under_review,
)
from helpers import (
    DIRECTOR,
    LIAISON,
    STATE_SUPERINTENDENT,
    Pal,
    escalate,
    ok,
    refused,
    today,
)

from config.rules import load_rules, use_rules_dir
from states.errors import BadRules
from states.funds import fiscal_year_of


@pytest.fixture
def plan(seeded: Pal) -> tuple[Pal, int, int]:
    agreement, benchmark = agreement_with_benchmark(seeded)
    return seeded, agreement, benchmark


def test_a_request_goes_from_draft_to_effectiveness_reported_with_every_step_audited(
    plan: tuple[Pal, int, int],
) -> None:
    """Each step of a request's life is one audit row of its history, verified by the chain."""
    pal, agreement, benchmark = plan
    request = approved(pal, agreement, benchmark, "125000.00", "0.10")
    ok(pal, "funds", "fund", request, "--by", DIRECTOR)
    ok(pal, "funds", "report", request, "--effectiveness", "78% observed", "--by", LIAISON)
    view = show_request(pal, request)
    assert {k: view[k] for k in ("id", "agreement", "year", "state", "total", "priorities")} == {
        "id": request, "agreement": agreement, "year": YEAR, "state": "effectiveness_reported",
        "total": "125000.10", "priorities": ["literacy", "p8"],
    }  # fmt: skip
    assert view["activities"][0] == {"category": "pd_teachers", "amount": "125000.00",
        "metrics": "share of teachers observed using the new practice"}  # fmt: skip
    assert [(h["event"], h["to"]) for h in view["history"]] == [
        ("funds_enter", "draft"), ("funds_add_activity", "draft"),
        ("funds_add_activity", "draft"), ("funds_submit", "submitted"),
        ("funds_start_review", "under_review"), ("funds_approve", "approved"),
        ("funds_fund", "funded"), ("funds_report", "effectiveness_reported"),
    ]  # fmt: skip
    assert view["history"][5]["by"] == DIRECTOR and view["history"][5]["data"]["total"] == (
        "125000.10")  # fmt: skip
    assert "audit log verified" in ok(pal, "audit", "verify")


def test_the_request_is_shown_in_words(plan: tuple[Pal, int, int]) -> None:
    """`funds show` says stages, categories and amounts as people read them."""
    pal, agreement, benchmark = plan
    request = under_review(pal, agreement, benchmark, "125000.00")
    text = ok(pal, "funds", "show", request)
    for words in ("Under review", "Professional development for teachers", "$125,000.00",
                  "Literacy, P-8", "start the review of the fund request"):  # fmt: skip
        assert words in text
    for name in ("under_review", "pd_teachers", "funds_"):
        assert name not in text


def test_submission_names_every_missing_guideline_in_one_error_and_saves_nothing(
    plan: tuple[Pal, int, int],
) -> None:
    """No rationale, benchmark, priority or activity: one error names each (exit 2)."""
    pal, agreement, _ = plan
    request = int(ok(pal, "funds", "request", agreement, "--year", YEAR, "--rationale", " ",
                     "--serves", "", "--priorities", "", "--by", LIAISON))  # fmt: skip
    error = refused(pal, 2, "funds", "submit", request, "--by", LIAISON).stderr
    for item in ("a rationale", "at least one agreement goal or benchmark",
                 "at least one agency priority", "at least one activity"):  # fmt: skip
        assert item in error


def test_each_activity_needs_an_amount_above_zero_and_metrics(plan: tuple[Pal, int, int]) -> None:
    """An activity of $0.00 with no metrics is named twice in the submission's one error."""
    pal, agreement, benchmark = plan
    request = new_request(pal, agreement, benchmark)
    add_activity(pal, request, "10.00")
    ok(pal, "funds", "activity", request, "--category", "teacher_mentors", "--amount", "0",
       "--metrics", "", "--by", LIAISON)  # fmt: skip
    error = refused(pal, 2, "funds", "submit", request, "--by", LIAISON).stderr
    assert "an amount above zero for activity 2 (Teacher mentors)" in error
    assert "effectiveness metrics for activity 2 (Teacher mentors)" in error
    assert "activity 1" not in error


def test_a_request_waits_for_the_effectiveness_of_the_agreements_funded_requests(
    plan: tuple[Pal, int, int],
) -> None:
    """Until a funded request reports its effectiveness, the next one cannot be submitted."""
    pal, agreement, benchmark = plan
    first = approved(pal, agreement, benchmark, "1000.00")
    ok(pal, "funds", "fund", first, "--by", DIRECTOR)
    second = new_request(pal, agreement, benchmark)
    add_activity(pal, second, "2000.00")
    refused(pal, 2, "funds", "submit", second, "--by", LIAISON,
            mentions=f"effectiveness data for funded request {first}")  # fmt: skip
    ok(pal, "funds", "report", first, "--effectiveness", "met", "--by", LIAISON)
    ok(pal, "funds", "submit", second, "--by", LIAISON)


def test_an_approval_beyond_the_appropriation_is_refused_showing_what_remains(
    plan: tuple[Pal, int, int],
) -> None:
    """$6,137,400 in 2025-26: after $6,000,000, $137,400.01 is refused (exit 3), $137,400 not."""
    pal, agreement, benchmark = plan
    approved(pal, agreement, benchmark, "6000000.00")
    over = under_review(pal, agreement, benchmark, "137400.01")
    refused(pal, 3, "funds", "approve", over, "--by", DIRECTOR, mentions="$137,400.00 remains")
    exact = under_review(pal, agreement, benchmark, "100000.00", "37400.00")
    ok(pal, "funds", "approve", exact, "--by", DIRECTOR)
    assert budget(pal) == {"year": YEAR, "appropriation": "6137400.00", "approved": "6137400.00",
                           "funded": "0.00", "remaining": "0.00"}  # fmt: skip
    ok(pal, "funds", "deny", over, "--note", "no funds remain", "--by", DIRECTOR)


def test_budget_counts_funded_amounts_and_defaults_to_this_fiscal_year(
    plan: tuple[Pal, int, int],
) -> None:
    """`funds budget` adds what was funded; with no --year it is today's fiscal year."""
    pal, agreement, benchmark = plan
    request = approved(pal, agreement, benchmark, "1234.56")
    ok(pal, "funds", "fund", request, "--by", DIRECTOR)
    assert budget(pal)["funded"] == "1234.56"
    assert budget(pal)["remaining"] == str(Decimal("6137400.00") - Decimal("1234.56"))
    this_year = fiscal_year_of(today())
    if this_year != YEAR:  # no appropriation in the rules for it
        refused(pal, 2, "funds", "budget", mentions=f"no appropriation for fiscal year {this_year}")
    text = ok(pal, "funds", "budget", "--year", YEAR)
    assert "$6,136,165.44" in text and "remaining" in text


def test_a_returned_request_is_changed_and_submitted_again(plan: tuple[Pal, int, int]) -> None:
    """Returned with comments, it takes another activity and goes through review again."""
    pal, agreement, benchmark = plan
    request = under_review(pal, agreement, benchmark, "5000.00")
    refused(pal, 2, "funds", "return", request, "--by", DIRECTOR, mentions="needs --note")
    comments = "add mentoring for new teachers"
    ok(pal, "funds", "return", request, "--note", comments, "--by", DIRECTOR)
    assert show_request(pal, request)["state"] == "returned"
    add_activity(pal, request, "2500.50", "teacher_mentors")
    ok(pal, "funds", "submit", request, "--by", LIAISON)
    ok(pal, "funds", "review", request, "--by", LIAISON)
    ok(pal, "funds", "approve", request, "--by", DIRECTOR)
    view = show_request(pal, request)
    assert view["total"] == "7500.50" and view["state"] == "approved"
    returned = [h for h in view["history"] if h["to"] == "returned"]
    assert returned[0]["note"] == comments
    assert budget(pal)["approved"] == "7500.50"


def test_activities_are_added_only_to_a_draft_or_a_returned_request(
    plan: tuple[Pal, int, int],
) -> None:
    """Once submitted, an activity is refused in words (exit 3) and nothing changes."""
    pal, agreement, benchmark = plan
    request = under_review(pal, agreement, benchmark, "10.00")
    refused(pal, 3, "funds", "activity", request, "--category", "pd_leaders", "--amount", "1",
            "--metrics", "m", "--by", LIAISON, mentions="“Under review”")  # fmt: skip


def test_only_the_director_decides_and_funds(plan: tuple[Pal, int, int]) -> None:
    """The liaison may not approve, deny, return or fund (exit 4)."""
    pal, agreement, benchmark = plan
    request = under_review(pal, agreement, benchmark, "10.00")
    for command in ("approve", "deny", "return"):
        refused(pal, 4, "funds", command, request, "--note", "n", "--by", LIAISON)
    ok(pal, "funds", "approve", request, "--by", DIRECTOR)
    refused(pal, 4, "funds", "fund", request, "--by", LIAISON)
    refused(pal, 4, "funds", "request", agreement, "--year", YEAR, "--rationale", "r", "--serves",
            benchmark, "--priorities", "literacy", "--by", STATE_SUPERINTENDENT)  # fmt: skip


@pytest.mark.parametrize("year", ["2025-27", "2025", "25-26", "2025-2026", "2099-00x", "२०२५-26"])
def test_a_fiscal_year_is_written_like_2025_26(plan: tuple[Pal, int, int], year: str) -> None:
    """A year not written YYYY-YY, or not ending the year after it starts, is bad input."""
    pal, agreement, benchmark = plan
    refused(pal, 2, "funds", "request", agreement, "--year", year, "--rationale", "r",
            "--serves", benchmark, "--priorities", "literacy", "--by", LIAISON)  # fmt: skip


@pytest.mark.parametrize(("serves", "priorities"), [("99", "literacy"), ("x", "literacy"),
                                                    ("{b}", "numeracy"), ("{b}", "p8,math")])
def test_unknown_benchmarks_and_priorities_are_refused(
    plan: tuple[Pal, int, int], serves: str, priorities: str
) -> None:
    """--serves names the agreement's benchmarks, --priorities the agency's: else exit 2."""
    pal, agreement, benchmark = plan
    refused(pal, 2, "funds", "request", agreement, "--year", YEAR, "--rationale", "r", "--serves",
            serves.format(b=benchmark), "--priorities", priorities, "--by", LIAISON)  # fmt: skip


@pytest.mark.parametrize(("amount", "why"), [
    ("125000.001", "more than two decimal places"), ("-5.00", "cannot be negative"),
    ("1e6", "like 125000.00"), ("100000000.01", "more than $100,000,000.00"),
    ("NaN", "like 125000.00"), ("", "a value for amount"), ("12.5.0", "like 125000.00"),
])  # fmt: skip
def test_bad_amounts_are_refused_and_change_nothing(
    plan: tuple[Pal, int, int], amount: str, why: str
) -> None:
    """An amount is dollars and cents, from 0 to $100,000,000.00: else exit 2, nothing saved."""
    pal, agreement, benchmark = plan
    request = new_request(pal, agreement, benchmark)
    refused(pal, 2, "funds", "activity", request, "--category", "pd_teachers", "--amount",
            amount, "--metrics", "m", "--by", LIAISON, mentions=why)  # fmt: skip


def test_unknown_requests_categories_and_states_are_bad_input(plan: tuple[Pal, int, int]) -> None:
    """A request, agreement, category or state not on file: exit 2, nothing changed."""
    pal, agreement, benchmark = plan
    request = new_request(pal, agreement, benchmark)
    refused(pal, 2, "funds", "activity", request, "--category", "travel", "--amount", "1",
            "--metrics", "m", "--by", LIAISON, mentions="activity categories")  # fmt: skip
    refused(pal, 2, "funds", "submit", 999, "--by", LIAISON, mentions="no fund request 999")
    refused(pal, 2, "funds", "request", 999, "--year", YEAR, "--rationale", "r", "--serves", "",
            "--priorities", "", "--by", LIAISON, mentions="no agreement 999")  # fmt: skip
    refused(pal, 2, "funds", "list", "--state", "pending", mentions="unknown state")
    refused(pal, 2, "funds", "show", 999)


def test_an_ended_agreement_takes_no_request(plan: tuple[Pal, int, int]) -> None:
    """A district no longer in partnership cannot request funds (exit 3)."""
    pal, agreement, _ = plan
    escalate(pal, agreement)
    refused(pal, 3, "funds", "request", agreement, "--year", YEAR, "--rationale", "r",
            "--serves", "", "--priorities", "", "--by", LIAISON, mentions="has ended")  # fmt: skip


def test_list_filters_by_year_agreement_and_state(plan: tuple[Pal, int, int]) -> None:
    """`funds list` shows every year unless --year; the filters combine."""
    pal, agreement, benchmark = plan
    draft = new_request(pal, agreement, benchmark)
    later = new_request(pal, agreement, benchmark, year="2026-27")

    def listed(*args: str) -> list[int]:
        return [r["id"] for r in json.loads(ok(pal, "funds", "list", "--json", *args))]

    assert listed() == [draft, later]
    assert listed("--year", "2026-27") == [later]
    assert listed("--agreement", str(agreement), "--state", "draft") == [draft, later]
    assert listed("--state", "approved") == []
    assert "Draft" in ok(pal, "funds", "list")


def test_funding_is_dated_by_on_and_never_in_the_future(plan: tuple[Pal, int, int]) -> None:
    """`funds fund --on` dates the funding; a day after today is refused (exit 2)."""
    pal, agreement, benchmark = plan
    request = approved(pal, agreement, benchmark, "10.00")
    tomorrow = (today() + timedelta(days=1)).isoformat()
    refused(pal, 2, "funds", "fund", request, "--on", tomorrow, "--by", DIRECTOR,
            mentions="in the future")  # fmt: skip
    stepped = json.loads(ok(pal, "funds", "fund", request, "--on", today().isoformat(), "--by",
                            DIRECTOR, "--json"))  # fmt: skip
    assert stepped == {"id": request, "state": "funded"}
    assert show_request(pal, request)["funded_on"] == today().isoformat()


@pytest.fixture
def rules_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "rules"
    folder.mkdir()
    use_rules_dir(folder)
    yield folder
    use_rules_dir(None)


def test_a_later_years_appropriation_is_data(rules_dir: Path) -> None:
    """A version that adds 2026-27 keeps 2025-26 from the version it extends."""
    body = '[funds.appropriations]\n"2026-27" = "7000000"\n'
    (rules_dir / "2099-03.toml").write_text(f'extends = "2017-10"\nversion = "2099-03"\n{body}')
    rules = load_rules("2099-03")
    assert rules.appropriation("2026-27") == Decimal("7000000.00")
    assert rules.appropriation("2025-26") == Decimal("6137400.00")


@pytest.mark.parametrize("entry", ['"2026-28" = "1.00"', '"2026-27" = 6137400.5',
                                   '"2026-27" = "1.005"', '"2026-27" = "-1"'])  # fmt: skip
def test_a_bad_appropriation_is_refused_at_load(rules_dir: Path, entry: str) -> None:
    """A year not written like 2025-26, or an amount not in dollars and cents: the version does
    not load, and the error names the key."""
    (rules_dir / "2099-04.toml").write_text('extends = "2017-10"\nversion = "2099-04"\n'
                                            f'[funds.appropriations]\n{entry}\n')  # fmt: skip
    with pytest.raises(BadRules, match=r"2099-04.toml: funds\.appropriations\.2026-2"):
        load_rules("2099-04")
