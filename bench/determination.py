"""Determination benchmark: one review's status determination through the engine, on SQLite.

    python bench/determination.py [--quick] [--check] [--profile]

Prints one table, measured in this run, with each value next to its target (issue 8):

The `determine` event of an 18-month Review of Goal Attainment (RGA), applied by the director
through `workflow.engine.apply` in one `storage.db.transaction` (WAL, synchronous=FULL), on an
agreement covering 10 schools with 6 benchmarks each and 12 measurements per benchmark (60
benchmarks, 720 measurements) and all five steps of the review recorded. It reads every
benchmark and measurement, computes each school's status by the rule data, writes 10
determination rows (each with its inputs), the review's determined date, the audit row and the
agreement's state, closes the determination deadline and queues the notices. Next to it, the
floor: the same reads and the same writes with the plain `sqlite3` module (BEGIN IMMEDIATE; read
the agreement, the review and its steps, the covered schools, the benchmarks and the
measurements; compute the statuses in a few lines of Python; INSERT 10 determination rows,
UPDATE the review, INSERT the audit row, UPDATE the agreement, close the determination deadline
and stop its timers, INSERT as many outbox rows as the engine queued, with the engine's own
subjects and bodies; COMMIT). Target: engine >= 1/5 of the floor.

A determination happens once per review, so every timed round uses an agreement of its own: all
of them (engine's and floor's) are built first, untimed, in one database. Rounds run engine and
floor back to back, which one first alternating; the table gives the medians and the median of
the rounds' ratios (both halves of a round see the same machine).

It is a report: exit 0 whatever the numbers, unless `--check` is given, which exits 1 when the
target is missed. Everything happens in a temporary folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from lifecycle import PRAGMAS, Row, finish, floor_audit, print_table

if TYPE_CHECKING:
    from states.context import Context

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from anywhere, even without the editable install
    sys.path.insert(0, str(ROOT))

RATIO_TARGET = 1 / 5  # engine determinations/s >= 1/5 of the raw sqlite3 floor
SCHOOLS = 10
MEASUREMENTS = 12  # per benchmark, monthly, over the year before the determination
# Six benchmarks per school: the kinds the law requires and the district's local ones. A high
# school has a graduation rate benchmark in place of its third local one.
KINDS = ("on_track", "proficiency_or_growth", "attendance_rate", "local", "local", "local")
HIGH_SCHOOLS = (8, 9)  # school numbers (of 0-9) that are high schools
LOCAL_LABELS = ("Chronic absence", "Reading fluency", "Family engagement")
LOWER_IS_BETTER = "Chronic absence"
STEP_EVENTS = (
    "record_evidence",
    "record_self_assessment",
    "record_partner_assessment",
    "record_mde_assessment",
    "hold_conference",
)
EVENT = "determine"


@dataclass
class Config:
    quick: bool
    profile: bool = False

    @property
    def rounds(self) -> int:
        return 7 if self.quick else 25

    @property
    def profile_rounds(self) -> int:
        return 10


# --------------------------------------------------------------------------------------------
# The database: agreements in `rga` with their plan, measurements and every step recorded
# --------------------------------------------------------------------------------------------


class Database:
    """A migrated temp-file database, people on file, and agreements built for one determination
    each (untimed)."""

    def __init__(self, path: Path) -> None:
        from states.context import Context
        from storage.db import make_engine, transaction
        from storage.migrate import upgrade
        from workflow import registry
        from workflow.actors import Actor

        self.path = path
        self.engine = make_engine(f"sqlite:///{path}")
        upgrade(self.engine)
        self.tz = ZoneInfo("America/Detroit")
        self.Context = Context
        self.clerk = Actor("bench@pal.example", "clerk")
        self.director = Actor("director@mde.example", "director")
        self.liaison = Actor("liaison@mde.example", "liaison")
        self.rng = random.Random(8)
        self.districts = 0
        with transaction(self.engine) as session:
            for email, name, role in (
                ("director@mde.example", "Dana Director", "director"),
                ("liaison@mde.example", "Lee Liaison", "liaison"),
            ):
                registry.add_contact(
                    session, email=email, name=name, role=role, district_code=None,
                    actor=self.clerk, ctx=self.context(),
                )  # fmt: skip

    def context(self) -> Context:
        return self.Context(now=datetime.now(UTC), tz=self.tz)

    def build(self) -> int:
        """A new district with 10 schools and its agreement, in `rga` with every step recorded:
        identify (naming the schools), start_assessment, 60 add_benchmark, three signatures,
        open_rga and the five step events through the engine; the 720 measurements added as
        `Measurement` rows (the model the engine writes them with)."""
        from storage.db import transaction

        number = self.districts
        self.districts += 1
        code = f"D{number:04d}"
        with transaction(self.engine) as session:
            schools = self._district(session, code, number)
        with transaction(self.engine) as session:
            agreement_id = self._plan(session, code, schools)
        with transaction(self.engine) as session:
            self._measure(session, agreement_id)
            for event in STEP_EVENTS:
                self._apply(session, event, self.liaison, case=agreement_id)
        return agreement_id

    def _apply(self, session: Any, event: str, actor: Any, **request: Any) -> Any:
        from workflow.engine import Request, apply

        return apply(session, Request(event, actor, **request), self.context())

    def _district(self, session: Any, code: str, number: int) -> list[str]:
        from workflow import registry

        ctx = self.context()
        registry.add_district(
            session, registry.DistrictInput(code=code, name=f"District {number}"), self.clerk, ctx
        )
        for role in ("superintendent", "board_president", "isd_superintendent"):
            registry.add_contact(
                session, email=f"{role}@d{number}.example", name=f"{role} {number}", role=role,
                district_code=code, actor=self.clerk, ctx=ctx,
            )  # fmt: skip
        schools = []
        for index in range(SCHOOLS):
            school = registry.add_school(
                session, code=f"{code}S{index}", name=f"School {index} of {code}",
                district_code=code, csi=True, alternative=False, actor=self.clerk, ctx=ctx,
                high_school=index in HIGH_SCHOOLS,
            )  # fmt: skip
            schools.append(school.code)
        return schools

    def _plan(self, session: Any, code: str, schools: list[str]) -> int:
        created = self._apply(
            session, "identify", self.director, parent=code, rules_version="2017-10",
            data={"cohort": "bench", "schools": ",".join(schools)},
        )  # fmt: skip
        agreement_id: int = created.id
        self._apply(session, "start_assessment", self.liaison, case=agreement_id,
                    data={"liaison": self.liaison.email})  # fmt: skip
        for index, school in enumerate(schools):
            for kind, data in _benchmarks(index):
                self._apply(session, "add_benchmark", self.liaison, case=agreement_id,
                            data={"school": school, "kind": kind, **data})  # fmt: skip
        for party in ("board", "superintendent", "mde"):  # the last one fires `sign`
            self._apply(session, "record_signature", self.liaison, case=agreement_id,
                        data={"party": party})  # fmt: skip
        self._apply(session, "open_rga", self.director, case=agreement_id)
        return agreement_id

    def _measure(self, session: Any, agreement_id: int) -> None:
        from sqlmodel import col, select

        from storage.models import Benchmark, Measurement

        planned = session.exec(
            select(Benchmark).where(Benchmark.agreement_id == agreement_id)
            .order_by(col(Benchmark.id))
        ).all()  # fmt: skip
        today = self.context().today
        now = datetime.now(UTC)
        for benchmark in planned:
            # Schools 0, 3, 6, 9 reach every target; 1, 4, 7 move part of the way; 2, 5, 8
            # slip back: a mix of the three statuses.
            school = int(benchmark.school_code.rsplit("S", 1)[1])
            reach = (1.1, 0.6, -0.3)[school % 3] + self.rng.uniform(-0.05, 0.05)
            end = benchmark.baseline + reach * (benchmark.target_18 - benchmark.baseline)
            for month in range(MEASUREMENTS):
                share = (month + 1) / MEASUREMENTS
                value = benchmark.baseline + share * (end - benchmark.baseline)
                session.add(
                    Measurement(
                        benchmark_id=benchmark.id,
                        value=round(value + self.rng.uniform(-0.2, 0.2) * (share < 1), 2),
                        measured_on=today - timedelta(days=30 * (MEASUREMENTS - 1 - month)),
                        evidence=f"state data, {month + 1} of {MEASUREMENTS}",
                        recorded_by=self.liaison.email,
                        recorded_at=now,
                    )
                )

    def determine(self, agreement_id: int) -> float:
        """`engine.apply` of `determine` as the director, in its own transaction; seconds."""
        from storage.db import transaction
        from workflow.engine import Request, apply

        request = Request(EVENT, self.director, case=agreement_id)
        began = time.perf_counter()
        with transaction(self.engine) as session:
            apply(session, request, self.context())
        return time.perf_counter() - began

    def dispose(self) -> None:
        self.engine.dispose()


def _benchmarks(school: int) -> list[tuple[str, dict[str, str]]]:
    kinds = list(KINDS)
    if school in HIGH_SCHOOLS:
        kinds[-1] = "graduation_rate"
    planned, locals_ = [], iter(LOCAL_LABELS)
    for kind in kinds:
        data = {"baseline": "40", "target_18": "50", "target_36": "60"}
        if kind == "local":
            label = next(locals_)
            data["label"] = label
            if label == LOWER_IS_BETTER:
                data = {"label": label, "baseline": "30", "target_18": "24", "target_36": "18",
                        "direction": "lower"}  # fmt: skip
        planned.append((kind, data))
    return planned


# --------------------------------------------------------------------------------------------
# The floor: the same reads and writes with plain sqlite3
# --------------------------------------------------------------------------------------------


class Floor:
    """One determination with the plain sqlite3 module, on the same database file."""

    def __init__(self, path: Path, mail: list[tuple[str, str, str]]) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        for pragma in PRAGMAS:
            self.conn.execute(f"PRAGMA {pragma}")
        # The (subject, text, html) of the notices the engine queued for one determination:
        # the floor writes as many outbox rows, stored as the engine stores them (compressed
        # here, before the clock starts): the first body as the notice's reference in
        # `mail_body`, each row's body compressed against it.
        from notifications import bodies

        packed = [bodies.pack(text, html) for _, text, html in mail]
        self.reference = bodies.reference(packed[0])
        self.mail = [
            (subject, bodies.delta(packed[0], own))
            for (subject, _, _), own in zip(mail, packed, strict=True)
        ]
        self.count = 0

    def determine(self, agreement_id: int) -> float:
        began = time.perf_counter()
        conn = self.conn
        today = datetime.now(ZoneInfo("America/Detroit")).date().isoformat()
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
        conn.execute("BEGIN IMMEDIATE")
        version, rules_version = conn.execute(
            "SELECT version, rules_version FROM agreement WHERE id = ?", (agreement_id,)
        ).fetchone()
        review_id, kind = conn.execute(
            "SELECT id, kind FROM review WHERE agreement_id = ? ORDER BY id DESC LIMIT 1",
            (agreement_id,),
        ).fetchone()
        steps = conn.execute(
            "SELECT step, done_on FROM review_step WHERE review_id = ? ORDER BY id", (review_id,)
        ).fetchall()
        assert len(steps) == len(STEP_EVENTS)
        schools = [code for (code,) in conn.execute(
            "SELECT school_code FROM agreement_school WHERE agreement_id = ?", (agreement_id,)
        )]  # fmt: skip
        benchmarks = conn.execute(
            "SELECT id, school_code, kind, label, baseline, target_18, lower_is_better"
            " FROM benchmark WHERE agreement_id = ? ORDER BY id",
            (agreement_id,),
        ).fetchall()
        latest: dict[int, tuple[float, str]] = {}
        for benchmark_id, value, on in conn.execute(
            "SELECT m.benchmark_id, m.value, m.measured_on FROM measurement m"
            " JOIN benchmark b ON b.id = m.benchmark_id WHERE b.agreement_id = ? ORDER BY m.id",
            (agreement_id,),
        ):
            if on <= today and (benchmark_id not in latest or on >= latest[benchmark_id][1]):
                latest[benchmark_id] = (value, on)
        results = _floor_statuses(schools, benchmarks, latest)
        conn.executemany(
            "INSERT INTO determination (review_id, school_code, computed, agreed, reason, inputs)"
            " VALUES (?, ?, ?, ?, NULL, ?)",
            [(review_id, school, status, status, json.dumps(inputs))
             for school, (status, inputs) in results.items()],
        )  # fmt: skip
        conn.execute(
            "UPDATE review SET determined_on = ?, determined_by = ?, rules_version = ?"
            " WHERE id = ?",
            (today, "director@mde.example", rules_version, review_id),
        )
        statuses = {s: {"computed": st, "agreed": st} for s, (st, _) in results.items()}
        floor_audit(
            conn,
            (agreement_id, EVENT, kind, "implementing", "director@mde.example", today, now, None,
             json.dumps({"override": None, "reason": None, "statuses": statuses,
                         "rules": rules_version})),
        )  # fmt: skip
        updated = conn.execute(
            "UPDATE agreement SET state = ?, last_event_on = ?, updated_at = ?,"
            " version = version + 1 WHERE id = ? AND version = ?",
            ("implementing", today, now, agreement_id, version),
        ).rowcount
        assert updated == 1
        conn.execute(
            "UPDATE deadline SET status = 'met', closed_on = ? WHERE agreement_id = ?"
            " AND status = 'open' AND kind = 'determination_due'",
            (today, agreement_id),
        )
        conn.execute(
            "UPDATE timer SET status = 'cancelled', outcome = ? WHERE agreement_id = ?"
            " AND status = 'pending' AND deadline_id IN (SELECT id FROM deadline"
            " WHERE agreement_id = ? AND status != 'open')",
            ("deadline closed by determine", agreement_id, agreement_id),
        )
        self.count += 1
        # A digest of its own per determination, computed as the engine computes one.
        ref = hashlib.sha256(b"%d" % self.count + self.reference).digest()[:16]
        conn.execute(
            "INSERT INTO mail_body (digest, content) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (ref, self.reference),
        )
        conn.executemany(
            "INSERT INTO outbox (agreement_id, notice, occurrence, recipient, idempotency_key,"
            " message_id, subject, body_ref, body, status, attempts, next_attempt_at,"
            " last_error, created_at, sent_at) VALUES (?, 'review_determined', ?, ?, ?, ?, ?,"
            " ?, ?, 'pending', 0, ?, NULL, ?, NULL)",
            [(agreement_id, f"floor.{self.count}", f"r{n}@floor.example",
              f"floor.{self.count}.{n}", f"<floor.{self.count}.{n}@pal>", subject, ref, body,
              now, now) for n, (subject, body) in enumerate(self.mail)],
        )  # fmt: skip
        conn.execute("COMMIT")
        return time.perf_counter() - began

    def close(self) -> None:
        self.conn.close()


def engine_mail(path: Path, agreement_id: int) -> list[tuple[str, str, str]]:
    """The outbox rows the engine's determination of `agreement_id` queued."""
    from notifications import bodies
    from storage.db import make_engine

    conn = sqlite3.connect(path)
    try:
        ids = [row_id for (row_id,) in conn.execute(
            "SELECT id FROM outbox WHERE agreement_id = ? AND notice = 'review_determined'"
            " ORDER BY id",
            (agreement_id,),
        )]  # fmt: skip
    finally:
        conn.close()
    assert ids, "the engine's determination queued no notice"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return [tuple(message) for message in bodies.read(connection, ids).values()]
    finally:
        engine.dispose()


