"""`pal review ...`: the steps of an agreement's review and its status determination."""

from __future__ import annotations

from datetime import date

import click

from states.errors import BadInput
from workflow.cli import present
from workflow.cli.common import (
    RECORD_ID,
    app_for,
    by_option,
    emit,
    json_option,
    on_option,
    pass_ctx,
)

agreement_arg = click.argument("agreement_id", type=RECORD_ID, metavar="AGREEMENT")


@click.group()
def review() -> None:
    """The reviews of an agreement (18-month RGA, 24- and 36-month reviews)."""


@review.command("show")
@agreement_arg
@json_option
@pass_ctx
def show(ctx: click.Context, agreement_id: int, as_json: bool) -> None:
    """Show AGREEMENT's open review, else its latest: steps and each school's status."""
    from workflow.views import review_view

    with app_for(ctx) as app, app.read() as session:
        view = review_view(session, agreement_id, today=app.context().today)
    emit(view, as_json, present.review_text)


@review.command("list")
@agreement_arg
@json_option
@pass_ctx
def list_(ctx: click.Context, agreement_id: int, as_json: bool) -> None:
    """List every review of AGREEMENT, oldest first: dates and each school's agreed status."""
    from workflow.review_history import review_history

    with app_for(ctx) as app, app.read() as session:
        reviews = review_history(session, agreement_id)
    emit(reviews, as_json, present.review_history_text)


@review.command("step")
@agreement_arg
@click.argument("step")
@by_option
@on_option
@click.option("--note")
@click.option("--evidence", metavar="TEXT", help="What was submitted or where it is kept.")
@json_option
@pass_ctx
def step(
    ctx: click.Context,
    agreement_id: int,
    step: str,
    by: str | None,
    on: date | None,
    note: str | None,
    evidence: str | None,
    as_json: bool = False,
) -> None:
    """Record STEP of the open review (evidence, self_assessment, partner_assessment,
    mde_assessment, conference), in that order."""
    from workflow.reviews import record_step
    from workflow.views import review_summary

    with app_for(ctx) as app, app.write() as session:
        record_step(session, agreement_id, step, app.person(session, by), app.context(), on=on,
                    note=note, evidence=evidence)  # fmt: skip
        summary = review_summary(session, agreement_id)
    recorded = {"agreement": agreement_id, "step": step, "review": summary}
    emit(recorded, as_json, lambda _: present.step_recorded(agreement_id, step, summary))


def _by_school(values: tuple[str, ...], option: str) -> dict[str, str]:
    """`SCHOOL=VALUE` items as a mapping; anything else is bad input."""
    found: dict[str, str] = {}
    for item in values:
        school, sep, value = item.partition("=")
        if not sep or not school.strip():
            raise BadInput(f"{option} takes SCHOOL=VALUE, not {item!r}")
        if school.strip() in found:
            raise BadInput(f"{option} names {school.strip()} twice")
        found[school.strip()] = value.strip()
    return found


@review.command()
@agreement_arg
@by_option
@on_option
@click.option("--override", "overrides", multiple=True, metavar="SCHOOL=STATUS",
              help="The status the conference agreed for a school (needs --reason).")  # fmt: skip
@click.option("--reason", "reasons", multiple=True, metavar="SCHOOL=TEXT",
              help="Why the agreed status differs from the computed one.")  # fmt: skip
@click.option("--note")
@json_option
@pass_ctx
def determine(
    ctx: click.Context,
    agreement_id: int,
    by: str | None,
    on: date | None,
    overrides: tuple[str, ...],
    reasons: tuple[str, ...],
    note: str | None,
    as_json: bool = False,
) -> None:
    """Record the status determination of AGREEMENT's open review."""
    from workflow import reviews

    agreed, why = _by_school(overrides, "--override"), _by_school(reasons, "--reason")
    with app_for(ctx) as app, app.write() as session:
        context = app.context()
        state = reviews.determine(session, agreement_id, app.person(session, by), context,
                                  on=on, overrides=agreed, reasons=why, note=note)  # fmt: skip
        view = reviews.review_view(session, agreement_id, today=context.today)
    determined = {"agreement": agreement_id, "state": state, "review": view}
    emit(determined, as_json, lambda _: present.determination_recorded(agreement_id, state, view))
