"""`pal agreement ...` and `pal deadlines`: the lifecycle commands."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from states.errors import BadInput
from workflow.cli import present
from workflow.cli.amendment_number import AMENDMENT
from workflow.cli.choices import EVENT, PARTY, STATE, ListsChoices
from workflow.cli.common import (
    DAYS,
    ISO_DATE,
    RECORD_ID,
    app_for,
    by_option,
    csv_file_argument,
    emit,
    json_option,
    on_option,
    pass_ctx,
    read_csv_text,
    say,
)
from workflow.cli.progress import progress_bar


@click.group()
def agreement() -> None:
    """Partnership agreements and their lifecycle."""


@agreement.command("identify")
@click.argument("district_code", metavar="DISTRICT")
@on_option
@click.option("--cohort", metavar="LABEL")
@click.option(
    "--consequences",
    metavar="LIST",
    help="Comma list (default: all four; a traditional district's needs reconstitution).",
)
@click.option("--schools", metavar="CODES", help="Comma list of the district's schools covered.")
@click.option("--rules", "rules_version", metavar="VERSION", help="Rule data version.")
@click.option("--note")
@by_option
@json_option
@pass_ctx
def identify(
    ctx: click.Context,
    district_code: str,
    on: date | None,
    cohort: str | None,
    consequences: str | None,
    schools: str | None,
    rules_version: str | None,
    note: str | None,
    by: str | None,
    as_json: bool = False,
) -> None:
    """Assign a district to partnership; prints the new agreement's id."""
    from states.agreement import AGREEMENT
    from workflow.engine import Request, apply

    given = {"cohort": cohort, "consequences": consequences, "schools": schools}
    data = {key: value for key, value in given.items() if value is not None}
    with app_for(ctx) as app, app.write() as session:
        request = Request(AGREEMENT.commands["identify"], app.person(session, by),
                          parent=district_code, on=on, note=note, data=data,
                          rules_version=rules_version)  # fmt: skip
        created = apply(session, request, app.context())
    emit({"id": created.id}, as_json, lambda _: present.agreement_created(created.id))


@agreement.command("import")
@csv_file_argument
@by_option
@json_option
@pass_ctx
def import_(ctx: click.Context, file: Path, by: str | None, as_json: bool) -> None:
    """Load agreements already under way from CSV (`-`: standard input); all rows or none.

    Header: district,identified_on,cohort,liaison,rules,consequences,board_signed,
    superintendent_signed,mde_signed,authorizer_signed,state,note. Each row's history is
    written as dated, audited steps; timers whose moment has passed send nothing.
    """
    from workflow.going_live import import_agreements

    text = read_csv_text(file)
    with app_for(ctx) as app, app.write() as session, progress_bar("agreements") as progress:
        actor = app.person(session, by)
        added = import_agreements(session, text, actor, app.context(), progress)
    emit({"imported": len(added), "agreements": added}, as_json,
         lambda _: present.agreements_imported(added))  # fmt: skip


@agreement.command("list")
@click.option("--state", type=STATE)
@click.option("--district", "district_code", metavar="CODE")
@click.option("--cohort", metavar="LABEL", help="Only the agreements of this cohort.")
@click.option("--school", "school_code", metavar="CODE", help="Only those covering this school.")
@click.option("--overdue", is_flag=True, help="Only those with a deadline past due (today).")
@json_option
@pass_ctx
def list_(
    ctx: click.Context,
    state: str | None,
    district_code: str | None,
    as_json: bool,
    cohort: str | None = None,
    school_code: str | None = None,
    overdue: bool = False,
) -> None:
    """List agreements (the filters combine)."""
    from workflow.views import list_agreements

    with app_for(ctx) as app, app.read() as session:
        rows = list_agreements(session, state=state, district=district_code, cohort=cohort,
                               school=school_code,
                               overdue_on=app.context().today if overdue else None)  # fmt: skip
    emit(rows, as_json, present.agreement_rows)


