"""`pal funds ...`: Section 21(h) fund requests. Each command calls one library function
(workflow.funds for changes, workflow.funds_views for views)."""

from __future__ import annotations

from datetime import date

import click

from workflow.cli import present_funds as present
from workflow.cli.common import (
    RECORD_ID,
    app_for,
    by_option,
    emit,
    json_option,
    on_option,
    pass_ctx,
)

request_arg = click.argument("request_id", type=RECORD_ID, metavar="REQUEST")
year_option = click.option("--year", metavar="YEAR", help="State fiscal year, like 2025-26.")


@click.group()
def funds() -> None:
    """Section 21(h) fund requests of partnership districts, and each year's appropriation."""


@funds.command("request")
@click.argument("agreement_id", type=RECORD_ID, metavar="AGREEMENT")
@click.option("--year", required=True, metavar="YEAR", help="State fiscal year, like 2025-26.")
@click.option("--rationale", required=True, metavar="TEXT")
@click.option("--serves", required=True, metavar="BENCHMARK,...",
              help="The agreement's benchmarks (ids, as `pal benchmark list` shows) it serves.")
@click.option("--priorities", required=True, metavar="LIST", help="literacy, whole_child, p8.")
@by_option
@json_option
@pass_ctx
def request(ctx: click.Context, agreement_id: int, year: str, rationale: str, serves: str,
            priorities: str, by: str | None, as_json: bool = False) -> None:  # fmt: skip
    """Enter a fund request of AGREEMENT for a fiscal year (a draft); prints its id."""
    from workflow.funds import new_request

    with app_for(ctx) as app, app.write() as session:
        created = new_request(session, agreement_id, app.person(session, by), app.context(),
                              year=year, rationale=rationale, serves=serves,
                              priorities=priorities)  # fmt: skip
    emit({"id": created}, as_json, lambda _: str(created))


@funds.command("activity")
@request_arg
@click.option("--category", required=True, metavar="CATEGORY", help="pd_teachers, pd_leaders, "
              "instructional_time, teacher_mentors or innovative_initiative.")  # fmt: skip
@click.option("--amount", required=True, metavar="DOLLARS", help="Like 125000.00.")
@click.option("--metrics", required=True, metavar="TEXT", help="How its effect is measured.")
@by_option
@json_option
@pass_ctx
def activity(ctx: click.Context, request_id: int, category: str, amount: str, metrics: str,
             by: str | None, as_json: bool = False) -> None:  # fmt: skip
    """Add an activity to REQUEST (a draft, or returned with comments)."""
    from workflow.funds import add_activity
    from workflow.funds_views import request_view

    with app_for(ctx) as app, app.write() as session:
        add_activity(session, request_id, app.person(session, by), app.context(),
                     category=category, amount=amount, metrics=metrics)  # fmt: skip
        view = request_view(session, request_id, app.context().today)
    emit(view, as_json, present.activity_added)


def _step_command(name: str, help_text: str, *, note: bool = False, on: bool = False) -> None:
    """`pal funds NAME REQUEST --by EMAIL [--note TEXT] [--on DATE]`: one event of the request."""

    @by_option
    @json_option
    @pass_ctx
    def command(ctx: click.Context, request_id: int, by: str | None, as_json: bool = False,
                note: str | None = None, on: date | None = None) -> None:  # fmt: skip
        from workflow.funds import label_of, step

        with app_for(ctx) as app, app.write() as session:
            row = step(session, name, request_id, app.person(session, by), app.context(),
                       on=on, note=note)  # fmt: skip
        stepped = {"id": row.id, "state": row.state}
        emit(stepped, as_json, lambda _: present.stepped(row.id, label_of(name), row.state))

    command.__doc__ = help_text
    if note:
        command = click.option("--note", metavar="TEXT", help="The reason, or the comments.")(
            command
        )
    if on:
        command = on_option(command)
    funds.command(name)(request_arg(command))


_step_command("submit", "Submit REQUEST for the district: every guideline is checked.")
_step_command("review", "Start the review of a submitted REQUEST.")
_step_command("approve", "Approve REQUEST within its fiscal year's appropriation.", note=True)
_step_command("deny", "Deny REQUEST (needs --note: the reason, which the district is told).",
              note=True)  # fmt: skip
_step_command("return", "Return REQUEST to the district with comments (needs --note).",
              note=True)  # fmt: skip
_step_command("fund", "Record that REQUEST was funded (on --on, default today).", on=True)


@funds.command("report")
@request_arg
@click.option("--effectiveness", required=True, metavar="TEXT",
              help="The effectiveness data of the funded activities.")  # fmt: skip
@by_option
@json_option
@pass_ctx
def report(ctx: click.Context, request_id: int, effectiveness: str, by: str | None,
           as_json: bool = False) -> None:  # fmt: skip
    """Report the effectiveness of REQUEST's funded activities."""
    from workflow.funds import label_of, step

    with app_for(ctx) as app, app.write() as session:
        row = step(session, "report", request_id, app.person(session, by), app.context(),
                   data={"effectiveness": effectiveness})  # fmt: skip
    emit({"id": row.id, "state": row.state}, as_json,
         lambda _: present.stepped(row.id, label_of("report"), row.state))  # fmt: skip


@funds.command("list")
@year_option
@click.option("--agreement", "agreement_id", type=RECORD_ID, metavar="ID")
@click.option("--state", metavar="STATE")
@json_option
@pass_ctx
def list_command(ctx: click.Context, year: str | None, agreement_id: int | None,
                 state: str | None, as_json: bool = False) -> None:  # fmt: skip
    """List fund requests (every year unless --year), by id."""
    from workflow.funds_views import list_requests

    with app_for(ctx) as app, app.read() as session:
        views = list_requests(session, year=year, agreement=agreement_id, state=state)
    emit(views, as_json, present.request_list)


@funds.command("show")
@request_arg
@json_option
@pass_ctx
def show(ctx: click.Context, request_id: int, as_json: bool = False) -> None:
    """Show REQUEST: its stage, total, activities, open deadlines and history."""
    from workflow.funds_views import request_view

    with app_for(ctx) as app, app.read() as session:
        view = request_view(session, request_id, app.context().today)
    emit(view, as_json, present.request_text)


@funds.command("budget")
@year_option
@json_option
@pass_ctx
def budget(ctx: click.Context, year: str | None, as_json: bool = False) -> None:
    """A fiscal year's appropriation, approved, funded and remaining (default: this year)."""
    from config.settings import DEFAULT_RULES_VERSION
    from states.funds import fiscal_year_of
    from workflow.funds_views import budget_view

    with app_for(ctx) as app, app.read() as session:
        context = app.context()
        chosen = year or fiscal_year_of(context.today)
        view = budget_view(session, chosen, context.rules_version or DEFAULT_RULES_VERSION)
    emit(view, as_json, present.budget_text)