def _floor_statuses(
    schools: list[str], benchmarks: list[tuple[Any, ...]], latest: dict[int, tuple[float, str]]
) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """Each school's status by the default rule, with its inputs as the engine records them."""
    inputs: dict[str, list[dict[str, Any]]] = {school: [] for school in schools}
    for benchmark_id, school, kind, label, baseline, target, lower in benchmarks:
        value, on = latest.get(benchmark_id, (None, None))
        met = value is not None and (value <= target if lower else value >= target)
        moved = value is not None and (value < baseline if lower else value > baseline)
        inputs[school].append({
            "id": benchmark_id, "kind": kind, "label": label, "baseline": baseline,
            "target": target, "direction": "lower" if lower else "higher", "value": value,
            "measured_on": on, "met": met, "progress": moved,
        })  # fmt: skip
    results = {}
    for school, items in inputs.items():
        met = sum(1 for item in items if item["met"])
        not_met = [item for item in items if not item["met"]]
        if items and met == len(items):
            status = "on_track"
        elif items and (
            3 * met >= len(items) or 2 * sum(1 for i in not_met if i["progress"]) > len(not_met)
        ):
            status = "off_track_progress"
        else:
            status = "off_track_limited"
        results[school] = (status, items)
    return results


# --------------------------------------------------------------------------------------------


