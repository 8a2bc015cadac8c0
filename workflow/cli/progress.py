"""A progress bar on standard error while a long command runs, when standard error is a terminal.

Piped or redirected (cron, scripts, tests), nothing is drawn: the output stays exactly what the
command prints. Any command whose library function takes a `workflow.progress.Progress` passes
`progress_bar(label)`'s callable (the imports, `pal demo`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from workflow.progress import Progress, no_progress

# Redrawn at most this often (a 20,000-row import reports every row).
REDRAW_SECONDS = 0.1


def on_terminal() -> bool:
    """Whether standard error is a terminal someone is watching."""
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def progress_bar(label: str) -> Iterator[Progress]:
    """A `Progress` that draws a bar labelled `label` on a terminal, and does nothing otherwise.

    The bar appears at the first report (when the total is known) and ends its line when the
    work is all done (before what the command prints next) or the block ends, finished or failed
    (so an `error:` line starts on a line of its own).
    """
    if not on_terminal():
        yield no_progress
        return
    bar: Any = None
    drawn, finished = 0.0, False

    def finish() -> None:
        nonlocal finished
        if bar is not None and not finished:
            bar.__exit__(None, None, None)
            finished = True

    def report(done: int, total: int) -> None:
        nonlocal bar, drawn
        if finished:
            return
        if bar is None:
            bar = click.progressbar(length=max(total, 1), label=label, file=sys.stderr)
            bar.__enter__()
        now = time.monotonic()
        if done >= total or now - drawn >= REDRAW_SECONDS:
            bar.update(min(done, total) - bar.pos)
            drawn = now
        if done >= total:
            finish()

    try:
        yield report
    finally:
        finish()
