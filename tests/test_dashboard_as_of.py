"""The demo's dashboard built as of a moment (`pal dashboard --now`): what it says of deadlines
is what `pal deadlines --now` counts, its words are people's (no engine name), each table cell
is labelled by its column for a narrow screen, and an agreement shows every review and a chart
per benchmark with dates and targets."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from dashboard_pages import parse
from demo_cli import run_pal

from states.labels import countdown
from states.registry import process

NOW = "2026-12-17T12:00"  # the demo's last simulated day, at noon
# An engine name: lower-case words joined by underscores (`met_late`, `rga_due`).
SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")
# What looks like one and is not an engine name: an e-mail address.
NOT_ENGINE = re.compile(r"[\w.+-]+@[\w.-]+")



@pytest.fixture(scope="module")
def site(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dashboard-as-of") / "site"
    done = run_pal(demo, "dashboard", "--out", str(out), "--now", NOW)
    assert done.returncode == 0, done.stderr
    return out


class _Text(HTMLParser):
    """Every text node of a page, and each body cell's data-label with its column's head."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.cells: list[tuple[str | None, str]] = []  # (data-label, the column's head)
        self.heads: list[str] = []
        self.part, self.column, self.head = "", 0, False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("thead", "tbody", "tfoot"):
            self.part = tag
        if tag == "thead":
            self.heads = []
        if tag == "tr":
            self.column = 0
        if tag == "th" and self.part == "thead":
            self.heads.append("")
            self.head = True
        elif tag in ("td", "th"):
            self.column += 1
            if tag == "td":
                self.cells.append((found.get("data-label"), self.heads[self.column - 1]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "th":
            self.head = False

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self.head:
            self.heads[-1] += data


def _read(path: Path) -> _Text:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.mark.slow
def test_no_page_shows_an_engine_name(site: Path) -> None:
    """No text of any page (its drawings' words included) holds a snake_case engine name."""
    found = {}
    for path in sorted(site.rglob("*.html")):
        text = NOT_ENGINE.sub("", " ".join(_read(path).texts))
        if names := sorted(set(SNAKE.findall(text))):
            found[str(path.relative_to(site))] = names
    assert found == {}


@pytest.mark.slow
def test_every_body_cell_is_labelled_by_its_column(site: Path) -> None:
    """Each cell of a table's body or foot carries its column's head as its data-label (shown
    before it when a narrow screen turns the rows into cards)."""
    for path in site.rglob("*.html"):
        cells = _read(path).cells
        assert all(" ".join(head.split()) == label for label, head in cells), path


@pytest.mark.slow
def test_an_agreement_page_counts_deadlines_as_pal_deadlines_does(demo: Path, site: Path) -> None:
    """An agreement's open deadlines read `N days overdue` on its page, as `pal deadlines --now`
    counts them, and its summary lists each overdue one."""
    rows = json.loads(run_pal(demo, "deadlines", "--now", NOW[:10], "--json").stdout)
    mine = [d for d in rows if d["agreement"] == 4 and "process" not in d]
    assert mine and all(d["days_left"] < 0 for d in mine), "agreement 4 is left overdue"
    page = parse(site / "agreements" / "4.html")
    open_rows = [cells for cells in page.rows("deadline") if "overdue" in cells[2]]
    assert [(c[0], c[2]) for c in open_rows] == [(d["due"], countdown(d["days_left"]))
                                                 for d in mine]  # fmt: skip
    assert all(countdown(d["days_left"]) in page.by_id["overdue"] for d in mine)
    assert not any(cells[2] == "open" for cells in page.rows("deadline"))


@pytest.mark.slow
def test_the_site_is_as_of_the_moment_given(site: Path) -> None:
    """Built with `--now`, the overview and every page's footer are as of that day."""
    page = parse(site / "index.html")
    assert page.text.count(f"as of {NOW[:10]}") >= 1
    assert f"As of {NOW[:10]}:" in page.text


@pytest.mark.slow
@pytest.mark.parametrize("agreement", [1, 2, 5])
def test_an_agreement_page_shows_every_review_as_review_list_does(
    demo: Path, site: Path, agreement: int
) -> None:
    """Each review of `pal review list ID` is a row of the agreement's page: its name, opening
    and determination days, and each school's agreed status."""
    reviews = json.loads(run_pal(demo, "review", "list", str(agreement), "--json").stdout)
    rows = parse(site / "agreements" / f"{agreement}.html").rows("review")
    stages = process("agreement").state_labels
    assert [(c[0], c[1], c[2]) for c in rows] == [
        (stages[r["kind"]], r["opened_on"], r["determined_on"] or "not yet") for r in reviews
    ]
    for cells, review in zip(rows, reviews, strict=True):
        assert all(s["name"] in cells[3] for s in review["schools"])


@pytest.mark.slow
def test_each_chart_shows_the_baseline_dated_measurements_and_both_targets(
    demo: Path, site: Path
) -> None:
    """A benchmark's chart, captioned just below it, marks its baseline, each measurement's
    value at its month, and its 18- and 36-month targets with their values."""
    shown = json.loads(run_pal(demo, "agreement", "show", "4", "--json").stdout)
    html = (site / "agreements" / "4.html").read_text(encoding="utf-8")
    figures = re.findall(r'<figure class="chart">(<svg.*?</svg>)<figcaption>', html, flags=re.S)
    benchmarks = [b for s in shown["schools"] for b in s["benchmarks"] if b["measurements"]]
    assert len(figures) == len(benchmarks)
    for drawn, b in zip(figures, benchmarks, strict=True):
        texts = {t.text for t in ET.fromstring(drawn).iter("{http://www.w3.org/2000/svg}text")}
        assert {"baseline", f"{b['baseline']:g}", f"18-month target {b['target_18']:g}",
                f"36-month target {b['target_36']:g}"} <= texts  # fmt: skip
        assert all({f"{m['value']:g}", m["on"][:7]} <= texts for m in b["measurements"])


@pytest.mark.slow
def test_benchmark_names_start_with_a_capital(site: Path) -> None:
    """Every benchmark's name on an agreement page starts with a capital, as a label does."""
    names = [cells[0] for path in site.glob("agreements/*.html")
             for cells in parse(path).rows("benchmark")]  # fmt: skip
    assert names and all(name[:1] == name[:1].upper() for name in names)


def test_now_goes_with_out_only(demo: Path) -> None:
    """`--now` with `--serve` is refused (exit 2): a served dashboard follows the clock."""
    done = run_pal(demo, "dashboard", "--serve", "0", "--now", NOW)
    assert done.returncode == 2 and "--now goes with --out" in done.stderr
