"""`build_site`: the whole dashboard, read once from the database and written as one folder."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from itertools import chain
from pathlib import Path

from sqlmodel import Session

from states.context import Context
from states.registry import PROCESSES
from workflow.dashboard.agreement_page import agreement_context
from workflow.dashboard.data import SiteData, gather
from workflow.dashboard.overview import overview_context
from workflow.dashboard.process_page import process_context
from workflow.dashboard.render import page as render_page
from workflow.dashboard.render import stylesheet
from workflow.dashboard.writing import check_target, write_site


def build_site(session: Session, out: Path, ctx: Context) -> list[Path]:
    """Write the dashboard of what `session` reads, as of `ctx.now`, to the folder `out`
    (replacing an earlier dashboard there whole); the relative paths of the pages written."""
    check_target(out)  # before the reading, which takes a while
    data = gather(session, ctx)
    written = write_site(out, chain(made(data), [("style.css", stylesheet())]))
    return [p for p in written if p.suffix == ".html"]


LIST = "agreements/index.html"


def pages(data: SiteData) -> dict[str, str]:
    """Every page of the site by its relative path."""
    return dict(made(data))


def made(data: SiteData) -> Iterator[tuple[str, str]]:
    """Every page of the site with its relative path, each made when it is asked for."""
    nav = [(f"processes/{name}.html", p.label) for name, p in PROCESSES.items()]
    page = partial(render_page, nav=nav, tz=data.tz)
    yield "index.html", page("index.html", "index.html", **overview_context(data))
    yield LIST, page("agreements.html", LIST, title="All agreements",
                     agreements=data.agreements)  # fmt: skip
    for view in data.agreements:
        path = f"agreements/{view['id']}.html"
        yield path, page("agreement.html", path, **agreement_context(data, view))
    for path, definition in zip((p for p, _ in nav), PROCESSES.values(), strict=True):
        yield path, page("process.html", path, **process_context(definition))
