"""`pal dashboard --out DIR`: the static dashboard site (workflow/dashboard/site.py); with
`--serve PORT`, served on 127.0.0.1 and built again after each sweep (workflow/dashboard/serve.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from states.errors import BadInput
from workflow.cli import present
from workflow.cli.common import ISO_DATETIME, app_for, pass_ctx


@click.command("dashboard")
@click.option("--out", type=click.Path(path_type=Path), metavar="DIR",
              help="Write the site to DIR (replacing a dashboard pal wrote there).")  # fmt: skip
@click.option("--serve", "port", type=click.IntRange(0, 65535), metavar="PORT",
              help="Serve it on 127.0.0.1:PORT (0: a free port), built again after each sweep "
                   "and each change, until Ctrl-C.")  # fmt: skip
@click.option("--every", type=click.FloatRange(0.1, 3600), metavar="SECONDS",
              help="With --serve: how often to look for a change (default 5).")  # fmt: skip
@click.option("--now", type=ISO_DATETIME, help="With --out: the site as of this moment "
              "(naive = local time; default: now).")  # fmt: skip
@pass_ctx
def dashboard(ctx: click.Context, out: Path | None, port: int | None, every: float | None,
              now: datetime | None) -> None:  # fmt: skip
    """A static site of the agreements, their deadlines and the mail, to open in a browser."""
    from workflow.dashboard.site import build_site

    if port is not None:
        if now is not None:
            raise BadInput("--now goes with --out DIR: a served dashboard follows the clock")
        _serve(ctx, out, port, every)
        return
    if out is None or every is not None:
        raise BadInput("give --out DIR to write the dashboard, or --serve PORT to serve it"
                       if out is None else "--every goes with --serve PORT")  # fmt: skip
    with app_for(ctx) as app, app.read() as session:
        moment = now if now is None or now.tzinfo else now.replace(tzinfo=app.settings.tz)
        pages = build_site(session, out, app.context(moment))
    click.echo(present.dashboard_written(out, len(pages)))


def _serve(ctx: click.Context, out: Path | None, port: int, every: float | None) -> None:
    from workflow.dashboard.serve import EVERY_S, Dashboard, serve_dashboard, site_folder
    from workflow.dashboard.site import build_site

    with app_for(ctx) as app, site_folder(out) as folder:
        site = Dashboard(app, build_site, folder, clock=lambda: datetime.now(UTC))
        serve_dashboard(site, port, every=every or EVERY_S, announce=_announce)


def _announce(url: str) -> None:
    click.echo(present.dashboard_serving(url))
