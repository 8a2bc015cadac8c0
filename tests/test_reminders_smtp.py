"""Reminders, overdue notices and timed actions, moved by `pal tick --now`, through a real SMTP
server on 127.0.0.1 (aiosmtpd), on SQLite and PostgreSQL."""

from __future__ import annotations

import socket
from datetime import date, datetime, time
from email.utils import parsedate_to_datetime
from typing import Any

import smtp_server as smtp
from helpers import (
    DIRECTOR,
    LIAISON,
    PSA,
    STATE_SUPERINTENDENT,
    STATUS_EXITS,
    TRAD,
    TRAD_PARTIES,
    Pal,
    escalate,
    execute,
    identify,
    ok,
    person,
    review_done,
    show,
    sign,
    signed_agreement,
    start_assessment,
)
from service_support import (
    MAIL_FROM,
    MAIL_FROM_ADDRESS,
    PLAN_DUE,
    PSA_REMINDED,
    REVIEW_36_DUE,
    REVIEW_TOLD,
    RGA_DUE,
    TRAD_REMINDED,
    duplicate_keys,
    expected,
    key_parts,
    local,
    mail_log,
    notice_day,
    outbox,
    state_of,
    tick,
    timer_statuses,
    use_smtp,
)

PLAN_NOTICES = ("plan_reminder", "plan_overdue", "plan_overdue_accountability")
LAKE = "LAKE"
LAKE_NAME = "<b>Lake & Co</b>"


def received(server: smtp.SmtpServer, since: int = 0) -> list[tuple[int, str, str]]:
    return mail_log((item.rcpt_tos, item.message) for item in server.received[since:])


def in_progress(pal: Pal, district: str = TRAD) -> int:
    """An agreement identified on 2018-03-01 whose liaison is named: plan due 2018-05-30."""
    agreement = identify(pal, district)
    start_assessment(pal, agreement)
    return agreement


def add_lake(pal: Pal, *roles: str) -> None:
    """A traditional district named `<b>Lake & Co</b>` with a contact for each of `roles`."""
    ok(pal, "district", "add", LAKE, "--name", LAKE_NAME, "--isd", "Wayne RESA")
    for role in roles:
        ok(pal, "contact", "add", person(LAKE, role), "--name", role.title(), "--role", role,
           "--district", LAKE)  # fmt: skip


def identify_lake(pal: Pal) -> int:
    result = pal("agreement", "identify", LAKE, "--on", "2018-03-01", "--by", DIRECTOR)
    assert result.exit_code == 0, result.stderr
    agreement = int(result.stdout.strip())
    start_assessment(pal, agreement)
    return agreement


# --- plan_due: reminders and overdue notices -------------------------------------------------


