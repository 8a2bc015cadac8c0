"""Whose deadlines, timers and notices a row is: an agreement's own, or a case of another process.

A case of another process (a 21(h) fund request, an action item) belongs to an agreement. Its
deadline, timer and outbox rows keep `agreement_id` set to that agreement (so that its notices
are addressed through it: the district's superintendent, the liaison) and name the case itself
in `process` and `case_id` (migration 0017). The agreement's own rows have neither, as they
always had. One predicate, `in_case`, picks the rows of one case either way, so the statements
that read or close an agreement's deadlines serve every process unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Table, and_, bindparam


@dataclass(frozen=True, slots=True)
class CaseRef:
    """A case as its deadlines, timers and notices name it: `process` and `case_id` are None for
    the agreement `agreement_id` itself."""

    agreement_id: int
    process: str | None = None
    case_id: int | None = None

    @property
    def params(self) -> dict[str, Any]:
        """The values of `in_case`'s parameters for this case."""
        return {"agreement": self.agreement_id, "of_process": self.process, "of_case": self.case_id}

    @property
    def columns(self) -> dict[str, Any]:
        """The values of a new row's columns naming this case."""
        return {"agreement_id": self.agreement_id, "process": self.process,
                "case_id": self.case_id}  # fmt: skip

    @property
    def key(self) -> str:
        """How an idempotency key or a thread names the case within its agreement: empty for
        the agreement itself (so the keys of its notices are as they always were)."""
        return "" if self.process is None else f"{self.process}{self.case_id}:"


class _HasId(Protocol):
    @property
    def id(self) -> Any: ...


def ref_of(case: CaseRef | _HasId) -> CaseRef:
    """`case` as a CaseRef: an agreement (its row, or an ORM object of it) stands for itself."""
    if isinstance(case, CaseRef):
        return case
    return CaseRef(int(case.id))


def in_case(table: Table) -> ColumnElement[bool]:
    """`table`'s rows of one case, by the parameters `agreement`, `of_process` and `of_case`
    (`CaseRef.params`; not named after columns, which an UPDATE's parameters may not be).
    NULL matches NULL: the agreement's own rows have no process."""
    return and_(
        table.c.agreement_id == bindparam("agreement"),
        table.c.process.is_not_distinct_from(bindparam("of_process", type_=table.c.process.type)),
        table.c.case_id.is_not_distinct_from(bindparam("of_case", type_=table.c.case_id.type)),
    )
