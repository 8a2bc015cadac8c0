"""`pal backup` and `pal restore`: copies of a SQLite database (workflow.backup)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from workflow.cli import present
from workflow.cli.common import pass_ctx, say, settings_for


@click.command(short_help="A consistent copy of the SQLite database, while pal runs.")
@click.argument("path", type=click.Path(path_type=Path))
@pass_ctx
def backup(ctx: click.Context, path: Path) -> None:
    """Write a consistent copy of the SQLite database to PATH (a new file, or a folder), also
    while the service runs."""
    from workflow.backup import backup as take

    facts = take(settings_for(ctx), path, datetime.now(UTC))
    say(present.backup_written(facts.path, facts.size, facts.revision))


@click.command(short_help="Put a checked backup in place of the database.")
@click.argument("path", type=click.Path(path_type=Path))
@pass_ctx
def restore(ctx: click.Context, path: Path) -> None:
    """Put the backup PATH in place of the database, after checking it (refused while a
    service runs on the database); the database it replaces is kept beside it."""
    from workflow.backup import restore as put_back

    restored = put_back(settings_for(ctx), path, datetime.now(UTC))
    say(present.restored(restored))
