"""`pal rules ...`: the rule versions, and what each changes."""

from __future__ import annotations

import click

from workflow.cli import present
from workflow.cli.common import app_for, emit, json_option, pass_ctx


@click.group()
def rules() -> None:
    """Rule data versions (config/rules/*.toml)."""


@rules.command("list")
@json_option
@pass_ctx
def list_(ctx: click.Context, as_json: bool) -> None:
    """Each version: its description, what it extends, how many agreements follow it."""
    from workflow.rule_versions import list_versions

    with app_for(ctx) as app, app.read() as session:
        rows = list_versions(session)
    emit(rows, as_json, present.rule_versions)


@rules.command("show")
@click.argument("version")
@json_option
@pass_ctx
def show(ctx: click.Context, version: str, as_json: bool) -> None:
    """What VERSION changes in the version it extends (a base version: all its values)."""
    from workflow.rule_versions import version_view

    with app_for(ctx, check=False):  # settings (PAL_RULES_DIR) apply; no database needed
        view = version_view(version)
    emit(view, as_json, present.rule_version)
