"""`pal dashboard --out DIR`: the static dashboard site (workflow/dashboard/site.py)."""

from __future__ import annotations

from pathlib import Path

import click

from workflow.cli import present
from workflow.cli.common import app_for, pass_ctx


@click.command("dashboard")
@click.option("--out", required=True, type=click.Path(path_type=Path), metavar="DIR",
              help="Write the site to DIR (replacing a dashboard pal wrote there).")  # fmt: skip
@pass_ctx
def dashboard(ctx: click.Context, out: Path) -> None:
    """A static site of the agreements, their deadlines and the mail, to open in a browser."""
    from workflow.dashboard.site import build_site

    with app_for(ctx) as app, app.read() as session:
        pages = build_site(session, out, app.context())
    click.echo(present.dashboard_written(out, len(pages)))
