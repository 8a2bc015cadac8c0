"""The annual report's history: every review of each agreement to the year's end with each
school's status at it, and each cohort's schools by status at the end of every fiscal year."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from states.agreement import STATE_LABELS
from states.labels import STATUS_LABELS
from workflow.review_history import review_history

if TYPE_CHECKING:
    from workflow.annual_report import Report

NOT_DETERMINED = "not determined"


def fiscal_year(end_year: int) -> str:
    """The fiscal year ending September 30 of `end_year`, written as 2025-26."""
    return f"{end_year - 1}-{end_year % 100:02d}"


def keep_history(session: Session, view: dict[str, Any], end: date) -> None:
    """Keep on the view its reviews opened by `end`, oldest first (`review_history`), for the
    sections of the year and `status_by_year_rows`."""
    view["review_history"] = [
        r for r in review_history(session, view["id"]) if date.fromisoformat(r["opened_on"]) <= end
    ]


def determined_by(review: dict[str, Any], end: date) -> str | None:
    """The day the review was determined, if by `end` (one determined after is not yet)."""
    on = review["determined_on"]
    return on if on is not None and date.fromisoformat(on) <= end else None


def agreed_at(view: dict[str, Any], end: date) -> dict[str, str]:
    """Each school's status (code: status) as agreed at the view's latest review determined by
    `end`; none before its first determination."""
    determined = [r for r in view["review_history"] if determined_by(r, end)]
    return {s["school"]: s["agreed"] for s in determined[-1]["schools"]} if determined else {}


def review_rows(report: Report, view: dict[str, Any], end: date) -> None:
    """Section `reviews`: each review opened by `end` (`keep_history`), its dates and (if
    determined by then) each school's agreed status."""
    names = {s["code"]: s["name"] for s in view["schools"]}
    for review in view["review_history"]:
        kind = STATE_LABELS.get(review["kind"], review["kind"])
        determined = determined_by(review, end)
        report.add("reviews", view, f"{kind}: opened on", review["opened_on"])
        report.add("reviews", view, f"{kind}: determined on", determined or "not yet")
        for school in review["schools"] if determined else []:
            report.add("reviews", view, f"{kind}: status", STATUS_LABELS[school["agreed"]],
                       names.get(school["school"], school["name"]))  # fmt: skip


def status_by_year_rows(report: Report) -> None:
    """Section `status_by_year`: per cohort and fiscal year, from the cohort's first to the
    report's, how many of its schools had each status at the year's end (a school counted once,
    with its latest agreed status then; covered but not yet determined: "not determined")."""
    cohorts: dict[str, list[dict[str, Any]]] = {}
    for view in report.agreements:
        cohorts.setdefault(view["cohort"], []).append(view)
    for cohort, views in sorted(cohorts.items()):
        first = min(date.fromisoformat(v["identified_on"]) for v in views)
        for year in range(first.year + (first.month > 9), report.year + 1):
            counts = statuses_at(views, date(year, 9, 30))
            for status, count in sorted(counts.items()):
                report.rows.append({"section": "status_by_year", "cohort": cohort, "district": "",
                                    "agreement": "", "school": "",
                                    "item": f"{fiscal_year(year)}: {status}",
                                    "value": str(count)})  # fmt: skip


def statuses_at(views: list[dict[str, Any]], end: date) -> Counter[str]:
    """Each school's latest agreed status by `end` across `views` (agreements identified by
    then), counted by status label."""
    latest: dict[str, tuple[str, str]] = {}  # school code: (determined on, status)
    for view in views:
        if date.fromisoformat(view["identified_on"]) > end:
            continue
        for school in view["schools"]:
            latest.setdefault(school["code"], ("", NOT_DETERMINED))
        for review in view["review_history"]:
            on = review["determined_on"]
            if on is None or date.fromisoformat(on) > end:
                continue
            for school in review["schools"]:
                if on >= latest.get(school["school"], ("", ""))[0]:
                    latest[school["school"]] = (on, STATUS_LABELS[school["agreed"]])
    return Counter(status for _, status in latest.values())
