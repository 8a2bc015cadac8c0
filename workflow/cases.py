"""Where each process keeps its cases: how the engine loads one, creates one and writes beside it.

One store per process definition, named by the process; none knows any particular event. A
case is read as a row (written back through the optimistic lock) and as the pure snapshot the
process's guards and effects look at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlalchemy import (
    String,
    Table,
    bindparam,
    func,
    insert,
    inspect,
    type_coerce,
    update,
)
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from states.agreement import TERMINAL, AgreementCase
from states.context import Context
from states.corrections import TrailEntry
from states.errors import NotAllowedInState, NotFound
from states.process import Child
from states.review import Measured, OpenReview, PlannedBenchmark, SchoolResult, StepDone
from storage import tables
from storage.case_refs import CaseRef
from storage.models import (
    Agreement,
    AgreementSchool,
    Audit,
    Benchmark,
    Measurement,
    ReviewStep,
)
from storage.prepared import Prepared
from workflow import amendments
from workflow.actors import Actor

_MAPPER = inspect(Agreement)
# The agreement's columns, read and written with prebuilt Core statements: building an ORM
# object (and flushing it) cost more than the rest of a step's reads.
_COLUMNS = tuple(column.name for column in tables.AGREEMENT.c)
_LOAD = Prepared(core_select(tables.AGREEMENT).where(tables.AGREEMENT.c.id == bindparam("id")))
_INSERT = Prepared(insert(tables.AGREEMENT))
# The district's kind and the agreement's signatures, in one query (a row per signature, or
# one with no party when none is recorded).
_SIGNED = Prepared(
    core_select(tables.DISTRICT.c.psa, tables.SIGNATURE.c.party, tables.SIGNATURE.c.signed_on)
    .select_from(tables.DISTRICT)
    .outerjoin(tables.SIGNATURE, tables.SIGNATURE.c.agreement_id == bindparam("agreement"))
    .where(tables.DISTRICT.c.code == bindparam("code"))
    .order_by(tables.SIGNATURE.c.id)  # in the order recorded
)
_ADD_SIGNATURE = Prepared(insert(tables.SIGNATURE))
_DISTRICT = Prepared(
    core_select(tables.DISTRICT.c.code, tables.DISTRICT.c.psa).where(
        tables.DISTRICT.c.code == bindparam("code")
    )
)
_RUNNING = Prepared(
    core_select(tables.AGREEMENT.c.id)
    .where(
        tables.AGREEMENT.c.district_code == bindparam("code"),
        tables.AGREEMENT.c.state.not_in(TERMINAL),
    )
    .limit(1)
)


class AgreementRow:
    """An agreement's row as the engine reads and writes it: its columns as attributes."""

    __slots__ = _COLUMNS

    def __init__(self, values: Mapping[str, Any]) -> None:
        for name in _COLUMNS:
            setattr(self, name, values.get(name))

    @property
    def consequence_list(self) -> list[str]:
        return [c for c in self.consequences.split(",") if c]

    def __getattr__(self, name: str) -> Any:  # for mypy: the columns are set in __init__
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"AgreementRow(id={self.id}, state={self.state!r}, version={self.version})"


# What the deadlines and notices take: the engine's row, or an ORM object of it (the sweep).
AnyAgreement = AgreementRow | Agreement


