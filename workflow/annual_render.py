"""The annual report written out: Markdown, CSV (the rows every number comes from) and HTML
(tables, inline SVG charts, a print stylesheet with a page per district; no JavaScript)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from html import escape
from itertools import groupby
from pathlib import Path

from sqlmodel import Session

from states.errors import BadInput
from workflow import svg
from workflow.annual_report import COLUMNS, Report

_SECTIONS = {"agreement": "Agreement", "review": "Review", "status": "School status",
             "benchmark": "Benchmark", "measurement": "Measurement", "change": "Change",
             "funds": "21(h) funds"}  # fmt: skip
_HEADS = ("Agreement", "School", "Part", "Item", "Value")
_STYLE = """body{font-family:sans-serif;max-width:60rem;margin:auto;padding:0 .5rem;color:#111}
table{border-collapse:collapse;width:100%;margin-bottom:1rem}th,td{border:1px solid #999;
padding:.2rem .4rem;text-align:left;overflow-wrap:anywhere}th{background:#e8eef5}
svg{display:block;max-width:100%;height:auto}
@media print{section.district{break-before:page}body{max-width:none}}"""


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
    ordered = sorted(report.rows, key=lambda r: (r["cohort"], r["district"]))
    for (cohort, district), rows in groupby(ordered, key=lambda r: (r["cohort"], r["district"])):
        yield cohort, district, list(rows)


def statuses_per_cohort(report: Report) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {}
    for row in report.rows:
        if row["section"] == "status":
            counts.setdefault(row["cohort"], Counter())[row["value"]] += 1
    return counts


def markdown(report: Report) -> str:
    lines = [f"# {_title(report)}", ""]
    for cohort, counts in sorted(statuses_per_cohort(report).items()):
        lines += [f"Cohort {cohort}, schools by status: "
                  + "; ".join(f"{k}: {v}" for k, v in sorted(counts.items())), ""]  # fmt: skip
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
             f"<style>{_STYLE}</style></head><body><main><h1>{title}</h1>"]  # fmt: skip
    for cohort, counts in sorted(statuses_per_cohort(report).items()):
        name = f"Cohort {cohort}: schools by status"
        chart = svg.bars(name, sorted(counts.items()))
        parts.append(f"<figure>{chart}<figcaption>{escape(name)}</figcaption></figure>")
    for cohort, district, rows in _districts(report):
        heading = escape(f"Cohort {cohort}: {district}")
        parts.append(f'<section class="district"><h2>{heading}</h2>' + _table(rows)
                     + "".join(_trajectories(rows)) + "</section>")  # fmt: skip
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _table(rows: list[dict[str, str]]) -> str:
    head = "".join(f'<th scope="col">{h}</th>' for h in _HEADS)
    body = "".join(
        f"<tr><td>{escape(r['agreement'])}</td><td>{escape(r['school'])}</td>"
        f"<td>{_SECTIONS[r['section']]}</td><td>{escape(r['item'])}</td>"
        f"<td>{escape(r['value'])}</td></tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _trajectories(rows: list[dict[str, str]]) -> Iterator[str]:
    """Per benchmark with measurements: its values (baseline first) against its last target."""
    key = lambda r: (r["agreement"], r["school"], r["item"].rsplit(": ", 1)[0])  # noqa: E731
    for (agreement, school, label), group in groupby(sorted(rows, key=key), key=key):
        found = list(group)
        values = [float(r["value"]) for r in found if r["section"] == "measurement"]
        if not values:
            continue
        baseline = [float(r["value"]) for r in found if r["item"].endswith(": baseline")]
        targets = [float(r["value"]) for r in found if r["item"].endswith("-month target")]
        name = f"{school}, {label} (agreement {agreement})"
        chart = svg.trajectory(name, baseline + values, targets[-1] if targets else None)
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
