"""The annual report written out: Markdown, CSV (the rows every number comes from) and HTML
(tables, inline SVG charts, a print stylesheet with a page per district; no JavaScript)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator, Sequence
from html import escape
from itertools import groupby
from pathlib import Path

from sqlmodel import Session

from states.errors import BadInput
from states.labels import STATUS_LABELS
from workflow import svg
from workflow.annual_history import NOT_DETERMINED
from workflow.annual_report import COLUMNS, Report

_SECTIONS = {"agreement": "Agreement", "review": "Review", "status": "School status",
             "benchmark": "Benchmark", "measurement": "Measurement", "change": "Change",
             "funds": "21(h) funds", "reviews": "Review history",
             "status_by_year": "Schools by status"}  # fmt: skip
_HEADS = ("Agreement", "School", "Part", "Item", "Value")
# Wide tables scroll inside their own region, never the page; words wrap whole (a long one
# breaks only when it cannot fit a line). Printed: a page per cohort and district, no chart or
# row split across pages.
_STYLE = """body{font-family:sans-serif;max-width:60rem;margin:auto;padding:0 .5rem;color:#111;
background:#fff;line-height:1.35}h1{font-size:1.5rem}h2{font-size:1.25rem}
.scroll{overflow-x:auto;max-width:100%;margin-bottom:1rem}
table{border-collapse:collapse;width:100%}caption{text-align:left;font-weight:bold;
padding:.3rem 0}th,td{border:1px solid #767676;padding:.2rem .4rem;text-align:left;
vertical-align:top;overflow-wrap:break-word}th{background:#e8eef5}
td:empty{color:#555}figure{margin:1rem 0;break-inside:avoid}figcaption{font-size:.9rem}
svg{display:block;max-width:100%;height:auto}
@media print{section.district,section.cohort{break-before:page}body{max-width:none}
figure,svg,tr{break-inside:avoid}h2,h3,caption{break-after:avoid}.scroll{overflow:visible}}"""


def _narrow(heads: tuple[str, ...], name: str) -> str:
    """On a narrow screen each row of a `name` table is a card: a cell a line, its column's
    head before it (an empty cell is left out), so no word is broken to fit a column."""
    labels = "".join(f'table.{name} td:nth-child({n})::before{{content:"{h}: ";font-weight:bold}}'
                     for n, h in enumerate(heads, 1))  # fmt: skip
    return ("@media screen and (max-width:40rem){"
            f"table.{name},table.{name} tbody,table.{name} tr,table.{name} td{{display:block}}"
            f"table.{name} caption{{display:block}}"
            f"table.{name} thead{{position:absolute;width:1px;height:1px;overflow:hidden;"
            "clip-path:inset(50%)}"
            f"table.{name} tr{{border:1px solid #767676;margin-bottom:.4rem}}"
            f"table.{name} td{{border:0}}table.{name} td:empty{{display:none}}"
            f"{labels}}}")  # fmt: skip


def render(report: Report, format_: str) -> str:
    return {"md": markdown, "csv": as_csv, "html": as_html}[format_](report)


def as_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(report.rows)
    return out.getvalue()


def _title(report: Report) -> str:
    return f"Partnership districts: annual report for fiscal year {report.fiscal_year}"


def _districts(report: Report) -> Iterator[tuple[str, str, list[dict[str, str]]]]:
    """(cohort, district, rows), in the rows' order grouped by cohort then district."""
    ordered = sorted((r for r in report.rows if r["section"] != "status_by_year"),
                     key=lambda r: (r["cohort"], r["district"]))  # fmt: skip
    for (cohort, district), rows in groupby(ordered, key=lambda r: (r["cohort"], r["district"])):
        yield cohort, district, list(rows)


def statuses_per_cohort(report: Report) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {}
    for row in report.rows:
        if row["section"] == "status":
            counts.setdefault(row["cohort"], Counter())[row["value"]] += 1
    return counts


def by_year(report: Report) -> dict[str, list[dict[str, str]]]:
    """Each cohort's `status_by_year` rows, in their order (fiscal year, then status)."""
    found: dict[str, list[dict[str, str]]] = {}
    for row in report.rows:
        if row["section"] == "status_by_year":
            found.setdefault(row["cohort"], []).append(row)
    return found


def _by_year_heading(cohort: str) -> str:
    return f"Cohort {cohort}: schools by status at the end of each fiscal year"


_YEAR_HEADS = ("Fiscal year: status", "Schools")


def markdown(report: Report) -> str:
    lines = [f"# {_title(report)}", ""]
    for cohort, counts in sorted(statuses_per_cohort(report).items()):
        lines += [f"Cohort {cohort}, schools by status: "
                  + "; ".join(f"{k}: {v}" for k, v in sorted(counts.items())), ""]  # fmt: skip
    for cohort, rows in sorted(by_year(report).items()):
        lines += [f"## {_by_year_heading(cohort)}", "", "| " + " | ".join(_YEAR_HEADS) + " |",
                  "|---|---|", *(f"| {r['item']} | {r['value']} |" for r in rows), ""]  # fmt: skip
    for cohort, district, rows in _districts(report):
        lines += [f"## Cohort {cohort}: {district}", "", "| " + " | ".join(_HEADS) + " |",
                  "|---|---|---|---|---|"]  # fmt: skip
        lines += [_md_row(r) for r in rows]
        lines.append("")
    return "\n".join(lines)


def _md_row(row: dict[str, str]) -> str:
    cells = (row["agreement"], row["school"], _SECTIONS[row["section"]], row["item"], row["value"])
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def as_html(report: Report) -> str:
    title = escape(_title(report))
    parts = [f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
             f'content="width=device-width, initial-scale=1"><title>{title}</title>'
             f"<style>{_STYLE}{_narrow(_HEADS, 'rows')}{_narrow(_YEAR_HEADS, 'years')}</style>"
             f"</head><body><main><h1>{title}</h1>"]  # fmt: skip
    for cohort, counts in sorted(statuses_per_cohort(report).items()):
        name = f"Cohort {cohort}: schools by status"
        chart = svg.bars(name, sorted(counts.items()))
        parts.append(f"<figure>{chart}<figcaption>{escape(name)}</figcaption></figure>")
    parts += [_cohort_years(cohort, rows) for cohort, rows in sorted(by_year(report).items())]
    for cohort, district, rows in _districts(report):
        heading = f"Cohort {cohort}: {district}"
        cells = [(r["agreement"], r["school"], _SECTIONS[r["section"]], r["item"], r["value"])
                 for r in rows]  # fmt: skip
        caption = f"{heading}: agreements, reviews, benchmarks and funds"
        parts.append(f'<section class="district"><h2>{escape(heading)}</h2>'
                     + _table(caption, _HEADS, cells, "rows")
                     + "".join(_trajectories(rows)) + "</section>")  # fmt: skip
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _cohort_years(cohort: str, rows: list[dict[str, str]]) -> str:
    """A cohort's schools by status at each fiscal year's end: a bar per year and its table."""
    years: dict[str, list[tuple[str, float]]] = {}
    for row in rows:
        year, status = row["item"].split(": ", 1)
        years.setdefault(year, []).append((status, float(row["value"])))
    found = {status for items in years.values() for status, _ in items}
    order = [s for s in (*STATUS_LABELS.values(), NOT_DETERMINED) if s in found]
    heading = _by_year_heading(cohort)
    chart = svg.stacked(heading, list(years.items()), order)
    table = _table(heading, _YEAR_HEADS, [(r["item"], r["value"]) for r in rows], "years")
    return (f'<section class="cohort"><h2>{escape(heading)}</h2><figure>{chart}<figcaption>'
            f"Schools of cohort {escape(cohort)} by status on September 30 of each year; "
            f"the bar's total after it</figcaption></figure>{table}</section>")  # fmt: skip


def _table(caption: str, heads: tuple[str, ...], rows: Sequence[tuple[str, ...]], name: str) -> str:
    """A table in its own scrolling region (labelled by its caption) so it never widens the page."""
    head = "".join(f'<th scope="col">{h}</th>' for h in heads)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"
                   for cells in rows)  # fmt: skip
    return (f'<div class="scroll" role="region" aria-label="{escape(caption)}" tabindex="0">'
            f'<table class="{name}"><caption>{escape(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")  # fmt: skip


def _trajectories(rows: list[dict[str, str]]) -> Iterator[str]:
    """Per benchmark with measurements: its baseline, then its values at their dates, against
    its 18- and 36-month targets."""
    mine = [r for r in rows if r["section"] in ("benchmark", "measurement")]
    key = lambda r: (r["agreement"], r["school"], r["item"].rsplit(": ", 1)[0])  # noqa: E731
    for (agreement, school, label), group in groupby(sorted(mine, key=key), key=key):
        found = list(group)
        measured = [r for r in found if r["section"] == "measurement"]
        if not measured:
            continue
        baseline = [float(r["value"]) for r in found if r["item"].endswith(": baseline")]
        targets = [(r["item"].rsplit(": ", 1)[1], float(r["value"]))
                   for r in found if r["item"].endswith("-month target")]  # fmt: skip
        name = f"{school}, {label} (agreement {agreement})"
        chart = svg.trajectory(name, baseline + [float(r["value"]) for r in measured],
                               dates=[r["item"].rsplit(": ", 1)[1] for r in measured],
                               targets=targets, baseline=bool(baseline))  # fmt: skip
        yield f"<figure>{chart}<figcaption>{escape(name)}</figcaption></figure>"


def write_to(text: str, path: Path) -> None:
    """Write the report to `path`, whole or not at all; a folder or an unwritable path is bad
    input (one line, nothing written)."""
    if path.is_dir():
        raise BadInput(f"{path} is a folder: give a file name for the report")
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror}") from exc


def annual_text(session: Session, year: str, format_: str) -> str:
    """The report of `year` (as typed) in `format_`: the one call `pal report annual` makes."""
    from workflow.annual_report import annual_report, report_year

    return render(annual_report(session, report_year(year)), format_)
