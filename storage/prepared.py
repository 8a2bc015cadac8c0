"""Statements prepared once and run on SQLite's driver, as SQLAlchemy would run them.

An engine step runs a dozen small statements; on SQLite, SQLAlchemy's work around each one
(building the execution context, the cursor result, the events) costs several times what
SQLite spends running it. A `Prepared` statement is compiled by SQLAlchemy once per set of
parameter names, and each execution hands the driver the same SQL with the same values,
passed through the same bind processors (so rows are stored byte for byte alike), and gives
back rows through the same result processors (so they read back alike). tests/test_prepared.py
holds it to that, statement by statement, against SQLAlchemy's own execution.

It steps aside, and SQLAlchemy runs the statement, whenever that could differ: on any database
but SQLite, or when anything listens for statements being run (`before_cursor_execute`:
tracing, tests that count queries), so that every statement is seen.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Executable
from sqlalchemy.exc import DBAPIError, InvalidRequestError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Session

Processor = Callable[[Any], Any] | None
_REQUIRED = object()  # a parameter the caller must give (no value bound in the statement)
# How many lengths of its lists a statement keeps rendered: a batch of keys may take any of
# hundreds, and each rendering holds that many placeholders.
_LENGTHS_KEPT = 64


@dataclass(frozen=True)
class Outcome:
    """What a statement gave back: its rows (with attribute access, like SQLAlchemy's), how
    many rows it changed, and the id of the row an INSERT added."""

    rows: Sequence[Any]
    rowcount: int
    inserted_id: Any = None

    def all(self) -> list[Any]:
        return list(self.rows)

    def first(self) -> Any | None:
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def scalars(self) -> list[Any]:
        return [row[0] for row in self.rows]


# Where one bound value comes from: a parameter (or item `index` of a list parameter), its
# bind processor, and the value bound in the statement itself (or _REQUIRED).
_Place = tuple[str, int | None, Processor, Any]


@dataclass(frozen=True)
class _Plan:
    """One compiled form: the SQL, where each positional value comes from, how rows read."""

    sql: str
    compiled: SQLCompiler
    # Per position: parameter name, bind processor, value bound in the statement (or _REQUIRED).
    binds: tuple[tuple[str, Processor, Any], ...]
    # The parameters that take a list (IN): compiled name, parameter name, and the list bound in
    # the statement itself (or _REQUIRED).
    expanding: tuple[tuple[str, str, Any], ...]
    returns: bool
    row_type: Any  # a named tuple class for the result rows, or None
    readers: tuple[Processor, ...]
    fill: Callable[[Mapping[str, Any]], tuple[Any, ...]]  # the driver's values (no lists)
    # For a statement with lists: its SQL and values' places, per length of each list.
    by_lengths: dict[tuple[int, ...], tuple[str, tuple[_Place, ...]]]


class Prepared:
    """A Core statement, compiled once per dialect and set of parameter names."""

    __slots__ = ("_plans", "statement")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._plans: dict[tuple[Any, ...], _Plan | None] = {}

    def execute(self, session: Session, params: Mapping[str, Any] | None = None) -> Outcome:
        values = params or {}
        _flush_pending(session)
        connection, driver = _driver(session)
        plan = self._plan(connection, tuple(values)) if driver is not None else None
        if plan is None:
            return _from_sqlalchemy(session.execute(self.statement, dict(values)))
        sql, positional = _bound(plan, values)
        try:
            cursor = driver.execute(sql, positional)
            rows = cursor.fetchall() if plan.returns else []
        except sqlite3.Error as exc:
            raise _wrapped(connection, sql, positional, exc) from exc
        inserted = cursor.lastrowid if plan.compiled.isinsert else None
        return Outcome(_read(plan, rows), cursor.rowcount, inserted)

    def executemany(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
        """Run the statement once per row of values (all rows give the same names); returns
        how many rows it changed."""
        if not rows:
            return 0
        _flush_pending(session)
        connection, driver = _driver(session)
        plan = self._plan(connection, tuple(rows[0])) if driver is not None else None
        if plan is None:
            result = session.execute(self.statement, [dict(row) for row in rows])
            return int(result.rowcount)  # type: ignore[attr-defined]
        if plan.expanding or plan.returns:
            raise TypeError("executemany takes no expanding parameters and returns no rows")
        positional = [_bound(plan, row)[1] for row in rows]
        try:
            cursor = driver.executemany(plan.sql, positional)
        except sqlite3.Error as exc:
            raise _wrapped(connection, plan.sql, positional, exc) from exc
        return int(cursor.rowcount)

    def _plan(self, connection: Connection, names: tuple[str, ...]) -> _Plan | None:
        # Per kind of dialect, not per engine: every SQLite engine compiles it alike.
        dialect = connection.dialect
        key = (type(dialect), dialect.paramstyle, names)
        if key not in self._plans:
            self._plans[key] = _compile(self.statement, connection, names)
        return self._plans[key]


def run_many(session: Session, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run `sql`, already in the driver's own terms (compiled for it, values bound as it takes
    them), once per row: on SQLite's driver directly when nothing watches statements, otherwise
    through SQLAlchemy's `exec_driver_sql` (which such a watcher sees)."""
    connection, driver = _driver(session)
    if driver is None:
        connection.exec_driver_sql(sql, list(rows))
        return
    try:
        driver.executemany(sql, rows)
    except sqlite3.Error as exc:
        raise _wrapped(connection, sql, rows, exc) from exc


_HELD = "pal.prepared.driver"


def _driver(session: Session) -> tuple[Connection, Any]:
    """The session's connection, and SQLite's own connection under it, or None when SQLAlchemy
    must run the statement. Worked out once per transaction of the session: asking the session
    for its connection costs more than running a statement."""
    marker = _transaction_of(session)
    held = session.info.get(_HELD)
    if marker is not None and held is not None and held[0] is marker:
        return held[1], held[2]
    bind = session.bind
    if isinstance(bind, Connection) and bind.in_transaction():
        connection = bind  # a session joined to its connection's transaction (storage.db)
    else:
        connection = session.connection()
    dialect = connection.dialect
    direct = (
        dialect.name == "sqlite"
        and dialect.positional
        # Something watches statements (tracing, a test counting them): let it see them.
        and not connection.dispatch.before_cursor_execute
    )
    driver = connection.connection.driver_connection if direct else None
    session.info[_HELD] = (_transaction_of(session), connection, driver)
    return connection, driver


def _flush_pending(session: Session) -> None:
    """Write the ORM objects the session holds pending first, so the statement sees them (as
    `session.get` and ORM queries, which flush on their own, would)."""
    if session.new or session.identity_map:
        session.flush()


def _transaction_of(session: Session) -> Any:
    """What changes with each transaction of `session`: its connection's transaction when it is
    bound to a connection, else its own."""
    bind = session.bind
    if isinstance(bind, Connection):
        return bind.get_transaction()
    return session.get_transaction()


def _compile(statement: Executable, connection: Connection, names: tuple[str, ...]) -> _Plan | None:
    """The statement's plan for parameters named `names`, or None when SQLAlchemy must run it
    (a column default computed in Python at each execution)."""
    dialect = connection.dialect
    compiled = statement.compile(dialect=dialect, column_keys=list(names))  # type: ignore[attr-defined]
    assert isinstance(compiled, SQLCompiler)
    # Columns left out whose default (INSERT) or onupdate (UPDATE) SQLAlchemy supplies: a
    # constant is bound as one.
    defaults = {
        **{c.key: c.default for c in compiled.insert_prefetch},
        **{c.key: c.onupdate for c in compiled.update_prefetch},
    }
    if not all(getattr(default, "is_scalar", False) for default in defaults.values()):
        return None
    if any(bind.expanding and bind.type._is_tuple_type for bind in compiled.binds.values()):
        return None  # a list of tuples: SQLAlchemy expands each tuple itself
    binds = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        if bind.key in names:
            given = _REQUIRED
        elif bind.key in defaults:
            given = defaults[bind.key].arg  # type: ignore[union-attr]
        else:
            given = _REQUIRED if bind.required else bind.value
        binds.append((bind.key, bind.type._cached_bind_processor(dialect), given))
    expanding = tuple(
        (compiled_name, bind.key, _REQUIRED if bind.required or bind.key in names else bind.value)
        for compiled_name, bind in compiled.binds.items()
        if bind.expanding
    )
    columns = compiled._result_columns  # SQLAlchemy's own record of them
    readers = tuple(c.type._cached_result_processor(dialect, None) for c in columns)
    row_type = namedtuple("Row", [c.keyname for c in columns], rename=True) if columns else None
    return _Plan(
        compiled.string,
        compiled,
        tuple(binds),
        expanding,
        bool(columns),
        row_type,
        readers,
        _filler(binds),
        {},
    )


def _filler(
    binds: Sequence[tuple[str, Processor, Any]],
) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A function giving the driver's values for a statement's parameters: the values bound in
    the statement itself are processed once, here; the parameters' at each call."""
    template = [
        _REQUIRED if given is _REQUIRED else (processor(given) if processor else given)
        for _, processor, given in binds
    ]
    asked = [(i, name, processor) for i, (name, processor, given) in enumerate(binds)
             if given is _REQUIRED]  # fmt: skip

    def fill(values: Mapping[str, Any]) -> tuple[Any, ...]:
        out = template.copy()
        for i, name, processor in asked:
            value = values[name]
            out[i] = processor(value) if processor is not None else value
        return tuple(out)

    return fill


def _bound(plan: _Plan, values: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """The SQL and the driver's values for `values`, as SQLAlchemy would bind them."""
    if plan.expanding:
        lists = {
            compiled_name: values[key] if given is _REQUIRED else given
            for compiled_name, key, given in plan.expanding
        }
        lengths = tuple(len(items) for items in lists.values())
        known = plan.by_lengths.get(lengths)
        if known is None:
            known = _expand(plan, values)
            if len(plan.by_lengths) < _LENGTHS_KEPT:
                plan.by_lengths[lengths] = known
        sql, places = known
        bound = []
        for name, index, processor, given in places:
            if index is not None:
                value = lists[name][index]
            else:
                value = values[name] if given is _REQUIRED else given
            bound.append(processor(value) if processor is not None else value)
        return sql, tuple(bound)
    return plan.sql, plan.fill(values)


def _expand(plan: _Plan, values: Mapping[str, Any]) -> tuple[str, tuple[_Place, ...]]:
    """The SQL SQLAlchemy renders for lists as long as those in `values`, and where each value
    it binds comes from: a parameter, or an item of a list parameter."""
    state = plan.compiled.construct_expanded_state(dict(values), escape_names=False)
    # As SQLAlchemy binds them: the statement's processors, and the expanded lists' own.
    processors: dict[str, Any] = {**plan.compiled._bind_processors, **state.processors}
    items = {
        expanded: (name, index)
        for name, names in state.parameter_expansion.items()
        for index, expanded in enumerate(names)
    }
    places: list[_Place] = []
    for position in state.positiontup or ():
        if position in items:
            name, index = items[position]
            places.append((name, index, processors.get(position), _REQUIRED))
            continue
        bind = plan.compiled.binds[position]  # a plain parameter, bound as in the plain plan
        given = _REQUIRED if bind.required or bind.key in values else bind.value
        places.append((bind.key, None, processors.get(position), given))
    return state.statement, tuple(places)


def _read(plan: _Plan, rows: list[Any]) -> list[Any]:
    if plan.row_type is None:
        return rows
    make = plan.row_type._make
    readers = plan.readers
    if not any(readers):
        return [make(row) for row in rows]
    return [
        make(
            [
                reader(value) if reader is not None else value
                for reader, value in zip(readers, row, strict=True)
            ]
        )
        for row in rows
    ]


def _from_sqlalchemy(result: Any) -> Outcome:
    context = result.context
    if context.isinsert and not context.executemany:
        try:
            inserted = (result.inserted_primary_key or (None,))[0]
        except InvalidRequestError:  # the statement's own RETURNING rows stand for the key
            return Outcome(result.all(), result.rowcount)
        return Outcome([], result.rowcount, inserted)
    return Outcome(result.all() if result.returns_rows else [], result.rowcount)


def _wrapped(connection: Connection, sql: str, params: Any, exc: sqlite3.Error) -> Exception:
    """The driver's error as SQLAlchemy would raise it (IntegrityError, OperationalError...),
    so callers and `storage.errors.classify` see what they would have seen."""
    return DBAPIError.instance(sql, params, exc, sqlite3.Error, dialect=connection.dialect)
