"""`agreement_views`: the views `pal agreement show --json` prints, of many agreements at once.

`views.agreement_view` is this for one id, so a page of the dashboard and `show` cannot differ.
Each part (schools, benchmarks, reviews, amendments) is one query for all the agreements, not
one per agreement: the dashboard reads hundreds (see workflow/dashboard/), `show` one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from states.review import missing_kinds
from storage import tables
from storage.records import records
from workflow.views import _views, benchmark_entry

T = tables


def agreement_views(
    session: Session, ids: Sequence[int] | None = None, *, history: bool = True
) -> list[dict[str, Any]]:
    """The agreements of `ids` that exist (None: every one), by id, each as
    `views.agreement_view` gives it."""
    query = select(T.AGREEMENT).order_by(T.AGREEMENT.c.id)
    rows = records(session, query if ids is None else query.where(T.AGREEMENT.c.id.in_(ids)))
    views = _views(session, rows, history=history)
    if not views:
        return views
    found = [v["id"] for v in views]
    versions = _versions(session, found)
    in_force = {a: max((v.number for v in vs if v.in_force_on is not None), default=0)
                for a, vs in versions.items()}  # fmt: skip
    plans = _plans(session, found, in_force)
    reviews = _reviews(session, [r for r in rows if r.signed_on is not None])
    signatures = _amendment_signatures(session, found) if versions else {}
    for row, view in zip(rows, views, strict=True):
        schools, benchmarks, high = plans.get(row.id, ({}, [], set()))
        latest, statuses = reviews.get(row.id, (None, {}))
        view["schools"] = [
            _school(
                code,
                name,
                [b for b in benchmarks if b["school"] == code],
                statuses.get(code),
                code in high,
            )
            for code, name in schools.items()
        ]
        view["review"] = latest
        view["amendments"] = (
            _amendments(versions.get(row.id, []), signatures) if row.signed_on else []
        )
    return views


def _school(code: str, name: str, benchmarks: list[dict[str, Any]], status: str | None,
            high: bool) -> dict[str, Any]:  # fmt: skip
    return {
        "code": code,
        "name": name,
        "benchmarks": benchmarks,
        "status": status,
        # The kinds the law requires that the plan has no benchmark of yet.
        "missing_benchmarks": list(missing_kinds({b["kind"] for b in benchmarks}, high)),
    }


def _versions(session: Session, ids: list[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = defaultdict(list)
    query = (select(T.AMENDMENT).where(T.AMENDMENT.c.agreement_id.in_(ids))
             .order_by(T.AMENDMENT.c.number))  # fmt: skip
    for version in records(session, query):
        found[version.agreement_id].append(version)
    return found


Plan = tuple[dict[str, str], list[dict[str, Any]], set[str]]


def _plans(session: Session, ids: list[int], in_force: dict[int, int]) -> dict[int, Plan]:
    """Per agreement: the schools it covers (named at identification, or with benchmarks in the
    terms in force) by code with their names, the benchmarks in force, and its high schools."""
    named = records(session, select(T.AGREEMENT_SCHOOL).where(
        T.AGREEMENT_SCHOOL.c.agreement_id.in_(ids)))  # fmt: skip
    planned = [b for b in records(session, select(T.BENCHMARK).where(
        T.BENCHMARK.c.agreement_id.in_(ids)).order_by(T.BENCHMARK.c.lineage))
        if b.amendment == in_force.get(b.agreement_id, 0)]  # fmt: skip
    codes: dict[int, set[str]] = defaultdict(set)
    for row in named:
        codes[row.agreement_id].add(row.school_code)
    for row in planned:
        codes[row.agreement_id].add(row.school_code)
    every = sorted(set().union(*codes.values())) if codes else []
    schools = {s.code: s for s in records(session, select(
        T.SCHOOL.c.code, T.SCHOOL.c.name, T.SCHOOL.c.high_school).where(
        T.SCHOOL.c.code.in_(every)))} if every else {}  # fmt: skip
    measured = _measurements(session, ids) if planned else {}
    plans: dict[int, Plan] = {}
    for agreement, covered in codes.items():
        known = sorted(c for c in covered if c in schools)
        plans[agreement] = (
            {c: schools[c].name for c in known},
            [benchmark_entry(b, measured) for b in planned if b.agreement_id == agreement] if known
            else [],
            {c for c in known if schools[c].high_school},
        )  # fmt: skip
    return plans


def _measurements(session: Session, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    query = (
        select(T.MEASUREMENT)
        .join(T.BENCHMARK, T.BENCHMARK.c.id == T.MEASUREMENT.c.benchmark_id)
        .where(T.BENCHMARK.c.agreement_id.in_(ids))
        .order_by(T.MEASUREMENT.c.measured_on, T.MEASUREMENT.c.id)
    )
    measured: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for m in records(session, query):
        measured[m.benchmark_id].append(
            {"value": m.value, "on": m.measured_on.isoformat(), "evidence": m.evidence}
        )
    return measured


Reviewed = tuple[dict[str, Any] | None, dict[str, str]]


def _reviews(session: Session, signed: list[Any]) -> dict[int, Reviewed]:
    """Per signed agreement: the summary of its open (else latest) review, and each school's
    status as agreed at its latest determination."""
    if not signed:
        return {}
    from workflow.review_summaries import review_summaries

    ids = [a.id for a in signed]
    latest: dict[int, Any] = {}
    determined: dict[int, int] = {}
    query = select(T.REVIEW).where(T.REVIEW.c.agreement_id.in_(ids)).order_by(T.REVIEW.c.id)
    for review in records(session, query):
        latest[review.agreement_id] = review
        if review.determined_on is not None:
            determined[review.agreement_id] = review.id
    agreed: dict[int, dict[str, str]] = defaultdict(dict)
    if determined:
        query = select(T.DETERMINATION.c.review_id, T.DETERMINATION.c.school_code,
                       T.DETERMINATION.c.agreed).where(
            T.DETERMINATION.c.review_id.in_(determined.values()))  # fmt: skip
        for row in records(session, query):
            agreed[row.review_id][row.school_code] = row.agreed
    summaries = review_summaries(session, [(a, latest[a.id]) for a in signed if a.id in latest])
    return {a: (summaries[a], agreed.get(determined.get(a, -1), {})) for a in summaries}


def _amendment_signatures(session: Session, ids: list[int]) -> dict[int, dict[str, str]]:
    s, a = T.AMENDMENT_SIGNATURE, T.AMENDMENT
    query = (select(s.c.amendment_id, s.c.party, s.c.signed_on)
             .join(a, a.c.id == s.c.amendment_id).where(a.c.agreement_id.in_(ids))
             .order_by(s.c.id))  # fmt: skip
    found: dict[int, dict[str, str]] = defaultdict(dict)
    for row in records(session, query):
        found[row.amendment_id][row.party] = row.signed_on.isoformat()
    return found


def _amendments(versions: list[Any], signed: dict[int, dict[str, str]]) -> list[dict[str, Any]]:
    from workflow.amendment_views import listed

    return listed(versions, signed)
