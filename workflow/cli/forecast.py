"""`pal forecast`: the notices and timed steps to come, computed without changing anything."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime

import click

from workflow.cli import present
from workflow.cli.common import (
    ISO_DATE,
    ISO_DATETIME,
    RECORD_ID,
    app_for,
    emit,
    json_option,
    pass_ctx,
)


@click.command()
@click.option("--until", type=ISO_DATE, required=True, metavar="DATE",
              help="The last day forecast (local), included.")  # fmt: skip
@click.option("--agreement", "agreement_id", type=RECORD_ID, metavar="ID",
              help="Only this agreement.")  # fmt: skip
@click.option("--now", type=ISO_DATETIME, help="Forecast as of this moment (naive = local time).")
@json_option
@pass_ctx
def forecast(
    ctx: click.Context,
    until: date,
    agreement_id: int | None,
    now: datetime | None,
    as_json: bool,
) -> None:
    """Every notice the service will send, and every step it will take, until DATE if nothing
    changes (what a director checks before a holiday or after changing rules)."""
    from states.errors import BadInput
    from workflow.forecast import forecast as run_forecast

    with app_for(ctx) as app:
        context = app.context(now.replace(tzinfo=app.settings.tz) if now and now.tzinfo is None
                              else now)  # fmt: skip
        if until < context.today:
            raise BadInput(f"--until {until} is before today ({context.today})")
        if agreement_id is not None:
            from workflow.views import agreement_view

            with app.read() as session:
                agreement_view(session, agreement_id)  # an unknown agreement: not found (2)
        found = run_forecast(app.engine, context, until, agreement_id)
    emit(asdict(found), as_json, present.forecast_text)
