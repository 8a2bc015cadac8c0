"""Verify the audit log's hash chains: every row holds what it was written with, no row of a chain
is missing, and each chain ends where its head (`audit_chain`) says.

The rows are read once, in id order, as a stream (memory grows with the number of chains, not of
rows), in one read transaction, so what is checked is one moment of the log: on PostgreSQL a
repeatable-read snapshot, on SQLite the read transaction's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from storage import tables
from storage.db import transaction
from workflow.audit import HASHED, row_hash

# Rows fetched per round trip while streaming.
_BATCH = 2_000


@dataclass(frozen=True)
class Problem:
    """The first row that does not match (None: a chain with no row left), and what is wrong."""

    id: int | None
    subject: str
    problem: str

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "subject": self.subject, "problem": self.problem}


@dataclass
class Verification:
    rows: int = 0
    chains: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def view(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "chains": self.chains,
            "problems": [problem.view() for problem in self.problems],
        }


@dataclass
class _Link:
    """Where a chain stands after the rows read so far: its newest row's id, place and hash."""

    id: int
    seq: int
    hash: str


def verify(engine: Engine) -> Verification:
    """Walk every chain; the first problem found (in id order, then the heads') is reported."""
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    found = Verification()
    chains: dict[str, _Link] = {}
    first: list[Problem] = []  # the first problem in the log so far: at most one kept

    def found_one(problem: Problem | None) -> None:
        # A problem of a whole chain (no row left, no id) comes before any row's.
        if problem is not None and (not first or _order(problem) < _order(first[0])):
            first[:] = [problem]

    audit = tables.AUDIT
    query = select(audit.c.id, audit.c.hash, *(audit.c[name] for name in HASHED)).order_by(
        audit.c.id
    )
    with transaction(engine, read_only=True) as session:
        for row in session.execute(query.execution_options(yield_per=_BATCH)):
            found.rows += 1
            values = row._mapping
            found_one(_check(values, chains.get(values["subject"])))
            chains[values["subject"]] = _Link(values["id"], values["seq"], values["hash"])
        found.chains = len(chains)
        head = tables.AUDIT_CHAIN
        heads = session.execute(
            select(head.c.subject, head.c.length, head.c.head).execution_options(yield_per=_BATCH)
        )
        for subject, length, newest in heads:
            found_one(_check_head(subject, length, newest, chains.pop(subject, None)))
    for subject, link in chains.items():
        found_one(Problem(link.id, subject, "a chain without a head: audit_chain has none for it"))
    found.problems = first
    return found


def _order(problem: Problem) -> tuple[int, str]:
    return (problem.id or 0, problem.subject)


def _check(row: Any, before: _Link | None) -> Problem | None:
    """What is wrong with one row, given the row before it in its chain (None: the first)."""
    subject = row["subject"]
    if row_hash(row) != row["hash"]:
        return Problem(row["id"], subject, "its content was changed after it was written")
    expected = before.seq + 1 if before is not None else 1
    if row["seq"] > expected:
        missing = row["seq"] - expected
        rows = "a row is" if missing == 1 else f"{missing} rows are"
        before_it = (
            "the first one left" if before is None
            else f"after row {before.seq}, id {before.id}"
        )  # fmt: skip
        return Problem(
            row["id"],
            subject,
            f"{rows} missing before it (it is row {row['seq']} of its chain, {before_it})",
        )
    if row["seq"] < expected:
        place = f"it claims place {row['seq']} in its chain, which another row holds"
        return Problem(row["id"], subject, place)
    if before is None and row["prev_hash"] is not None:
        return Problem(row["id"], subject, "it was written after a row that is missing")
    if before is not None and row["prev_hash"] != before.hash:
        # The row before verifies on its own: it was changed and its hash written anew.
        return Problem(
            before.id,
            subject,
            f"its content was changed after it was written (the next row, id {row['id']}, was "
            "written after another)",
        )
    return None


def _check_head(subject: str, length: int, newest: str, last: _Link | None) -> Problem | None:
    if last is None:
        return Problem(None, subject, f"all {length} rows of the chain are missing")
    if length > last.seq:
        missing = length - last.seq
        rows = "its newest row is" if missing == 1 else f"its newest {missing} rows are"
        return Problem(
            last.id, subject, f"the chain ends early: {rows} missing (it should hold {length})"
        )
    if length < last.seq or newest != last.hash:
        return Problem(
            last.id,
            subject,
            "the chain's head does not match its newest row (audit_chain was changed, or this "
            "row was)",
        )
    return None
