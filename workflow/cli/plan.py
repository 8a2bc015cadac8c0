"""`pal benchmark ...`: the plan's benchmarks and their measurements."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from workflow.cli import present
from workflow.cli.amendment_number import AMENDMENT
from workflow.cli.common import (
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

csv_file = csv_file_argument
agreement_arg = click.argument("agreement_id", type=RECORD_ID, metavar="AGREEMENT")


@click.group()
def benchmark() -> None:
    """The plan's benchmarks, per school, and their measurements."""


@benchmark.command("add")
@agreement_arg
@click.option("--school", required=True, metavar="CODE")
@click.option("--kind", required=True, help="on_track, proficiency_or_growth, graduation_rate, "
              "attendance_rate or local.")  # fmt: skip
@click.option("--baseline", required=True, metavar="X")
@click.option("--target-18", "target_18", required=True, metavar="X", help="18-month target.")
@click.option("--target-36", "target_36", required=True, metavar="X", help="36-month target.")
@click.option("--lower-is-better", is_flag=True, help="Lower values are better.")
@click.option("--label", metavar="TEXT", help="The district's name for a local benchmark.")
@on_option
@by_option
@click.option("--amendment", type=AMENDMENT, metavar="N",
              help="Add it to amendment N's draft instead of the plan.")  # fmt: skip
@json_option
@pass_ctx
def add(
    ctx: click.Context,
    agreement_id: int,
    school: str,
    kind: str,
    baseline: str,
    target_18: str,
    target_36: str,
    lower_is_better: bool,
    label: str | None,
    on: date | None,
    by: str | None,
    amendment: int | None = None,
    as_json: bool = False,
) -> None:
    """Add a benchmark to the plan of AGREEMENT (or to amendment N's draft); prints the new
    benchmark's id."""
    from workflow.plan import add_benchmark

    fields = {"school": school, "kind": kind, "label": label, "baseline": baseline,
              "target_18": target_18, "target_36": target_36,
              "direction": "lower" if lower_is_better else "higher"}  # fmt: skip
    given = {name: value for name, value in fields.items() if value is not None}
    if amendment is not None:
        from workflow.amend import add_to_draft

        with app_for(ctx) as app, app.write() as session:
            added = add_to_draft(session, agreement_id, amendment, given,
                                 app.person(session, by), app.context(), on=on)  # fmt: skip
        emit({"id": added}, as_json, lambda _: present.benchmark_added(added))
        return
    with app_for(ctx) as app, app.write() as session:
        added = add_benchmark(session, agreement_id, given, app.person(session, by),
                              app.context(), on=on)  # fmt: skip
    emit({"id": added}, as_json, lambda _: present.benchmark_added(added))


@benchmark.command("import")
@agreement_arg
@csv_file
@on_option
@by_option
@json_option
@pass_ctx
def import_(
    ctx: click.Context,
    agreement_id: int,
    file: Path,
    on: date | None,
    by: str | None,
    as_json: bool = False,
) -> None:
    """Import benchmarks from CSV (header: school,kind,label,baseline,target_18,target_36,
    direction; FILE `-`: standard input); all rows or none."""
    from workflow.plan import import_benchmarks

    text = read_csv_text(file)
    with app_for(ctx) as app, app.write() as session, progress_bar("benchmarks") as progress:
        added = import_benchmarks(session, agreement_id, text, app.person(session, by),
                                  app.context(), on=on, progress=progress)  # fmt: skip
    emit({"imported": len(added), "benchmarks": added}, as_json,
         lambda _: present.benchmarks_imported(added))  # fmt: skip


@benchmark.command("measure")
@click.argument("benchmark_id", type=RECORD_ID, metavar="BENCHMARK")
@click.option("--value", required=True, metavar="X")
@click.option("--on", type=ISO_DATE, required=True, help="The day it was measured.")
@click.option("--evidence", metavar="TEXT", help="Where the value comes from.")
@by_option
@pass_ctx
def measure(
    ctx: click.Context,
    benchmark_id: int,
    value: str,
    on: date,
    evidence: str | None,
    by: str | None,
) -> None:
    """Record a measurement of BENCHMARK."""
    from workflow import plan

    with app_for(ctx) as app, app.write() as session:
        plan.measure(session, benchmark_id, value, on, evidence, app.person(session, by),
                     app.context())  # fmt: skip
    say(present.measurement_recorded(benchmark_id, value.strip(), on))


@benchmark.command("measure-import")
@agreement_arg
@csv_file
@by_option
@json_option
@pass_ctx
def measure_import(
    ctx: click.Context, agreement_id: int, file: Path, by: str | None, as_json: bool = False
) -> None:
    """Import measurements from CSV (header: benchmark,value,on,evidence; FILE `-`: standard
    input); all rows or none."""
    from workflow.plan import import_measurements

    text = read_csv_text(file)
    with app_for(ctx) as app, app.write() as session, progress_bar("measurements") as progress:
        count = import_measurements(session, agreement_id, text, app.person(session, by),
                                    app.context(), progress)  # fmt: skip
    emit({"imported": count}, as_json, lambda _: present.measurements_imported(count))


@benchmark.command("list")
@agreement_arg
@json_option
@pass_ctx
def list_(ctx: click.Context, agreement_id: int, as_json: bool) -> None:
    """List AGREEMENT's benchmarks with their measurements."""
    from workflow.views import list_benchmarks

    with app_for(ctx) as app, app.read() as session:
        rows = list_benchmarks(session, agreement_id)
    emit(rows, as_json, present.benchmark_rows)
