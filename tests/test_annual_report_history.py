"""`pal report annual`'s history, built from the demo's database: every review's statuses equal
`pal review list --json`, the statuses per cohort and year are a recount of the CLI's JSON, each
value drawn in an SVG chart is a CSV row, and the HTML fits 400 px as rows become cards."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from helpers import Pal, ok

from states.agreement import STATE_LABELS
from states.labels import STATUS_LABELS

YEAR = 2026
END = date(YEAR, 9, 30)
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def pal(demo: Path) -> Pal:
    return Pal(f"sqlite:///{demo / 'pal.db'}")


@pytest.fixture(scope="module")
def rows(pal: Pal) -> list[dict[str, str]]:
    text = ok(pal, "report", "annual", "--year", str(YEAR), "--format", "csv")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def html(pal: Pal) -> str:
    return ok(pal, "report", "annual", "--year", str(YEAR), "--format", "html")


@pytest.fixture(scope="module")
def agreements(pal: Pal) -> list[dict[str, Any]]:
    """Each agreement identified by the year's end as `agreement show --json` has it, with its
    reviews as `review list --json` has them."""
    found = []
    for summary in ok_json(pal, "agreement", "list"):
        if date.fromisoformat(summary["identified_on"]) <= END:
            shown = ok_json(pal, "agreement", "show", summary["id"])
            shown["reviews"] = ok_json(pal, "review", "list", summary["id"])
            found.append(shown)
    return found


def ok_json(pal: Pal, *args: Any) -> Any:
    import json

    return json.loads(ok(pal, *args, "--json"))


def _by(day: str | None) -> bool:
    return day is not None and date.fromisoformat(day) <= END


def _expected_reviews(agreement: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(school, item, value) of each review opened by the year's end, as `review list` says."""
    names = {s["code"]: s["name"] for s in agreement["schools"]}
    expected = []
    for review in agreement["reviews"]:
        if not _by(review["opened_on"]):
            continue
        kind = STATE_LABELS[review["kind"]]
        determined = review["determined_on"] if _by(review["determined_on"]) else None
        expected += [("", f"{kind}: opened on", review["opened_on"]),
                     ("", f"{kind}: determined on", determined or "not yet")]  # fmt: skip
        expected += [(names.get(s["school"], s["name"]), f"{kind}: status",
                      STATUS_LABELS[s["agreed"]])
                     for s in review["schools"] if determined]  # fmt: skip
    return expected


@pytest.mark.slow
def test_every_reviews_dates_and_statuses_are_those_of_review_list(
    agreements: list[dict[str, Any]], rows: list[dict[str, str]]
) -> None:
    """Each review opened by the year's end is reported with its dates and each school's agreed
    status at it, exactly as `pal review list --json` has them."""
    reviewed = 0
    for agreement in agreements:
        mine = [(r["school"], r["item"], r["value"]) for r in rows
                if (r["section"], r["agreement"]) == ("reviews", str(agreement["id"]))]  # fmt: skip
        assert mine == _expected_reviews(agreement), agreement["id"]
        reviewed += sum(1 for _, item, _ in mine if item.endswith(": status"))
    assert reviewed > len(agreements)  # the demo's agreements have more than one review each


def _recount(agreements: list[dict[str, Any]], end: date) -> Counter[str]:
    """A cohort's schools by their latest agreed status by `end`, counted once each."""
    latest: dict[str, tuple[str, str]] = {}
    for agreement in agreements:
        if date.fromisoformat(agreement["identified_on"]) > end:
            continue
        for school in agreement["schools"]:
            latest.setdefault(school["code"], ("", "not determined"))
        for review in agreement["reviews"]:
            on = review["determined_on"]
            if on is None or date.fromisoformat(on) > end:
                continue
            for school in review["schools"]:
                if on >= latest.get(school["school"], ("", ""))[0]:
                    latest[school["school"]] = (on, STATUS_LABELS[school["agreed"]])
    return Counter(status for _, status in latest.values())


@pytest.mark.slow
def test_schools_by_status_each_year_are_a_recount_of_the_cli_json(
    agreements: list[dict[str, Any]], rows: list[dict[str, str]]
) -> None:
    """Per cohort and fiscal year from its first to the report's, the schools counted by their
    latest agreed status at September 30 are those recounted from the JSON."""
    cohorts: dict[str, list[dict[str, Any]]] = {}
    for agreement in agreements:
        cohorts.setdefault(agreement["cohort"], []).append(agreement)
    expected = {}
    for cohort, theirs in cohorts.items():
        first = min(date.fromisoformat(a["identified_on"]) for a in theirs)
        for year in range(first.year + (first.month > 9), YEAR + 1):
            fiscal = f"{year - 1}-{year % 100:02d}"
            for status, count in _recount(theirs, date(year, 9, 30)).items():
                expected[cohort, f"{fiscal}: {status}"] = str(count)
    found = {(r["cohort"], r["item"]): r["value"] for r in rows if r["section"] == "status_by_year"}
    assert found == expected
    assert len({item.split(":")[0] for _, item in found}) > 5  # several years, not one


