"""`pal district`, `pal school`, `pal contact`: reference data on file."""

from __future__ import annotations

from pathlib import Path

import click

from workflow.cli import present
from workflow.cli.common import app_for, by_option, emit, json_option, pass_ctx, read_csv_text, say


@click.group()
def district() -> None:
    """Districts (traditional or PSA)."""


@district.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--isd", help="Intermediate school district.")
@click.option("--psa", is_flag=True, help="A public school academy (charter).")
@click.option("--authorizer", help="The PSA's authorizer (PSA only).")
@by_option
@pass_ctx
def district_add(
    ctx: click.Context,
    code: str,
    name: str,
    isd: str | None,
    psa: bool,
    authorizer: str | None,
    by: str | None,
) -> None:
    """Register a district."""
    from workflow.registry import DistrictInput, add_district

    spec = DistrictInput(code=code, name=name, isd=isd, psa=psa, authorizer=authorizer)
    with app_for(ctx) as app, app.write() as session:
        added = add_district(session, spec, app.clerk(by), app.context())
    say(present.district_added(added.code))


@district.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@by_option
@pass_ctx
def district_import(ctx: click.Context, file: Path, by: str | None) -> None:
    """Import districts from CSV (header: code,name,isd,psa,authorizer); all rows or none."""
    from workflow.registry import import_districts

    text = read_csv_text(file)
    with app_for(ctx) as app, app.write() as session:
        added = import_districts(session, text, app.clerk(by), app.context())
    say(present.districts_imported(added))


@district.command("list")
@json_option
@pass_ctx
def district_list(ctx: click.Context, as_json: bool) -> None:
    """List districts."""
    from workflow.registry import list_districts

    with app_for(ctx) as app, app.read() as session:
        rows = [d.model_dump() for d in list_districts(session)]
    emit(rows, as_json, present.district_rows)


@click.group()
def school() -> None:
    """Schools."""


@school.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--district", "district_code", required=True, metavar="CODE")
@click.option("--csi", is_flag=True, help="Comprehensive Support and Improvement school.")
@click.option("--alternative", is_flag=True, help="Alternative education school.")
@click.option("--high-school", is_flag=True, help="A high school (has a graduation rate).")
@by_option
@pass_ctx
def school_add(
    ctx: click.Context,
    code: str,
    name: str,
    district_code: str,
    csi: bool,
    alternative: bool,
    high_school: bool,
    by: str | None,
) -> None:
    """Register a school in a district."""
    from workflow.registry import add_school

    with app_for(ctx) as app, app.write() as session:
        add_school(
            session,
            code=code,
            name=name,
            district_code=district_code,
            csi=csi,
            alternative=alternative,
            high_school=high_school,
            actor=app.clerk(by),
            ctx=app.context(),
        )
    say(present.school_added(code))


@click.group()
def contact() -> None:
    """People and their roles."""


@contact.command("add")
@click.argument("email")
@click.option("--name", required=True)
@click.option(
    "--role",
    required=True,
    help="liaison, director, state_superintendent, "
    "superintendent, board_president, authorizer, isd_superintendent, partner",
)
@click.option("--district", "district_code", metavar="CODE")
@by_option
@pass_ctx
def contact_add(
    ctx: click.Context, email: str, name: str, role: str, district_code: str | None, by: str | None
) -> None:
    """Register a person with a role (district roles need --district)."""
    from workflow.registry import add_contact

    with app_for(ctx) as app, app.write() as session:
        added = add_contact(
            session,
            email=email,
            name=name,
            role=role,
            district_code=district_code,
            actor=app.clerk(by),
            ctx=app.context(),
        )
    say(present.contact_added(added.email, added.role))


@contact.command("list")
@click.option("--district", "district_code", metavar="CODE")
@json_option
@pass_ctx
def contact_list(ctx: click.Context, district_code: str | None, as_json: bool) -> None:
    """List people on file."""
    from workflow.registry import list_contacts

    with app_for(ctx) as app, app.read() as session:
        rows = [c.model_dump() for c in list_contacts(session, district_code)]
    emit(rows, as_json, present.contact_rows)
