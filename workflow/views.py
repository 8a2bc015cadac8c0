"""Read models: agreements, their benchmarks and reviews as plain dicts (JSON-ready) for `show`,
`list`, `deadlines`, `benchmark list` and `review show`.

Plain Core queries, no ORM objects: a read-only command then never pays for configuring the
mappers or loading instances (it matters for `pal agreement show`'s start-up time).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from states.agreement import STATES
from states.errors import BadInput, NotFound
from storage import tables
from storage.records import records

# The agreement's own deadlines, not those of the cases of other processes that belong to it
# (a fund request's decision: shown with the request).
_OWN_DEADLINE = tables.DEADLINE.c.process.is_(None)


def agreement_view(session: Session, agreement_id: int, *, history: bool = True) -> dict[str, Any]:
    """One agreement, with its schools (their benchmarks and latest agreed status), the summary
    of its open (else latest) review and its amendments (`agreement_views`, for one)."""
    from workflow.agreement_views import agreement_views

    found = agreement_views(session, [agreement_id], history=history)
    if not found:
        raise NotFound(f"no agreement {agreement_id}")
    return found[0]


def _agreement(session: Session, agreement_id: int) -> Any:
    found = records(session, select(tables.AGREEMENT).where(tables.AGREEMENT.c.id == agreement_id))
    if not found:
        raise NotFound(f"no agreement {agreement_id}")
    return found[0]


def list_agreements(
    session: Session,
    *,
    state: str | None = None,
    district: str | None = None,
    cohort: str | None = None,
    school: str | None = None,
    overdue_on: date | None = None,
) -> list[dict[str, Any]]:
    """The agreements, by id, those of a state, district, cohort or school (named at
    identification or given benchmarks in any version of the terms), or with a deadline still
    open after its day when `overdue_on` comes (the filters combine)."""
    query = select(tables.AGREEMENT).order_by(tables.AGREEMENT.c.id)
    if cohort is not None:
        query = query.where(tables.AGREEMENT.c.cohort == cohort)
    if school is not None:
        query = query.where(tables.AGREEMENT.c.id.in_(_covering(session, school)))
    if overdue_on is not None:
        late = select(tables.DEADLINE.c.agreement_id).where(
            tables.DEADLINE.c.status == "open",
            tables.DEADLINE.c.due_on < overdue_on,
            _OWN_DEADLINE,
        )
        query = query.where(tables.AGREEMENT.c.id.in_(late))
    if state is not None:
        if state not in STATES:
            raise BadInput(f"unknown state {state!r}; states: {', '.join(STATES)}")
        query = query.where(tables.AGREEMENT.c.state == state)
    if district is not None:
        if not records(
            session, select(tables.DISTRICT.c.code).where(tables.DISTRICT.c.code == district)
        ):
            raise NotFound(f"no district {district!r} on file")
        query = query.where(tables.AGREEMENT.c.district_code == district)
    return _views(session, records(session, query), history=False)


def _covering(session: Session, school: str) -> Any:
    """The ids of the agreements that cover `school` (a query); an unknown school is bad input."""
    if not records(session, select(tables.SCHOOL.c.code).where(tables.SCHOOL.c.code == school)):
        raise NotFound(f"no school {school!r} on file")
    named = select(tables.AGREEMENT_SCHOOL.c.agreement_id).where(
        tables.AGREEMENT_SCHOOL.c.school_code == school
    )
    planned = select(tables.BENCHMARK.c.agreement_id).where(
        tables.BENCHMARK.c.school_code == school
    )
    return named.union(planned)


def _views(session: Session, agreements: Sequence[Any], *, history: bool) -> list[dict[str, Any]]:
    ids = [a.id for a in agreements]
    signatures: dict[int, dict[str, str]] = defaultdict(dict)
    signed = (
        select(tables.SIGNATURE)
        .where(tables.SIGNATURE.c.agreement_id.in_(ids))
        .order_by(tables.SIGNATURE.c.id)  # in the order recorded
    )
    for sig in records(session, signed):
        signatures[sig.agreement_id][sig.party] = sig.signed_on.isoformat()
    deadlines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    query = (
        select(tables.DEADLINE)
        .where(tables.DEADLINE.c.agreement_id.in_(ids), _OWN_DEADLINE)
        .order_by(tables.DEADLINE.c.due_on, tables.DEADLINE.c.id)
    )
    for d in records(session, query):
        deadlines[d.agreement_id].append(
            {
                "kind": d.kind,
                "due": d.due_on.isoformat(),
                "status": d.status,
                "closed_on": _iso(d.closed_on),
            }
        )
    codes = {a.district_code for a in agreements}
    names = {
        d.code: d.name
        for d in records(session, select(tables.DISTRICT).where(tables.DISTRICT.c.code.in_(codes)))
    }
    events = _history(session, ids) if history else {}
    views = []
    for a in agreements:
        assert a.id is not None
        view: dict[str, Any] = {
            "id": a.id,
            "district": a.district_code,
            "district_name": names.get(a.district_code),
            "cohort": a.cohort,
            "state": a.state,
            "rules_version": a.rules_version,
            "consequences": [c for c in a.consequences.split(",") if c],
            "liaison": a.liaison_email,
            "identified_on": a.identified_on.isoformat(),
            "signed_on": _iso(a.signed_on),
            "escalation_option": a.escalation_option,  # comma list, as before several
            "escalation_options": [o for o in (a.escalation_option or "").split(",") if o],
            "renewed_from": a.renewed_from,
            "renewed_as": a.renewed_as,
            "version": a.version,
            "signatures": signatures.get(a.id, {}),
            "deadlines": deadlines.get(a.id, []),
        }
        if history:
            view["history"] = events.get(a.id, [])
        views.append(view)
    return views


def _history(session: Session, ids: Sequence[int | None]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    a = tables.AUDIT
    # What a history line shows, not the hash chain (the dashboard reads thousands of rows).
    shown = (a.c.agreement_id, a.c.event, a.c.from_state, a.c.to_state, a.c.actor,
             a.c.effective_on, a.c.recorded_at, a.c.note, a.c.data)  # fmt: skip
    query = (
        select(*shown)
        # The agreement's own steps: not those of its meetings and action items (their own
        # subjects), which `pal meeting list` and `pal action list` show.
        .where(tables.AUDIT.c.agreement_id.in_(ids), tables.AUDIT.c.subject.like("agreement:%"))
        .order_by(tables.AUDIT.c.id)
    )
    for entry in records(session, query):
        assert entry.agreement_id is not None
        found[entry.agreement_id].append(history_entry(entry))
    return found


def history_entry(entry: Any) -> dict[str, Any]:
    """An audit row as a line of a case's history (`show --json`)."""
    return {
        "event": entry.event,
        "from": entry.from_state,
        "to": entry.to_state,
        "by": entry.actor,
        "on": entry.effective_on.isoformat(),
        "recorded_at": entry.recorded_at.isoformat(),
        "note": entry.note,
        "data": entry.data,
    }


