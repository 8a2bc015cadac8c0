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

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache
from typing import Any

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
    # A case of another process is named too (`deadline-12-funds7-decision_due-1`): its
    # agreement may have several cases with a deadline of the same kind.
    case = f"{series.case.process}{series.case.case_id}-" if series.case is not None else ""
    return f"deadline-{series.agreement_id}-{case}{series.kind}-{series.number}@{domain}"


def summary(label: str, district_name: str) -> str:
    """`Due: the signed partnership plan (Lakeview Public Schools)`."""
    return f"Due: {label} ({district_name})"


def ics(entries: Sequence[Entry], *, domain: str, stamp: datetime, mail_from: str | None) -> bytes:
    """The calendar file (CRLF lines, UTF-8) with an all-day event for each entry.

    `stamp` is DTSTAMP (when the notice was queued; aware); `mail_from` the sender
    (PAL_MAIL_FROM), the ORGANIZER that RFC 5546 asks of a published event.

    The same bytes as `icalendar.Calendar.to_ical()` of the calendar `full_calendar` builds
    (tests/test_calendar_file.py proves it, as for the MIME writer), made fifteen times faster:
    the sweep makes one for every reminder. icalendar writes what every file shares, once per
    sender, and escapes each text value; the event's lines are written and folded here, as
    icalendar writes and folds them.
    """
    head, shared, tail = _frame(mail_from)
    events = [
        b"BEGIN:VEVENT\r\n"
        + _line("SUMMARY", _text(entry.summary))
        + _line("DTSTART;VALUE=DATE", _date(entry.series.due_on))
        + _line("DTEND;VALUE=DATE", _date(entry.series.due_on + timedelta(days=1)))
        + _line("DTSTAMP", _stamp(stamp))
        + _line("UID", _text(uid(entry.series, domain)))
        + _line("SEQUENCE", str(entry.series.sequence))
        + shared
        + b"END:VEVENT\r\n"
        for entry in entries
    ]
    return head + b"".join(events) + tail


def full_calendar(
    entries: Sequence[Entry], *, domain: str, stamp: datetime, mail_from: str | None
) -> Any:
    """The calendar `ics` writes, as an `icalendar.Calendar` (what it is proven equal to)."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", METHOD)
    organizer = _organizer(mail_from)
    for entry in entries:
        event = Event()
        event.add("summary", entry.summary)
        event.add("uid", uid(entry.series, domain))
        event.add("sequence", entry.series.sequence)
        event.add("dtstamp", stamp.astimezone(UTC))
        # All day: the date, and the day after as the (exclusive) end.
        event.add("dtstart", entry.series.due_on)
        event.add("dtend", entry.series.due_on + timedelta(days=1))
        # A deadline does not make the reader busy that day.
        event.add("transp", "TRANSPARENT")
        if organizer is not None:
            event.add("organizer", organizer)
        calendar.add_component(event)
    return calendar


def _organizer(mail_from: str | None) -> Any:
    from icalendar import vCalAddress

    if not mail_from:
        return None
    name, address = parseaddr(mail_from)
    organizer = vCalAddress(f"mailto:{address}")
    if name:
        organizer.params["cn"] = name
    return organizer


@lru_cache(maxsize=8)
def _frame(mail_from: str | None) -> tuple[bytes, bytes, bytes]:
    """What every file from this sender shares, as icalendar writes it: the calendar's lines
    before its first event, the lines each event ends with (after its own values, in
    icalendar's order of properties), and the calendar's end."""
    sample = full_calendar([_SAMPLE], domain="x", stamp=_EPOCH, mail_from=mail_from)
    written: bytes = sample.to_ical()
    head, _, rest = written.partition(b"BEGIN:VEVENT\r\n")
    event, _, tail = rest.partition(b"END:VEVENT\r\n")
    own = _line("SEQUENCE", "0")
    shared = event[event.index(own) + len(own) :]
    return head, shared, tail


def _line(name: str, value: str) -> bytes:
    """A content line and its CRLF, folded as icalendar folds one (RFC 5545 3.1)."""
    line = f"{name}:{value}"
    encoded = line.encode("utf-8")
    if len(encoded) < FOLD_AT:
        return encoded + b"\r\n"
    return _fold(line).encode("utf-8") + b"\r\n"


# icalendar breaks a line before the character that would make it 75 octets long, and each
# continuation after the blank that starts it; never right after a `\` or `^` (an escape).
FOLD_AT = 75


def _fold(line: str) -> str:
    pieces: list[str] = []
    current: list[str] = []
    count = 0
    for char in line:
        size = 1 if char < "\x80" else len(char.encode("utf-8"))
        if current and count + size >= FOLD_AT:
            if len(current) > 1 and current[-1] in "\\^":
                carried = current.pop()
                pieces.append("".join(current))
                current, count = [carried], 1
            else:
                pieces.append("".join(current))
                current, count = [], 0
        current.append(char)
        count += size
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def _text(value: str) -> str:
    """A TEXT value escaped as icalendar escapes it (RFC 5545 3.3.11: `\\`, `;`, `,`, line
    breaks), in the same order."""
    if not _SPECIAL.search(value):
        return value
    return (
        value.replace("\\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


_SPECIAL = re.compile(r"[\\;,\r\n]")


def _date(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


@lru_cache(maxsize=4)
def _stamp(moment: datetime) -> str:
    """DTSTAMP in UTC, to the second (cached: every notice of one enqueue shares its `now`)."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_SAMPLE = Entry(Series(0, "x", 1, 0, date(2000, 1, 1), None), "x")
