"""The calendar file (notifications.calendar.ics) is what icalendar writes for the same calendar,
byte for byte, and reads back as the deadlines it was made from."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import example, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from notifications.calendar import Entry, full_calendar, ics, summary
from notifications.deadline_series import Series

# Summaries of any text a district's name or a label may hold (no control characters: pal
# refuses them in names), including what RFC 5545 escapes (`,` `;` `\`) and long non-ASCII runs.
texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=300)
series = st.builds(
    Series,
    agreement_id=st.integers(1, 10**9),
    kind=st.sampled_from(["plan_due", "rga_due", "determination_due"]),
    number=st.integers(1, 5),
    sequence=st.integers(0, 50),
    due_on=st.dates(date(2000, 1, 1), date(2100, 12, 30)),
    replaced_on=st.none(),
)
entries = st.lists(st.builds(Entry, series, texts), min_size=1, max_size=3)
stamps = st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1)).map(
    lambda moment: moment.replace(tzinfo=timezone(timedelta(hours=-5)))
)
senders = st.sampled_from([
    None,
    "partnership@mde.example",
    "Office of Partnership Districts <partnership@mde.example>",
    '"Bureau des Écoles, MDE" <ecoles@mde.example>',
])  # fmt: skip
domains = st.sampled_from(["mde.example", "notices.michigan.gov", "x" * 60 + ".example"])


@settings(max_examples=300, deadline=None)
@given(entries=entries, domain=domains, stamp=stamps, mail_from=senders)
@example(entries=[Entry(Series(1, "plan_due", 1, 0, date(2018, 5, 30), None), "é" * 200)],
         domain="mde.example", stamp=datetime(2018, 3, 1, tzinfo=UTC),
         mail_from=None)  # fmt: skip
@example(entries=[Entry(Series(1, "plan_due", 1, 0, date(2018, 5, 30), None), "x" * n + tail)
                  for n in (65, 66, 67) for tail in ("", "\\", ",", "é")],
         domain="mde.example", stamp=datetime(2018, 3, 1, 12, 0, 0, 999999, tzinfo=UTC),
         mail_from=None)  # fmt: skip  # lines of 74, 75 and 76 octets; an escape at the fold
def test_the_file_is_what_icalendar_writes_and_reads_back_as_the_deadlines(
    entries: list[Entry], domain: str, stamp: datetime, mail_from: str | None
) -> None:
    """Byte for byte icalendar's own file; parsed back: one all-day event per entry with its
    date, UID, SEQUENCE and summary, DTSTAMP in UTC, method PUBLISH."""
    written = ics(entries, domain=domain, stamp=stamp, mail_from=mail_from)
    expected = full_calendar(entries, domain=domain, stamp=stamp, mail_from=mail_from)
    assert written == expected.to_ical()
    calendar = Calendar.from_ical(written)
    assert str(calendar["method"]) == "PUBLISH"
    events = calendar.walk("VEVENT")
    assert len(events) == len(entries)
    for event, entry in zip(events, entries, strict=True):
        assert event.decoded("dtstart") == entry.series.due_on
        assert event.decoded("dtend") == entry.series.due_on + timedelta(days=1)
        assert str(event["summary"]) == entry.summary
        assert int(event["sequence"]) == entry.series.sequence
        assert str(event["uid"]).endswith(f"-{entry.series.number}@{domain}")
        assert event.decoded("dtstamp") == stamp.astimezone(UTC).replace(microsecond=0)
    assert all(len(line) <= 75 for line in written.split(b"\r\n"))


def test_a_summary_names_the_deadline_and_the_district_in_words() -> None:
    assert summary("the signed partnership plan", "Lakeview Public Schools") == (
        "Due: the signed partnership plan (Lakeview Public Schools)"
    )


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200)
       | st.lists(st.sampled_from(["\\N", "\\", ";", ",", "\r\n", "\n", "\r", "x", "é"]))
       .map("".join))  # fmt: skip
def test_any_summary_is_escaped_and_folded_as_icalendar_does(text: str) -> None:
    """Any text at all, line breaks and RFC 5545's escapes included: icalendar's bytes."""
    entry = [Entry(Series(1, "plan_due", 1, 0, date(2018, 5, 30), None), text)]
    stamp = datetime(2018, 3, 1, tzinfo=UTC)
    written = ics(entry, domain="mde.example", stamp=stamp, mail_from=None)
    assert written == full_calendar(entry, domain="mde.example", stamp=stamp,
                                    mail_from=None).to_ical()  # fmt: skip
