"""Pieces of markup the templates repeat, made in Python (a Jinja macro call costs ten times
more, and an agreement's page has a dozen of them)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from workflow.dashboard.words import capital, deadline, process_label


def table_open(label: str, shown: bool = False) -> Markup:
    """A table in a region that scrolls sideways when wider than the screen; its caption is
    hidden (but read out) when a heading just above it says the same (`shown` False)."""
    hidden = "" if shown else ' class="visually-hidden"'
    return Markup(
        '<div class="table-wrap" role="region" aria-label="{0}" tabindex="0">\n<table>\n'
        "<caption{1}>{0}</caption>\n"
    ).format(label, Markup(hidden))


TABLE_CLOSE = Markup("</table>\n</div>\n")


def agreement_link(root: str, agreement: int, text: str | None = None) -> Markup:
    return Markup('<a href="{}agreements/{}.html">{}</a>').format(
        root, agreement, text or f"Agreement {agreement}"
    )


def deadline_what(row: dict[str, Any]) -> Markup:
    """What an open deadline of `pal deadlines` is for; a case's of another process names it."""
    of = row.get("process")
    what = capital(deadline(row["kind"], of))
    if of is not None:
        what += f" ({process_label(of)} {row['case']})"
    return escape(what)


GLOBALS = {
    "table_open": table_open,
    "table_close": TABLE_CLOSE,
    "agreement_link": agreement_link,
    "deadline_what": deadline_what,
}
