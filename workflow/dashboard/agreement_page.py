"""One agreement's page: its summary, a timeline of its events and deadlines, its schools and
benchmarks, its review, funds, meetings, open action items and its audit trail."""

from __future__ import annotations

from typing import Any

from workflow import svg
from workflow.dashboard.data import SiteData
from workflow.dashboard.words import benchmark, capital, deadline, event, stage


def timeline(view: dict[str, Any]) -> list[dict[str, str]]:
    """The agreement's milestones (the steps that moved it to another stage) and its deadlines,
    by date; every step is in the audit trail below it."""
    rows = [{"on": h["on"], "what": capital(event(h["event"])),
             "detail": f"stage now {stage(h['to'])}", "kind": "event"}
            for h in view["history"] if h["to"] != h["from"]]  # fmt: skip
    for d in view["deadlines"]:
        closed = f" on {d['closed_on']}" if d["closed_on"] else ""
        rows.append({"on": d["due"], "what": f"{capital(deadline(d['kind']))} due",
                     "detail": f"{d['status']}{closed}", "kind": "deadline"})  # fmt: skip
    return sorted(rows, key=lambda r: r["on"])


def charts(view: dict[str, Any]) -> list[tuple[str, str]]:
    """A trajectory chart (baseline, then each measurement, against the last target) per
    benchmark measured: (caption, inline SVG)."""
    found = []
    for school in view["schools"]:
        for b in school["benchmarks"]:
            if not b["measurements"]:
                continue
            points = [m["value"] for m in b["measurements"]]
            if b["baseline"] is not None:
                points.insert(0, b["baseline"])
            target = b["target_36"] if b["target_36"] is not None else b["target_18"]
            name = f"{school['name']}: {benchmark(b)}"
            found.append((name, svg.trajectory(name, points, target)))
    return found


def agreement_context(data: SiteData, view: dict[str, Any]) -> dict[str, Any]:
    name = view["district_name"] or view["district"]
    return {
        "title": f"Agreement {view['id']}: {name}",
        "today": data.today,
        "a": view,
        "timeline": timeline(view),
        "charts": dict(charts(view)),
        "funds": data.funds.get(view["id"], []),
        "meetings": data.meetings.get(view["id"], []),
        "actions": [a for a in data.actions_of(view["id"]) if a["state"] == "open"],
    }
