"""`pal tick`, `pal serve`, `pal status`, `pal outbox`: the service and its mail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click

from workflow.cli import present
from workflow.cli.common import ISO_DATETIME, RECORD_ID, app_for, emit, json_option, pass_ctx, say


def _aware(value: datetime | None, tz: Any) -> datetime:
    if value is None:
        return datetime.now(UTC)
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def _redactor(app: Any) -> Callable[[str], str]:
    """The secrets of these settings, to keep out of what is printed."""
    from notifications.errors import redactor_for

    return redactor_for(app.settings)


@click.command()
@click.option("--now", type=ISO_DATETIME, help="Run as of this moment (naive = local time).")
@json_option
@pass_ctx
def tick(ctx: click.Context, now: datetime | None, as_json: bool = False) -> None:
    """Run one sweep and one delivery pass, then exit (for cron, operators and tests)."""
    from workflow.service import tick as run_tick

    with app_for(ctx) as app:
        report = run_tick(app, _aware(now, app.settings.tz))
    if as_json:
        emit(report.view(), as_json, str)
        return
    say(*present.tick_report(report))


@click.command()
@click.option("--max-sweeps", type=int, hidden=True, help="Stop after N sweeps (benchmarks).")
@pass_ctx
def serve(ctx: click.Context, max_sweeps: int | None) -> None:
    """Run the sweep and delivery on a schedule until SIGTERM or SIGINT."""
    import asyncio

    from workflow.service import Service
    from workflow.sole_service import sole_service

    with app_for(ctx, service=True) as app:
        service = Service(app)
        with sole_service(app.engine, service.identity, datetime.now(app.settings.tz)):
            asyncio.run(service.run(max_sweeps=max_sweeps))
    if service.fatal is not None:  # the database file went away: one error line, exit non-zero
        raise service.fatal
    say(present.serve_stopped())


@click.command(short_help="The service's health: ok, degraded or down (exit 0, 7, 8).")
@click.option("--now", type=ISO_DATETIME, help="Judge as of this moment (naive = local time).")
@json_option
@pass_ctx
def status(ctx: click.Context, now: datetime | None, as_json: bool) -> None:
    """The verdict (ok, degraded, down: exit 0, 7, 8), each service instance's last sweep and
    delivery, mail waiting or failed, timers failed, overdue and next deadlines."""
    from workflow.status import redacted, service_status

    with app_for(ctx) as app, app.read() as session:
        moment = _aware(now, app.settings.tz)
        report = redacted(service_status(session, app.context(moment)), _redactor(app))
    emit(report, as_json, present.status_text)
    ctx.exit(report["exit_code"])


@click.group()
def outbox() -> None:
    """Outgoing mail."""


@outbox.command("list")
@click.option(
    "--status", "status_", metavar="STATUS", help="pending, retrying, sent, failed or unaddressed."
)
@click.option("--agreement", "agreement_id", type=RECORD_ID, metavar="ID",
              help="Only the mail about this agreement.")  # fmt: skip
@click.option("--limit", type=click.IntRange(min=0), metavar="N", help="Only the newest N.")
@json_option
@pass_ctx
def outbox_list(
    ctx: click.Context,
    status_: str | None,
    as_json: bool,
    agreement_id: int | None = None,
    limit: int | None = None,
) -> None:
    """List outgoing mail, newest last."""
    from notifications.admin import list_outbox

    with app_for(ctx) as app, app.read() as session:
        rows = list_outbox(session, status_, agreement=agreement_id, limit=limit)
        redact = _redactor(app)
    for row in rows:  # rows stored before errors were redacted at the source, say
        row["last_error"] = redact(row["last_error"]) if row["last_error"] else row["last_error"]
    emit(rows, as_json, present.outbox_rows)


@outbox.command("show")
@click.argument("outbox_id", type=RECORD_ID, metavar="ID")
@json_option
@pass_ctx
def outbox_show(ctx: click.Context, outbox_id: int, as_json: bool) -> None:
    """One message as `outbox list` shows it, with its text and HTML bodies in full."""
    from notifications.admin import show_outbox

    with app_for(ctx) as app, app.read() as session:
        view = show_outbox(session, outbox_id)
        redact = _redactor(app)
    view["last_error"] = redact(view["last_error"]) if view["last_error"] else view["last_error"]
    emit(view, as_json, present.outbox_message)


@outbox.command("retry")
@click.argument("outbox_id", type=RECORD_ID, metavar="ID")
@json_option
@pass_ctx
def outbox_retry(ctx: click.Context, outbox_id: int, as_json: bool = False) -> None:
    """Send a failed (or retrying) message again at the next delivery pass."""
    from notifications.admin import retry

    with app_for(ctx) as app, app.write() as session:
        row = retry(session, outbox_id, app.context().now)
        redact = _redactor(app)
    row["last_error"] = redact(row["last_error"]) if row["last_error"] else row["last_error"]
    emit(row, as_json, lambda _: present.retry_queued(outbox_id))
