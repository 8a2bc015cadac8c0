"""A notice's calendar entries: an RFC 5545 file with one all-day event per deadline it sets.

Reminders and the notices that set or move a date carry one, so a reader can put the deadline in
a calendar with one click. Each event's UID names the deadline (notifications.deadline_series):
a corrected date keeps the UID with a higher SEQUENCE, so a calendar replaces the old entry
rather than adding one. The method is PUBLISH (RFC 5546): an entry for the reader's calendar,
not an invitation that asks for a reply.

The file is made once per notice at enqueue time (it is the same for every recipient) and stored
with the reference bodies, by digest: a retried message carries the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from notifications.deadline_series import Series

PRODID = "-//Michigan Department of Education//Partnership Agreements (pal)//EN"
METHOD = "PUBLISH"
FILENAME = "deadline.ics"


@dataclass(frozen=True)
class Entry:
    """One deadline as a calendar event: `summary` is what the calendar shows."""

    series: Series
    summary: str


def uid(series: Series, domain: str) -> str:
    """The event's UID: the same for every row of one deadline, whatever its date."""
    return f"deadline-{series.agreement_id}-{series.kind}-{series.number}@{domain}"


def summary(label: str, district_name: str) -> str:
    """`Due: the signed partnership plan (Lakeview Public Schools)`."""
    return f"Due: {label} ({district_name})"


def ics(entries: Sequence[Entry], *, domain: str, stamp: datetime, mail_from: str | None) -> bytes:
    """The calendar file (CRLF lines, UTF-8) with an all-day event for each entry.

    `stamp` is DTSTAMP (when the notice was queued; aware); `mail_from` the sender
    (PAL_MAIL_FROM), the ORGANIZER that RFC 5546 asks of a published event."""
    # Imported here: only the notices with an entry pay for it, not every command.
    from icalendar import Calendar, Event, vCalAddress

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", METHOD)
    organizer = None
    if mail_from:
        name, address = parseaddr(mail_from)
        organizer = vCalAddress(f"mailto:{address}")
        if name:
            organizer.params["cn"] = name
    for entry in entries:
        event = Event()
        event.add("uid", uid(entry.series, domain))
        event.add("sequence", entry.series.sequence)
        event.add("dtstamp", stamp)
        # All day: the date, and the day after as the (exclusive) end.
        event.add("dtstart", entry.series.due_on)
        event.add("dtend", entry.series.due_on + timedelta(days=1))
        event.add("summary", entry.summary)
        # A deadline does not make the reader busy that day.
        event.add("transp", "TRANSPARENT")
        if organizer is not None:
            event.add("organizer", organizer)
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data
