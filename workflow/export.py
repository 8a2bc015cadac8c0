"""`pal export`: agreements, deadlines, benchmarks and the outbox as flat tables for the evaluation
unit's spreadsheets (CSV or xlsx), the same rows `--json` prints.

A table is columns and rows of plain cells (text, a number, a date or empty), one header row:
what a spreadsheet holds. Nested parts of the read models are spread out: a column per signing
party, one row per benchmark and measurement (a benchmark never measured: one row, no value).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlmodel import Session

from states.agreement import PARTIES
from states.errors import BadInput
from storage import tables
from storage.records import records
from workflow import views

Cell = str | int | float | date | None
TABLES = ("agreements", "deadlines", "benchmarks", "outbox")
FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: list[dict[str, Cell]]

    def view(self) -> list[dict[str, Any]]:
        """The rows as JSON-ready data (dates as YYYY-MM-DD), what `--json` prints."""
        return [
            {key: _text(value) if isinstance(value, date) else value for key, value in row.items()}
            for row in self.rows
        ]


def export_table(
    session: Session, name: str, *, redact: Callable[[str], str] = str
) -> Table:
    """Table `name` (one of `TABLES`) as it stands; `redact` keeps secrets out of stored errors."""
    if name not in TABLES:
        raise BadInput(f"unknown table {name!r}; tables: {', '.join(TABLES)}")
    if name == "agreements":
        return _agreements(session)
    if name == "deadlines":
        return _deadlines(session)
    if name == "benchmarks":
        return _benchmarks(session)
    return _outbox(session, redact)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


AGREEMENT_COLUMNS = (
    "id", "district", "district_name", "cohort", "state", "rules_version", "identified_on",
    "signed_on", "liaison", "consequences", *(f"signed_{party}" for party in PARTIES),
    "next_deadline", "next_deadline_due", "renewed_from", "renewed_as", "escalation_options",
)  # fmt: skip


def _agreements(session: Session) -> Table:
    rows: list[dict[str, Cell]] = []
    for view in views.list_agreements(session):
        upcoming = [d for d in view["deadlines"] if d["status"] == "open"]
        signed = {f"signed_{party}": _day(view["signatures"].get(party)) for party in PARTIES}
        rows.append({
            "id": view["id"],
            "district": view["district"],
            "district_name": view["district_name"],
            "cohort": view["cohort"],
            "state": view["state"],
            "rules_version": view["rules_version"],
            "identified_on": _day(view["identified_on"]),
            "signed_on": _day(view["signed_on"]),
            "liaison": view["liaison"],
            "consequences": ",".join(view["consequences"]),
            **signed,
            "next_deadline": upcoming[0]["kind"] if upcoming else None,
            "next_deadline_due": _day(upcoming[0]["due"]) if upcoming else None,
            "renewed_from": view["renewed_from"],
            "renewed_as": view["renewed_as"],
            "escalation_options": ",".join(view["escalation_options"]) or None,
        })  # fmt: skip
    return Table("agreements", AGREEMENT_COLUMNS, rows)


DEADLINE_COLUMNS = (
    "agreement", "district", "district_name", "kind", "opened_on", "due", "status", "closed_on",
)  # fmt: skip


def _deadlines(session: Session) -> Table:
    """Every deadline, open or closed, by agreement and due date."""
    deadline, agreement, district = tables.DEADLINE, tables.AGREEMENT, tables.DISTRICT
    query = (
        select(
            deadline.c.agreement_id, agreement.c.district_code, district.c.name,
            deadline.c.kind, deadline.c.opened_on, deadline.c.due_on, deadline.c.status,
            deadline.c.closed_on,
        )
        .join(agreement, agreement.c.id == deadline.c.agreement_id)
        .join(district, district.c.code == agreement.c.district_code)
        .order_by(deadline.c.agreement_id, deadline.c.due_on, deadline.c.id)
    )  # fmt: skip
    rows: list[dict[str, Cell]] = [
        dict(zip(DEADLINE_COLUMNS, (r.agreement_id, r.district_code, r.name, r.kind, r.opened_on,
                                    r.due_on, r.status, r.closed_on), strict=True))
        for r in records(session, query)
    ]  # fmt: skip
    return Table("deadlines", DEADLINE_COLUMNS, rows)


BENCHMARK_COLUMNS = (
    "agreement", "district", "district_name", "school", "benchmark", "kind", "label", "baseline",
    "target_18", "target_36", "direction", "measured_on", "value", "evidence",
)  # fmt: skip


def _benchmarks(session: Session) -> Table:
    """Each agreement's benchmarks (the terms in force), a row per measurement."""
    rows: list[dict[str, Cell]] = []
    for view in views.list_agreements(session):
        for b in views.list_benchmarks(session, view["id"]):
            planned: dict[str, Cell] = {
                "agreement": view["id"], "district": view["district"],
                "district_name": view["district_name"], "school": b["school"],
                "benchmark": b["id"], "kind": b["kind"], "label": b["label"],
                "baseline": b["baseline"], "target_18": b["target_18"],
                "target_36": b["target_36"], "direction": b["direction"],
            }  # fmt: skip
            measured = b["measurements"] or [{"on": None, "value": None, "evidence": None}]
            rows += [planned | {"measured_on": _day(m["on"]), "value": m["value"],
                                "evidence": m["evidence"]} for m in measured]  # fmt: skip
    return Table("benchmarks", BENCHMARK_COLUMNS, rows)


