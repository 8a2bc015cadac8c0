"""Timed steps go through the same engine path and permission table as people do, and a timer
that cannot run fails alone: the rest of its batch and the delivery pass go on."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import smtp_server as smtp
from helpers import (
    DIRECTOR,
    LIAISON,
    PSA,
    TRAD,
    Pal,
    escalate,
    execute,
    identify,
    ok,
    person,
    reported,
    show,
    start_assessment,
)
from service_support import (
    PLAN_DUE,
    RGA_DUE,
    expected,
    key_parts,
    local,
    mail_log,
    tick,
    timer_statuses,
)

DIRECTOR_ONLY = "2099-01"


@pytest.fixture
def mailed(mailed: Pal, tmp_path: Path) -> Pal:
    """conftest's `mailed`, plus a rule version in which only the director may open the RGA
    (so the system may not)."""
    seeded = mailed
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / f"{DIRECTOR_ONLY}.toml").write_text(
        f'extends = "2017-10"\nversion = "{DIRECTOR_ONLY}"\n'
        '[permissions]\nopen_rga = ["director"]\n'
    )
    seeded.env["PAL_RULES_DIR"] = str(rules)
    return seeded


def signed_under(pal: Pal, rules: str) -> int:
    agreement = identify(pal, TRAD, "--rules", rules)
    start_assessment(pal, agreement)
    for party in ("board", "superintendent", "mde"):
        ok(pal, "agreement", "sign", agreement, "--party", party, "--by", LIAISON,
           "--on", "2018-05-01")  # fmt: skip
    return agreement


def body(item: Any) -> str:
    text: str = item.message.get_body(("plain",)).get_content()
    return text


def test_the_sweep_does_not_open_the_rga_where_the_rules_leave_it_to_the_director(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """With `open_rga = ["director"]` the RGA is not opened by `system`; the liaison and the
    director are told, in words, why, and the agreement stays signed."""
    agreement = signed_under(mailed, DIRECTOR_ONLY)
    seen = len(smtp_server.received)

    result = tick(mailed, local(RGA_DUE))

    assert show(mailed, agreement)["state"] == "signed"
    refused = "open the 18-month Review of Goal Attainment, while at Plan signed"
    assert f"not possible: partnership agreement {agreement}: {refused}" in result.stdout
    told = smtp_server.received[seen:]
    assert mail_log((m.rcpt_tos, m.message) for m in told) == expected(
        agreement, "action_not_possible", (LIAISON, DIRECTOR)
    )
    text = body(told[0])
    assert "open the 18-month Review of Goal Attainment" in text
    assert f"(version {DIRECTOR_ONLY}) leave it to the Director of Partnership Districts" in text
    assert "open_rga" not in text and "system" not in text
    assert [e["event"] for e in show(mailed, agreement)["history"]][-1] == "sign"


def test_the_director_may_still_open_that_rga_by_hand(mailed: Pal) -> None:
    """The same rules let the director do what the system may not."""
    agreement = signed_under(mailed, DIRECTOR_ONLY)
    tick(mailed, local(RGA_DUE))
    ok(mailed, "agreement", "fire", agreement, "open_rga", "--by", DIRECTOR, "--on", "2019-11-05")
    assert show(mailed, agreement)["state"] == "rga"


def test_under_the_default_rules_the_sweep_opens_the_rga(mailed: Pal) -> None:
    """The control: the shipped rules let `system` open the RGA when it falls due."""
    agreement = signed_under(mailed, "2017-10")
    tick(mailed, local(RGA_DUE))
    assert show(mailed, agreement)["state"] == "rga"


def test_a_broken_timer_fails_alone_and_the_rest_are_sent(
    mailed: Pal, smtp_server: smtp.SmtpServer, db_url: str
) -> None:
    """A timer whose step the rules do not know is recorded as failed, with its error; the
    good timers of the same batch are sent, and `pal status` shows the failure."""
    trad = identify(mailed, TRAD)
    psa = identify(mailed, PSA)
    for agreement in (trad, psa):
        start_assessment(mailed, agreement)
    due_at = datetime.fromisoformat(local(PLAN_DUE, offset_days=-30)).astimezone(UTC)
    deadline_id = execute(db_url, "SELECT id FROM deadline WHERE agreement_id = :a", a=trad)[0][0]
    execute(
        db_url,
        "INSERT INTO timer (agreement_id, deadline_id, ladder, offset_days, notice, fire_at,"
        " status) VALUES (:a, :d, 'nonesuch', -30, 'plan_reminder', :at, 'pending')",
        a=trad, d=deadline_id, at=due_at,
    )  # fmt: skip
    seen = len(smtp_server.received)

    result = tick(mailed, local(PLAN_DUE, offset_days=-30))

    assert "FAILED: agreement" in result.stdout
    assert timer_statuses(db_url, trad)[("nonesuch", -30)] == "failed"
    assert timer_statuses(db_url, trad)[("plan_due", -30)] == "done"
    assert timer_statuses(db_url, psa)[("plan_due", -30)] == "done"
    sent = {key_parts(m.message)[:2] for m in smtp_server.received[seen:]}
    assert sent == {(trad, "plan_reminder"), (psa, "plan_reminder")}
    status = json.loads(reported(mailed, "status", "--json"))
    [failed] = status["timers_failed"]
    assert failed["agreement"] == trad
    assert "no step nonesuch-30" in failed["error"]
    assert "timers failed: 1" in reported(mailed, "status")


def test_a_failed_timer_is_not_run_again_by_the_next_sweep(mailed: Pal, db_url: str) -> None:
    """A failed timer stays failed (visible in `pal status`) instead of failing every minute."""
    agreement = identify(mailed, TRAD)
    deadline_id = execute(db_url, "SELECT id FROM deadline WHERE agreement_id = :a",
                          a=agreement)[0][0]  # fmt: skip
    execute(
        db_url,
        "INSERT INTO timer (agreement_id, deadline_id, ladder, offset_days, action, fire_at,"
        " status) VALUES (:a, :d, 'plan_due', 5, 'no_such_action', :at, 'pending')",
        a=agreement, d=deadline_id, at=datetime(2018, 4, 1, 12, tzinfo=UTC),
    )  # fmt: skip
    first = tick(mailed, local(PLAN_DUE, offset_days=-58))
    assert "FAILED" in first.stdout
    second = tick(mailed, local(PLAN_DUE, offset_days=-57))
    assert "FAILED" not in second.stdout
    assert timer_statuses(db_url, agreement)[("plan_due", 5)] == "failed"


def test_a_failed_step_does_not_silence_the_rest_of_its_ladder(
    mailed: Pal, smtp_server: smtp.SmtpServer, db_url: str, tmp_path: Path
) -> None:
    """A later step that cannot render fails alone: the earlier reminder it would otherwise
    overtake is still sent, and only the timers that ran are counted as fired."""
    rules = Path(mailed.env["PAL_RULES_DIR"] or "")
    (rules / "2099-09.toml").write_text(
        'extends = "2017-10"\nversion = "2099-09"\n'
        '[[timers]]\ndeadline = "plan_due"\nladder = "plan_due"\noffsets_days = [-20]\n'
        # This notice needs the words of a blocked action, which a plain step does not give.
        'notice = "action_not_possible"\nto = ["liaison"]\n'
    )
    agreement = identify(mailed, TRAD, "--rules", "2099-09")
    start_assessment(mailed, agreement)
    seen = len(smtp_server.received)

    result = tick(mailed, local(PLAN_DUE, offset_days=-20))

    statuses = timer_statuses(db_url, agreement)
    assert statuses[("plan_due", -30)] == "done"
    assert statuses[("plan_due", -20)] == "failed"
    assert "swept: 1 timers fired" in result.stdout
    sent = {key_parts(m.message)[1] for m in smtp_server.received[seen:]}
    assert sent == {"plan_reminder"}


def test_escalation_tells_the_district_and_the_director(mailed: Pal) -> None:
    """An event that ends the agreement still sends its notices (here: `escalated`)."""
    agreement = signed_under(mailed, "2017-10")
    escalate(mailed, agreement, on="2019-01-15")
    told = {row["to"] for row in outbox_rows(mailed) if row["notice"] == "escalated"}
    assert DIRECTOR in told
    assert {person(TRAD, "superintendent"), person(TRAD, "board_president")} <= told


def outbox_rows(pal: Pal) -> list[dict[str, Any]]:
    return list(json.loads(ok(pal, "outbox", "list", "--json")))
