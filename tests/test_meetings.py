"""Meetings (issue 16): invitations and cancellations as calendar files a calendar reads
(parsed back with icalendar), a reminder two days before, a high-need district's series every
14 days at the same local hour across a change of daylight time, ended when the district stops
being high-need; bad input changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import smtp_server as smtp
from helpers import (
    DETROIT,
    LIAISON,
    PSA,
    STATE_SUPERINTENDENT,
    TRAD,
    Pal,
    execute,
    ok,
    person,
    refused,
)
from icalendar import Calendar
from meeting_support import BY_LIAISON, agreement_with_liaison, at, run, sent
from service_support import local, tick

from workflow.meeting_series import mark_high_need, start_series
from workflow.meetings import cancel_meeting, hold_meeting, schedule_meeting

INVITED = sorted([STATE_SUPERINTENDENT, person(TRAD, "isd_superintendent"),
                  person(TRAD, "superintendent"), LIAISON])  # fmt: skip


def calendars(server: smtp.SmtpServer, case: str) -> list[Any]:
    """The calendar file of each message about `case`, parsed with icalendar, in order."""
    found = []
    for item in server.received:
        if f":{case}:" not in "".join(str(item.message["X-PAL-Key"]).split()):
            continue
        for part in item.message.walk():
            if part.get_content_type() == "text/calendar":
                parsed = Calendar.from_ical(part.get_payload(decode=True))
                # The attachment says the method its file does (RFC 6047).
                assert part.get_param("method") == str(parsed["METHOD"])
                found.append(parsed)
    return found


def test_an_invitation_and_its_cancellation_are_read_back_by_a_calendar(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """The invitation is a REQUEST with the meeting's time in UTC, its place and agenda and
    every person invited; the cancellation a CANCEL of the same UID, one SEQUENCE later."""
    agreement_with_liaison(mailed)
    starts = datetime(2019, 3, 15, 10, tzinfo=DETROIT)
    meeting = run(mailed, at(date(2019, 3, 1)), schedule_meeting, TRAD, starts, BY_LIAISON,
                  kind="high_need", place="Room 3, Lansing",
                  agenda="Attendance; reading")  # fmt: skip
    tick(mailed, at(date(2019, 3, 1), 13).isoformat())
    run(mailed, at(date(2019, 3, 4)), cancel_meeting, meeting, "the superintendent is ill",
        BY_LIAISON)  # fmt: skip
    tick(mailed, at(date(2019, 3, 4), 13).isoformat())

    invite, cancel = calendars(smtp_server, f"meeting{meeting}")[::len(INVITED)]
    request, cancelled = invite.walk("VEVENT")[0], cancel.walk("VEVENT")[0]
    assert (str(invite["METHOD"]), str(cancel["METHOD"])) == ("REQUEST", "CANCEL")
    assert request["UID"] == cancelled["UID"]
    assert (request["SEQUENCE"], cancelled["SEQUENCE"]) == (0, 1)
    assert request.decoded("DTSTART") == datetime(2019, 3, 15, 14, tzinfo=UTC)
    assert str(request["LOCATION"]) == "Room 3, Lansing"
    assert str(request["DESCRIPTION"]) == "Attendance; reading"
    assert sorted(str(a).removeprefix("mailto:") for a in request["ATTENDEE"]) == INVITED
    notices = sent(smtp_server, f"meeting{meeting}")
    assert sorted(to for notice, to in notices if notice == "meeting_invitation") == INVITED
    assert sorted(to for notice, to in notices if notice == "meeting_cancelled") == INVITED


def test_the_people_invited_are_reminded_two_days_before_and_the_meeting_is_held(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """The reminder goes out two days before (with the invitation again); once held, with who
    attended, its deadline is met."""
    agreement_with_liaison(mailed)
    starts = datetime(2019, 3, 15, 10, tzinfo=DETROIT)  # a Friday: reminded Wednesday
    meeting = run(mailed, at(date(2019, 3, 1)), schedule_meeting, TRAD, starts, BY_LIAISON,
                  kind="high_need")  # fmt: skip
    tick(mailed, local(date(2019, 3, 13)))
    tick(mailed, local(date(2019, 3, 13)))
    run(mailed, at(date(2019, 3, 15), 15), hold_meeting, meeting,
        f"{LIAISON}, {STATE_SUPERINTENDENT}", BY_LIAISON, notes="reading plan agreed")  # fmt: skip

    reminded = sorted(to for notice, to in sent(smtp_server, f"meeting{meeting}")
                      if notice == "meeting_reminder")  # fmt: skip
    assert reminded == INVITED
    assert execute(mailed.db_url, "SELECT state, attendees FROM meeting")[0][0] == "held"
    status = execute(mailed.db_url, "SELECT status FROM deadline WHERE process = 'meeting'")
    assert status == [("met",)]


def test_a_meeting_scheduled_for_tomorrow_is_not_reminded_of_on_the_heels_of_its_invitation(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """A meeting scheduled less than two days ahead sends its invitation only: the reminder's
    moment had passed when it was scheduled, and its timer says so."""
    agreement_with_liaison(mailed)
    starts = datetime(2019, 3, 15, 10, tzinfo=DETROIT)
    meeting = run(mailed, at(date(2019, 3, 14)), schedule_meeting, TRAD, starts, BY_LIAISON,
                  kind="high_need")  # fmt: skip
    tick(mailed, local(date(2019, 3, 14)))
    tick(mailed, local(date(2019, 3, 15)))

    notices = {notice for notice, _ in sent(smtp_server, f"meeting{meeting}")}
    assert notices == {"meeting_invitation"}
    timers = execute(mailed.db_url, "SELECT status, outcome FROM timer WHERE process = 'meeting'")
    assert [status for status, _ in timers] == ["skipped"]
    assert "its moment had passed when the deadline opened" in timers[0][1]


def test_an_invitation_tells_the_time_on_the_districts_clock_in_words(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """The invitation says `at 2:30 p.m. Eastern Time`, not the zone's database name."""
    agreement_with_liaison(mailed)
    starts = datetime(2019, 3, 15, 14, 30, tzinfo=DETROIT)
    run(mailed, at(date(2019, 3, 1)), schedule_meeting, TRAD, starts, BY_LIAISON, kind="dit")
    tick(mailed, local(date(2019, 3, 2)))

    invitation = next(item.message for item in smtp_server.received
                      if "Invitation" in str(item.message["Subject"]))  # fmt: skip
    text = invitation.get_body(("plain",)).get_content()
    assert "Friday, March 15, 2019 at 2:30 p.m. Eastern Time" in " ".join(text.split())
    assert "America/Detroit" not in text