class CaseStore(Protocol):
    """What the engine asks of a process's store (`AgreementStore` is the agreement's).

    A case of another process belongs to an agreement (`ref`): its deadlines, timers and
    notices name both, and its notices are addressed through the agreement's district and
    liaison; what they tell of the case itself is `notice_facts`.
    """

    @property
    def table(self) -> Table: ...

    def load(self, session: Session, case_id: int) -> Any: ...

    def case_of(
        self, session: Session, row: Any, reads: frozenset[str] = ..., day: date | None = ...
    ) -> Any: ...

    def new_case(self, session: Session, parent: str) -> Any: ...

    def insert(self, session: Session, values: Mapping[str, Any]) -> Any: ...

    def add_child(
        self, session: Session, row: Any, child: Child, actor: Actor, ctx: Context
    ) -> None: ...

    def identity(self, case_id: int) -> Any: ...

    def subject(self, row: Any) -> tuple[str, int | None]: ...

    def ref(self, row: Any) -> CaseRef: ...

    def notice_facts(self, session: Session, row: Any) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class AgreementStore:
    """Agreements: rows of `agreement`, with their district and signatures as the case."""

    table: Table = tables.AGREEMENT

    def load(self, session: Session, case_id: int) -> AgreementRow:
        # ORM objects a caller added are written first, so the engine reads what it sees.
        session.flush()
        found = _LOAD.execute(session, {"id": case_id}).first()
        if found is None:
            raise NotFound(f"no agreement {case_id}")
        return AgreementRow(found._asdict())

    def case_of(
        self,
        session: Session,
        row: AgreementRow,
        reads: frozenset[str] = frozenset(),
        day: date | None = None,
    ) -> AgreementCase:
        """The agreement as its guards and effects see it on `day` (default: its last event's),
        with what `reads` names loaded."""
        signed = _SIGNED.execute(session, {"agreement": row.id, "code": row.district_code}).rows
        if not signed:
            raise NotFound(f"no district {row.district_code!r} on file")
        planned = bool(reads & {"plan", "measurements"})
        as_of = day or row.last_event_on
        benchmarks = _benchmarks(session, row, "measurements" in reads, as_of) if planned else ()
        review, held, statuses = _review(session, row) if "review" in reads else (None, (), {})
        versions, draft = amendments.load(session, row.id) if "amendments" in reads else ((), ())
        return AgreementCase(
            district_code=row.district_code,
            psa=bool(signed[0].psa),
            id=row.id,
            state=row.state,
            consequences=tuple(row.consequence_list),
            signatures={s.party: s.signed_on for s in signed if s.party is not None},
            liaison_email=row.liaison_email,
            since_entered=_since_entered(session, row) if "history" in reads else (),
            district_schools=_schools_of(session, row.district_code) if planned else {},
            schools=_covered(session, row, benchmarks) if planned else (),
            benchmarks=benchmarks,
            review=review,
            reviews_held=held,
            statuses=statuses,
            trail=trail_of(session, row.id) if "trail" in reads else (),
            amendments=versions,
            draft_benchmarks=draft,
        )

    def new_case(self, session: Session, parent: str) -> AgreementCase:
        district = _district(session, parent)
        running = _RUNNING.execute(session, {"code": district.code}).scalar()
        return AgreementCase(
            district.code,
            bool(district.psa),
            running_agreement=running,
            district_schools=_schools_of(session, district.code),
        )

    def insert(self, session: Session, values: Mapping[str, Any]) -> AgreementRow:
        row = {**_NEW, **values}
        try:
            inserted = _INSERT.execute(session, {k: v for k, v in row.items() if k != "id"})
        except IntegrityError as exc:  # another identify of this district won the race
            # Refused as a clear error; the caller's transaction is rolled back with it.
            raise NotAllowedInState(
                f"district {values['district_code']} already has an active agreement"
            ) from exc
        row["id"] = inserted.inserted_id
        return AgreementRow(row)

    def add_child(
        self, session: Session, row: AgreementRow, child: Child, actor: Actor, ctx: Context
    ) -> None:
        assert row.id is not None
        recorded: dict[str, Any] = {"recorded_by": actor.email, "recorded_at": ctx.now}
        values: Mapping[str, Any] = child.values
        if child.kind == "signature":
            _ADD_SIGNATURE.execute(session, {"agreement_id": row.id, **recorded, **values})
            return
        if child.kind == "covered_school":
            session.add(AgreementSchool(agreement_id=row.id, **values))
        elif child.kind == "benchmark":
            added = Benchmark(agreement_id=row.id, lineage=0, **recorded, **values)
            session.add(added)
            session.flush()
            assert added.id is not None
            amendments.own_lineage(session, added.id)
        elif child.kind == "measurement":
            _measured(session, Measurement(**recorded, **values))
        elif child.kind == "review":
            _OPEN_REVIEW.execute(session, {"agreement_id": row.id, **values})
            return
        elif child.kind == "review_step":
            review = _latest_review(session, row.id)
            session.add(ReviewStep(review_id=review, **recorded, **values))
        elif child.kind == "determination":
            _record_determination(session, row.id, values, actor)
        elif child.kind in amendments.KINDS:
            amendments.write(session, row, child, actor, ctx)
        else:
            raise ValueError(f"agreement has no records of kind {child.kind!r}")
        session.flush()

    def identity(self, case_id: int) -> Any:
        """The key under which a session holds the ORM object of case `case_id`."""
        return _MAPPER.identity_key_from_primary_key((case_id,))

    def subject(self, row: AgreementRow) -> tuple[str, int | None]:
        """How the audit log names the case, and the agreement it belongs to."""
        return f"agreement:{row.id}", row.id

    def ref(self, row: AgreementRow) -> CaseRef:
        """The agreement's deadlines, timers and notices are its own (no other process)."""
        return CaseRef(row.id)

    def notice_facts(self, session: Session, row: AgreementRow) -> Mapping[str, Any]:
        """Nothing besides the agreement itself, which every notice is given."""
        return {}

    def remove_child(self, session: Session, row: AgreementRow, child: Child) -> dict[str, Any]:
        """Take the record `child` names out of the current record; returns all it held."""
        from workflow.corrections import remove_record

        return remove_record(session, row.id, child)

    def redate_child(
        self, session: Session, row: AgreementRow, kind: str, name: str, old: date, new: date
    ) -> None:
        """Move the date `name` of the case's latest record of `kind` from `old` to `new`."""
        from workflow.corrections import redate_record

        redate_record(session, row.id, kind, name, old, new)


