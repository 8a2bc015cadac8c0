"""What every CLI command shares: parameter types, options, error handling, the app.

Exit codes: 0 ok, 1 internal error, 2 bad input, 3 not allowed in this state,
4 permission denied, 5 concurrent modification.
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
    from workflow.app import App


class IsoDate(click.ParamType):  # type: ignore[type-arg]
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", param, ctx)


class IsoDateTime(click.ParamType):  # type: ignore[type-arg]
    name = "DATETIME"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date-time (YYYY-MM-DDTHH:MM[+ZZ:ZZ])", param, ctx)


ISO_DATE = IsoDate()
ISO_DATETIME = IsoDateTime()


class PalGroup(click.Group):
    """Turns every expected failure into one `error:` line and a documented exit code."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        _configure_logging()
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort:
            _fail("aborted", 1)
        except click.ClickException as exc:
            _fail(exc.format_message(), 2)
        except PalError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:  # the last line of defence: one line, no traceback
            if _debug():
                raise
            _fail(present.internal_error(exc), 1)
        sys.exit(code if isinstance(code, int) else 0)


def _configure_logging() -> None:
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    logging.addLevelName(logging.WARNING, "warning")


def _debug() -> bool:
    import os

    return os.environ.get("PAL_DEBUG", "") not in ("", "0")


def _fail(message: str, code: int) -> None:
    click.echo(present.error_line(message), err=True)
    sys.exit(code)


def emit(data: Any, as_json: bool, human: Callable[[Any], str]) -> None:
    """The one place JSON is printed: the view itself; otherwise its `present.*` text."""
    click.echo(json.dumps(data, indent=2, default=str) if as_json else human(data))


def say(text: str, warnings: str = "") -> None:
    """Print a `present.*` text on stdout, then its warnings (if any) on stderr."""
    click.echo(text)
    if warnings:
        click.echo(warnings, err=True)


def read_csv_text(file: Path) -> str:
    """A CSV file's text (a UTF-8 byte-order mark is dropped); not UTF-8 is bad input."""
    try:
        return file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{file} is not UTF-8 text") from exc


@contextmanager
def app_for(ctx: click.Context, *, check: bool = True) -> Iterator[App]:
    from config.settings import load_settings
    from workflow.app import open_app

    options = ctx.find_root().params
    settings = load_settings(
        options.get("config"),
        database_url=options.get("database_url"),
        timezone=options.get("timezone"),
    )
    with open_app(settings, check=check) as app:
        yield app


pass_ctx = click.pass_context
by_option = click.option("--by", metavar="EMAIL", help="Who is acting (default: $PAL_ACTOR).")
on_option = click.option("--on", type=ISO_DATE, help="Effective date (default: today).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
