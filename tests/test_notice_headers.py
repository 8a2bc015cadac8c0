"""The headers and calendar entries of notices (issue 12), through `pal` and a real SMTP server
(aiosmtpd on 127.0.0.1), on SQLite and PostgreSQL: names in To and Reply-To, the Message-ID
domain, threads of a deadline's notices, and `.ics` entries read back with `icalendar`."""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage
from typing import Any

import smtp_server as smtp
from helpers import (
    DIRECTOR,
    LIAISON,
    TRAD,
    TRAD_PARTIES,
    Pal,
    execute,
    identify,
    ok,
    person,
    sign,
    signed_agreement,
    start_assessment,
)
from icalendar import Calendar
from service_support import MAIL_FROM_ADDRESS, PLAN_DUE, key_parts, local, tick

from storage.db import make_engine
from storage.migrate import downgrade, upgrade


def due_now(pal: Pal) -> None:
    """Make the notices commands queued (at the wall clock's `now`) due at a simulated tick."""
    execute(pal.db_url, "UPDATE outbox SET next_attempt_at = '2000-01-01 00:00:00' "
            "WHERE status = 'pending'")  # fmt: skip


def messages(server: smtp.SmtpServer, notice: str, since: int = 0) -> list[EmailMessage]:
    return [r.message for r in server.received[since:] if key_parts(r.message)[1] == notice]


def calendar_of(message: EmailMessage) -> Calendar:
    """The message's one `text/calendar` attachment, parsed by icalendar."""
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "PUBLISH"
    assert part.get_filename() == "deadline.ics"
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return Calendar.from_ical(data)


def events(message: EmailMessage) -> dict[str, Any]:
    """The calendar's events by UID, as (start date, SEQUENCE, summary)."""
    found = {}
    for event in calendar_of(message).walk("VEVENT"):
        start = event.decoded("dtstart")
        assert type(start) is date  # all day: a date, not a date-time
        found[str(event["uid"])] = (start, int(event["sequence"]), str(event["summary"]))
    return found


def to_address(message: EmailMessage) -> str:
    return str(message["To"].addresses[0].addr_spec)