@agreement.command("show")
@click.argument("agreement_id", type=RECORD_ID, metavar="ID")
@json_option
@click.option("--amendment", type=AMENDMENT, metavar="N",
              help="Show version N of the terms (0: the plan as signed).")  # fmt: skip
@pass_ctx
def show(ctx: click.Context, agreement_id: int, as_json: bool, amendment: int | None) -> None:
    """Show one agreement: state, dates, deadlines, signatures, history."""
    from workflow.views import agreement_view

    if amendment is not None:
        from workflow.amendment_views import amendment_view

        with app_for(ctx) as app, app.read() as session:
            terms = amendment_view(session, agreement_id, amendment)
        emit(terms, as_json, present.amendment_text)
        return
    from workflow.meeting_views import meetings_of

    with app_for(ctx) as app, app.read() as session:
        view = agreement_view(session, agreement_id)
        view |= meetings_of(session, agreement_id, app.context())
    emit(view, as_json, present.agreement_text)


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--set takes KEY=VALUE, not {item!r}")
        if key.strip() in pairs:
            raise BadInput(f"--set {key.strip()} is given twice")
        pairs[key.strip()] = value.strip()
    return pairs


@agreement.command("fire", cls=ListsChoices)
@click.argument("agreement_id", type=RECORD_ID, metavar="ID")
@click.argument("event", type=EVENT, metavar="EVENT")
@by_option
@on_option
@click.option("--note")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="Event data.")
@json_option
@pass_ctx
def fire(
    ctx: click.Context,
    agreement_id: int,
    event: str,
    by: str | None,
    on: date | None,
    note: str | None,
    settings: tuple[str, ...],
    as_json: bool = False,
) -> None:
    """Fire EVENT on agreement ID (`pal diagram` shows the events)."""
    from workflow.engine import Request, apply

    data = _pairs(settings)
    with app_for(ctx) as app, app.write() as session:
        request = Request(event, app.person(session, by), case=agreement_id, on=on, note=note,
                          data=data)  # fmt: skip
        changed = apply(session, request, app.context())
    fired = {"agreement": changed.id, "event": event, "state": changed.state,
             "renewed_as": changed.renewed_as}  # fmt: skip
    text = present.event_fired(changed.id, event, changed.state, changed.renewed_as)
    emit(fired, as_json, lambda _: text)


@agreement.command("sign")
@click.argument("agreement_id", type=RECORD_ID, metavar="ID")
@click.option("--party", type=PARTY, required=True, help="The party (authorizer: a PSA's only).")
@by_option
@on_option
@click.option("--amendment", type=AMENDMENT, metavar="N",
              help="Sign amendment N instead of the plan.")  # fmt: skip
@json_option
@pass_ctx
def sign(
    ctx: click.Context,
    agreement_id: int,
    party: str,
    by: str | None,
    on: date | None,
    amendment: int | None = None,
    as_json: bool = False,
) -> None:
    """Record one party's signature of the plan (or of amendment N)."""
    from states.agreement import AGREEMENT
    from workflow.engine import Request, apply

    if amendment is not None:
        from workflow.amend import sign as sign_amendment

        with app_for(ctx) as app, app.write() as session:
            in_force = sign_amendment(session, agreement_id, amendment, party,
                                      app.person(session, by), app.context(), on=on)  # fmt: skip
        signed = {"agreement": agreement_id, "amendment": amendment, "party": party,
                  "in_force": in_force}  # fmt: skip
        text = present.amendment_signed(agreement_id, amendment, party, in_force)
        emit(signed, as_json, lambda _: text)
        return
    with app_for(ctx) as app, app.write() as session:
        request = Request(AGREEMENT.commands["sign"], app.person(session, by),
                          case=agreement_id, on=on, data={"party": party})  # fmt: skip
        changed = apply(session, request, app.context())
    recorded = {"agreement": changed.id, "party": party, "state": changed.state}
    emit(recorded, as_json, lambda _: present.signature_recorded(changed.id, party, changed.state))


