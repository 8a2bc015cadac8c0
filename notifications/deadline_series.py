"""A deadline's identity across corrections: what its calendar entry and its email thread hang on.

A correction does not change a deadline row: it closes it (`corrected`, `migrated`, `reopened`:
workflow.deadlines) and opens a new row for the same kind. To a reader it is the same deadline
with a new date, so its calendar entry must keep its UID (and raise its SEQUENCE) and its emails
stay in one thread. Rather than store a chain id on every deadline, the identity is worked out
from the agreement's deadline rows of that kind, in the order they were opened: a row closed as
*replaced* is followed by its replacement, any other row ends a *series*. A kind opens again as
a new series (the evidence of the 24-month review after that of the Review of Goal Attainment),
one series of a kind being open at a time. So a deadline is (agreement, kind, series number),
and its SEQUENCE is how many times its due date changed along its series.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select

from storage import tables
from storage.case_refs import CaseRef
from storage.prepared import Prepared

# The statuses of a deadline row that a later row of the same kind replaces (workflow.deadlines:
# CORRECTED, MIGRATED, REOPENED).
REPLACED = frozenset({"corrected", "migrated", "reopened"})

_ROWS = Prepared(
    select(
        tables.DEADLINE.c.id,
        tables.DEADLINE.c.agreement_id,
        tables.DEADLINE.c.process,
        tables.DEADLINE.c.case_id,
        tables.DEADLINE.c.kind,
        tables.DEADLINE.c.due_on,
        tables.DEADLINE.c.status,
        tables.DEADLINE.c.closed_on,
    )
    .where(tables.DEADLINE.c.agreement_id.in_(bindparam("agreements", expanding=True)))
    .order_by(tables.DEADLINE.c.id)
)
_CHUNK = 900


@dataclass(frozen=True)
class Series:
    """One deadline as a reader knows it, whatever rows it took: `number` counts the series of
    its kind for the agreement, from 1; `sequence` the changes of its due date so far."""

    agreement_id: int
    kind: str
    number: int
    sequence: int
    due_on: date
    # The day the row before this one in the series was replaced, when it was (a correction).
    replaced_on: date | None
    case: CaseRef | None = None  # the case of another process whose deadline it is

    @property
    def key(self) -> str:
        """Stable text naming the deadline: `plan_due.1` (the agreement is said elsewhere), or
        `funds7:decision_due.1` for a deadline of another process's case."""
        return f"{self.case.key if self.case else ''}{self.kind}.{self.number}"


class SeriesBook:
    """The series of every deadline row of some agreements, loaded in one query."""

    def __init__(self, rows: Iterable[Any]) -> None:
        self.by_row: dict[int, Series] = {}
        self.open: dict[CaseRef, list[Series]] = {}  # case: its open deadlines' series
        # (case, kind): (series number, its last row) of the latest series seen.
        latest: dict[tuple[CaseRef, str], tuple[int, Any]] = {}
        sequences: dict[tuple[CaseRef, str], int] = {}
        for row in rows:
            case = CaseRef(row.agreement_id, row.process, row.case_id)
            at = (case, row.kind)
            number, before = latest.get(at, (0, None))
            continues = before is not None and before.status in REPLACED
            if continues:
                moved = before.due_on != row.due_on
                sequence = sequences[at] + (1 if moved else 0)
            else:
                number, sequence = number + 1, 0
            replaced_on = before.closed_on if continues else None
            series = Series(row.agreement_id, row.kind, number, sequence, row.due_on, replaced_on,
                            case if case.process is not None else None)  # fmt: skip
            self.by_row[row.id] = series
            latest[at] = (number, row)
            sequences[at] = sequence
            if row.status == "open":
                self.open.setdefault(case, []).append(series)

    @classmethod
    def load(cls, session: Any, agreement_ids: Sequence[int]) -> SeriesBook:
        ids = sorted(set(agreement_ids))
        rows: list[Any] = []
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            rows.extend(_ROWS.execute(session, {"agreements": chunk}).rows)
        rows.sort(key=lambda row: row.id)
        return cls(rows)

    def open_of(self, case: int | CaseRef, kind: str) -> Series | None:
        """The open deadline of `kind` of a case (an agreement's id: the agreement itself),
        one at most being open at a time."""
        for series in self.open.get(case if isinstance(case, CaseRef) else CaseRef(case), ()):
            if series.kind == kind:
                return series
        return None
