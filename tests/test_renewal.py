"""Renewal: the agreement ends as `renewed` and a new one, under the current default rules,
starts in the needs assessment; it is re-signed and clocked from its own signing."""

from __future__ import annotations

from datetime import date

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
    ok,
    refused,
    show,
    sign,
)
from service_support import local, outbox, tick, timer_statuses

RENEWED_ON = "2021-05-10"
RENEW_NOTE = "two schools still short of their 36-month targets"


def renew(pal: Pal, agreement: int) -> int:
    out = ok(pal, "agreement", "fire", agreement, "renew", "--note", RENEW_NOTE, "--by", DIRECTOR,
             "--on", RENEWED_ON)  # fmt: skip
    assert out.startswith(
        f"agreement {agreement}: renew the partnership agreement; stage: Renewed; "
        "continued as agreement "
    )
    renewal = show(pal, agreement)["renewed_as"]
    assert isinstance(renewal, int)
    return renewal


@pytest.mark.parametrize("event", ["exit", "renew"])
def test_no_outcome_before_the_36_month_determination(seeded: Pal, event: str) -> None:
    """In the 36-month review, exit and renew are refused (3) until its status is determined."""
    agreement = at_review_36(seeded, determined=False)
    refused(seeded, 3, "agreement", "fire", agreement, event, "--by", DIRECTOR,
            "--on", RENEWED_ON, "--note", "stated", mentions="determination")  # fmt: skip


def test_renew_ends_the_agreement_and_closes_its_deadlines(seeded: Pal, db_url: str) -> None:
    """The renewed agreement is final: no open deadline, no pending timer, no more signatures."""
    agreement = at_review_36(seeded)
    renewal = renew(seeded, agreement)
    old = show(seeded, agreement)
    assert old["state"] == "renewed"
    assert old["renewed_as"] == renewal and old["renewed_from"] is None
    assert [d for d in old["deadlines"] if d["status"] == "open"] == []
    assert "pending" not in timer_statuses(db_url, agreement).values()
    assert old["history"][-1]["data"] == {"renewed_as": renewal}
    refused = seeded("agreement", "sign", agreement, "--party", "board", "--by", LIAISON)
    assert_error(refused, 3)


def test_the_renewal_starts_in_the_needs_assessment_with_no_signatures(seeded: Pal) -> None:
    """Same district, liaison and consequences; no signatures; plan due 90 days after renewal."""
    agreement = at_review_36(seeded, "--consequences", "reconstitution,closure")
    renewal = show(seeded, renew(seeded, agreement))
    assert renewal["state"] == "needs_assessment"
    assert renewal["renewed_from"] == agreement and renewal["renewed_as"] is None
    assert renewal["district"] == TRAD
    assert renewal["liaison"] == LIAISON
    assert renewal["consequences"] == ["reconstitution", "closure"]
    assert renewal["signatures"] == {}
    assert renewal["signed_on"] is None
    assert renewal["rules_version"] == "2017-10"
    assert deadline(renewal, "plan_due") == {
        "kind": "plan_due", "due": "2021-08-08", "status": "open", "closed_on": None,
    }  # fmt: skip
    first = renewal["history"][0]
    assert (first["event"], first["from"], first["to"], first["by"]) == (
        "renew", None, "needs_assessment", DIRECTOR,
    )  # fmt: skip


def test_the_renewal_is_re_signed_and_clocked_from_its_own_signing(seeded: Pal) -> None:
    """Every party signs again; the RGA is 18 and the review 36 months from the new signing."""
    renewal = renew(seeded, at_review_36(seeded))
    sign(seeded, renewal, TRAD_PARTIES, on="2021-06-30")
    view = show(seeded, renewal)
    assert view["state"] == "signed"
    assert view["signed_on"] == "2021-06-30"
    assert view["signatures"] == dict.fromkeys(TRAD_PARTIES, "2021-06-30")
    assert deadline(view, "plan_due")["status"] == "met"
    assert deadline(view, "rga_due")["due"] == "2022-12-30"
    assert deadline(view, "review_36_due")["due"] == "2024-06-30"


def test_a_renewed_2017_04_agreement_follows_the_current_rules(seeded: Pal) -> None:
    """An agreement identified under the 60-day rules is renewed under the statute's 90 days."""
    agreement = at_review_36(seeded, "--rules", "2017-04")
    renewal = show(seeded, renew(seeded, agreement))
    assert show(seeded, agreement)["rules_version"] == "2017-04"
    assert renewal["rules_version"] == "2017-10"
    assert deadline(renewal, "plan_due")["due"] == "2021-08-08"


def test_the_service_reminds_the_renewal_not_the_renewed(seeded: Pal) -> None:
    """After a renewal only the new agreement's plan reminders fall due."""
    renewal = renew(seeded, at_review_36(seeded))
    result = tick(seeded, local(date(2021, 7, 9)))  # 30 days before the new plan is due
    assert "1 timers fired" in result.stdout
    timed = [row for row in outbox(seeded) if row["occurrence"].startswith("timer")]
    assert timed and {row["agreement_id"] for row in timed} == {renewal}
    assert {row["notice"] for row in timed} == {"plan_reminder"}


@pytest.mark.parametrize("event", ["exit", "renew"])
def test_a_district_whose_agreement_ended_can_be_identified_again_only_after_exit(
    seeded: Pal, event: str
) -> None:
    """A renewal is the district's active agreement, so a new identify is refused; after an
    exit it is allowed."""
    agreement = at_review_36(seeded)
    ok(seeded, "agreement", "fire", agreement, event, "--note", RENEW_NOTE, "--by", DIRECTOR,
       "--on", RENEWED_ON)  # fmt: skip
    result = seeded("agreement", "identify", TRAD, "--by", DIRECTOR, "--on", RENEWED_ON)
    if event == "renew":
        assert_error(result, 3)
    else:
        assert result.exit_code == 0, result.stderr
