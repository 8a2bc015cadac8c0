"""`pal meeting ...` and `pal action ...`: a district's meetings and the action items raised at
them (issue 16). Each command calls one library function (workflow.meetings,
workflow.action_items); its human output is in `present_meetings`."""

from __future__ import annotations

from datetime import date

import click

from workflow.cli import present_meetings as present
from workflow.cli.common import (
    ISO_DATE,
    RECORD_ID,
    app_for,
    by_option,
    emit,
    json_option,
    pass_ctx,
)
from workflow.cli.registry import district


@click.group()
def meeting() -> None:
    """A district's meetings: scheduled, held or cancelled; invitations by email."""


@meeting.command("schedule")
@click.argument("district")
@click.option("--at", "at", required=True, metavar='"YYYY-MM-DD HH:MM"',
              help="When it starts, on the local clock (a time shown twice when daylight "
                   "time ends: the first).")  # fmt: skip
@click.option("--kind", default="other", help="high_need, dit, conference or other.")
@click.option("--place", metavar="TEXT", help="Where it meets, or a link.")
@click.option("--agenda", metavar="TEXT")
@by_option
@pass_ctx
def schedule(ctx: click.Context, district: str, at: str, kind: str, place: str | None,
             agenda: str | None, by: str | None) -> None:  # fmt: skip
    """Schedule a meeting of DISTRICT; prints its id. The people invited get an invitation."""
    from workflow.meetings import local_start, schedule_meeting

    with app_for(ctx) as app, app.write() as session:
        context = app.context()
        starts = local_start(at, context.tz)
        found = schedule_meeting(session, district, starts, app.person(session, by), context,
                                 kind=kind, place=place, agenda=agenda)  # fmt: skip
    click.echo(found)


@meeting.command("series")
@click.argument("district")
@click.option("--kind", required=True, type=click.Choice(["high_need", "dit"]))
@click.option("--start", required=True, type=ISO_DATE, help="The day of its first meeting.")
@click.option("--until", type=ISO_DATE, help="The last day it may meet.")
@by_option
@pass_ctx
def series(ctx: click.Context, district: str, kind: str, start: date, until: date | None,
           by: str | None) -> None:  # fmt: skip
    """Start a series of DISTRICT's meetings at the cadence of its kind; prints its id."""
    from workflow.meeting_series import start_series

    with app_for(ctx) as app, app.write() as session:
        found = start_series(session, district, kind, start, app.person(session, by),
                             app.context(), until)  # fmt: skip
    click.echo(found)


@district.command("high-need")
@click.argument("code")
@click.option("--on", "on", required=True, type=ISO_DATE, help="From when.")
@click.option("--reason", required=True, metavar="TEXT")
@click.option("--off", is_flag=True, help="No longer high-need from that day.")
@by_option
@pass_ctx
def high_need(ctx: click.Context, code: str, on: date, reason: str, off: bool,
              by: str | None) -> None:  # fmt: skip
    """Mark district CODE high-need (biweekly meetings), or no longer (--off)."""
    from workflow.meeting_series import mark_high_need

    with app_for(ctx) as app, app.write() as session:
        mark_high_need(session, code, on, reason, app.person(session, by), app.context(),
                       high_need=not off)  # fmt: skip
    click.echo(present.high_need_marked(code, on, not off))


@meeting.command("held")
@click.argument("meeting_id", type=RECORD_ID, metavar="MEETING")
@click.option("--attendees", required=True, metavar="EMAILS", help="Who attended, comma-separated.")
@click.option("--notes", metavar="TEXT")
@by_option
@pass_ctx
def held(ctx: click.Context, meeting_id: int, attendees: str, notes: str | None,
         by: str | None) -> None:  # fmt: skip
    """Record MEETING held: who attended, and notes."""
    from workflow.meetings import hold_meeting

    with app_for(ctx) as app, app.write() as session:
        hold_meeting(session, meeting_id, attendees, app.person(session, by), app.context(), notes)
    click.echo(present.meeting_done(meeting_id, "held"))


@meeting.command("cancel")
@click.argument("meeting_id", type=RECORD_ID, metavar="MEETING")
@click.option("--reason", required=True, metavar="TEXT")
@by_option
@pass_ctx
def cancel(ctx: click.Context, meeting_id: int, reason: str, by: str | None) -> None:
    """Cancel MEETING: the people invited get the cancellation."""
    from workflow.meetings import cancel_meeting

    with app_for(ctx) as app, app.write() as session:
        cancel_meeting(session, meeting_id, reason, app.person(session, by), app.context())
    click.echo(present.meeting_done(meeting_id, "cancelled"))


@meeting.command("list")
@click.option("--district", metavar="CODE")
@click.option("--from", "start", type=ISO_DATE, help="Meetings on or after this day.")
@click.option("--to", "end", type=ISO_DATE, help="Meetings on or before this day.")
@json_option
@pass_ctx
def list_command(ctx: click.Context, district: str | None, start: date | None,
                 end: date | None, as_json: bool) -> None:  # fmt: skip
    """List meetings, soonest first."""
    from workflow.meetings import list_meetings

    with app_for(ctx) as app, app.read() as session:
        found = list_meetings(session, district=district, start=start, end=end)
    emit(found, as_json, present.meetings_text)


@click.group()
def action() -> None:
    """Action items raised at meetings: an owner, a due date, reminders."""


@action.command("add")
@click.argument("meeting_id", type=RECORD_ID, metavar="MEETING")
@click.option("--owner", required=True, metavar="EMAIL", help="A person on file.")
@click.option("--due", required=True, type=ISO_DATE)
@click.option("--text", required=True, metavar="TEXT")
@by_option
@pass_ctx
def add(ctx: click.Context, meeting_id: int, owner: str, due: date, text: str,
        by: str | None) -> None:  # fmt: skip
    """Raise an action item at MEETING; prints its id."""
    from workflow.action_items import add_action

    with app_for(ctx) as app, app.write() as session:
        found = add_action(session, meeting_id, owner, due, text, app.person(session, by),
                           app.context())  # fmt: skip
    click.echo(found)


def _closing(how: str, words: str) -> click.Command:
    @click.argument("action_id", type=RECORD_ID, metavar="ACTION")
    @by_option
    @click.option("--note", metavar="TEXT", help="Why (needed to drop an item).")
    @pass_ctx
    def close(ctx: click.Context, action_id: int, by: str | None, note: str | None) -> None:
        from workflow.action_items import close_action

        with app_for(ctx) as app, app.write() as session:
            close_action(session, action_id, how, app.person(session, by), app.context(), note)
        click.echo(present.action_done(action_id, words))

    close.__doc__ = f"Record ACTION {words}."
    return action.command(how)(close)


_closing("done", "done")
_closing("drop", "dropped")


@action.command("list")
@click.option("--district", metavar="CODE")
@click.option("--owner", metavar="EMAIL")
@click.option("--liaison", metavar="EMAIL", help="The items of this liaison's districts.")
@click.option("--open", "only_open", is_flag=True, help="Open items only.")
@click.option("--overdue", is_flag=True, help="Open items past their due date only.")
@json_option
@pass_ctx
def list_actions_command(ctx: click.Context, district: str | None, owner: str | None,
                         liaison: str | None, only_open: bool, overdue: bool,
                         as_json: bool) -> None:  # fmt: skip
    """List action items, due first."""
    from workflow.action_items import list_actions

    with app_for(ctx) as app, app.read() as session:
        found = list_actions(session, app.context().today, district=district, owner=owner,
                             liaison=liaison, only_open=only_open, overdue=overdue)  # fmt: skip
    emit(found, as_json, present.actions_text)
