"""The schools each agreement's plan covers, as its notices name them.

A school is covered when it was named at identification or has a benchmark in the terms in force
(the latest amendment in force, else the plan as signed), as `pal agreement show` counts them.
Loaded for the agreements of many notices in one query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, bindparam, func, select, union
from sqlmodel import Session

from states.labels import joined
from storage import tables
from storage.prepared import Prepared

_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_A, _B = tables.AMENDMENT, tables.BENCHMARK
_IN_FORCE = func.coalesce(
    select(func.max(_A.c.number))
    .where(_A.c.agreement_id == _B.c.agreement_id, _A.c.in_force_on.is_not(None))
    .correlate(_B)
    .scalar_subquery(),
    0,
)
_COVERED = union(
    select(tables.AGREEMENT_SCHOOL.c.agreement_id, tables.AGREEMENT_SCHOOL.c.school_code).where(
        tables.AGREEMENT_SCHOOL.c.agreement_id.in_(_IDS)
    ),
    select(_B.c.agreement_id, _B.c.school_code).where(
        _B.c.agreement_id.in_(_IDS), _B.c.amendment == _IN_FORCE
    ),
).subquery()
_SCHOOLS = Prepared(
    select(_COVERED.c.agreement_id, tables.SCHOOL.c.code, tables.SCHOOL.c.name)
    .join(tables.SCHOOL, tables.SCHOOL.c.code == _COVERED.c.school_code)
    .order_by(_COVERED.c.agreement_id, tables.SCHOOL.c.name, tables.SCHOOL.c.code)
)


@dataclass(frozen=True)
class School:
    code: str
    name: str


@dataclass(frozen=True)
class PlanSchools:
    """The schools a plan covers, and their names joined once (`A, B and C`) for the notices,
    which name them in both bodies of every message."""

    schools: tuple[School, ...] = ()
    names: str = ""

    @classmethod
    def of(cls, schools: Iterable[School]) -> PlanSchools:
        listed = tuple(schools)
        return cls(listed, joined(school.name for school in listed))

    def __len__(self) -> int:
        return len(self.schools)

    def __iter__(self) -> Iterator[School]:
        return iter(self.schools)


NO_SCHOOLS = PlanSchools()


def covered_schools(session: Session, ids: Iterable[int]) -> dict[int, PlanSchools]:
    """Each agreement's covered schools, by name; an agreement covering none is absent."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    found: dict[int, list[School]] = defaultdict(list)
    for row in _SCHOOLS.execute(session, {"ids": wanted}).rows:
        found[row.agreement_id].append(School(row.code, row.name))
    return {agreement: PlanSchools.of(schools) for agreement, schools in found.items()}