@click.command("deadlines")
@click.option("--within", type=DAYS, metavar="DAYS", help="Only those due within DAYS.")
@click.option("--now", type=ISO_DATE, metavar="DATE", help="Count from DATE (default: today).")
@json_option
@pass_ctx
def deadlines_command(
    ctx: click.Context, within: int | None, now: date | None, as_json: bool
) -> None:
    """Open deadlines, soonest first (overdue ones included)."""
    from workflow.views import open_deadlines

    with app_for(ctx) as app, app.read() as session:
        rows = open_deadlines(session, today=now or app.context().today, within=within)
    emit(rows, as_json, present.deadline_rows)


# --- corrections and rule versions ----------------------------------------------------------------


def _reason(reason: str) -> str:
    if not reason.strip():
        raise BadInput("--reason must say why the correction is made")
    return reason


@agreement.command("unsign")
@click.argument("agreement_id", type=RECORD_ID, metavar="ID")
@click.option("--party", type=PARTY, required=True,
              help="The party whose signature was recorded in error.")  # fmt: skip
@click.option("--reason", required=True, help="Why it is withdrawn (kept in the audit log).")
@by_option
@pass_ctx
def unsign(
    ctx: click.Context, agreement_id: int, party: str, reason: str, by: str | None
) -> None:
    """Withdraw a signature recorded in error (only before the plan is signed)."""
    from states.agreement import AGREEMENT
    from workflow.engine import Request, apply

    with app_for(ctx) as app, app.write() as session:
        request = Request(AGREEMENT.commands["unsign"], app.person(session, by),
                          case=agreement_id, note=_reason(reason),
                          data={"party": party})  # fmt: skip
        changed = apply(session, request, app.context())
    say(present.signature_withdrawn(changed.id, party))


@agreement.command("correct")
@click.argument("agreement_id", type=RECORD_ID, metavar="ID")
@click.option("--on", "corrected_on", type=ISO_DATE, required=True,
              help="The date the latest step really took place.")  # fmt: skip
@click.option("--reason", required=True, help="Why the date is corrected (told to the district).")
@by_option
@pass_ctx
def correct(
    ctx: click.Context, agreement_id: int, corrected_on: date, reason: str, by: str | None
) -> None:
    """Correct the date of the agreement's latest step (director); its deadlines follow."""
    from states.agreement import AGREEMENT
    from workflow.engine import Request, apply

    with app_for(ctx) as app, app.write() as session:
        request = Request(AGREEMENT.commands["correct"], app.person(session, by),
                          case=agreement_id, note=_reason(reason),
                          data={"on": corrected_on.isoformat()})  # fmt: skip
        changed = apply(session, request, app.context())
    say(present.date_corrected(changed.id, corrected_on))


@agreement.command("migrate")
@click.argument("agreement_id", type=RECORD_ID, metavar="ID")
@click.option("--rules", "rules_version", required=True, metavar="VERSION",
              help="The rule version to follow from now on (`pal rules list`).")  # fmt: skip
@click.option("--reason", required=True, help="Why (kept in the audit log).")
@by_option
@pass_ctx
def migrate(
    ctx: click.Context, agreement_id: int, rules_version: str, reason: str, by: str | None
) -> None:
    """Move the agreement to another rule version (director); open deadlines are recomputed."""
    from states.agreement import AGREEMENT
    from workflow.engine import Request, apply

    with app_for(ctx) as app, app.write() as session:
        request = Request(AGREEMENT.commands["migrate"], app.person(session, by),
                          case=agreement_id, note=_reason(reason),
                          data={"rules": rules_version})  # fmt: skip
        changed = apply(session, request, app.context())
    say(present.rules_migrated(changed.id, changed.rules_version))
