"""Plain records from Core queries, for code that reads many rows and each field many times.

A SQLAlchemy `Row` costs about half a microsecond per attribute read; a `SimpleNamespace` costs
a tenth of that. Set-based paths (the sweep, addressing notices) read each field several times,
in Python and in templates, so they convert rows once.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from sqlalchemy import ColumnElement, Executable, func, select
from sqlmodel import Session


def records(session: Session, query: Executable, params: dict[str, Any] | None = None) -> list[Any]:
    result = session.execute(query, params or {})
    # `all()` fetches with one fetchall rather than one fetchone per row.
    return _convert(list(result.keys()), result.all())


def _convert(keys: list[str], rows: Iterable[Any]) -> list[Any]:
    return [SimpleNamespace(**dict(zip(keys, row, strict=True))) for row in rows]


def newest(session: Session, column: ColumnElement[int], *where: ColumnElement[bool]) -> int:
    """The largest `column` among the rows `where` picks: the id or number that the step just
    taken in this transaction gave its new row."""
    return int(session.execute(select(func.max(column)).where(*where)).scalar_one())
