"""`pal report annual`: built from the demo's database, its numbers equal the CLI's `--json`,
the CSV holds every number of the Markdown, the HTML is well formed and fits 400 px."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections import defaultdict
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from demo_cli import pal_json, run_pal

from states.agreement import STATE_LABELS
from states.funds import CATEGORY_LABELS
from states.labels import BENCHMARK_KIND_LABELS, consequence_label

YEAR = "2026"



@pytest.fixture(scope="module")
def outputs(demo: Path) -> dict[str, str]:
    return {f: run_pal(demo, "report", "annual", "--year", YEAR, "--format", f).stdout
            for f in ("md", "csv", "html")}  # fmt: skip


@pytest.fixture(scope="module")
def rows(outputs: dict[str, str]) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(outputs["csv"])))


def _of(rows: list[dict[str, str]], agreement: int, item: str) -> list[str]:
    return [r["value"] for r in rows if r["agreement"] == str(agreement) and r["item"] == item]


@pytest.mark.slow
def test_each_agreements_state_dates_renewal_and_escalations_are_those_of_agreement_list(
    demo: Path, rows: list[dict[str, str]]
) -> None:
    """Every agreement identified by the year's end is reported with its state in words, its
    dates, its renewal and its escalations."""
    for agreement in pal_json(demo, "agreement", "list"):
        assert _of(rows, agreement["id"], "State") == [STATE_LABELS[agreement["state"]]]
        assert _of(rows, agreement["id"], "Identified on") == [agreement["identified_on"]]
        assert _of(rows, agreement["id"], "Signed on") == [agreement["signed_on"] or "not signed"]
        renewed = _of(rows, agreement["id"], "Renewed as agreement")
        assert renewed == ([str(agreement["renewed_as"])] if agreement["renewed_as"] else [])
        escalations = _of(rows, agreement["id"], "Escalation")
        assert escalations == [consequence_label(o) for o in agreement["escalation_options"]]


@pytest.mark.slow
def test_benchmarks_baselines_and_measurements_are_those_of_agreement_show(
    demo: Path, rows: list[dict[str, str]]
) -> None:
    """An agreement's baselines and measurements equal `pal agreement show --json`'s."""
    shown = pal_json(demo, "agreement", "show", "1")
    for school in shown["schools"]:
        for benchmark in school["benchmarks"]:
            label = benchmark["label"] or BENCHMARK_KIND_LABELS[benchmark["kind"]]
            mine = [r for r in rows if r["agreement"] == "1" and r["school"] == school["name"]]
            assert _of(mine, 1, f"{label}: baseline") == [str(benchmark["baseline"])]
            values = {r["value"] for r in mine if r["section"] == "measurement"}
            assert {str(m["value"]) for m in benchmark["measurements"]} <= values


@pytest.mark.slow
def test_funds_by_category_add_up_to_funds_list(demo: Path, rows: list[dict[str, str]]) -> None:
    """What is requested per category is the sum of `pal funds list --json`'s activities of
    the year's requests past their draft; approved and funded likewise."""
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for request in pal_json(demo, "funds", "list", "--year", "2025-26"):
        for activity in request["activities"]:
            agreement, category = str(request["agreement"]), CATEGORY_LABELS[activity["category"]]
            if request["state"] != "draft":
                expected[agreement, category, "requested"] += Decimal(activity["amount"])
            if request["funded_on"]:
                expected[agreement, category, "funded"] += Decimal(activity["amount"])
    found = {(r["agreement"], *r["item"].rsplit(": ", 1)): Decimal(r["value"])
             for r in rows if r["section"] == "funds"}  # fmt: skip
    assert expected
    for key, amount in expected.items():
        assert found[key] == amount


@pytest.mark.slow
def test_every_csv_row_is_a_row_of_the_markdown_and_of_the_html(
    outputs: dict[str, str], rows: list[dict[str, str]]
) -> None:
    """The CSV holds the numbers the Markdown and HTML show, each traceable to one row."""
    assert rows
    markdown = outputs["md"]
    for row in rows:
        assert f"| {row['item']} | {row['value']} |" in markdown
        assert f"<td>{row['value']}</td>" in outputs["html"].replace("&#x27;", "'")


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[int] = []  # the <th> count of each table
        self.svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(0)
        elif tag == "th":
            self.tables[-1] += 1
        elif tag == "svg":
            self.svg += 1


@pytest.mark.slow
def test_the_html_parses_every_table_has_headers_and_each_svg_is_xml(
    outputs: dict[str, str],
) -> None:
    """The HTML parses with every table headed, no script, no engine names; charts are XML."""
    html = outputs["html"]
    parser = _Tables()
    parser.feed(html)
    assert parser.tables and all(parser.tables)
    assert parser.svg > 1 and "<script" not in html
    assert "next_level_accountability" not in html and "on_track" not in html
    for chart in html.split("<svg")[1:]:
        ET.fromstring("<svg" + chart.split("</svg>")[0] + "</svg>")


@pytest.mark.slow
def test_out_writes_the_file_and_bad_input_is_refused_with_exit_2(
    demo: Path, outputs: dict[str, str], tmp_path: Path
) -> None:
    """--out writes what stdout prints; a bad year, a folder or an unwritable path: exit 2."""
    out = tmp_path / "report.csv"
    assert run_pal(demo, "report", "annual", "--year", YEAR, "--format", "csv",
                "--out", str(out)).returncode == 0  # fmt: skip
    assert out.read_text() == outputs["csv"]
    for bad in (["--year", "20x6"], ["--year", YEAR, "--out", str(tmp_path)],
                ["--year", YEAR, "--out", str(tmp_path / "no" / "such.md")]):  # fmt: skip
        refused = run_pal(demo, "report", "annual", *bad)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.startswith("error: ") and len(refused.stderr.splitlines()) == 1


@pytest.mark.slow
def test_the_html_has_no_horizontal_overflow_at_400_px(
    outputs: dict[str, str], browser: Any
) -> None:
    """In headless Chromium at 400 px the report scrolls no wider than the viewport."""
    page = browser.new_page(viewport={"width": 400, "height": 800})
    page.set_content(outputs["html"])
    scroll = page.evaluate("document.documentElement.scrollWidth")
    page.close()
    assert scroll <= 400
