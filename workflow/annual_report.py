"""`pal report annual`: the legislature's annual report, gathered through the CLI's own views.

The report year YYYY is the state fiscal year that ends on September 30 of YYYY (`--year 2026`:
fiscal year 2025-26). It covers the agreements identified by the year's end, grouped by cohort
and district; measurements taken by the year's end; and the 21(h) requests of that fiscal year.
Every number is a row of `rows` (the CSV); the Markdown and HTML tables and charts are drawn
from those rows, so a number in them is traceable to one row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from states.agreement import STATE_LABELS
from states.errors import BadInput
from states.funds import CATEGORY_LABELS
from states.labels import BENCHMARK_KIND_LABELS, STATUS_LABELS, consequence_label
from workflow.annual_history import (
    agreed_at,
    determined_by,
    fiscal_year,
    keep_history,
    review_rows,
    status_by_year_rows,
)
from workflow.funds_views import list_requests
from workflow.views import agreement_view, list_agreements

FORMATS = ("md", "csv", "html")
COLUMNS = ("section", "cohort", "district", "agreement", "school", "item", "value")
# Requests counted as approved: approved, and everything that comes after approval.
_APPROVED = frozenset({"approved", "funded", "effectiveness_reported"})


@dataclass
class Report:
    year: int
    fiscal_year: str
    agreements: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)

    def add(self, section: str, agreement: dict[str, Any], item: str, value: object,
            school: str = "") -> None:  # fmt: skip
        self.rows.append({"section": section, "cohort": agreement["cohort"],
                          "district": agreement["district_name"] or agreement["district"],
                          "agreement": str(agreement["id"]), "school": school,
                          "item": item, "value": str(value)})  # fmt: skip


def report_year(raw: str) -> int:
    """The year as given on the command line; anything but a plausible year is bad input."""
    if not raw.isdigit() or not 1990 <= int(raw) <= 2999:
        raise BadInput(f"a report year is written like 2026, not {raw!r}")
    return int(raw)


def annual_report(session: Session, year: int) -> Report:
    """The report of the fiscal year ending September 30 of `year`."""
    end = date(year, 9, 30)
    report = Report(year, fiscal_year(year))
    funds = list_requests(session, year=report.fiscal_year)
    for summary in list_agreements(session):
        if date.fromisoformat(summary["identified_on"]) > end:
            continue
        view = agreement_view(session, summary["id"])
        report.agreements.append(view)
        keep_history(session, view, end)
        _agreement_rows(report, view, end)
        review_rows(report, view, end)
        _funds_rows(report, view, [f for f in funds if f["agreement"] == view["id"]])
    report.agreements.sort(key=lambda a: (a["cohort"], a["district_name"] or "", a["id"]))
    status_by_year_rows(report)
    return report


def _agreement_rows(report: Report, view: dict[str, Any], end: date) -> None:
    state = _state_at(view, end)
    report.add("agreement", view, "State", STATE_LABELS.get(state, state))
    report.add("agreement", view, "Identified on", view["identified_on"])
    signed = view["signed_on"] and date.fromisoformat(view["signed_on"]) <= end
    report.add("agreement", view, "Signed on", view["signed_on"] if signed else "not signed")
    if view["renewed_from"]:
        report.add("agreement", view, "Renewal of agreement", view["renewed_from"])
    if view["renewed_as"]:
        report.add("agreement", view, "Renewed as agreement", view["renewed_as"])
    for option in view["escalation_options"]:  # next level of accountability, in words
        report.add("agreement", view, "Escalation", consequence_label(option))
    # The review and the statuses as they stood at the year's end, not as they stand now.
    reviews, agreed = view["review_history"], agreed_at(view, end)
    if reviews:
        report.add("review", view, "Latest review opened on", reviews[-1]["opened_on"])
        report.add("review", view, "Determined on", determined_by(reviews[-1], end) or "not yet")
    for school in view["schools"]:
        status = STATUS_LABELS.get(agreed.get(school["code"], ""), "not determined")
        report.add("status", view, "Status", status, school["name"])
        for benchmark in school["benchmarks"]:
            _benchmark_rows(report, view, school["name"], benchmark, end)


def _state_at(view: dict[str, Any], end: date) -> str:
    """The agreement's state at the end of the year: where its last step by then left it."""
    steps = sorted((h for h in view["history"]
                    if h["to"] is not None and date.fromisoformat(h["on"]) <= end),
                   key=lambda h: h["on"])  # fmt: skip
    return str(steps[-1]["to"]) if steps else str(view["state"])


def _benchmark_rows(report: Report, view: dict[str, Any], school: str,
                    benchmark: dict[str, Any], end: date) -> None:  # fmt: skip
    label = benchmark["label"] or BENCHMARK_KIND_LABELS.get(benchmark["kind"], "benchmark")
    report.add("benchmark", view, f"{label}: baseline", benchmark["baseline"], school)
    for months in ("18", "36"):
        if benchmark[f"target_{months}"] is not None:
            report.add("benchmark", view, f"{label}: {months}-month target",
                       benchmark[f"target_{months}"], school)  # fmt: skip
    values = [m["value"] for m in benchmark["measurements"] if date.fromisoformat(m["on"]) <= end]
    for measured in benchmark["measurements"][: len(values)]:
        report.add("measurement", view, f"{label}: {measured['on']}", measured["value"], school)
    if values:
        report.add("change", view, f"{label}: change", _change(benchmark, values), school)


def _change(benchmark: dict[str, Any], values: list[float]) -> str:
    """The direction of the latest value against the one before (else the baseline), in words."""
    before = values[-2] if len(values) > 1 else benchmark["baseline"]
    if before is None or values[-1] == before:
        return "unchanged"
    better = (values[-1] > before) == (benchmark["direction"] == "higher")
    return "improved" if better else "worse"


def _funds_rows(report: Report, view: dict[str, Any], requests: list[dict[str, Any]]) -> None:
    """Per category: requested (every request past its draft), approved and funded."""
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for request in requests:
        if request["state"] == "draft":
            continue
        for activity in request["activities"]:
            amount = Decimal(activity["amount"])
            kept = sums[CATEGORY_LABELS.get(activity["category"], activity["category"])]
            kept["requested"] += amount
            if request["state"] in _APPROVED:
                kept["approved"] += amount
            if request["funded_on"]:
                kept["funded"] += amount
    for category, kept in sorted(sums.items()):
        for stage in ("requested", "approved", "funded"):
            report.add("funds", view, f"{category}: {stage}", kept[stage].quantize(Decimal("0.01")))
