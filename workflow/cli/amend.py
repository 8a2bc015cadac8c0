"""`pal agreement amend`, `pal agreement consequences`, `pal benchmark edit` and `pal benchmark
remove`: amendments of an agreement's terms (the `--amendment N` options of `agreement show`,
`agreement sign` and `benchmark add` are in their own commands). Importing this module adds the
commands to their groups."""

from __future__ import annotations

from datetime import date

import click

from workflow.cli import present
from workflow.cli.agreement import agreement
from workflow.cli.amendment_number import AMENDMENT
from workflow.cli.common import (
    RECORD_ID,
    app_for,
    by_option,
    emit,
    json_option,
    on_option,
    pass_ctx,
    say,
)
from workflow.cli.plan import benchmark

amendment_option = click.option(
    "--amendment", type=AMENDMENT, metavar="N", required=True, help="The amendment's number."
)


@agreement.command("amend")
@click.argument("agreement_id", type=RECORD_ID, metavar="ID")
@click.option("--note", required=True, metavar="TEXT", help="What the amendment is for.")
@on_option
@by_option
@json_option
@pass_ctx
def amend(
    ctx: click.Context,
    agreement_id: int,
    note: str,
    on: date | None,
    by: str | None,
    as_json: bool = False,
) -> None:
    """Open the next amendment of agreement ID's terms (a draft); prints its number."""
    from workflow.amend import open_amendment

    with app_for(ctx) as app, app.write() as session:
        number = open_amendment(session, agreement_id, note, app.person(session, by),
                                app.context(), on=on)  # fmt: skip
    opened = {"agreement": agreement_id, "amendment": number}
    emit(opened, as_json, lambda _: present.amendment_opened(number))


@agreement.command("consequences")
@click.argument("agreement_id", type=RECORD_ID, metavar="ID")
@click.argument("consequences", metavar="LIST")
@amendment_option
@on_option
@by_option
@pass_ctx
def consequences(
    ctx: click.Context,
    agreement_id: int,
    consequences: str,
    amendment: int,
    on: date | None,
    by: str | None,
) -> None:
    """Set the consequences (a comma list) of amendment N's draft."""
    from workflow.amend import set_consequences

    with app_for(ctx) as app, app.write() as session:
        set_consequences(session, agreement_id, amendment, consequences,
                         app.person(session, by), app.context(), on=on)  # fmt: skip
    say(present.draft_changed(agreement_id, amendment, "consequences set"))


@benchmark.command("edit")
@click.argument("benchmark_id", type=RECORD_ID, metavar="BENCHMARK")
@amendment_option
@click.option("--baseline", metavar="X")
@click.option("--target-18", "target_18", metavar="X", help="18-month target.")
@click.option("--target-36", "target_36", metavar="X", help="36-month target.")
@click.option("--label", metavar="TEXT", help="A local benchmark's name.")
@on_option
@by_option
@pass_ctx
def edit(
    ctx: click.Context,
    benchmark_id: int,
    amendment: int,
    baseline: str | None,
    target_18: str | None,
    target_36: str | None,
    label: str | None,
    on: date | None,
    by: str | None,
) -> None:
    """Change BENCHMARK's baseline, targets or label in amendment N's draft."""
    from workflow.amend import edit_draft

    changes = {"baseline": baseline, "target_18": target_18, "target_36": target_36,
               "label": label}  # fmt: skip
    with app_for(ctx) as app, app.write() as session:
        agreement_id = edit_draft(session, benchmark_id, amendment, changes,
                                  app.person(session, by), app.context(), on=on)  # fmt: skip
    say(present.draft_changed(agreement_id, amendment, f"benchmark {benchmark_id} changed"))


@benchmark.command("remove")
@click.argument("benchmark_id", type=RECORD_ID, metavar="BENCHMARK")
@amendment_option
@on_option
@by_option
@pass_ctx
def remove(
    ctx: click.Context, benchmark_id: int, amendment: int, on: date | None, by: str | None
) -> None:
    """Remove BENCHMARK from amendment N's draft (its measurements are kept)."""
    from workflow.amend import remove_from_draft

    with app_for(ctx) as app, app.write() as session:
        agreement_id = remove_from_draft(session, benchmark_id, amendment,
                                         app.person(session, by), app.context(), on=on)  # fmt: skip
    say(present.draft_changed(agreement_id, amendment, f"benchmark {benchmark_id} removed"))
