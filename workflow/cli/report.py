"""`pal report annual`: the annual report to the legislature (workflow/annual_report.py)."""

from __future__ import annotations

from pathlib import Path

import click

from workflow.cli.common import app_for, pass_ctx


@click.group("report")
def report() -> None:
    """Reports built from the database."""


@report.command("annual")
@click.option("--year", required=True, metavar="YYYY",
              help="The fiscal year ending September 30 of YYYY.")  # fmt: skip
@click.option("--format", "format_", type=click.Choice(["md", "csv", "html"]), default="md",
              help="md (default), csv (the rows behind every number) or html.")  # fmt: skip
@click.option("--out", type=click.Path(path_type=Path), metavar="FILE",
              help="Write FILE instead of standard output.")  # fmt: skip
@pass_ctx
def annual(ctx: click.Context, year: str, format_: str, out: Path | None) -> None:
    """The annual report: per cohort, district and school, agreements, reviews, benchmarks and
    21(h) funds of the fiscal year ending in YEAR."""
    from workflow.annual_render import annual_text, write_to

    with app_for(ctx) as app, app.read() as session:
        text = annual_text(session, year, format_)
    if out is None:
        click.echo(text, nl=False)
    else:
        write_to(text, out)
