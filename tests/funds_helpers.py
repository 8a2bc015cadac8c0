"""Section 21(h) fund requests in tests: an agreement with a benchmark, and a request walked
through the CLI to the stage a test needs."""

from __future__ import annotations

import json
from typing import Any

from helpers import DIRECTOR, LIAISON, Pal, add_benchmark, add_school, identify, ok

YEAR = "2025-26"
SCHOOL = "TRAD-E"
METRICS = "share of teachers observed using the new practice"


def agreement_with_benchmark(pal: Pal) -> tuple[int, int]:
    """A traditional district's agreement with one benchmark: (agreement, benchmark)."""
    agreement = identify(pal)
    add_school(pal, SCHOOL)
    benchmark = add_benchmark(pal, agreement, SCHOOL, "on_track", 40, 50, 60)
    return agreement, benchmark


def new_request(pal: Pal, agreement: int, benchmark: int, *, year: str = YEAR) -> int:
    out = ok(pal, "funds", "request", agreement, "--year", year, "--rationale",
             "early literacy lags the benchmark", "--serves", benchmark, "--priorities",
             "literacy,p8", "--by", LIAISON)  # fmt: skip
    return int(out.strip())


def add_activity(pal: Pal, request: int, amount: str, category: str = "pd_teachers") -> None:
    ok(pal, "funds", "activity", request, "--category", category, "--amount", amount,
       "--metrics", METRICS, "--by", LIAISON)  # fmt: skip


def under_review(pal: Pal, agreement: int, benchmark: int, *amounts: str) -> int:
    """A complete request with an activity of each amount, submitted and under review."""
    request = new_request(pal, agreement, benchmark)
    for amount in amounts:
        add_activity(pal, request, amount)
    ok(pal, "funds", "submit", request, "--by", LIAISON)
    ok(pal, "funds", "review", request, "--by", LIAISON)
    return request


def approved(pal: Pal, agreement: int, benchmark: int, *amounts: str) -> int:
    request = under_review(pal, agreement, benchmark, *amounts)
    ok(pal, "funds", "approve", request, "--by", DIRECTOR)
    return request


def show_request(pal: Pal, request: int) -> dict[str, Any]:
    return json.loads(ok(pal, "funds", "show", request, "--json"))


def budget(pal: Pal, year: str = YEAR) -> dict[str, Any]:
    return json.loads(ok(pal, "funds", "budget", "--year", year, "--json"))
