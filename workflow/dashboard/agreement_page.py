"""One agreement's page: its summary, a timeline of its events and deadlines, its schools and
benchmarks, its reviews, funds, meetings, open action items and its audit trail."""

from __future__ import annotations

from datetime import date
from typing import Any

from states.labels import countdown
from workflow import svg
from workflow.dashboard.data import SiteData
from workflow.dashboard.words import benchmark, capital, deadline, deadline_state, event, stage


def timeline(view: dict[str, Any], today: date) -> list[dict[str, str]]:
    """The agreement's milestones (the steps that moved it to another stage) and its deadlines,
    by date; every step is in the audit trail below it. A row's `day` is the date its detail
    ends with (kept on one line)."""
    rows = [{"on": h["on"], "what": capital(event(h["event"])),
             "detail": f"stage now {stage(h['to'])}", "day": "", "kind": "event", "late": ""}
            for h in view["history"] if h["to"] != h["from"]]  # fmt: skip
    for d in view["deadlines"]:
        detail, day = deadline_state(d, today)
        late = d["status"] == "open" and d["due"] < today.isoformat()
        rows.append({"on": d["due"], "what": f"{capital(deadline(d['kind']))} due",
                     "detail": detail, "day": day, "kind": "deadline",
                     "late": "late" if late else ""})  # fmt: skip
    return sorted(rows, key=lambda r: r["on"])


def due(view: dict[str, Any], today: date) -> dict[str, list[tuple[str, str, str]]]:
    """The next open deadline and the overdue ones, each (what, due date, `in 5 days` or `3 days
    overdue`), as `pal agreement show` and the overview count them."""
    found: dict[str, list[tuple[str, str, str]]] = {"next": [], "overdue": []}
    for d in view["deadlines"]:
        if d["status"] != "open":
            continue
        left = (date.fromisoformat(d["due"]) - today).days
        said = (capital(deadline(d["kind"])), d["due"], countdown(left))
        found["overdue" if left < 0 else "next"].append(said)
    found["next"] = found["next"][:1]
    return found


def charts(view: dict[str, Any]) -> list[tuple[str, str]]:
    """A trajectory chart per benchmark measured: its baseline, then each measurement at its
    date, against its 18- and 36-month targets: (caption, inline SVG)."""
    found = []
    for school in view["schools"]:
        for b in school["benchmarks"]:
            if not b["measurements"]:
                continue
            has_baseline = b["baseline"] is not None
            points = [b["baseline"]] * has_baseline + [m["value"] for m in b["measurements"]]
            targets = [(f"{n}-month target", b[f"target_{n}"]) for n in (18, 36)
                       if b[f"target_{n}"] is not None]  # fmt: skip
            name = f"{school['name']}: {benchmark(b)}"
            found.append((name, svg.trajectory(name, points, targets=targets,
                                               dates=[m["on"] for m in b["measurements"]],
                                               baseline=has_baseline)))  # fmt: skip
    return found


def agreement_context(data: SiteData, view: dict[str, Any]) -> dict[str, Any]:
    name = view["district_name"] or view["district"]
    return {
        "title": f"Agreement {view['id']}: {name}",
        "today": data.today,
        "a": view,
        "due": due(view, data.today),
        "timeline": timeline(view, data.today),
        "charts": dict(charts(view)),
        "reviews": data.reviews.get(view["id"], []),
        "funds": data.funds.get(view["id"], []),
        "meetings": data.meetings.get(view["id"], []),
        "actions": [a for a in data.actions_of(view["id"]) if a["state"] == "open"],
    }
