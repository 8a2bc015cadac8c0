"""Review of issue 16 (meetings and action items) where the parts meet: two sweeps at once
schedule a series' meeting once; an invitation names its organizer whatever the context."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from helpers import DETROIT, TRAD, Pal, execute, ok
from icalendar import Calendar
from meeting_support import BY_LIAISON, agreement_with_liaison, at, run
from test_action_items import SUPERINTENDENT, meeting_with_item

from notifications.meeting_invites import Invite, invitation
from states.context import Context
from states.errors import BadInput
from storage.db import make_engine, transaction
from workflow.meeting_series import mark_high_need, schedule_ahead, start_series
from workflow.meetings import cancel_meeting, local_start, schedule_meeting
from workflow.sweep import sweep


def _series(pal: Pal) -> None:
    """TRAD high-need from 2019-02-25, its series from 2019-03-04 (meetings four weeks ahead)."""
    agreement_with_liaison(pal)
    run(pal, at(date(2019, 2, 25)), mark_high_need, TRAD, date(2019, 2, 25),
        "chronic absence above 40%", BY_LIAISON)  # fmt: skip
    run(pal, at(date(2019, 2, 25)), start_series, TRAD, "high_need", date(2019, 3, 4),
        BY_LIAISON)  # fmt: skip


def _waiting_for_a_lock(db_url: str) -> bool:
    rows = execute(db_url, "SELECT count(*) FROM pg_locks WHERE NOT granted")
    return bool(rows[0][0])


def _sweep_recording(engine: sa.Engine, ctx: Context, failed: list[BaseException]) -> None:
    try:
        sweep(engine, ctx)
    except Exception as exc:  # the test asserts there was none
        failed.append(exc)


@pytest.mark.postgres
@pytest.mark.slow
def test_two_sweeps_at_once_schedule_a_series_meeting_once_and_invite_once(
    seeded: Pal, backend: str
) -> None:
    """Sweeper A schedules the series' next meeting and has not committed when sweeper B
    starts: B waits for A's lock on the series, then finds the meeting scheduled. One meeting
    a day, one invitation per person."""
    if backend == "sqlite":
        pytest.skip("SQLite runs one writer at a time: two sweeps cannot interleave")
    _series(seeded)
    later = Context(now=at(date(2019, 3, 20), 8))  # the meeting of 04-15 is owed now
    engine = make_engine(seeded.db_url)
    try:
        with transaction(engine) as session:  # sweeper A, inside its own transaction
            assert schedule_ahead(session, later)
            failed: list[BaseException] = []
            other = threading.Thread(target=_sweep_recording, args=(engine, later, failed))
            other.start()  # sweeper B
            deadline = time.monotonic() + 20
            while not _waiting_for_a_lock(seeded.db_url) and time.monotonic() < deadline:
                time.sleep(0.05)  # polling B's effect: it waits on A's lock
        other.join(60)
        assert not other.is_alive()
        assert failed == []  # B's sweep went on to its timers: no clash with A's meeting
    finally:
        engine.dispose()

    days = execute(seeded.db_url, "SELECT due_on, count(*) FROM meeting GROUP BY due_on")
    assert all(count == 1 for _, count in days)
    assert len(days) == 4
    invited = execute(seeded.db_url,
                      "SELECT case_id, recipient, count(*) FROM outbox "
                      "WHERE notice = 'meeting_invitation' GROUP BY case_id, recipient")
    assert invited and all(count == 1 for _, _, count in invited)


def test_a_series_meets_once_a_day_by_construction(seeded: Pal) -> None:
    """The database refuses a second meeting of one series on one day (migration 0018)."""
    _series(seeded)
    engine = make_engine(seeded.db_url)
    try:
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO meeting (agreement_id, district_code, series_id, kind, starts_at, "
                "due_on, at_local, zone, state, rules_version, last_event_on, updated_at, "
                "version) SELECT agreement_id, district_code, series_id, kind, starts_at, "
                "due_on, at_local, zone, state, rules_version, last_event_on, updated_at, "
                "version FROM meeting WHERE series_id IS NOT NULL ORDER BY id LIMIT 1"))
    finally:
        engine.dispose()


def test_an_invitation_names_its_organizer_when_no_sender_is_configured() -> None:
    """METHOD:REQUEST needs an ORGANIZER (RFC 5546): without a configured sender it is the
    message domain's own address, and the file parses back with every required property."""
    invite = Invite(meeting_id=7, agreement_id=3, starts_at=datetime(2019, 3, 15, 10,
                    tzinfo=DETROIT), summary="High-need meeting", location=None,
                    description=None, sequence=0, cancelled=False)  # fmt: skip
    sent = invitation(invite, ["a@example.org"], domain="pal.example", stamp=datetime(
        2019, 3, 1, 12, tzinfo=DETROIT), mail_from=None)  # fmt: skip
    event = Calendar.from_ical(sent).walk("VEVENT")[0]
    assert str(event["ORGANIZER"]) == "mailto:pal@pal.example"
    for required in ("UID", "DTSTAMP", "DTSTART", "SEQUENCE", "ATTENDEE"):
        assert required in event