def open_deadlines(
    session: Session, *, today: date, within: int | None = None
) -> list[dict[str, Any]]:
    query = (
        select(
            tables.DEADLINE.c.agreement_id,
            tables.AGREEMENT.c.district_code,
            tables.AGREEMENT.c.state,
            tables.DEADLINE.c.kind,
            tables.DEADLINE.c.due_on,
            tables.DEADLINE.c.process,
            tables.DEADLINE.c.case_id,
        )
        .join(tables.AGREEMENT, tables.AGREEMENT.c.id == tables.DEADLINE.c.agreement_id)
        # Every case's: staff see a fund request's decision and report due beside the rest.
        .where(tables.DEADLINE.c.status == "open")
        .order_by(tables.DEADLINE.c.due_on, tables.DEADLINE.c.id)
    )
    if within is not None:
        if within < 0:
            raise BadInput("--within takes a number of days, 0 or more")
        if within <= (date.max - today).days:  # beyond the last date, every deadline is within
            query = query.where(tables.DEADLINE.c.due_on <= today + timedelta(days=within))
    return [_deadline_row(row, today) for row in records(session, query)]


def _deadline_row(row: Any, today: date) -> dict[str, Any]:
    """One open deadline; a case's of another process also names it (`process`, `case`), an
    agreement's own has the fields it always had."""
    found = {
        "agreement": row.agreement_id,
        "district": row.district_code,
        "state": row.state,
        "kind": row.kind,
        "due": row.due_on.isoformat(),
        "days_left": (row.due_on - today).days,
        "status": "overdue" if row.due_on < today else "open",
    }
    if row.process is not None:
        found |= {"process": row.process, "case": row.case_id}
    return found


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


# --- the plan and the reviews --------------------------------------------------------------------


def list_benchmarks(session: Session, agreement_id: int) -> list[dict[str, Any]]:
    """The agreement's benchmarks in the order entered, each with its measurements by date."""
    _agreement(session, agreement_id)
    return _benchmarks_of(session, agreement_id)


def _benchmarks_of(
    session: Session, agreement_id: int, amendment: int | None = None
) -> list[dict[str, Any]]:
    """The benchmarks of one version of the terms (default: the one in force), each named by
    its lineage, with the lineage's measurements."""
    query = (
        select(tables.MEASUREMENT)
        .join(tables.BENCHMARK, tables.BENCHMARK.c.id == tables.MEASUREMENT.c.benchmark_id)
        .where(tables.BENCHMARK.c.agreement_id == agreement_id)
        .order_by(tables.MEASUREMENT.c.measured_on, tables.MEASUREMENT.c.id)
    )
    measured: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for m in records(session, query):
        measured[m.benchmark_id].append(
            {"value": m.value, "on": m.measured_on.isoformat(), "evidence": m.evidence}
        )
    query = (
        select(tables.BENCHMARK)
        .where(
            tables.BENCHMARK.c.agreement_id == agreement_id,
            tables.BENCHMARK.c.amendment == _version(agreement_id, amendment),
        )
        .order_by(tables.BENCHMARK.c.lineage)
    )
    return [benchmark_entry(b, measured) for b in records(session, query)]


