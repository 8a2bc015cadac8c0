"""The names a value must be one of (roles, states, events, parties), as `click.Choice`s: listed in
`--help`, completed by the shell, a misspelt one refused with click's usage error (exit 2).

Every list is read from the process definitions in `states/`, never written out here, and only
when a command needs it (help, completion, checking a value): importing the process definitions
would slow every command's start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from states.process import Process


class Names(click.Choice[str]):
    """A choice among the names `load` reads (from `states/`, or the library that defines them),
    the first time they are needed."""

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        self._load = load
        super().__init__((), case_sensitive=True)

    @property
    def choices(self) -> tuple[str, ...]:
        # Read each time, not kept: the process registered now is the one to follow (a test
        # may register an extended one, as a new event's author would).
        return tuple(self._load())

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        """Ignored: the names are always `load`'s."""


def _roles() -> Sequence[str]:
    from states.rules import ROLES

    return ROLES


def _agreement() -> Process:
    """The agreement process as registered (`states.registry`)."""
    from states.agreement import AGREEMENT
    from states.registry import process

    return process(AGREEMENT.name)


def _states() -> Sequence[str]:
    return _agreement().states


def _events() -> Sequence[str]:
    return _agreement().event_names


def _parties() -> Sequence[str]:
    from states.agreement import PARTIES

    return PARTIES


ROLE = Names(_roles)
STATE = Names(_states)
EVENT = Names(_events)
PARTY = Names(_parties)


class ListsChoices(click.Command):
    """A command whose `--help` ends with the names each choice argument takes (click shows an
    option's choices itself, but an argument's only in the usage line, unreadably long)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        for param in self.params:
            if isinstance(param, click.Argument) and isinstance(param.type, click.Choice):
                formatter.write_paragraph()
                formatter.write_text(f"{param.make_metavar(ctx)} is one of: "
                                     + ", ".join(map(str, param.type.choices)) + ".")  # fmt: skip
        super().format_epilog(ctx, formatter)