def _charts(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg.*?</svg>", html, flags=re.S)]


@pytest.mark.slow
def test_each_stacked_bar_part_is_a_status_by_year_row(
    html: str, rows: list[dict[str, str]]
) -> None:
    """Every part of every bar of the statuses-over-time charts names a year, a status and a
    count that is a `status_by_year` row of its cohort, and every such row is drawn."""
    drawn = set()
    for chart in _charts(html):
        title = chart.findtext(f"{SVG}title") or ""
        cohort = re.match(r"Cohort (\S+): schools by status at the end", title)
        for part in chart.iter(f"{SVG}g") if cohort else ():
            year_status, count = (part.findtext(f"{SVG}title") or "").rsplit(": ", 1)
            year, status = year_status.split(", ", 1)
            drawn.add((cohort.group(1), f"{year}: {status}", count))  # type: ignore[union-attr]
    expected = {(r["cohort"], r["item"], r["value"]) for r in rows
                if r["section"] == "status_by_year"}  # fmt: skip
    assert drawn == expected


@pytest.mark.slow
def test_each_trajectory_point_and_target_is_a_benchmark_or_measurement_row(
    html: str, rows: list[dict[str, str]]
) -> None:
    """Each benchmark chart's baseline, dated values and 18- and 36-month targets (its <desc>,
    its points and their labels) equal the CSV rows of that school's benchmark."""
    checked = 0
    for chart in _charts(html):
        title = chart.findtext(f"{SVG}title") or ""
        named = re.fullmatch(r"(.+), (.+) \(agreement (\d+)\)", title)
        if not named:
            continue
        school, label, agreement = named.groups()
        mine = {r["item"].removeprefix(f"{label}: "): float(r["value"]) for r in rows
                if (r["agreement"], r["school"]) == (agreement, school)
                and r["section"] in ("benchmark", "measurement")
                and r["item"].startswith(f"{label}: ")}  # fmt: skip
        said = [part.split(": ") for part in (chart.findtext(f"{SVG}desc") or "").split("; ")]
        assert {item: float(value) for item, value in said} == mine, title
        points = len(chart.findall(f"{SVG}circle")) + len(chart.findall(f"{SVG}rect"))
        assert points == sum(1 for item in mine if not item.endswith("target"))
        labels = {t.text for t in chart.iter(f"{SVG}text")}
        assert all(f"{value:g}" in labels for item, value in mine.items() if "target" not in item)
        checked += 1
    assert checked > 10


@pytest.mark.slow
def test_the_report_fits_400_px_with_no_word_broken_inside(html: str, browser: Any) -> None:
    """In headless Chromium at 400 px the page scrolls no wider than the viewport, no element
    reaches past its right edge, and no table cell is narrower than its longest word."""
    from test_notice_browser import _OVERFLOW

    # A word is broken when its text lies on more than one line: more than one box (a line may
    # end at a hyphen, as in "18-month").
    broken = """() => {
      const found = [];
      for (const cell of document.querySelectorAll("td, th, caption")) {
        for (const node of cell.childNodes) {
          if (node.nodeType !== Node.TEXT_NODE) continue;
          for (const word of node.textContent.matchAll(/[^\\s-]+/g)) {
            const range = document.createRange();
            range.setStart(node, word.index);
            range.setEnd(node, word.index + word[0].length);
            if (range.getClientRects().length > 1) found.push(word[0]);
          }
        }
      }
      return found;
    }"""
    page = browser.new_page(viewport={"width": 400, "height": 800})
    page.set_content(html)
    found, squeezed = page.evaluate(_OVERFLOW), page.evaluate(broken)
    page.close()
    assert found["scroll"] <= 400 and not found["wide"], found["wide"][:5]
    assert not squeezed, squeezed[:5]


@pytest.mark.slow
def test_review_list_says_each_review_in_words_and_refuses_an_unknown_agreement(pal: Pal) -> None:
    """`pal review list` prints a line per review with its kind in words and each school's status
    in words; an agreement that does not exist is one error line, exit 2."""
    shown = ok(pal, "review", "list", "1")
    assert "18-month Review of Goal Attainment, opened" in shown and "On-Track" in shown
    assert "on_track" not in shown and "review_36" not in shown
    missing = pal("review", "list", "9999")
    assert missing.exit_code == 2 and missing.stderr.count("\n") == 1, missing.stderr
    assert missing.stderr.startswith("error: no agreement 9999")