def _since_entered(session: Session, row: AgreementRow) -> tuple[tuple[str, Any], ...]:
    """The events recorded since `row` last changed state, oldest first, from the audit log."""
    trail = session.execute(
        select(Audit.event, Audit.from_state, Audit.to_state, Audit.data)
        .where(Audit.agreement_id == row.id)
        .order_by(col(Audit.id).desc())
    )
    recent: list[tuple[str, Any]] = []
    for entry in trail:
        if entry.from_state != entry.to_state:
            break
        recent.append((entry.event, entry.data))
    return tuple(reversed(recent))


def _measured(session: Session, measurement: Measurement) -> None:
    try:
        # A savepoint: a second value for the same date is refused cleanly.
        with session.begin_nested():
            session.add(measurement)
    except IntegrityError as exc:
        raise NotAllowedInState(
            f"benchmark {measurement.benchmark_id} already has a measurement dated "
            f"{measurement.measured_on}"
        ) from exc


def _schools_of(session: Session, district_code: str) -> dict[str, bool]:
    found = _SCHOOLS.execute(session, {"code": district_code}).rows
    return {code: bool(high) for code, high in found}


_SCHOOLS = Prepared(
    core_select(tables.SCHOOL.c.code, tables.SCHOOL.c.high_school)
    .where(tables.SCHOOL.c.district_code == bindparam("code"))
    .order_by(tables.SCHOOL.c.code)
)