def test_a_high_need_series_meets_every_14_days_at_the_same_local_hour_across_daylight_time(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """Started on 2019-03-04, before daylight time starts (03-10): its meetings are 14 days
    apart, each at 10:00 in Detroit (15:00 UTC before, 14:00 UTC after), scheduled four weeks
    ahead by the sweep; when the district stops being high-need, those still to come are
    cancelled and the series schedules no more."""
    agreement_with_liaison(mailed)
    run(mailed, at(date(2019, 2, 25)), mark_high_need, TRAD, date(2019, 2, 25),
        "chronic absence above 40%", BY_LIAISON)  # fmt: skip
    run(mailed, at(date(2019, 2, 25)), start_series, TRAD, "high_need", date(2019, 3, 4),
        BY_LIAISON)  # fmt: skip
    tick(mailed, local(date(2019, 3, 20)))
    tick(mailed, local(date(2019, 3, 20)))

    rows = execute(mailed.db_url, "SELECT due_on, at_local, starts_at FROM meeting ORDER BY id")
    days = [date.fromisoformat(str(day)) for day, _, _ in rows]
    assert days == [date(2019, 3, 4) + timedelta(days=14 * n) for n in range(4)]
    assert {local_at[11:] for _, local_at, _ in rows} == {"10:00"}
    hours = [_utc(starts).hour for _, _, starts in rows]
    assert hours == [15, 14, 14, 14]

    run(mailed, at(date(2019, 3, 21)), mark_high_need, TRAD, date(2019, 3, 21),
        "attendance recovered", BY_LIAISON, high_need=False)  # fmt: skip
    tick(mailed, local(date(2019, 4, 20)))
    states = execute(mailed.db_url, "SELECT due_on, state FROM meeting ORDER BY id")
    assert [state for _, state in states] == ["scheduled", "scheduled", "cancelled", "cancelled"]
    trail = execute(mailed.db_url,
                    "SELECT event, actor FROM audit WHERE subject LIKE 'meeting_series:%'")
    assert trail == [("series_started", LIAISON), ("series_ended", "system")]


def _utc(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(UTC) if moment.tzinfo else moment


def test_meeting_commands_print_ids_and_list_the_meetings(mailed: Pal) -> None:
    """`pal meeting schedule` prints the id; `pal meeting list` shows it on the local clock;
    `pal action add` at it prints the item's id."""
    agreement_with_liaison(mailed)
    meeting = ok(mailed, "meeting", "schedule", TRAD, "--at", "2099-03-15 10:00", "--kind", "dit",
                 "--place", "Board room", "--by", LIAISON).strip()  # fmt: skip
    listed = ok(mailed, "meeting", "list", "--district", TRAD, "--from", "2099-01-01")
    assert "2099-03-15 10:00" in listed and "District Implementation Team meeting" in listed
    found = ok(mailed, "meeting", "list", "--json", "--to", "2099-03-14")
    assert found.strip() == "[]"
    item = ok(mailed, "action", "add", meeting, "--owner", LIAISON, "--due", "2099-04-01",
              "--text", "Share the reading data", "--by", LIAISON)  # fmt: skip
    assert item.strip().isdigit()


def test_bad_meeting_input_is_refused_and_changes_nothing(mailed: Pal) -> None:
    """A malformed or past time, a time the clock skips, an unknown kind or district, a
    district with no agreement, a high-need series of a district not high-need, and a
    cancellation without a reason or twice: one error line each, nothing written."""
    agreement_with_liaison(mailed)
    by = ("--by", LIAISON)
    refused(mailed, 2, "meeting", "schedule", TRAD, "--at", "tomorrow", *by)
    refused(mailed, 2, "meeting", "schedule", TRAD, "--at", "2001-03-15 10:00", *by,
            mentions="has passed")  # fmt: skip
    refused(mailed, 2, "meeting", "schedule", TRAD, "--at", "2099-03-08 02:30", *by,
            mentions="skips")  # fmt: skip
    refused(mailed, 2, "meeting", "schedule", TRAD, "--at", "2099-03-15 10:00", "--kind",
            "party", *by)  # fmt: skip
    refused(mailed, 2, "meeting", "schedule", "NOPE", "--at", "2099-03-15 10:00", *by)
    refused(mailed, 3, "meeting", "schedule", PSA, "--at", "2099-03-15 10:00", *by,
            mentions="no partnership agreement")  # fmt: skip
    refused(mailed, 3, "meeting", "series", TRAD, "--kind", "high_need", "--start",
            "2099-01-05", *by, mentions="not high-need")  # fmt: skip
    refused(mailed, 4, "district", "high-need", TRAD, "--on", "2099-01-01", "--reason", "x",
            "--by", person(TRAD, "superintendent"))  # fmt: skip
    meeting = ok(mailed, "meeting", "schedule", TRAD, "--at", "2099-03-15 10:00", *by).strip()
    refused(mailed, 2, "meeting", "cancel", meeting, *by)
    refused(mailed, 2, "meeting", "held", meeting, "--attendees", LIAISON, *by,
            mentions="cannot be held before")  # fmt: skip
    ok(mailed, "meeting", "cancel", meeting, "--reason", "moved online", *by)
    refused(mailed, 3, "meeting", "cancel", meeting, "--reason", "again", *by)


def test_agreement_show_lists_the_next_meeting_and_the_open_action_items(mailed: Pal) -> None:
    """`pal agreement show` tells the next meeting and each open action item, in words and in
    its JSON (`next_meeting`, `open_action_items`); an item done is no longer listed."""
    agreement = agreement_with_liaison(mailed)
    meeting = ok(mailed, "meeting", "schedule", TRAD, "--at", "2099-03-15 10:00", "--kind",
                 "high_need", "--by", LIAISON).strip()  # fmt: skip
    first = ok(mailed, "action", "add", meeting, "--owner", LIAISON, "--due", "2099-04-01",
               "--text", "Share the reading data", "--by", LIAISON).strip()  # fmt: skip
    ok(mailed, "action", "add", meeting, "--owner", person(TRAD, "superintendent"), "--due",
       "2099-04-02", "--text", "Book the room", "--by", LIAISON)  # fmt: skip
    ok(mailed, "action", "done", first, "--by", LIAISON)

    shown = mailed("agreement", "show", agreement, "--json").json()
    assert shown["next_meeting"]["at"] == "2099-03-15 10:00"
    assert [item["text"] for item in shown["open_action_items"]] == ["Book the room"]
    text = ok(mailed, "agreement", "show", agreement)
    assert "next meeting" in text and "high-need district meeting" in text
    assert "Book the room" in text and "Share the reading data" not in text
    assert "raise_action" not in text
