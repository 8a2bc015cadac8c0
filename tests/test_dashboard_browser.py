"""The dashboard of the demo's database in a real browser: headless Chromium (Debian's
`chromium`, which `.ci/run` installs when missing), driven by Playwright, every page served over
HTTP by `pal dashboard`'s own server and opened at 400 px and at a desktop width."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

import pytest
from demo_cli import PAL

from workflow.dashboard.serve import load_site, open_server

NARROW, DESKTOP = 400, 1280
# The document's scroll width, and (to say what overflows) each element reaching past the right
# edge of the viewport that no scrolling box of its own holds.
_OVERFLOW = """() => {
  const width = window.innerWidth;
  const wide = [];
  for (const element of document.querySelectorAll("body *")) {
    const box = element.getBoundingClientRect();
    if (box.right > width + 0.5 || box.left < -0.5) {
      wide.push(element.tagName + "." + element.className + " " + Math.round(box.width)
                + "px: " + (element.textContent || "").trim().slice(0, 60));
    }
  }
  return {scroll: document.documentElement.scrollWidth, width: width, wide: wide.slice(0, 5)};
}"""
# Every link's target, as the browser resolved it.
_LINKS = "() => [...document.querySelectorAll('a[href]')].map(a => a.href)"
# Each diagram's box, and each of its texts that cannot be read: no box, outside the diagram,
# hidden, transparent, or a line of it drawn less than 9 px high (a font of about 8 px: a
# diagram scaled down to a narrow window must not shrink its words below that).
_DIAGRAMS = """() => [...document.querySelectorAll("svg:not(svg svg)")].map(svg => {
  const box = svg.getBoundingClientRect();
  const unseen = [];
  for (const text of svg.querySelectorAll("text")) {
    if (!text.textContent.trim()) continue;
    const r = text.getBoundingClientRect();
    const line = r.height / Math.max(1, text.querySelectorAll("tspan").length);
    const style = getComputedStyle(text);
    const inside = r.left >= box.left - 1 && r.right <= box.right + 1
                   && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
    if (r.width === 0 || line < 9 || !inside || style.visibility !== "visible"
        || style.display === "none" || Number(style.opacity) === 0 || style.fill === "none"
        || style.fill === "transparent") {
      unseen.push(text.textContent.trim() + ": " + Math.round(r.width) + " px wide, lines "
                  + line.toFixed(1) + " px high");
    }
  }
  return {width: box.width, height: box.height, texts: svg.querySelectorAll("text").length,
          unseen: unseen.slice(0, 5)};
})"""


# Text whose colour stands out less than WCAG AA asks from the background behind it (4.5:1; 3:1
# for large text), the background being the nearest opaque one among its ancestors.
_CONTRAST = """() => {
  const rgb = s => (s.match(/[\\d.]+/g) || ["0", "0", "0", "0"]).map(Number);
  const lum = c => c.slice(0, 3).map(v => v / 255)
    .map(v => v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4))
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const behind = element => {
    for (let e = element; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length < 4 || c[3] > 0.5) return c;
    }
    return [255, 255, 255];
  };
  const poor = [];
  for (const element of document.querySelectorAll("body *")) {
    const own = [...element.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const style = getComputedStyle(element);
    if (!own || style.visibility !== "visible" || element.closest("svg")) continue;
    const [a, b] = [lum(rgb(style.color)), lum(behind(element))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    if (ratio < (size >= 24 || (bold && size >= 18.66) ? 3 : 4.5)) {
      poor.push(element.tagName + " " + ratio.toFixed(2) + ": "
                + element.textContent.trim().slice(0, 40));
    }
  }
  return poor.slice(0, 5);
}"""




@dataclass(frozen=True)
class Served:
    url: str
    pages: list[str]  # every HTML page's URL


@pytest.fixture(scope="module")
def served(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The demo's dashboard, built by `pal dashboard --out` and served over HTTP."""
    out = tmp_path_factory.mktemp("dashboard") / "site"
    subprocess.run([str(PAL), "dashboard", "--out", str(out)], cwd=demo, check=True,
                   capture_output=True, timeout=300)  # fmt: skip
    with open_server(0) as server:
        server.site = load_site(out)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        pages = [server.url + path[1:] for path in server.site if path.endswith(".html")]
        try:
            yield Served(server.url, pages)
        finally:
            server.shutdown()
            thread.join()


@dataclass
class Visit:
    """What the browser met while opening one page."""

    problems: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)  # what a link's #fragment may name


@dataclass
class Crawl:
    """Every page reached from the overview by its links, with what was met on each."""

    pages: dict[str, Visit] = field(default_factory=dict)


@pytest.fixture(scope="module")
def site(served: Served) -> str:
    return served.url