_OPEN_REVIEW = Prepared(insert(tables.REVIEW))
# Columns, not objects: a plan holds dozens of benchmarks and hundreds of measurements, and
# building ORM objects for them costs more than reading them.
_PLAN = (
    core_select(
        # A benchmark is named by its lineage, the same in every version of the terms.
        tables.BENCHMARK.c.lineage.label("id"),
        tables.BENCHMARK.c.school_code,
        tables.BENCHMARK.c.kind,
        tables.BENCHMARK.c.label,
        tables.BENCHMARK.c.baseline,
        tables.BENCHMARK.c.target_18,
        tables.BENCHMARK.c.target_36,
        tables.BENCHMARK.c.lower_is_better,
    )
    .where(
        tables.BENCHMARK.c.agreement_id == bindparam("agreement"),
        # The version of the terms in force on the day (workflow.amendments).
        tables.BENCHMARK.c.amendment
        == amendments.in_force_number(bindparam("agreement"), bindparam("day")),
    )
    .order_by(tables.BENCHMARK.c.lineage)
)
_EARLIER = tables.MEASUREMENT.alias("earlier")
# Each benchmark's latest measurement on or before the day, and no other: a plan may hold
# hundreds of measurements, and a determination judges one per benchmark.
_MEASURED = (
    core_select(
        tables.MEASUREMENT.c.benchmark_id,
        tables.MEASUREMENT.c.value,
        # As stored: SQLAlchemy's SQLite date parsing (a regex per row) would cost more than
        # the query (PostgreSQL's driver gives dates already).
        type_coerce(tables.MEASUREMENT.c.measured_on, String),
    )
    .join(tables.BENCHMARK, tables.BENCHMARK.c.id == tables.MEASUREMENT.c.benchmark_id)
    .where(
        tables.BENCHMARK.c.agreement_id == bindparam("agreement"),
        tables.MEASUREMENT.c.measured_on
        == core_select(func.max(_EARLIER.c.measured_on))
        .where(
            _EARLIER.c.benchmark_id == tables.MEASUREMENT.c.benchmark_id,
            _EARLIER.c.measured_on <= bindparam("day"),
        )
        .scalar_subquery(),
    )
    .order_by(tables.MEASUREMENT.c.id)
)


def _benchmarks(
    session: Session, row: AgreementRow, with_measurements: bool, day: date
) -> tuple[PlannedBenchmark, ...]:
    measured: dict[int, list[Measured]] = {}
    as_of = day
    if with_measurements:
        rows = session.execute(_MEASURED, {"agreement": row.id, "day": day}).all()
        as_stored = bool(rows) and isinstance(rows[0][2], str)
        for benchmark_id, value, on in rows:
            day = date.fromisoformat(on) if as_stored else on
            measured.setdefault(benchmark_id, []).append(Measured(value, day))
    return tuple(
        PlannedBenchmark(
            id=b.id,
            school=b.school_code,
            kind=b.kind,
            label=b.label,
            baseline=b.baseline,
            target_18=b.target_18,
            target_36=b.target_36,
            lower_is_better=bool(b.lower_is_better),
            measurements=tuple(measured.get(b.id, ())),
        )
        for b in session.execute(_PLAN, {"agreement": row.id, "day": as_of}).all()
    )


def _covered(
    session: Session, row: AgreementRow, benchmarks: tuple[PlannedBenchmark, ...]
) -> tuple[str, ...]:
    named = session.exec(
        select(AgreementSchool.school_code).where(AgreementSchool.agreement_id == row.id)
    )
    return tuple(sorted({*named, *(b.school for b in benchmarks)}))


_LATEST_REVIEW = (
    core_select(tables.REVIEW.c.id)
    .where(tables.REVIEW.c.agreement_id == bindparam("agreement"))
    .order_by(tables.REVIEW.c.id.desc())
    .limit(1)
)
_DETERMINED = (
    update(tables.REVIEW)
    .where(tables.REVIEW.c.id == bindparam("review"))
    .values(
        determined_on=bindparam("day"),
        determined_by=bindparam("by"),
        rules_version=bindparam("rules"),
    )
)
_RECORD_DETERMINATIONS = insert(tables.DETERMINATION)


def _latest_review(session: Session, agreement_id: int) -> int:
    """The id of the agreement's latest review."""
    found = session.execute(_LATEST_REVIEW, {"agreement": agreement_id}).scalar_one_or_none()
    if found is None:
        raise NotAllowedInState("no review is open")
    return int(found)


