"""`pal notice ...`: the notices pal sends, and any one of them shown before it goes."""

from __future__ import annotations

from pathlib import Path

import click

from workflow.cli import present
from workflow.cli.common import RECORD_ID, app_for, emit, json_option, pass_ctx, say


@click.group()
def notice() -> None:
    """The notices pal sends (from rule data), and a preview of each."""


@notice.command("list")
@json_option
@pass_ctx
def list_(ctx: click.Context, as_json: bool) -> None:
    """Each notice: what it is, when it goes out, who receives it."""
    from config.rules import load_rules
    from workflow.notices import notice_list

    with app_for(ctx, check=False) as app:  # rule data only: no database needed
        rows = notice_list(load_rules(app.settings.rules_version))
    emit(rows, as_json, present.notice_list)


@notice.command("preview")
@click.argument("name", metavar="NOTICE")
@click.option("--agreement", "agreement_id", type=RECORD_ID,
              help="A real agreement (default: a sample).")  # fmt: skip
@click.option("--to", metavar="EMAIL", help="The recipient (default: the first it goes to).")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the HTML body to this file.")  # fmt: skip
@pass_ctx
def preview(ctx: click.Context, name: str, agreement_id: int | None, to: str | None,
            html_file: Path | None) -> None:  # fmt: skip
    """NOTICE as it would be sent: subject, To and text body (nothing is sent or stored)."""
    from workflow.notices import preview as render

    with app_for(ctx, check=agreement_id is not None) as app:
        shown = render(app, name, agreement_id, to)
    if html_file is not None:
        from states.errors import BadInput

        try:
            html_file.write_text(shown.html, encoding="utf-8")
        except OSError as exc:  # a folder that is not there, not writable: bad input
            raise BadInput(f"cannot write {html_file}: {exc.strerror or exc}") from exc
    say(present.notice_preview(shown))