@pytest.fixture(scope="module")
def crawl(browser: Any, served: Served) -> Crawl:
    """Opens every page of the site at 400 px (the overview first) and every page a link leads
    to, in one tab; requests leaving the site are blocked (and counted as problems)."""
    site = served.url
    page = browser.new_page(viewport={"width": NARROW, "height": 900})
    found = Crawl()
    current: list[Visit] = [Visit()]

    def problem(text: str) -> None:
        current[0].problems.append(text)

    page.on("console", lambda m: m.type == "error" and problem(f"console: {m.text}"))
    page.on("pageerror", lambda e: problem(f"page error: {e}"))
    page.on("requestfailed", lambda r: problem(f"request failed: {r.url} {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and problem(f"{r.status}: {r.url}"))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(site)
               or route.request.url.startswith("data:") else route.abort())  # fmt: skip
    waiting = [*reversed(served.pages), site]
    try:
        while waiting:
            url = waiting.pop()
            if url in found.pages:
                continue
            current[0] = found.pages[url] = Visit()
            response = page.goto(url, wait_until="load")
            if response is None or response.status != 200:
                problem(f"opened with {response.status if response else 'nothing'}")
            _check_layout(page, current[0])
            current[0].links = page.evaluate(_LINKS)
            current[0].ids = set(page.evaluate("() => [...document.querySelectorAll('[id]')]"
                                               ".map(e => e.id)"))  # fmt: skip
            waiting += [t for t in (urldefrag(link).url for link in current[0].links)
                        if t.startswith(site) and t not in found.pages]  # fmt: skip
    finally:
        page.close()
    return found


def _check_layout(page: Any, visit: Visit) -> None:
    """Nothing overflows at 400 px nor at the desktop width, text stands out from its
    background, and each diagram is drawn with words that can be read, at both widths."""
    for width in (NARROW, DESKTOP):
        page.set_viewport_size({"width": width, "height": 900})
        found = page.evaluate(_OVERFLOW)
        if found["scroll"] > width:
            visit.problems.append(f"overflows at {width} px: {found}")
        poor = page.evaluate(_CONTRAST)
        if poor:
            visit.problems.append(f"text hard to read at {width} px: {poor}")
        for diagram in page.evaluate(_DIAGRAMS):
            if diagram["width"] == 0 or diagram["height"] == 0 or diagram["unseen"]:
                visit.problems.append(f"diagram at {width} px: {diagram}")
    page.set_viewport_size({"width": NARROW, "height": 900})


@pytest.mark.slow
def test_every_page_opens_with_no_error_no_failed_request_and_nothing_overflowing(
    crawl: Crawl,
) -> None:
    """Every page of the dashboard loads with no console or page error, no failed request,
    nothing wider than the window and no text below WCAG AA contrast, at 400 px and 1280 px."""
    problems = {url: visit.problems for url, visit in crawl.pages.items() if visit.problems}
    assert problems == {}


@pytest.mark.slow
def test_the_links_reach_every_page_and_stay_in_the_site(crawl: Crawl, served: Served) -> None:
    """Every page is reached by links from the overview, every process has its page, each link
    to a place in a page finds it there, and no link leads out of the site (to the internet)."""
    from states.registry import PROCESSES

    site = served.url
    outside = {link for visit in crawl.pages.values() for link in visit.links
               if not link.startswith((site, "mailto:"))}  # fmt: skip
    assert outside == set()
    linked = {urldefrag(link).url for visit in crawl.pages.values() for link in visit.links}
    anchors = {link for visit in crawl.pages.values() for link in visit.links
               if urldefrag(link).fragment and link.startswith(site)}  # fmt: skip
    missing = [a for a in anchors if urldefrag(a).fragment not in crawl.pages[urldefrag(a).url].ids]
    assert missing == []
    assert set(served.pages) - linked - {site + "index.html"} == set()
    assert {f"{site}processes/{name}.html" for name in PROCESSES} <= set(served.pages)
    assert len([p for p in served.pages if "/agreements/" in p]) >= 37  # the demo's cohorts


@pytest.mark.slow
def test_each_process_page_draws_its_diagram(browser: Any, site: str) -> None:
    """Each process's page holds a diagram with a box and words (their visibility is checked
    with every page's layout)."""
    from states.registry import PROCESSES

    page = browser.new_page(viewport={"width": NARROW, "height": 900})
    try:
        for name in PROCESSES:
            page.goto(f"{site}processes/{name}.html")
            diagrams = page.evaluate(_DIAGRAMS)
            assert diagrams, name
            assert all(d["width"] > 0 and d["height"] > 0 and d["texts"] for d in diagrams), name
    finally:
        page.close()


# At the width given: each table's region that scrolls sideways, each date drawn on more than
# one line, and each body cell without its column's label shown before it.
_NARROW_TABLES = """() => {
  const found = {scrolls: [], broken: [], unlabelled: 0};
  for (const region of document.querySelectorAll(".table-wrap")) {
    if (region.querySelector("table") && region.scrollWidth > region.clientWidth + 1) {
      found.scrolls.push(region.getAttribute("aria-label"));
    }
  }
  for (const date of document.querySelectorAll(".date")) {
    const lines = new Set([...date.getClientRects()].map(r => Math.round(r.top)));
    if (lines.size > 1) found.broken.push(date.textContent.trim());
  }
  for (const cell of document.querySelectorAll(".table-wrap td")) {
    const before = getComputedStyle(cell, "::before").content;
    if (cell.textContent.trim() && (!before || before === "none")) found.unlabelled += 1;
  }
  return found;
}"""


@pytest.mark.slow
def test_at_400_px_every_table_fits_its_rows_as_labelled_cards_and_no_date_breaks(
    browser: Any, served: Served
) -> None:
    """At 400 px no table scrolls sideways (each row a card, each cell labelled by its column)
    and no date or cohort is broken over two lines, on every page."""
    page = browser.new_page(viewport={"width": NARROW, "height": 900})
    try:
        problems = {}
        for url in served.pages:
            page.goto(url, wait_until="load")
            found = page.evaluate(_NARROW_TABLES)
            if found["scrolls"] or found["broken"] or found["unlabelled"]:
                problems[url] = found
        assert problems == {}
    finally:
        page.close()