OUTBOX_COLUMNS = (
    "id", "to", "subject", "status", "attempts", "last_error", "notice", "occurrence",
    "agreement_id", "message_id", "next_attempt_at", "created_at", "sent_at",
)  # fmt: skip


def _outbox(session: Session, redact: Callable[[str], str]) -> Table:
    from notifications.admin import list_outbox

    rows: list[dict[str, Cell]] = []
    for row in list_outbox(session):
        error = row["last_error"]
        rows.append({column: row[column] for column in OUTBOX_COLUMNS}
                    | {"last_error": redact(error) if error else error})  # fmt: skip
    return Table("outbox", OUTBOX_COLUMNS, rows)


# --- writing -------------------------------------------------------------------------------------


def _text(value: Cell) -> str:
    """A cell as CSV text: empty for none, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


def write_csv(table: Table, stream: IO[str]) -> None:
    """The table as CSV (a header row, then the rows; every cell written as it is: for reading
    by programs, xlsx for opening in a spreadsheet)."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows([_text(row[c]) for c in table.columns] for row in table.rows)


def write_xlsx(table: Table, stream: IO[bytes]) -> None:
    """The table as an xlsx workbook of one sheet: a bold, frozen header row; dates as dates;
    text always as text (a value starting `=` is never a formula)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(table.name)
    sheet.freeze_panes = "A2"
    for index, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(column) + 2)
    bold = Font(bold=True)
    header = []
    for column in table.columns:
        cell = WriteOnlyCell(sheet, value=column)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in table.rows:
        sheet.append([_xlsx_cell(sheet, row[column]) for column in table.columns])
    book.save(stream)


def _xlsx_cell(sheet: Any, value: Cell) -> Any:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would take a leading `=` for a formula
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    return cell


def write(table: Table, format_: str, stream: IO[bytes]) -> None:
    """The table in `format_` (one of `FORMATS`; CSV as UTF-8) on a binary stream."""
    if format_ not in FORMATS:
        raise BadInput(f"unknown format {format_!r}; formats: {', '.join(FORMATS)}")
    if format_ == "xlsx":
        write_xlsx(table, stream)
        return
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=True)
    write_csv(table, text)
    text.detach()  # the stream stays the caller's to close


def save(table: Table, format_: str, path: Path) -> None:
    """The table written to `path` whole or not at all: to a file beside it, then renamed over
    it; a path that cannot be written is bad input."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with temporary.open("wb") as stream:
            write(table, format_, stream)
        os.replace(temporary, path)
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        # Best effort: the temporary file may never have been made (or its name be unusable).
        with contextlib.suppress(OSError):
            temporary.unlink()
