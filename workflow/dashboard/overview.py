"""The overview page: agreements by stage and cohort, deadlines of the next 90 days, what is
overdue, and the mail's health (as `pal status` judges it)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from states.registry import process
from workflow.dashboard.data import HORIZON, SiteData


def counts(agreements: list[dict[str, Any]]) -> dict[str, Any]:
    """Agreements per cohort and stage, in the process's order of stages, with totals."""
    cells = Counter((a["cohort"] or "", a["state"]) for a in agreements)
    states = [s for s in process("agreement").states if any(k[1] == s for k in cells)]
    cohorts = sorted({a["cohort"] or "" for a in agreements})
    return {
        "states": states,
        "rows": [
            (c, [cells[c, s] for s in states], sum(cells[c, s] for s in states)) for c in cohorts
        ],
        "totals": [sum(cells[c, s] for c in cohorts) for s in states],
        "total": len(agreements),
    }


def mail(status: dict[str, Any]) -> dict[str, Any]:
    """The outbox and the service instances, as `pal status --json` reports them."""
    outbox = status["outbox"]
    deliveries = [i["last_delivery"] for i in status["instances"] if i["last_delivery"]]
    return {
        "verdict": status["verdict"],
        "reasons": status["reasons"],
        "waiting": outbox["pending"] + outbox["retrying"],
        "failed": outbox["failed"],
        "held": outbox["unaddressed"],
        "sent": outbox["sent"],
        "oldest": status["oldest_waiting"],
        "last_delivery": max(deliveries, key=lambda d: d["at"]) if deliveries else None,
        "instances": status["instances"],
        "now": status["now"],
        "timezone": status["timezone"],
    }


def overview_context(data: SiteData) -> dict[str, Any]:
    names = {a["id"]: a["district_name"] or a["district"] for a in data.agreements}
    return {
        "title": "Partnership agreements: overview",
        "today": data.today,
        "horizon": HORIZON,
        "counts": counts(data.agreements),
        "upcoming": data.upcoming,
        "overdue": data.overdue,
        "overdue_actions": data.overdue_actions,
        "names": names,
        "mail": mail(data.status),
    }
