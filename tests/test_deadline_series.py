"""A deadline's identity across the rows a correction makes (notifications.deadline_series)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from notifications.deadline_series import SeriesBook


def rows(*specs: tuple[int, str, str, date]) -> list[SimpleNamespace]:
    """Deadline rows of agreement 1: (id, kind, status, due_on), closed on 2019-01-01."""
    closed = date(2019, 1, 1)
    return [
        SimpleNamespace(id=i, agreement_id=1, process=None, case_id=None, kind=k, status=status,
                        due_on=due, closed_on=closed)
        for i, k, status, due in specs
    ]


def test_a_corrected_deadline_keeps_its_series_and_counts_each_change_of_date() -> None:
    """Corrected twice (the second time to the same date) then met: one series, SEQUENCE 1,
    then 1 again (a correction that does not move the date does not count)."""
    book = SeriesBook(rows(
        (1, "rga_due", "corrected", date(2019, 11, 1)),
        (2, "rga_due", "corrected", date(2019, 12, 1)),
        (3, "rga_due", "open", date(2019, 12, 1)),
    ))  # fmt: skip
    assert [(book.by_row[i].key, book.by_row[i].sequence) for i in (1, 2, 3)] == [
        ("rga_due.1", 0), ("rga_due.1", 1), ("rga_due.1", 1),
    ]  # fmt: skip
    assert book.by_row[3].replaced_on == date(2019, 1, 1)
    assert book.open_of(1, "rga_due") == book.by_row[3]


def test_a_kind_opened_again_by_a_later_event_is_a_new_series() -> None:
    """The evidence of the RGA (met), of the 24-month review (withdrawn and reopened), of the
    36-month review: series 1, 2 and 3, the reopened one still 2."""
    book = SeriesBook(rows(
        (1, "evidence_due", "met", date(2019, 12, 1)),
        (2, "evidence_due", "reopened", date(2020, 6, 1)),
        (3, "evidence_due", "met_late", date(2020, 6, 1)),
        (4, "evidence_due", "open", date(2021, 6, 1)),
        (5, "conference_due", "migrated", date(2021, 7, 1)),  # a kind the new rules lack
    ))  # fmt: skip
    assert [book.by_row[i].key for i in (1, 2, 3, 4, 5)] == [
        "evidence_due.1", "evidence_due.2", "evidence_due.2", "evidence_due.3",
        "conference_due.1",
    ]  # fmt: skip
    assert book.by_row[3].sequence == 0  # reopened with the same date
    assert book.open_of(1, "conference_due") is None