def test_a_reminder_carries_its_deadline_as_an_all_day_calendar_entry(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """The 30-day plan reminder and the identification notice both carry the plan's due date as
    one all-day PUBLISH event with the same UID, SEQUENCE 0 and a summary in words."""
    agreement = identify(mailed, TRAD)
    start_assessment(mailed, agreement)
    due_now(mailed)
    tick(mailed, local(PLAN_DUE, offset_days=-30))
    [identified, *_] = messages(smtp_server, "identified")
    reminders = messages(smtp_server, "plan_reminder")
    assert reminders
    [(uid, entry)] = events(identified).items()
    assert uid == f"deadline-{agreement}-plan_due-1@mde.example"
    assert entry == (PLAN_DUE, 0, "Due: the signed partnership plan (TRAD Public Schools)")
    for reminder in reminders:
        assert reminder.get_content_type() == "multipart/mixed"
        assert events(reminder) == {uid: entry}
        assert reminder.get_body(("plain",)) is not None  # the words are still there


def test_a_notice_with_nothing_to_put_in_a_calendar_stays_multipart_alternative(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """Naming the liaison sets no date: no attachment, no thread, multipart/alternative."""
    agreement = identify(mailed, TRAD)
    start_assessment(mailed, agreement)
    due_now(mailed)
    tick(mailed, local(date(2018, 3, 6)))
    [named] = messages(smtp_server, "liaison_named")
    assert named.get_content_type() == "multipart/alternative"
    assert named["In-Reply-To"] is None and named["References"] is None
    assert named["Content-Language"] == "en"


def test_a_corrected_date_keeps_the_entry_uid_and_raises_its_sequence(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """Signed 2018-05-01, corrected to 2018-06-01: the signing notice's three entries are sent
    again by the correction's notice with the same UIDs, the new dates and SEQUENCE 1, and the
    RGA's next reminder carries the corrected entry too."""
    agreement = signed_agreement(mailed)
    due_now(mailed)
    tick(mailed, local(date(2018, 5, 2)))
    [signed, *_] = messages(smtp_server, "signed")
    before = events(signed)
    rga = f"deadline-{agreement}-rga_due-1@mde.example"
    assert before[rga][:2] == (date(2019, 11, 1), 0)
    assert len(before) == 3
    seen = len(smtp_server.received)
    ok(mailed, "agreement", "correct", agreement, "--on", "2018-06-01", "--reason", "typo",
       "--by", DIRECTOR)  # fmt: skip
    due_now(mailed)
    tick(mailed, local(date(2018, 6, 2)))
    [corrected, *_] = messages(smtp_server, "date_corrected", seen)
    after = events(corrected)
    assert set(after) == set(before)
    assert after[rga][:2] == (date(2019, 12, 1), 1)
    assert all(sequence == 1 for _, sequence, _ in after.values())
    seen = len(smtp_server.received)
    due_now(mailed)
    tick(mailed, local(date(2019, 9, 2)))  # 90 days before 2019-12-01
    [reminder, *_] = messages(smtp_server, "rga_reminder", seen)
    assert events(reminder) == {rga: after[rga]}


def test_a_deadlines_notices_form_one_thread_per_deadline(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """The identification notice, the four plan reminders and the overdue notices all answer
    the plan's thread root (In-Reply-To and References); the signing notice answers another."""
    agreement = identify(mailed, TRAD)
    start_assessment(mailed, agreement)
    for offset in (-30, -14, -7, -1, 1, 8):
        due_now(mailed)
        tick(mailed, local(PLAN_DUE, offset_days=offset))
    sign(mailed, agreement, TRAD_PARTIES, on="2018-06-20")
    due_now(mailed)
    tick(mailed, local(date(2018, 6, 21)))
    root = f"<deadline-{agreement}-plan_due.1@mde.example>"
    plan = [
        m
        for notice in ("identified", "plan_reminder", "plan_overdue")
        for m in messages(smtp_server, notice)
    ]
    liaison = [m for m in plan if to_address(m) == LIAISON]
    assert len(liaison) == 4 + 2  # four reminders, two overdue notices
    for message in plan:
        assert message["In-Reply-To"] == root
        assert message["References"] == root
    # Every message has its own Message-ID, in the same domain.
    ids = [m["Message-ID"] for m in plan]
    assert len(set(ids)) == len(ids)
    assert all(i.endswith("@mde.example>") for i in ids)
    [signed, *_] = messages(smtp_server, "signed")
    assert signed["In-Reply-To"] == f"<deadline-{agreement}-rga_due.1@mde.example>"


def test_names_go_in_to_and_the_liaison_in_reply_to_of_district_facing_notices(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """Non-ASCII names with quotes and commas reach the SMTP server as display names (RFC 2047)
    and read back exactly; a district's notice has Reply-To the liaison, the liaison's own
    notice and a state-office one have none; the envelope keeps the bare addresses."""
    ok(mailed, "district", "add", "NORD", "--name", "Nørdby Schools", "--isd", "Wayne RESA")
    names = {
        "superintendent": 'Zoë "Zo" Ó Briain-Núñez, Jr.',
        "board_president": "Renée O'Hara, PhD",
    }
    for role, name in names.items():
        ok(mailed, "contact", "add", person("NORD", role), "--name", name, "--role", role,
           "--district", "NORD")  # fmt: skip
    liaison_name = "José Łukasz Müller-Ødegård"
    ok(mailed, "contact", "add", "jose@mde.example", "--name", liaison_name, "--role", "liaison")
    agreement = identify(mailed, "NORD")
    ok(mailed, "agreement", "fire", agreement, "start_assessment", "--set",
       "liaison=jose@mde.example", "--by", DIRECTOR, "--on", "2018-03-05")  # fmt: skip
    due_now(mailed)
    tick(mailed, local(PLAN_DUE, offset_days=-30))
    reminders = {r.rcpt_tos[0]: r for r in smtp_server.received
                 if key_parts(r.message)[1] == "plan_reminder"}  # fmt: skip
    assert set(reminders) == {person("NORD", role) for role in names} | {"jose@mde.example"}
    for role, name in names.items():
        received = reminders[person("NORD", role)]
        message = received.message
        [to] = message["To"].addresses
        assert (to.display_name, to.addr_spec) == (name, person("NORD", role))
        [reply] = message["Reply-To"].addresses
        assert (reply.display_name, reply.addr_spec) == (liaison_name, "jose@mde.example")
        assert received.mail_from == MAIL_FROM_ADDRESS
        assert b"=?utf-8?" in received.content  # encoded, not raw UTF-8 in a header
        assert not message.defects and all(not p.defects for p in message.walk())
    own = reminders["jose@mde.example"].message
    assert own["Reply-To"] is None  # never a Reply-To to oneself
    assert own["To"].addresses[0].display_name == liaison_name
    due_now(mailed)
    tick(mailed, local(PLAN_DUE, offset_days=1))
    overdue = messages(smtp_server, "plan_overdue")
    director = [m for m in overdue if to_address(m) == DIRECTOR]
    assert director and all(m["Reply-To"] is None for m in director)


def test_no_reply_to_when_the_agreement_has_no_liaison(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """Identified but no liaison named yet: the district's identification notice has no
    Reply-To."""
    identify(mailed, TRAD)
    due_now(mailed)
    tick(mailed, local(date(2018, 3, 2)))
    found = messages(smtp_server, "identified")
    assert found and all(m["Reply-To"] is None for m in found)


def test_the_message_id_domain_comes_from_the_setting(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """PAL_MESSAGE_ID_DOMAIN names the domain of Message-IDs, thread roots and calendar UIDs."""
    mailed.env["PAL_MESSAGE_ID_DOMAIN"] = "notices.mde.example"
    agreement = identify(mailed, TRAD)
    due_now(mailed)
    tick(mailed, local(date(2018, 3, 2)))
    found = messages(smtp_server, "identified")
    assert found
    for message in found:
        assert message["Message-ID"].endswith("@notices.mde.example>")
        assert message["In-Reply-To"] == f"<deadline-{agreement}-plan_due.1@notices.mde.example>"
        assert set(events(message)) == {f"deadline-{agreement}-plan_due-1@notices.mde.example"}


def test_a_bad_message_id_domain_is_refused_as_a_setting(mailed: Pal) -> None:
    """A domain with a blank or an `@` is refused when the settings load (exit 2), before
    anything is queued."""
    mailed.env["PAL_MESSAGE_ID_DOMAIN"] = "mde example"
    result = mailed("agreement", "identify", TRAD, "--on", "2018-03-01", "--by", DIRECTOR)
    assert result.exit_code == 2
    assert "PAL_MESSAGE_ID_DOMAIN" in result.stderr


def test_a_row_queued_before_migration_0012_still_delivers(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """A row with none of the new columns (queued before 0012) goes out as it used to: a bare
    To, no Reply-To, no thread, multipart/alternative with no attachment."""
    agreement = identify(mailed, TRAD)
    start_assessment(mailed, agreement)
    execute(mailed.db_url, "UPDATE outbox SET to_name = NULL, reply_to = NULL, "
            "reply_to_name = NULL, thread = NULL, calendar_ref = NULL")  # fmt: skip
    due_now(mailed)
    tick(mailed, local(date(2018, 3, 6)))
    found = messages(smtp_server, "identified")
    assert found
    for message in found:
        assert message["To"] == to_address(message)
        assert message["Reply-To"] is None and message["In-Reply-To"] is None
        assert message.get_content_type() == "multipart/alternative"


def test_migration_0012_goes_down_and_up_again(db_url: str, pal: Pal) -> None:
    """Downgraded to 0011 the new columns and the calendar files are gone, the bodies stay; the
    upgrade adds the columns back, empty."""
    ok(pal, "init")
    engine = make_engine(db_url)
    try:
        for email, role in ((DIRECTOR, "director"), (LIAISON, "liaison")):
            ok(pal, "contact", "add", email, "--name", role.title(), "--role", role)
        ok(pal, "district", "add", TRAD, "--name", "Trad", "--isd", "Wayne RESA")
        ok(pal, "contact", "add", person(TRAD, "superintendent"), "--name", "Sü", "--role",
           "superintendent", "--district", TRAD)  # fmt: skip
        identify(pal, TRAD)
        with_calendar = "SELECT count(*) FROM outbox WHERE calendar_ref IS NOT NULL"
        assert execute(db_url, with_calendar)[0][0] > 0
        bodies = execute(db_url, "SELECT count(*) FROM mail_body")[0][0]
        rows = execute(db_url, "SELECT count(*) FROM outbox")[0][0]
        downgrade(engine, "0011")
        assert execute(db_url, "SELECT count(*) FROM mail_body")[0][0] == bodies - 1
        upgrade(engine)
        assert execute(db_url, with_calendar)[0][0] == 0
        assert execute(db_url, "SELECT count(*) FROM outbox")[0][0] == rows
    finally:
        engine.dispose()
