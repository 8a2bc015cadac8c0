"""What the dashboard shows, read once per build through the views the CLI's `--json` prints:
every agreement (`pal agreement show`), the open deadlines (`pal deadlines`), the service and
its mail (`pal status`), the meetings, action items, fund requests and reviews (`pal meeting
list`, `pal action list`, `pal funds list`, `pal review list`), each read in bulk and grouped by
agreement here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from states.context import Context
from workflow.action_items import list_actions
from workflow.agreement_views import agreement_views
from workflow.funds_views import list_requests
from workflow.meetings import list_meetings
from workflow.review_history import review_histories
from workflow.status import service_status
from workflow.views import open_deadlines

# The overview's horizon for deadlines to come, in days.
HORIZON = 90


@dataclass
class SiteData:
    today: date
    tz: ZoneInfo  # the zone times are shown in (PAL_TIMEZONE)
    agreements: list[dict[str, Any]]
    # Open deadlines of every process due by today + HORIZON, overdue ones included.
    deadlines: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    status: dict[str, Any]
    meetings: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    funds: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # oldest first

    @property
    def upcoming(self) -> list[dict[str, Any]]:
        return [d for d in self.deadlines if d["status"] == "open"]

    @property
    def overdue(self) -> list[dict[str, Any]]:
        return [d for d in self.deadlines if d["status"] == "overdue"]

    @property
    def overdue_actions(self) -> list[dict[str, Any]]:
        return [a for a in self.actions if a["overdue"]]

    def actions_of(self, agreement: int) -> list[dict[str, Any]]:
        return [a for a in self.actions if a["agreement"] == agreement]


def gather(session: Session, ctx: Context) -> SiteData:
    today = ctx.today
    return SiteData(
        today=today,
        tz=ctx.tz,
        agreements=agreement_views(session),
        deadlines=open_deadlines(session, today=today, within=HORIZON),
        actions=list_actions(session, today),
        status=service_status(session, ctx),
        meetings=_by_agreement(list_meetings(session)),
        funds=_by_agreement(list_requests(session)),
        reviews=review_histories(session),
    )


def _by_agreement(rows: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["agreement"]].append(row)
    return dict(grouped)