def test_plan_reminders_reach_district_leaders_psa_authorizer_and_liaison_on_each_reminder_day(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """Each plan reminder goes out on its day at 08:00 local to the superintendent, the board
    president, the authorizer (PSA only) and the liaison, and not a minute or a day earlier."""
    trad = in_progress(mailed, TRAD)
    psa = in_progress(mailed, PSA)

    for offset in (-30, -14, -7, -1):
        seen = len(smtp_server.received)
        tick(mailed, local(PLAN_DUE, offset_days=offset - 1))
        tick(mailed, local(PLAN_DUE, time(7, 59), offset_days=offset))
        assert received(smtp_server, seen) == [], offset

        tick(mailed, local(PLAN_DUE, offset_days=offset))

        assert received(smtp_server, seen) == sorted(
            expected(trad, "plan_reminder", TRAD_REMINDED)
            + expected(psa, "plan_reminder", PSA_REMINDED)
        ), offset
        for item in smtp_server.received[seen:]:
            text = item.message.get_body(("plain",)).get_content()
            assert ("due tomorrow" if offset == -1 else f"due in {-offset} days") in text
            assert "Wednesday, May 30, 2018" in text
            # The liaison is named as the contact to everyone but the liaison.
            assert (LIAISON in text) is (LIAISON not in item.message["To"])
    assert duplicate_keys(mailed.db_url) == []


def test_overdue_notices_go_weekly_to_liaison_and_director_four_times_then_the_state_superintendent(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """An unsigned plan brings an overdue notice the day after the due date and every 7 days, four
    in all, to the liaison and director; at 30 days overdue the state superintendent is told."""
    agreement = in_progress(mailed)
    tick(mailed, local(PLAN_DUE, time(23, 59)))  # the last reminder went out the day before
    seen = len(smtp_server.received)

    for offset in (1, 8, 15, 22):
        tick(mailed, local(PLAN_DUE, offset_days=offset))
        assert received(smtp_server, seen) == expected(
            agreement, "plan_overdue", (LIAISON, DIRECTOR)
        ), offset
        seen = len(smtp_server.received)
    tick(mailed, local(PLAN_DUE, offset_days=29))
    assert received(smtp_server, seen) == []

    tick(mailed, local(PLAN_DUE, offset_days=30))
    assert received(smtp_server, seen) == expected(
        agreement, "plan_overdue_accountability", (STATE_SUPERINTENDENT,)
    )
    tick(mailed, local(PLAN_DUE, offset_days=60))
    assert received(smtp_server, seen + 1) == []
    assert state_of(mailed.db_url, agreement) == "needs_assessment"  # no automatic escalation


def test_ticks_repeated_at_the_same_moment_send_nothing_twice(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """A second and third tick at the same `now` fire nothing, queue nothing and send nothing."""
    agreement = in_progress(mailed)
    when = local(PLAN_DUE, offset_days=-30)
    first = tick(mailed, when)
    assert "1 timers fired" in first.stdout
    rows = execute(mailed.db_url, "SELECT id, idempotency_key, status, attempts FROM outbox")

    again = [tick(mailed, when) for _ in range(2)]

    assert all("0 timers fired" in r.stdout and "0 notices queued" in r.stdout for r in again)
    assert all("delivered: 0 sent" in r.stdout for r in again)
    assert received(smtp_server) == expected(agreement, "plan_reminder", TRAD_REMINDED)
    assert execute(mailed.db_url, "SELECT id, idempotency_key, status, attempts FROM outbox") == (
        rows
    )
    assert duplicate_keys(mailed.db_url) == []


def test_after_downtime_one_tick_sends_one_overdue_notice_and_the_state_note_not_a_backlog(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """With nothing running from identification to 40 days past the plan deadline, one tick sends
    the latest overdue notice (liaison, director) and the state superintendent's note; every
    earlier step of the ladder is marked skipped."""
    agreement = in_progress(mailed)

    result = tick(mailed, local(PLAN_DUE, offset_days=40))

    assert "2 timers fired, 7 superseded" in result.stdout
    assert received(smtp_server) == sorted(
        expected(agreement, "plan_overdue", (LIAISON, DIRECTOR))
        + expected(agreement, "plan_overdue_accountability", (STATE_SUPERINTENDENT,))
    )
    overdue = [i.message for i in smtp_server.received if key_parts(i.message)[1] == "plan_overdue"]
    assert all("40 days overdue" in m.get_body(("plain",)).get_content() for m in overdue)
    statuses = timer_statuses(mailed.db_url, agreement)
    assert statuses == {
        **{("plan_due", o): "skipped" for o in (-30, -14, -7, -1, 1, 8, 15)},
        ("plan_due", 22): "done",
        ("plan_due_state_superintendent", 30): "done",
    }
    outcomes = execute(
        mailed.db_url,
        "SELECT offset_days, outcome FROM timer WHERE agreement_id = :id AND status = 'skipped'",
        id=agreement,
    )
    assert {outcome for _, outcome in outcomes} == {"superseded by the step at +22 days"}
    tick(mailed, local(PLAN_DUE, offset_days=41))
    assert len(smtp_server.received) == 3


def test_plan_reminders_stop_once_the_plan_is_signed(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """A plan signed before the 7-day reminder gets no further plan reminder nor overdue notice."""
    agreement = in_progress(mailed)
    tick(mailed, local(PLAN_DUE, offset_days=-30))
    tick(mailed, local(PLAN_DUE, offset_days=-14))
    seen = len(smtp_server.received)
    assert seen == 2 * len(TRAD_REMINDED)

    sign(mailed, agreement, TRAD_PARTIES, on="2018-05-20")
    for offset in (-7, -1, 1, 8, 15, 22, 30, 40):
        tick(mailed, local(PLAN_DUE, offset_days=offset))

    assert [m for m in received(smtp_server, seen) if m[1] in PLAN_NOTICES] == []
    statuses = timer_statuses(mailed.db_url, agreement)
    plan_steps = {k: v for k, v in statuses.items() if k[0].startswith("plan_due")}
    assert plan_steps == {
        ("plan_due", -30): "done",
        ("plan_due", -14): "done",
        **{("plan_due", o): "cancelled" for o in (-7, -1, 1, 8, 15, 22)},
        ("plan_due_state_superintendent", 30): "cancelled",
    }


def test_plan_reminders_stop_once_the_agreement_is_escalated(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """An agreement sent to the next level of accountability gets no further plan reminder nor
    overdue notice: its deadlines are closed."""
    agreement = in_progress(mailed)
    tick(mailed, local(PLAN_DUE, offset_days=-30))
    seen = len(smtp_server.received)
    escalate(mailed, agreement, on="2018-05-01")

    for offset in (-14, -1, 1, 30, 40):
        tick(mailed, local(PLAN_DUE, offset_days=offset))

    assert [m for m in received(smtp_server, seen) if m[1] in PLAN_NOTICES] == []
    statuses = timer_statuses(mailed.db_url, agreement)
    assert statuses.pop(("plan_due", -30)) == "done"
    assert set(statuses.values()) == {"cancelled"}


def test_a_role_with_nobody_on_file_gets_no_email_but_an_unaddressed_outbox_row(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """A district with no board president (nor ISD superintendent) on file: the reminder reaches
    the others, and each missing role shows as `unaddressed` in `pal outbox list --json`, never
    attempted."""
    add_lake(mailed, "superintendent")
    agreement = identify_lake(mailed)

    tick(mailed, local(PLAN_DUE, offset_days=-30))

    assert received(smtp_server) == expected(
        agreement, "plan_reminder", (person(LAKE, "superintendent"), LIAISON)
    )
    missing = [
        r for r in outbox(mailed, "--status", "unaddressed") if r["notice"] == "plan_reminder"
    ]
    assert sorted(r["to"] for r in missing) == ["(board_president)", "(isd_superintendent)"]
    row = next(r for r in missing if r["to"] == "(board_president)")
    assert row["status"] == "unaddressed"
    assert row["attempts"] == 0
    assert "board_president" in row["last_error"]
    assert row["id"] in {r["id"] for r in outbox(mailed)}


# --- rga_due and review_36_due: reminders and timed actions ---------------------------------


def test_rga_reminders_90_and_30_days_before_then_the_system_opens_the_rga_on_the_due_date(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """Superintendent and liaison are reminded 90 and 30 days before the RGA is due; on the due
    date at 08:00 the `system` actor fires open_rga."""
    agreement = signed_agreement(mailed, TRAD)
    for offset in (-90, -30):
        seen = len(smtp_server.received)
        sends_on = notice_day(RGA_DUE, offset)  # 90 days before is a Saturday: the Friday
        tick(mailed, local(sends_on, offset_days=-1))
        assert received(smtp_server, seen) == []
        tick(mailed, local(sends_on))
        told = expected(agreement, "rga_reminder", REVIEW_TOLD)
        assert received(smtp_server, seen) == told, offset

    tick(mailed, local(RGA_DUE, time(7, 59)))
    assert state_of(mailed.db_url, agreement) == "signed"
    result = tick(mailed, local(RGA_DUE))

    opened = "open the 18-month Review of Goal Attainment; now at 18-month Review of Goal "
    opened += "Attainment"
    assert f"partnership agreement {agreement}: {opened}" in result.stdout
    view = show(mailed, agreement)
    assert view["state"] == "rga"
    last = view["history"][-1]
    assert (last["event"], last["by"], last["to"], last["on"]) == (
        "open_rga",
        "system",
        "rga",
        RGA_DUE.isoformat(),
    )
    assert [d["status"] for d in view["deadlines"] if d["kind"] == "rga_due"] == ["met"]
    rga_steps = {
        k: v for k, v in timer_statuses(mailed.db_url, agreement).items() if k[0] == "rga_due"
    }
    assert rga_steps == {("rga_due", -90): "done", ("rga_due", -30): "done", ("rga_due", 0): "done"}


def test_review_36_reminder_then_the_system_opens_the_review_when_implementing(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """An implementing agreement gets the 60-day review reminder, and on the due date `system`
    fires open_review_36."""
    agreement = signed_agreement(mailed, TRAD)
    tick(mailed, local(RGA_DUE))
    review_done(mailed, agreement, on="2019-12-02")
    assert state_of(mailed.db_url, agreement) == "implementing"
    # An RGA that judged no school leaves the 24-month review to follow.
    tick(mailed, local(date(2020, 5, 1)))
    assert state_of(mailed.db_url, agreement) == "review_24"
    review_done(mailed, agreement, on="2020-05-04")
    tick(mailed, local(date(2020, 5, 4)))  # the reviews' own notices go out
    seen = len(smtp_server.received)

    tick(mailed, local(REVIEW_36_DUE, offset_days=-61))
    assert received(smtp_server, seen) == []
    tick(mailed, local(REVIEW_36_DUE, offset_days=-60))
    assert received(smtp_server, seen) == expected(agreement, "review_36_reminder", REVIEW_TOLD)
    result = tick(mailed, local(REVIEW_36_DUE))

    opened = f"agreement {agreement}: open the 36-month review; now at 36-month review"
    assert opened in result.stdout
    last = show(mailed, agreement)["history"][-1]
    assert (last["event"], last["by"], last["to"]) == ("open_review_36", "system", "review_36")


def test_review_36_due_while_still_in_rga_tells_liaison_and_director_and_changes_nothing(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """When the 36-month review falls due and the agreement is not implementing, the liaison and
    director get `action_not_possible` and the state stays as it was."""
    agreement = signed_agreement(mailed, TRAD)
    tick(mailed, local(RGA_DUE))
    tick(mailed, local(REVIEW_36_DUE, offset_days=-1))  # the RGA's own reminders go out
    before = show(mailed, agreement)
    assert before["state"] == "rga"
    seen = len(smtp_server.received)

    result = tick(mailed, local(REVIEW_36_DUE))

    assert "now at 36-month review" not in result.stdout
    assert (
        f"not possible: partnership agreement {agreement}: open the 36-month review, while at "
        "18-month Review of Goal Attainment"
    ) in result.stdout
    assert received(smtp_server, seen) == expected(
        agreement, "action_not_possible", (LIAISON, DIRECTOR)
    )
    text = smtp_server.received[seen].message.get_body(("plain",)).get_content()
    assert "open the 36-month review" in text
    assert "at the stage “18-month Review of Goal Attainment”" in text
    assert "“Implementing the plan”" in text
    assert "open_review_36" not in text and "`" not in text
    after = show(mailed, agreement)
    assert after["state"] == "rga"
    assert after["history"] == before["history"]
    tick(mailed, local(REVIEW_36_DUE, offset_days=1))
    assert len(smtp_server.received) == seen + 2


# --- the messages themselves ----------------------------------------------------------------


def test_a_district_name_with_markup_arrives_escaped_in_html_and_as_is_in_text(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """`<b>Lake & Co</b>` is escaped in the HTML part and verbatim in the text part of a proper
    multipart/alternative message (in a multipart/mixed with the reminder's calendar entry) with
    Date, Message-ID, From = PAL_MAIL_FROM and To = the recipient."""
    add_lake(mailed, "superintendent", "board_president")
    agreement = identify_lake(mailed)
    when = local(PLAN_DUE, offset_days=-30)

    tick(mailed, when)

    rows = {r["to"]: r for r in outbox(mailed) if r["notice"] == "plan_reminder"}
    assert len(smtp_server.received) == 3
    for item in smtp_server.received:
        message = item.message
        [to] = item.rcpt_tos
        assert key_parts(message)[:2] == (agreement, "plan_reminder")
        assert message.get_content_type() == "multipart/mixed"
        alternative, calendar = message.iter_parts()
        assert calendar.get_content_type() == "text/calendar"
        assert alternative.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in alternative.iter_parts()] == [
            "text/plain",
            "text/html",
        ]
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        assert "&lt;b&gt;Lake &amp; Co&lt;/b&gt;" in html
        assert LAKE_NAME not in html
        assert LAKE_NAME in text
        assert "&lt;" not in text and "&amp;" not in text
        assert message["From"] == MAIL_FROM
        assert item.mail_from == MAIL_FROM_ADDRESS
        assert message["To"].addresses[0].addr_spec == to
        assert message["Message-ID"] == rows[to]["message_id"]
        assert parsedate_to_datetime(message["Date"]) == datetime.fromisoformat(when)


# --- an SMTP server that is down --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((smtp.HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def test_tick_exits_0_when_mail_cannot_be_delivered_and_the_outbox_shows_retrying(
    seeded: Pal,
) -> None:
    """With the SMTP server down the sweep still runs: exit 0, the failure on stderr, the rows
    `retrying` with their last error in `pal outbox list` and counted in `pal status`."""
    use_smtp(seeded, smtp.HOST, free_port())
    agreement = in_progress(seeded)

    result = seeded("tick", "--now", local(PLAN_DUE, offset_days=-30))

    assert result.exit_code == 0, result.stderr
    assert "1 timers fired" in result.stdout
    assert f"delivered: 0 sent, {len(TRAD_REMINDED)} to retry, 0 failed" in result.stdout
    assert "cannot connect" in result.stderr
    assert "Traceback" not in result.stderr
    retrying = outbox(seeded, "--status", "retrying")
    assert sorted(r["to"] for r in retrying) == sorted(TRAD_REMINDED)
    assert all(r["attempts"] == 1 and "cannot connect" in r["last_error"] for r in retrying)
    assert all(r["agreement_id"] == agreement for r in retrying)
    status = seeded("status", "--json")
    assert status.exit_code in STATUS_EXITS, status.stderr
    assert status.json()["outbox"]["retrying"] == len(TRAD_REMINDED)


def test_a_server_down_at_the_first_tick_gets_the_mail_at_a_later_tick_exactly_once(
    seeded: Pal, smtp_server_factory: Any
) -> None:
    """Mail that could not go out is delivered by the first tick after the backoff once the
    server is up, and never again."""
    server = smtp_server_factory(port=free_port(), start=False)
    use_smtp(seeded, server.host, server.port)
    agreement = in_progress(seeded)
    first = date(2018, 4, 30)
    tick(seeded, local(first))
    server.start()

    tick(seeded, local(first, time(8, 0, 30)))  # still inside the one-minute backoff
    assert server.received == []
    tick(seeded, local(first, time(8, 2)))
    for later in (time(8, 5), time(10, 0)):
        tick(seeded, local(first, later))

    assert received(server) == expected(agreement, "plan_reminder", TRAD_REMINDED)
    rows = [r for r in outbox(seeded) if r["notice"] == "plan_reminder"]
    assert {(r["status"], r["attempts"], r["last_error"]) for r in rows} == {("sent", 2, None)}