def check_written(db: Database, engine_ids: list[int], floor_ids: list[int]) -> Counter[str]:
    """Both sides wrote 10 determination rows per agreement and moved it on; the statuses the
    engine computed, counted (untimed, after the rounds)."""
    conn = sqlite3.connect(db.path)
    try:
        for ids in (engine_ids, floor_ids):
            marks = ",".join("?" * len(ids))
            rows = conn.execute(
                "SELECT count(*) FROM determination d JOIN review r ON r.id = d.review_id"
                f" WHERE r.agreement_id IN ({marks})",
                ids,
            ).fetchone()[0]
            states = {s for (s,) in conn.execute(
                f"SELECT state FROM agreement WHERE id IN ({marks})", ids)}  # fmt: skip
            if rows != SCHOOLS * len(ids) or states != {"implementing"}:
                raise RuntimeError(f"expected {SCHOOLS * len(ids)} rows, found {rows}, {states}")
        marks = ",".join("?" * len(engine_ids))
        found = conn.execute(
            "SELECT d.computed FROM determination d JOIN review r ON r.id = d.review_id"
            f" WHERE r.agreement_id IN ({marks})",
            engine_ids,
        ).fetchall()
    finally:
        conn.close()
    return Counter(status for (status,) in found)


def bench_determination(cfg: Config, tmp: Path) -> list[Row]:
    db = Database(tmp / "pal.db")
    began = time.perf_counter()
    # Warm-up (lazy imports, rule loading, templates, statement caches) and the timed rounds.
    engine_ids = [db.build() for _ in range(cfg.rounds + 1)]
    floor_ids = [db.build() for _ in range(cfg.rounds + 1)]
    profile_ids = [db.build() for _ in range(cfg.profile_rounds)] if cfg.profile else []
    build_s = time.perf_counter() - began
    db.determine(engine_ids[0])
    floor = Floor(db.path, engine_mail(db.path, engine_ids[0]))
    floor.determine(floor_ids[0])
    engine_s, floor_s = [], []
    for index in range(1, cfg.rounds + 1):
        if index % 2:
            engine_s.append(db.determine(engine_ids[index]))
            floor_s.append(floor.determine(floor_ids[index]))
        else:
            floor_s.append(floor.determine(floor_ids[index]))
            engine_s.append(db.determine(engine_ids[index]))
    floor.close()
    computed = check_written(db, engine_ids, floor_ids)
    engine_ms, floor_ms = 1000 * statistics.median(engine_s), 1000 * statistics.median(floor_s)
    ratio = statistics.median(f / e for e, f in zip(engine_s, floor_s, strict=True))
    n, benchmarks = cfg.rounds, SCHOOLS * len(KINDS)
    mix = ", ".join(f"{count} {status}" for status, count in sorted(computed.items()))
    rows = [
        Row(f"engine determine, {SCHOOLS} x {len(KINDS)} x {MEASUREMENTS} (median of {n})",
            f"{engine_ms:.2f} ms"),
        Row(f"raw sqlite3 floor, same reads and writes (median of {n})", f"{floor_ms:.2f} ms"),
        Row("  engine / floor (median of the rounds' ratios)", f"{ratio:.2f}",
            f">= {RATIO_TARGET:.2f}", ratio >= RATIO_TARGET),
        Row("  engine determinations/s", f"{1000 / engine_ms:,.0f}/s"),
        Row("  floor determinations/s", f"{1000 / floor_ms:,.0f}/s"),
        Row(f"  read per determination: {benchmarks} benchmarks,"
            f" {benchmarks * MEASUREMENTS} measurements", "info"),
        Row(f"  statuses computed: {mix}", "info"),
        Row(f"build: {2 * (n + 1) + len(profile_ids)} agreements, untimed", f"{build_s:.1f} s"),
    ]  # fmt: skip
    if cfg.profile:
        profile_engine(db, profile_ids)
    db.dispose()
    return rows


def profile_engine(db: Database, ids: list[int]) -> None:
    """--profile: cProfile of more engine determinations (untimed, after the rounds)."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for agreement_id in ids:
        db.determine(agreement_id)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(20)
    print(f"cProfile of {len(ids)} more engine determinations:")
    print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a few seconds)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    parser.add_argument(
        "--profile", action="store_true", help="also print a cProfile of the engine determination"
    )
    args = parser.parse_args(argv)
    cfg = Config(quick=args.quick, profile=args.profile)
    began = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="pal-bench-"))
    try:
        rows = bench_determination(cfg, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"pal determination bench{' (quick)' if cfg.quick else ''}: python"
        f" {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, temp dir"
        f" {tempfile.gettempdir()}"
    )
    print_table(rows)
    return finish(rows, began, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
