"""Which deadline a notice threads under, and which dates it carries as calendar entries.

- A notice a deadline's timer queued (a reminder, an overdue notice, a timed action's notice)
  threads under that deadline; a reminder (sent before the due date) carries its entry.
- A notice of an event that opened deadlines (identification, signing, a review opened) carries
  an entry for each of them, and threads under the first; so does the notice of a correction,
  for each deadline the correction moved.
- Any other notice neither threads nor carries an entry.

Worked out at enqueue time, with one query for all the notices of a batch (the deadline rows of
their agreements, notifications.deadline_series); the outbox row stores the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from notifications.calendar import Entry, ics, summary
from notifications.deadline_series import Series, SeriesBook
from notifications.meeting_invites import invitation
from states.context import Context
from states.registry import process
from storage.case_refs import CaseRef

# The occurrence of a notice a timer queued (workflow.sweep): `timer<id>`.
TIMER_OCCURRENCE = "timer"
# The value a correction's notice is given (workflow.corrections: the notice's `correction`).
CORRECTION = "correction"


class NoticeDates:
    """The thread and calendar file of each notice of one enqueue."""

    def __init__(self, book: SeriesBook | None, ctx: Context) -> None:
        self.book = book
        self.ctx = ctx
        self.domain = ctx.message_domain

    @classmethod
    def load(cls, session: Any, owed: Sequence[Any], ctx: Context) -> NoticeDates:
        wanted = [item.agreement.id for item in owed if _about_dates(item)]
        book = SeriesBook.load(session, wanted) if wanted else None
        return cls(book, ctx)

    def of(
        self, item: Any, district: Any, people: Sequence[Any] = ()
    ) -> tuple[str | None, bytes | None]:
        """(the thread: the series key of the deadline the notice is about, the calendar file)
        of a notice; None for what it has not. A meeting's notice carries its invitation, to
        `people` (notifications.meeting_invites)."""
        invite = item.extra.get("invite")
        if invite is not None:
            sent = invitation(invite, [p.email for p in people], domain=self.domain,
                              stamp=self.ctx.now, mail_from=self.ctx.mail_from)  # fmt: skip
            return f"meeting-{invite.meeting_id}", sent
        if self.book is None or not _about_dates(item):
            return None, None
        entries = self._entries(item, self.book)
        if not entries:
            return None, None
        thread, shown = entries
        if not shown:
            return thread.key, None
        return thread.key, self._file(tuple(shown), district.name, item.process)

    def _entries(self, item: Any, book: SeriesBook) -> tuple[Series, list[Series]] | None:
        case = item.case if item.case is not None else CaseRef(item.agreement.id)
        if item.occurrence.startswith(TIMER_OCCURRENCE):
            series = book.by_row.get(getattr(item.deadline, "id", None) or 0)
            if series is None:
                return None
            ahead = (series.due_on - self.ctx.today).days > 0
            return series, [series] if ahead else []
        found = [book.open_of(case, kind) for kind in item.sets]
        shown = [series for series in found if series is not None]
        if item.extra.get(CORRECTION) is not None:
            day = item.extra.get("event_day")
            moved = book.open.get(case, [])
            shown += [s for s in moved if s.replaced_on is not None and s.replaced_on == day]
        shown = list(dict.fromkeys(shown))
        return (shown[0], shown) if shown else None

    def _file(self, shown: tuple[Series, ...], district_name: str, of: str) -> bytes:
        labels = process(of).deadline_labels
        entries = [
            Entry(series, summary(labels.get(series.kind, series.kind), district_name))
            for series in shown
        ]
        return ics(entries, domain=self.domain, stamp=self.ctx.now, mail_from=self.ctx.mail_from)


def _about_dates(item: Any) -> bool:
    """Whether the notice may thread or carry an entry (else nothing is loaded for it)."""
    if item.occurrence.startswith(TIMER_OCCURRENCE):
        return item.deadline is not None
    return bool(item.sets) or item.extra.get(CORRECTION) is not None
