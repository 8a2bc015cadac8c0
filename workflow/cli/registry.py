"""`pal district`, `pal school`, `pal contact`: reference data on file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from workflow.cli import present
from workflow.cli.choices import ROLE
from workflow.cli.common import (
    ISO_DATE,
    app_for,
    by_option,
    csv_file_argument,
    emit,
    json_option,
    pass_ctx,
    read_csv_text,
    say,
)
from workflow.cli.progress import progress_bar


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
@csv_file_argument
@by_option
@json_option
@pass_ctx
def district_import(ctx: click.Context, file: Path, by: str | None, as_json: bool) -> None:
    """Import districts from CSV (header: code,name,isd,psa,authorizer; FILE `-`: standard
    input); all rows or none."""
    from workflow.registry import import_districts

    text = read_csv_text(file)
    with app_for(ctx) as app, app.write() as session, progress_bar("districts") as progress:
        added = import_districts(session, text, app.clerk(by), app.context(), progress)
    report = {"imported": len(added), "districts": [district.code for district in added]}
    emit(report, as_json, lambda _: present.districts_imported(added))


@district.command("list")
@json_option
@pass_ctx
def district_list(ctx: click.Context, as_json: bool) -> None:
    """List districts."""
    from workflow.registry import list_districts

    with app_for(ctx) as app, app.read() as session:
        rows = [d.model_dump() for d in list_districts(session)]
    emit(rows, as_json, present.district_rows)


@district.command("edit")
@click.argument("code")
@click.option("--name")
@click.option("--isd", help="Intermediate school district (an empty value removes it).")
@click.option("--authorizer", help="The PSA's authorizer (PSA only).")
@by_option
@pass_ctx
def district_edit(
    ctx: click.Context,
    code: str,
    name: str | None,
    isd: str | None,
    authorizer: str | None,
    by: str | None,
) -> None:
    """Change a district's name, ISD or authorizer."""
    from workflow.registry import edit_district

    with app_for(ctx) as app, app.write() as session:
        edit_district(
            session, code, name=name, isd=isd, authorizer=authorizer, actor=app.clerk(by),
            ctx=app.context(),
        )  # fmt: skip
    say(present.district_edited(code))


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


@school.command("list")
@click.option("--district", "district_code", metavar="CODE")
@json_option
@pass_ctx
def school_list(ctx: click.Context, district_code: str | None, as_json: bool) -> None:
    """List schools."""
    from workflow.registry import list_schools

    with app_for(ctx) as app, app.read() as session:
        rows = [s.model_dump() for s in list_schools(session, district_code)]
    emit(rows, as_json, present.school_rows)


@school.command("edit")
@click.argument("code")
@click.option("--name")
@click.option("--csi/--no-csi", default=None, help="Comprehensive Support and Improvement.")
@click.option("--high-school/--no-high-school", default=None, help="Has a graduation rate.")
@by_option
@pass_ctx
def school_edit(
    ctx: click.Context,
    code: str,
    name: str | None,
    csi: bool | None,
    high_school: bool | None,
    by: str | None,
) -> None:
    """Change a school's name, CSI status or whether it is a high school."""
    from workflow.registry import edit_school

    with app_for(ctx) as app, app.write() as session:
        edit_school(
            session, code, name=name, csi=csi, high_school=high_school, actor=app.clerk(by),
            ctx=app.context(),
        )  # fmt: skip
    say(present.school_edited(code))


@click.group()
def contact() -> None:
    """People and their roles."""


@contact.command("add")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=ROLE, required=True, help="District roles need --district.")
@click.option("--district", "district_code", metavar="CODE")
@click.option("--phone", metavar="TEXT")
@click.option(
    "--on", type=ISO_DATE, help="First day the role is held (default: since before any record)."
)
@by_option
@pass_ctx
def contact_add(
    ctx: click.Context,
    email: str,
    name: str,
    role: str,
    district_code: str | None,
    phone: str | None,
    on: date | None,
    by: str | None,
) -> None:
    """Register a person with a role, or another role for a known person (district roles need
    --district)."""
    from workflow.registry import add_contact

    with app_for(ctx) as app, app.write() as session:
        added = add_contact(
            session, email=email, name=name, role=role, district_code=district_code,
            phone=phone, on=on, actor=app.clerk(by), ctx=app.context(),
        )  # fmt: skip
    say(present.contact_added(added.email, added.role))


@contact.command("end")
@click.argument("email")
@click.option("--role", type=ROLE, required=True)
@click.option("--district", "district_code", metavar="CODE")
@click.option("--on", type=ISO_DATE, required=True, help="First day the role is no longer held.")
@by_option
@pass_ctx
def contact_end(
    ctx: click.Context,
    email: str,
    role: str,
    district_code: str | None,
    on: date,
    by: str | None,
) -> None:
    """Record that a person no longer holds a role (from --on, no notice of it reaches them)."""
    from workflow.registry import end_contact

    with app_for(ctx) as app, app.write() as session:
        ended = end_contact(
            session, email=email, role=role, district_code=district_code, on=on,
            actor=app.clerk(by), ctx=app.context(),
        )  # fmt: skip
    say(present.contact_ended(ended.email, ended.role, ended.district_code, on))


@contact.command("edit")
@click.argument("email")
@click.option("--name")
@click.option("--phone", metavar="TEXT", help="An empty value removes the phone number.")
@by_option
@pass_ctx
def contact_edit(
    ctx: click.Context, email: str, name: str | None, phone: str | None, by: str | None
) -> None:
    """Change a person's name or phone number."""
    from workflow.registry import edit_contact

    with app_for(ctx) as app, app.write() as session:
        edited = edit_contact(
            session, email=email, name=name, phone=phone, actor=app.clerk(by), ctx=app.context()
        )
    say(present.contact_edited(edited.email))


@contact.command("list")
@click.option("--district", "district_code", metavar="CODE")
@click.option("--all", "every", is_flag=True, help="Every role ever held, with its dates.")
@json_option
@pass_ctx
def contact_list(ctx: click.Context, district_code: str | None, every: bool, as_json: bool) -> None:
    """List who holds which role today (with --all: every role ever held)."""
    from workflow.registry import list_contacts

    with app_for(ctx) as app, app.read() as session:
        found = list_contacts(session, district_code, every=every, day=app.context().today)
    emit([row.as_dict() for row in found], as_json, present.contact_rows)
