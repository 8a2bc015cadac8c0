"""Action items (issue 16): raised at a meeting with an owner and a due date; the owner is
reminded before it, told weekly once it is overdue (four times at most, as the plan's overdue
notices are), and nothing is sent once it is done; whoever holds the owner's role after them
gets the next reminder; bad input changes nothing."""

from __future__ import annotations

import json
from datetime import date, datetime

import smtp_server as smtp
from helpers import DIRECTOR, LIAISON, PSA, TRAD, Pal, execute, ok, person, refused
from meeting_support import BY_LIAISON, agreement_with_liaison, at, run, sent
from service_support import local, tick

from workflow.action_items import add_action, close_action
from workflow.meetings import schedule_meeting

SUPERINTENDENT = person(TRAD, "superintendent")
# The meeting is on Monday 2019-01-07; the item is due Thursday 2019-01-17: reminded Monday
# 01-14, told overdue each Friday from 01-18 to 02-08 (no weekend or holiday moves them).
MEETING_DAY = date(2019, 1, 7)
DUE = date(2019, 1, 17)
OVERDUE_DAYS = (date(2019, 1, 18), date(2019, 1, 25), date(2019, 2, 1), date(2019, 2, 8))


def meeting_with_item(pal: Pal, owner: str = SUPERINTENDENT) -> tuple[int, int]:
    """A meeting of TRAD held on MEETING_DAY and an item raised at it, due DUE: (ids)."""
    agreement_with_liaison(pal)
    meeting = run(pal, at(date(2019, 1, 2)), schedule_meeting, TRAD,
                  datetime.fromisoformat("2019-01-07T10:00-05:00"), BY_LIAISON)  # fmt: skip
    item = run(pal, at(MEETING_DAY), add_action, meeting, owner, DUE, "Send the attendance plan",
               BY_LIAISON)  # fmt: skip
    return meeting, item


def test_the_owner_is_reminded_then_told_weekly_it_is_overdue_four_times_at_most(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """One reminder three days before, then an overdue notice to the owner and the liaison
    each week for four weeks, and nothing after, however often the sweep runs."""
    _, item = meeting_with_item(mailed)
    for day in (date(2019, 1, 14), *OVERDUE_DAYS, date(2019, 2, 15), date(2019, 3, 1)):
        tick(mailed, local(day))
        tick(mailed, local(day))

    notices = sent(smtp_server, f"action_item{item}")
    assert notices.count(("deadline_reminder", SUPERINTENDENT)) == 1
    assert notices.count(("deadline_overdue", SUPERINTENDENT)) == 4
    assert notices.count(("deadline_overdue", LIAISON)) == 4
    assert len(notices) == 9
    listed = ok(mailed, "action", "list", "--overdue", "--json")
    assert item in [found["id"] for found in json.loads(listed)]


def test_an_item_done_before_its_reminder_sends_nothing(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """Done two days after it is raised: its deadline is met, its timers cancelled, and no
    reminder or overdue notice goes out."""
    _, item = meeting_with_item(mailed)
    run(mailed, at(date(2019, 1, 9)), close_action, item, "done", BY_LIAISON)
    for day in (date(2019, 1, 14), *OVERDUE_DAYS):
        tick(mailed, local(day))

    assert sent(smtp_server, f"action_item{item}") == []
    assert execute(mailed.db_url, "SELECT status FROM deadline WHERE process = 'action_item'") == [
        ("met",)
    ]
    trail = execute(mailed.db_url, "SELECT event, actor FROM audit WHERE subject = :s ORDER BY id",
                    s=f"action_item:{item}")  # fmt: skip
    assert [actor for _, actor in trail] == [LIAISON, LIAISON]


def test_whoever_holds_the_owners_role_after_them_gets_the_next_reminder(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """The superintendent who owns the item leaves; the one who starts the same day is
    reminded, and told it is overdue; the one who left is told nothing more."""
    _, item = meeting_with_item(mailed)
    ok(mailed, "contact", "end", SUPERINTENDENT, "--role", "superintendent", "--district", TRAD,
       "--on", "2019-01-10")  # fmt: skip
    ok(mailed, "contact", "add", "drew@trad.example", "--name", "Drew Superintendent", "--role",
       "superintendent", "--district", TRAD, "--on", "2019-01-10")  # fmt: skip
    tick(mailed, local(date(2019, 1, 14)))
    tick(mailed, local(OVERDUE_DAYS[0]))

    assert sorted(sent(smtp_server, f"action_item{item}")) == [
        ("deadline_overdue", "drew@trad.example"),
        ("deadline_overdue", LIAISON),
        ("deadline_reminder", "drew@trad.example"),
    ]


def test_the_liaison_sees_every_open_item_of_their_districts(mailed: Pal) -> None:
    """`pal action list --liaison` lists the open items of the agreements they are liaison of;
    an item dropped (with its reason) is listed as dropped, not open."""
    meeting, item = meeting_with_item(mailed)
    other = run(mailed, at(MEETING_DAY), add_action, meeting, LIAISON, DUE, "Book the room",
                BY_LIAISON)  # fmt: skip
    run(mailed, at(date(2019, 1, 8)), close_action, other, "drop", BY_LIAISON,
        note="the room is booked by the district")  # fmt: skip

    listed = ok(mailed, "action", "list", "--liaison", LIAISON, "--open", "--json")
    assert [found["id"] for found in json.loads(listed)] == [item]
    every = ok(mailed, "action", "list", "--district", TRAD)
    assert "Send the attendance plan" in every and "(dropped)" in every
    assert ok(mailed, "action", "list", "--liaison", DIRECTOR) == "no action items\n"


def test_bad_input_is_refused_and_changes_nothing(mailed: Pal) -> None:
    """An unknown meeting or owner, an owner of another district, a malformed date, a drop
    without a reason, and an item closed twice: each one error line, nothing written."""
    meeting, item = meeting_with_item(mailed)
    by = ("--by", LIAISON)
    add = ("action", "add", meeting, "--due", "2030-01-01", "--text", "x", *by)
    refused(mailed, 2, "action", "add", 999, "--owner", LIAISON, "--due", "2030-01-01",
            "--text", "x", *by, mentions="no meeting 999")  # fmt: skip
    refused(mailed, 2, *add, "--owner", "nobody@trad.example", mentions="no person")
    refused(mailed, 2, *add, "--owner", person(PSA, "superintendent"), mentions="no role")
    refused(mailed, 2, "action", "add", meeting, "--owner", LIAISON, "--due", "soon",
            "--text", "x", *by)  # fmt: skip
    refused(mailed, 2, "action", "add", meeting, "--owner", LIAISON, "--due", "2019-01-01",
            "--text", "x", *by, mentions="before the day")  # fmt: skip
    refused(mailed, 2, "action", "drop", item, *by, mentions="needs the reason")
    refused(mailed, 4, "action", "done", item, "--by", person(TRAD, "board_president"))
    ok(mailed, "action", "done", item, *by)
    refused(mailed, 3, "action", "done", item, *by)