_REVIEWS = (
    core_select(
        tables.REVIEW.c.id,
        tables.REVIEW.c.kind,
        tables.REVIEW.c.opened_on,
        tables.REVIEW.c.determined_on,
    )
    .where(tables.REVIEW.c.agreement_id == bindparam("agreement"))
    .order_by(tables.REVIEW.c.id.desc())
)
_STEPS_DONE = (
    core_select(tables.REVIEW_STEP.c.step, tables.REVIEW_STEP.c.done_on)
    .where(tables.REVIEW_STEP.c.review_id == bindparam("review"))
    .order_by(tables.REVIEW_STEP.c.id)
)
_AGREED = core_select(tables.DETERMINATION.c.school_code, tables.DETERMINATION.c.agreed).where(
    tables.DETERMINATION.c.review_id == bindparam("review")
)


def _review(
    session: Session, row: AgreementRow
) -> tuple[OpenReview | None, tuple[str, ...], dict[str, str]]:
    """The latest review with its steps, the kinds held, and the statuses agreed at the latest
    determination. Read as columns, never as ORM objects: reviews are written with Core
    statements, which would leave objects a session holds out of date."""
    reviews = session.execute(_REVIEWS, {"agreement": row.id}).all()
    if not reviews:
        return None, (), {}
    latest = reviews[0]
    steps = session.execute(_STEPS_DONE, {"review": latest.id}).all()
    open_review = OpenReview(
        latest.kind,
        latest.opened_on,
        tuple(StepDone(step, on) for step, on in steps),
        latest.determined_on,
    )
    determined = next((r for r in reviews if r.determined_on is not None), None)
    statuses: dict[str, str] = {}
    if determined is not None:
        statuses = dict(session.execute(_AGREED, {"review": determined.id}).all())
    return open_review, tuple(r.kind for r in reviews), statuses


def _record_determination(
    session: Session, agreement_id: int, values: Mapping[str, Any], actor: Actor
) -> None:
    review = _latest_review(session, agreement_id)
    session.execute(
        _DETERMINED,
        {"review": review, "day": values["determined_on"], "by": actor.email,
         "rules": values["rules_version"]},
    )  # fmt: skip
    results: tuple[SchoolResult, ...] = values["results"]
    if results:  # one multi-row INSERT, however many schools
        session.execute(
            _RECORD_DETERMINATIONS,
            [
                {
                    "review_id": review,
                    "school_code": result.school,
                    "computed": result.computed,
                    "agreed": result.agreed,
                    "reason": result.reason,
                    "inputs": [item.as_record() for item in result.inputs],
                }
                for result in results
            ],
        )


def _district(session: Session, code: str) -> Any:
    district = _DISTRICT.execute(session, {"code": code}).first()
    if district is None:
        raise NotFound(f"no district {code!r} on file")
    return district


# The columns a new agreement takes unless the event sets them.
_NEW: dict[str, Any] = {
    "cohort": None, "liaison_email": None, "signed_on": None, "escalation_option": None,
    "renewed_from": None, "renewed_as": None, "version": 1,
}  # fmt: skip

def _stores() -> Mapping[str, CaseStore]:
    from workflow.funds_store import FundsStore

    return {"agreement": AgreementStore(), "funds": FundsStore()}


# By process name; a process registered with `states.registry` has its store here.
STORES: Mapping[str, CaseStore] = _stores()


_TRAIL = Prepared(
    core_select(
        tables.AUDIT.c.id,
        tables.AUDIT.c.event,
        tables.AUDIT.c.effective_on,
        tables.AUDIT.c.actor,
        tables.AUDIT.c.data,
    )
    .where(tables.AUDIT.c.agreement_id == bindparam("agreement"))
    .order_by(tables.AUDIT.c.id)
)


def trail_of(session: Session, agreement_id: int) -> tuple[TrailEntry, ...]:
    """Every audit row of the agreement, oldest first (what a date correction looks at)."""
    return tuple(
        TrailEntry(entry.id, entry.event, entry.effective_on, entry.actor, entry.data or {})
        for entry in _TRAIL.execute(session, {"agreement": agreement_id}).rows
    )