def test_a_time_the_clock_shows_twice_is_the_first_and_one_it_skips_is_refused() -> None:
    """`--at` on the Detroit clock: 01:30 on 2019-11-03 (shown twice) is the daylight-time one,
    05:30 UTC, every time; 02:30 on 2019-03-10 (skipped) is refused."""
    first = local_start("2019-11-03 01:30", DETROIT)
    assert first.astimezone(UTC) == datetime(2019, 11, 3, 5, 30, tzinfo=UTC)
    assert local_start("2019-11-03 01:30", DETROIT) == first
    with pytest.raises(BadInput, match="skips"):
        local_start("2019-03-10 02:30", DETROIT)


def test_a_meeting_cancelled_before_its_reminder_is_not_reminded_of(seeded: Pal) -> None:
    """Cancelled five days before it meets: the sweeps of the reminder's day queue no reminder,
    only the invitation and the cancellation."""
    agreement_with_liaison(seeded)
    starts = datetime(2019, 3, 15, 10, tzinfo=DETROIT)
    meeting = run(seeded, at(date(2019, 3, 1)), schedule_meeting, TRAD, starts, BY_LIAISON,
                  kind="high_need")  # fmt: skip
    run(seeded, at(date(2019, 3, 10)), cancel_meeting, meeting, "moved to April", BY_LIAISON)
    engine = make_engine(seeded.db_url)
    try:
        for day in (13, 14, 15):
            sweep(engine, Context(now=at(date(2019, 3, day), 9)))
    finally:
        engine.dispose()
    notices = execute(seeded.db_url, "SELECT DISTINCT notice FROM outbox WHERE process = "
                      "'meeting' AND case_id = :m ORDER BY notice", m=meeting)  # fmt: skip
    assert notices == [("meeting_cancelled",), ("meeting_invitation",)]


def test_the_action_list_shows_whoever_holds_the_owners_role_now(seeded: Pal) -> None:
    """The superintendent who owned the item leaves and another takes the role: `pal action
    list` names the new one as the owner (the one its reminders go to), `--owner` finds the
    item under them and not under the one who left; the owner it was raised with stays."""
    _, item = meeting_with_item(seeded)
    ok(seeded, "contact", "end", SUPERINTENDENT, "--role", "superintendent", "--district", TRAD,
       "--on", "2019-01-10")  # fmt: skip
    ok(seeded, "contact", "add", "drew@trad.example", "--name", "Drew Superintendent", "--role",
       "superintendent", "--district", TRAD, "--on", "2019-01-10")  # fmt: skip

    [listed] = json.loads(ok(seeded, "action", "list", "--json"))
    assert (listed["id"], listed["owner"]) == (item, "drew@trad.example")
    assert listed["raised_with_owner"] == SUPERINTENDENT
    mine = json.loads(ok(seeded, "action", "list", "--owner", "drew@trad.example",
                         "--json"))  # fmt: skip
    assert [found["id"] for found in mine] == [item]
    gone = ok(seeded, "action", "list", "--owner", SUPERINTENDENT, "--json")
    assert json.loads(gone) == []
