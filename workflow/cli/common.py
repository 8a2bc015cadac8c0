"""What every CLI command shares: parameter types, options, error handling, the app.

Exit codes: 0 ok, 1 internal error, 2 bad input, 3 not allowed in this state,
4 permission denied, 5 concurrent modification or a busy database (try again), 6 the database
cannot be used now (read-only, disk full, unreachable, deleted under a running pal); and from
`pal status` alone, its verdict: 7 degraded, 8 down (workflow.health).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from states.errors import BadInput, PalError
from workflow.cli import present

if TYPE_CHECKING:
    from config.settings import Settings
    from workflow.app import App


# Dates and moments pal accepts: wide enough for any agreement, narrow enough that every
# deadline, reminder ladder and time-zone offset counted from them stays a valid date.
FIRST_YEAR, LAST_YEAR = 1900, 9000
# Record ids are INTEGER columns: 32 bits on PostgreSQL (SQLite's are wider, never reached).
MAX_ID = 2**31 - 1


def _in_years(value: date, param_type: Any, param: Any, ctx: Any) -> None:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        param_type.fail(f"{value.isoformat()!r} is out of range (years {FIRST_YEAR}-{LAST_YEAR})",
                        param, ctx)  # fmt: skip


class IsoDate(click.ParamType):  # type: ignore[type-arg]
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError(value)
            found = date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", param, ctx)
        _in_years(found, self, param, ctx)
        return found


class IsoDateTime(click.ParamType):  # type: ignore[type-arg]
    name = "DATETIME"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            found = datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date-time (YYYY-MM-DDTHH:MM[+ZZ:ZZ])", param, ctx)
        _in_years(found, self, param, ctx)
        return found


def _whole_number(value: Any) -> int | None:
    """`value` as an int when it is written as a whole number (ASCII digits, any size)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    return int(text) if re.fullmatch(r"\+?\d{1,40}", text, flags=re.ASCII) else None


class RecordId(click.ParamType):  # type: ignore[type-arg]
    """A record's id: a whole number from 1 to MAX_ID (beyond it no record can exist)."""

    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        number = _whole_number(value)
        if number is None:
            self.fail(f"{value!r} is not an id (a whole number)", param, ctx)
        if not 1 <= number <= MAX_ID:
            self.fail(f"{value!r} is out of range (ids are 1 to {MAX_ID})", param, ctx)
        return number


class Days(click.ParamType):  # type: ignore[type-arg]
    """A number of days, 0 or more (any size: a very large one means "all")."""

    name = "DAYS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        number = _whole_number(value)
        if number is None:
            self.fail(f"{value!r} is not a number of days (0 or more)", param, ctx)
        return number


ISO_DATE = IsoDate()
ISO_DATETIME = IsoDateTime()
RECORD_ID = RecordId()
DAYS = Days()