def benchmark_entry(b: Any, measured: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    """A benchmark as `pal agreement show --json` and `pal benchmark list --json` give it."""
    return {
        "id": b.lineage,
        "school": b.school_code,
        "kind": b.kind,
        "label": b.label,
        "baseline": b.baseline,
        "target_18": b.target_18,
        "target_36": b.target_36,
        "direction": "lower" if b.lower_is_better else "higher",
        "measurements": measured.get(b.lineage, []),
    }


def _covered_schools(
    session: Session, agreement_id: int, amendment: int | None = None
) -> dict[str, str]:
    """The schools the agreement covers (named at identification, or with benchmarks in the
    version of the terms shown, by default the one in force), by code, with their names."""
    named = select(tables.AGREEMENT_SCHOOL.c.school_code.label("code")).where(
        tables.AGREEMENT_SCHOOL.c.agreement_id == agreement_id
    )
    planned = select(tables.BENCHMARK.c.school_code.label("code")).where(
        tables.BENCHMARK.c.agreement_id == agreement_id,
        tables.BENCHMARK.c.amendment == _version(agreement_id, amendment),
    )
    covered = named.union(planned).subquery()
    query = (
        select(tables.SCHOOL.c.code, tables.SCHOOL.c.name)
        .join(covered, covered.c.code == tables.SCHOOL.c.code)
        .order_by(tables.SCHOOL.c.code)
    )
    return {row.code: row.name for row in records(session, query)}


def _latest_review(session: Session, agreement_id: int) -> Any:
    query = (
        select(tables.REVIEW)
        .where(tables.REVIEW.c.agreement_id == agreement_id)
        .order_by(tables.REVIEW.c.id.desc())
        .limit(1)
    )
    found = records(session, query)
    return found[0] if found else None


def _review_summary(session: Session, agreement: Any, review: Any) -> dict[str, Any]:
    """A review's kind, dates, steps recorded, the step it waits for and its soonest deadline."""
    from workflow.review_summaries import review_summaries

    return review_summaries(session, [(agreement, review)])[agreement.id]


def review_summary(session: Session, agreement_id: int) -> dict[str, Any]:
    """The agreement's open (else latest) review without its schools: what it waits for."""
    agreement = _agreement(session, agreement_id)
    review = _latest_review(session, agreement_id)
    if review is None:
        raise NotFound(f"agreement {agreement_id} has had no review")
    return _review_summary(session, agreement, review)


def review_view(session: Session, agreement_id: int, *, today: date) -> dict[str, Any]:
    """The agreement's open review, else its latest, with each school's status: as determined,
    or (before the determination) as the rules would compute it on `today`, not yet agreed.
    A school with no benchmark in the plan has `no_benchmarks` true (the rules then give it
    limited progress, as nothing shows it on track)."""
    agreement = _agreement(session, agreement_id)
    review = _latest_review(session, agreement_id)
    if review is None:
        raise NotFound(f"agreement {agreement_id} has had no review")
    view = _review_summary(session, agreement, review)
    if review.determined_on is not None:
        view["schools"] = _determined(session, review.id)
    else:
        view["schools"] = _computed(session, agreement, review, today)
    return view


def _determined(session: Session, review_id: int) -> list[dict[str, Any]]:
    query = (
        select(tables.DETERMINATION)
        .where(tables.DETERMINATION.c.review_id == review_id)
        .order_by(tables.DETERMINATION.c.school_code)
    )
    return [
        {
            "school": d.school_code,
            "computed": d.computed,
            "agreed": d.agreed,
            "reason": d.reason,
            "benchmarks": list(d.inputs),
            "no_benchmarks": not d.inputs,
        }
        for d in records(session, query)
    ]


def _computed(session: Session, agreement: Any, review: Any, today: date) -> list[dict[str, Any]]:
    from config.rules import read_rules
    from states.review import Measured, PlannedBenchmark, determine

    rules = read_rules(agreement.rules_version)
    planned = [
        PlannedBenchmark(
            id=b["id"],
            school=b["school"],
            kind=b["kind"],
            label=b["label"],
            baseline=b["baseline"],
            target_18=b["target_18"],
            target_36=b["target_36"],
            lower_is_better=b["direction"] == "lower",
            measurements=tuple(
                Measured(m["value"], date.fromisoformat(m["on"])) for m in b["measurements"]
            ),
        )
        for b in _benchmarks_of(session, agreement.id)
    ]
    schools = list(_covered_schools(session, agreement.id))
    results = determine(schools, planned, today, rules.review(review.kind).targets,
                        rules.determination, {}, {})  # fmt: skip
    return [
        {
            "school": r.school,
            "computed": r.computed,
            "agreed": None,
            "reason": None,
            "benchmarks": [item.as_record() for item in r.inputs],
            "no_benchmarks": not r.inputs,
        }
        for r in results
    ]


def _version(agreement_id: int, amendment: int | None) -> Any:
    """The version of the terms `amendment` names, as SQL; None: the one in force."""
    from sqlalchemy import literal

    from workflow.amendments import latest_in_force

    return literal(amendment) if amendment is not None else latest_in_force(agreement_id)
