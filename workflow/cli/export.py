"""`pal export TABLE`: a table for the evaluation unit's spreadsheets, as CSV or xlsx."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from states.errors import BadInput
from workflow.cli import present
from workflow.cli.choices import ListsChoices, Names
from workflow.cli.common import app_for, emit, json_option, pass_ctx, say


def _tables() -> Sequence[str]:
    from workflow.export import TABLES

    return TABLES


def _formats() -> Sequence[str]:
    from workflow.export import FORMATS

    return FORMATS


@click.command("export", cls=ListsChoices)
@click.argument("table", type=Names(_tables), metavar="TABLE")
@click.option("--format", "format_", type=Names(_formats), help="csv (default) or xlsx.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write FILE (whole or not at all) instead of standard output.")  # fmt: skip
@json_option
@pass_ctx
def export(
    ctx: click.Context, table: str, format_: str | None, out: Path | None, as_json: bool
) -> None:
    """Export TABLE as CSV or xlsx for a spreadsheet: the rows `--json` prints, a header row
    first (every deadline, open or closed; a row per benchmark and measurement)."""
    from workflow.cli.service import _redactor
    from workflow.export import export_table, save, write

    if as_json and (format_ or out):
        raise BadInput("--json prints the rows; --format and --out write a file (give one)")
    if out is None and format_ == "xlsx" and sys.stdout.isatty():
        raise BadInput("an xlsx workbook is not for a terminal: give --out FILE")
    with app_for(ctx) as app, app.read() as session:
        found = export_table(session, table, redact=_redactor(app))
    if as_json:
        emit(found.view(), as_json, str)
    elif out is None:
        sys.stdout.flush()
        write(found, format_ or "csv", sys.stdout.buffer)
        sys.stdout.buffer.flush()
    else:
        save(found, format_ or "csv", out)
        say(present.exported(len(found.rows), table, out))
