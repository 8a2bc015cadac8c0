"""The admin CLI: a thin shell over library functions. Heavy modules load inside commands.

`pal` itself is here; its command groups live in `agreement`, `plan` (benchmarks), `review`,
`registry`, `service` and `audit`, what they share in `common`, and every line of human-readable
output in `present`.
"""

from __future__ import annotations

import click

from workflow.cli import (
    agreement,
    audit,
    backup,
    completion,
    dashboard,
    export,
    funds,
    meetings,
    plan,
    present,
    registry,
    report,
    review,
    service,
)
from workflow.cli import amend as _amend  # noqa: F401  (adds the amendment commands)
from workflow.cli.common import PalGroup, app_for, emit, json_option, pass_ctx
from workflow.cli.progress import progress_bar


@click.group(cls=PalGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(dir_okay=False), help="TOML settings file.")
@click.option("--database-url", help="Database URL (default: $PAL_DATABASE_URL).")
@click.option("--timezone", help="Local time zone (default: $PAL_TIMEZONE).")
@click.version_option(package_name="pal", prog_name="pal")  # the installed version
def cli(config: str | None, database_url: str | None, timezone: str | None) -> None:
    """pal: partnership-agreement case engine for the Office of Partnership Districts."""


def main() -> None:
    cli(prog_name="pal")


@cli.command()
@json_option
@pass_ctx
def init(ctx: click.Context, as_json: bool = False) -> None:
    """Create the database or bring its schema up to date (safe to repeat)."""
    from storage.migrate import upgrade

    with app_for(ctx, check=False) as app:
        upgrade(app.engine)
        url = app.engine.url
    emit({"database": url.render_as_string(hide_password=True)}, as_json,
         lambda _: present.database_ready(url))  # fmt: skip


@cli.command()
@click.argument("process", default="agreement")
@click.option("--format", "shape", type=click.Choice(["mermaid", "svg"]), default="mermaid",
              help="mermaid (stateDiagram-v2 text) or svg (a drawing, in words people read)")
def diagram(process: str, shape: str = "mermaid") -> None:
    """Print PROCESS's state machine (default: agreement) as Mermaid stateDiagram-v2, or as an
    SVG drawing (--format svg)."""
    from states.diagram import mermaid
    from states.registry import process as definition
    from workflow.diagram_svg import process_svg

    draw = process_svg if shape == "svg" else mermaid
    click.echo(draw(definition(process)), nl=False)


for command in (
    registry.district,
    registry.school,
    registry.contact,
    agreement.agreement,
    agreement.deadlines_command,
    plan.benchmark,
    review.review,
    funds.funds,
    service.tick,
    service.serve,
    service.status,
    service.outbox,
    audit.audit,
    backup.backup,
    backup.restore,
    completion.completion,
    export.export,
    meetings.meeting,
    meetings.action,
    report.report,
    dashboard.dashboard,
):
    cli.add_command(command)


@cli.command()
@pass_ctx
def demo(ctx: click.Context) -> None:
    """Build a fictional cohort in the configured database and walk it through its lifecycle."""
    from workflow.demo import run_demo

    with app_for(ctx, check=False) as app:
        # A demo never talks to a real mail server: the file backend, always.
        app.settings = app.settings.model_copy(update={"smtp_host": None})
        with progress_bar("simulating") as progress:
            run_demo(app, click.echo, progress)


def _add_rules() -> None:
    from workflow.cli import forecast, notice, rules

    cli.add_command(rules.rules)
    cli.add_command(forecast.forecast)
    cli.add_command(notice.notice)


_add_rules()
