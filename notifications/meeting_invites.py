"""A meeting's invitation as an RFC 5546 calendar file: METHOD:REQUEST, or METHOD:CANCEL once it
is cancelled.

The UID names the meeting and never changes; SEQUENCE goes up by one at each change of the
meeting (it is the meeting's version less one), so a calendar replaces the entry it holds, or
takes it out on a cancellation. The start is a UTC instant: the local hour it was given, as
it falls on the day (the same local hour on either side of a change of daylight time). Written
line by line as notifications.calendar writes a deadline's entries (the same escaping and
folding); tests parse it back with `icalendar`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from notifications.calendar import PRODID, _line, _stamp, _text

FILENAME = "invite.ics"
# What an invitation's file may say it is (RFC 5546): the attachment's content type says so too.
METHODS = ("REQUEST", "CANCEL")
# How long a meeting is entered in a calendar for (an invitation needs an end).
LENGTH = timedelta(hours=1)


@dataclass(frozen=True)
class Invite:
    """What a meeting's calendar entry says."""

    meeting_id: int
    agreement_id: int
    starts_at: datetime  # aware
    summary: str
    location: str | None
    description: str | None
    sequence: int
    cancelled: bool


def uid(invite: Invite, domain: str) -> str:
    return f"meeting-{invite.agreement_id}-{invite.meeting_id}@{domain}"


def invitation(
    invite: Invite,
    attendees: Sequence[str],
    *,
    domain: str,
    stamp: datetime,
    mail_from: str | None,
) -> bytes:
    """The calendar file (CRLF lines, UTF-8) of `invite`, inviting `attendees` (emails)."""
    method = "CANCEL" if invite.cancelled else "REQUEST"
    lines = [
        b"BEGIN:VCALENDAR\r\n",
        _line("VERSION", "2.0"),
        _line("PRODID", _text(PRODID)),
        _line("METHOD", method),
        b"BEGIN:VEVENT\r\n",
        _line("UID", _text(uid(invite, domain))),
        _line("SEQUENCE", str(invite.sequence)),
        _line("DTSTAMP", _stamp(stamp)),
        _line("DTSTART", _stamp(invite.starts_at)),
        _line("DTEND", _stamp(invite.starts_at + LENGTH)),
        _line("SUMMARY", _text(invite.summary)),
        _line("STATUS", "CANCELLED" if invite.cancelled else "CONFIRMED"),
    ]
    if invite.location:
        lines.append(_line("LOCATION", _text(invite.location)))
    if invite.description:
        lines.append(_line("DESCRIPTION", _text(invite.description)))
    # A REQUEST or CANCEL without an ORGANIZER is refused by Outlook and Gmail (RFC 5546):
    # without a configured sender, the message domain's own address organizes it.
    _, sender = parseaddr(mail_from or "")
    lines.append(_line("ORGANIZER", f"mailto:{sender or f'pal@{domain}'}"))
    lines.extend(_line("ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP=TRUE", f"mailto:{email}")
                 for email in sorted(attendees))  # fmt: skip
    lines += [b"END:VEVENT\r\n", b"END:VCALENDAR\r\n"]
    return b"".join(lines)