class PalGroup(click.Group):
    """Turns every expected failure into one `error:` line and a documented exit code."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        _configure_logging()
        given = kwargs.get("args", args[0] if args else None)
        for position, arg in enumerate(sys.argv[1:] if given is None else given, start=1):
            if "\x00" in str(arg):  # no OS passes one; text with it can be neither path nor row
                _fail(f"argument {position} contains a NUL character", 2)
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort:
            _fail("aborted", 1)
        except click.exceptions.NoArgsIsHelpError as exc:  # a group given no command
            click.echo(exc.ctx.get_help() if exc.ctx else "")
            group = exc.ctx.command if exc.ctx else None
            names = group.list_commands(exc.ctx) if isinstance(group, click.Group) else []
            path = exc.ctx.command_path if exc.ctx else "pal"
            _fail(f"{path} needs a command ({', '.join(names)})", 2)
        except click.ClickException as exc:
            _fail(exc.format_message(), 2)
        except PalError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:  # the last line of defence: one line, no traceback, no SQL
            if _debug():
                raise
            _fail_unexpected(exc)
        sys.exit(code if isinstance(code, int) else 0)


def _configure_logging() -> None:
    """Until the settings are read: warnings and errors, stamped in UTC (workflow.logs)."""
    from workflow.logs import configure

    configure()


def _debug() -> bool:
    import os

    return os.environ.get("PAL_DEBUG", "") not in ("", "0")


def _fail(message: str, code: int) -> None:
    from storage.errors import one_line

    click.echo(present.error_line(one_line(message)), err=True)
    sys.exit(code)


def _fail_unexpected(exc: Exception) -> None:
    """A failure of the database is classified (storage.errors); anything else is a bug (1)."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.errors import classify, one_line

    if isinstance(exc, SQLAlchemyError):
        classified = classify(exc, _database_url())
        if classified is not None:
            _fail(str(classified), classified.exit_code)
        orig = getattr(exc, "orig", None)
        # Never the statement or its parameters: the DBAPI's own message, or the error's kind.
        detail = one_line(str(orig)) if orig is not None else type(exc).__name__
        _fail(f"internal error: database error: {detail} (PAL_DEBUG=1 shows more)", 1)
    _fail(present.internal_error(exc), 1)


def _database_url() -> str | None:
    """The database URL the failed command used, for naming its file in a message."""
    import os

    context = click.get_current_context(silent=True)
    given = context.find_root().params.get("database_url") if context is not None else None
    return given or os.environ.get("PAL_DATABASE_URL") or "sqlite:///pal.db"


def emit(data: Any, as_json: bool, human: Callable[[Any], str]) -> None:
    """The one place JSON is printed: the view itself; otherwise its `present.*` text."""
    click.echo(json.dumps(data, indent=2, default=str) if as_json else human(data))


def say(text: str, warnings: str = "") -> None:
    """Print a `present.*` text on stdout, then its warnings (if any) on stderr."""
    click.echo(text)
    if warnings:
        click.echo(warnings, err=True)


# An import's FILE argument: a CSV file, or `-` for standard input (`read_csv_text` reads both).
CSV_FILE = click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path)
csv_file_argument = click.argument("file", type=CSV_FILE)


def read_csv_text(file: Path) -> str:
    """A CSV file's text, or standard input's for `-` (a UTF-8 byte-order mark is dropped); not
    UTF-8 is bad input."""
    is_stdin = str(file) == "-"
    try:
        if is_stdin:
            return sys.stdin.buffer.read().decode("utf-8-sig")
        return file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{'standard input' if is_stdin else file} is not UTF-8 text") from exc


def settings_for(ctx: click.Context, *, service: bool = False) -> Settings:
    """The settings for this command (flags, environment, file), with logging set up by them."""
    from config.settings import load_settings
    from workflow.logs import configure

    options = ctx.find_root().params
    try:
        settings = load_settings(
            options.get("config"),
            database_url=options.get("database_url"),
            timezone=options.get("timezone"),
        )
    except UnicodeDecodeError as exc:  # tomllib decodes the file's bytes itself
        import os

        path = options.get("config") or os.environ.get("PAL_CONFIG") or "pal.toml"
        raise BadInput(f"config file {path} is not UTF-8 text (byte {exc.start})") from exc
    configure(settings, service=service)
    return settings


@contextmanager
def app_for(ctx: click.Context, *, check: bool = True, service: bool = False) -> Iterator[App]:
    from workflow.app import open_app
    from workflow.heartbeat import this_process

    # The service's connections are named like its instance (PostgreSQL's application_name).
    name = f"pal {this_process('serve', 0).name}" if service else None
    with open_app(settings_for(ctx, service=service), check=check, name=name) as app:
        yield app


pass_ctx = click.pass_context
by_option = click.option("--by", metavar="EMAIL", help="Who is acting (default: $PAL_ACTOR).")
on_option = click.option("--on", type=ISO_DATE, help="Effective date (default: today).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
