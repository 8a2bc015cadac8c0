"""Lifecycle benchmark: engine throughput on SQLite, `pal agreement show`, `pal --help`.

    python bench/lifecycle.py [--quick] [--check] [--profile]

Prints one table, measured in this run, with each value next to its target (issue 2):

1. Durable transitions per second through the engine on SQLite (WAL, synchronous=FULL, one
   `storage.db.transaction` per event) next to the raw `sqlite3` floor for the same writes, with
   the same pragmas, on a database with the same schema. Target: engine >= 1/5 of floor. The
   engine side is `open_rga`: it UPDATEs the agreement, INSERTs the review and the audit row,
   closes `rga_due` and stops its timers, opens three step deadlines with nine timers and queues
   `review_opened` for four people; the floor does those writes in one BEGIN IMMEDIATE ...
   COMMIT. Agreements are brought to `signed` outside the timing; then each gets `engine.apply`
   of `open_rga` in its own transaction, timed. The floor runs before and after that loop
   (drift cancels out). The whole lifecycle (7 steps) is reported too, per step, with no target.
2. Wall time of `pal agreement show ID` next to `python -c "import sqlmodel"` (runs in pairs;
   the median of the pairs' ratios). Target: ratio <= 1.3.
3. Wall time of `pal --help` (median of runs). Target: < 0.25 s.

It is a report: exit 0 whatever the numbers, unless `--check` is given, which exits 1 when a
target is missed. Everything happens in a temporary folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from states.context import Context

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from anywhere, even without the editable install
    sys.path.insert(0, str(ROOT))

PYTHON = sys.executable
PAL = str(Path(sys.executable).with_name("pal"))

ENGINE_RATIO_TARGET = 1 / 5  # engine open_rga transitions/s >= 1/5 of the raw sqlite3 floor
SHOW_RATIO_TARGET = 1.3  # `pal agreement show` <= 1.3x `python -c "import sqlmodel"`
HELP_TARGET_S = 0.25  # `pal --help` < 0.25 s

# The lifecycle each benchmarked agreement goes through, one transaction per step.
STEPS = (
    "identify",
    "start_assessment",
    "record_signature:board",
    "record_signature:superintendent",
    "record_signature:mde",  # the last required signature fires `sign` (opens 2 deadlines)
    "open_rga",
    "escalate",
)
# The step timed against the floor, which does the same writes (see FloorBench.run).
HEADLINE_STEP = "open_rga"
PREPARED_STEP = "record_signature:mde"  # agreements are brought this far outside the timing
PRAGMAS = ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000")


@dataclass
class Row:
    name: str
    measured: str
    target: str = ""
    ok: bool | None = None  # None: informational line


@dataclass
class Config:
    quick: bool
    profile: bool = False
    profile_agreements: int = 100

    @property
    def prepare_budget_s(self) -> float:  # cap on bringing agreements to `signed` (untimed)
        return 3.0 if self.quick else 15.0

    @property
    def floor_budget_s(self) -> float:  # time spent on the raw floor (split before/after)
        return 1.0 if self.quick else 4.0

    @property
    def max_agreements(self) -> int:
        return 100 if self.quick else 500

    @property
    def show_runs(self) -> int:
        return 5 if self.quick else 15

    @property
    def help_runs(self) -> int:
        return 3 if self.quick else 9


# --------------------------------------------------------------------------------------------
# 1. Engine vs raw sqlite3
# --------------------------------------------------------------------------------------------


class EngineBench:
    """A migrated temp-file database with people on file and agreements driven by the engine."""

    def __init__(self, path: Path, districts: int) -> None:
        from states.context import Context
        from storage.db import make_engine, transaction
        from storage.migrate import upgrade
        from workflow import registry
        from workflow.actors import Actor

        self.url = f"sqlite:///{path}"
        self.engine = make_engine(self.url)
        upgrade(self.engine)
        self.tz = ZoneInfo("America/Detroit")
        self.Context = Context
        clerk = Actor("bench@pal.example", "clerk")
        ctx = self.context()
        with transaction(self.engine) as session:
            for email, name, role in (
                ("director@mde.example", "Dana Director", "director"),
                ("liaison@mde.example", "Lee Liaison", "liaison"),
                ("state.super@mde.example", "Sam State", "state_superintendent"),
            ):
                registry.add_contact(
                    session, email=email, name=name, role=role, district_code=None,
                    actor=clerk, ctx=ctx,
                )  # fmt: skip
            for i in range(districts):
                code = f"D{i:04d}"
                registry.add_district(
                    session, registry.DistrictInput(code=code, name=f"District {i}"), clerk, ctx
                )
                registry.add_contact(
                    session, email=f"super{i}@d{i}.example", name=f"Superintendent {i}",
                    role="superintendent", district_code=code, actor=clerk, ctx=ctx,
                )  # fmt: skip
                registry.add_contact(
                    session, email=f"board{i}@d{i}.example", name=f"Board President {i}",
                    role="board_president", district_code=code, actor=clerk, ctx=ctx,
                )  # fmt: skip
                registry.add_contact(
                    session, email=f"isd{i}@d{i}.example", name=f"ISD Superintendent {i}",
                    role="isd_superintendent", district_code=code, actor=clerk, ctx=ctx,
                )  # fmt: skip
        self.director = Actor("director@mde.example", "director")
        self.liaison = Actor("liaison@mde.example", "liaison")
        self.state_super = Actor("state.super@mde.example", "state_superintendent")
        self.next_district = 0
        self.step_times: dict[str, list[float]] = {step: [] for step in STEPS}

    def context(self) -> Context:
        return self.Context(now=datetime.now(UTC), tz=self.tz)

    def new_agreement(self) -> int:
        """`identify` in its own transaction (timed into step_times); returns the agreement id."""
        from storage.db import transaction
        from workflow.engine import Request, apply

        code = f"D{self.next_district:04d}"
        self.next_district += 1
        began = time.perf_counter()
        with transaction(self.engine) as session:
            request = Request("identify", self.director, parent=code, rules_version="2017-10",
                              data={"cohort": "bench"})  # fmt: skip
            created = apply(session, request, self.context())
            agreement_id = created.id
        self.step_times[STEPS[0]].append(time.perf_counter() - began)
        assert agreement_id is not None
        return agreement_id

    def run_step(self, agreement_id: int, step: str) -> float:
        """One step of STEPS[1:] in its own transaction; returns (and records) its wall time."""
        from storage.db import transaction
        from workflow.engine import Request, apply

        event, _, party = step.partition(":")
        actor, data = {
            "start_assessment": (self.liaison, {"liaison": "liaison@mde.example"}),
            "record_signature": (self.liaison, {"party": party}),
            "open_rga": (self.director, {}),
            "escalate": (self.state_super, {"option": "reconstitution"}),
        }[event]
        note = "benchmarks missed" if event == "escalate" else None  # escalate needs a reason
        began = time.perf_counter()
        with transaction(self.engine) as session:
            request = Request(event, actor, case=agreement_id, data=data, note=note)
            apply(session, request, self.context())
        elapsed = time.perf_counter() - began
        self.step_times[step].append(elapsed)
        return elapsed

    def run_agreement(self, stop_after: str = STEPS[-1]) -> int:
        """Drive a new agreement through STEPS up to and including `stop_after`."""
        agreement_id = self.new_agreement()
        for step in STEPS[1 : STEPS.index(stop_after) + 1]:
            self.run_step(agreement_id, step)
        return agreement_id

    def dispose(self) -> None:
        self.engine.dispose()


class FloorBench:
    """The same writes with the plain sqlite3 module on a database with pal's schema."""

    def __init__(self, path: Path, rows: int) -> None:
        from storage.db import make_engine
        from storage.migrate import upgrade

        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        engine.dispose()
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        for pragma in PRAGMAS:
            self.conn.execute(f"PRAGMA {pragma}")
        today = datetime.now(UTC).date().isoformat()
        now = _utc_naive()
        self.conn.execute("BEGIN IMMEDIATE")
        # One district per agreement: a district has at most one active agreement.
        self.conn.executemany(
            "INSERT INTO district (code, name, isd, psa, authorizer)"
            " VALUES (?, 'Floor', NULL, 0, NULL)",
            [(f"F{i + 1}",) for i in range(rows)],
        )
        self.conn.executemany(
            "INSERT INTO agreement (id, district_code, cohort, state, rules_version, consequences,"
            " identified_on, last_event_on, version, updated_at)"
            " VALUES (?, ?, 'bench', 'identified', '2017-10', 'reconstitution', ?, ?, 1, ?)",
            [(i + 1, f"F{i + 1}", today, today, now) for i in range(rows)],
        )
        self.conn.execute("COMMIT")
        self.rows = rows
        self.count = 0

    def run(self, transactions: int) -> None:
        """`open_rga`'s writes, each transaction: UPDATE the agreement, INSERT the review, close
        the `rga_due` deadline and cancel its pending timers, INSERT the audit row, the three
        step deadlines with their nine timers and one `review_opened` outbox row per recipient
        (four in the engine's database: superintendent, board president, ISD superintendent,
        liaison), with its bodies stored as the engine stores them: the notice's reference in
        `mail_body` (keyed by a digest computed here, as the engine does), each row's body
        compressed against it (see `floor_bodies`)."""
        conn = self.conn
        today = datetime.now(UTC).date()
        iso = today.isoformat()
        reference, deltas = floor_bodies(4)
        for _ in range(transactions):
            agreement_id = self.count % self.rows + 1
            self.count += 1
            now = _utc_naive()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "UPDATE agreement SET state = ?, last_event_on = ?, updated_at = ?,"
                " version = version + 1 WHERE id = ? AND version = version",
                ("rga", iso, now, agreement_id),
            )
            conn.execute(
                "INSERT INTO review (agreement_id, kind, opened_on) VALUES (?, ?, ?)",
                (agreement_id, f"rga{self.count}", iso),
            )
            conn.execute(
                "UPDATE deadline SET status = 'met', closed_on = ? WHERE agreement_id = ?"
                " AND status = 'open' AND kind = 'rga_due'",
                (iso, agreement_id),
            )
            conn.execute(
                "UPDATE timer SET status = 'cancelled', outcome = ? WHERE agreement_id = ?"
                " AND status = 'pending' AND deadline_id IN (SELECT id FROM deadline"
                " WHERE agreement_id = ? AND status != 'open')",
                ("deadline closed by open_rga", agreement_id, agreement_id),
            )
            floor_audit(conn, (agreement_id, "open_rga", "signed", "rga", "director@mde.example",
                               iso, now, None, "{}"))  # fmt: skip
            for days in (30, 60, 90):
                due = today + timedelta(days=days)
                due_at = datetime.combine(due + timedelta(days=1), datetime.min.time())
                cursor = conn.execute(
                    "INSERT INTO deadline (agreement_id, kind, due_on, due_at, status, opened_on,"
                    " closed_on) VALUES (?, ?, ?, ?, 'open', ?, NULL)",
                    (agreement_id, f"step{days}", due.isoformat(), due_at.isoformat(" "), iso),
                )
                conn.executemany(
                    "INSERT INTO timer (agreement_id, deadline_id, ladder, offset_days, notice,"
                    " action, fire_at, status) VALUES (?, ?, ?, ?, ?, NULL, ?, 'pending')",
                    [(agreement_id, cursor.lastrowid, f"step{days}", offset, "reminder",
                      (due_at + timedelta(days=offset)).isoformat(" ")) for offset in (-7, 1, 8)],
                )  # fmt: skip
            ref = hashlib.sha256(b"%d" % self.count + reference).digest()[:16]
            conn.execute(
                "INSERT INTO mail_body (digest, content) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (ref, reference),
            )
            conn.executemany(
                "INSERT INTO outbox (agreement_id, notice, occurrence, recipient, idempotency_key,"
                " message_id, subject, body_ref, body, status, attempts, next_attempt_at,"
                " last_error, created_at, sent_at) VALUES (?, 'review_opened', ?, ?, ?, ?, ?, ?,"
                " ?, 'pending', 0, ?, NULL, ?, NULL)",
                [(agreement_id, f"open_rga.v{self.count}", f"r{n}@d.example",
                  f"k{self.count}.{n}", f"<m{self.count}.{n}@pal>", "Review opened", ref,
                  delta, now, now) for n, delta in enumerate(deltas)],
            )  # fmt: skip
            conn.execute("COMMIT")

    def timed(self, budget_s: float, batch: int = 25) -> tuple[int, float]:
        """Run batches until `budget_s` has passed; returns (transactions, seconds)."""
        done = 0
        start = time.perf_counter()
        while True:
            self.run(batch)
            done += batch
            elapsed = time.perf_counter() - start
            if elapsed >= budget_s:
                return done, elapsed

    def close(self) -> None:
        self.conn.close()


def floor_bodies(recipients: int) -> tuple[bytes, list[bytes]]:
    """A notice's stored bodies as the engine stores them (notifications.bodies): a reference
    and a delta per recipient, from bodies about as long as the engine's (2,800 bytes of text
    and HTML, the recipients' differing in their greeting)."""
    from notifications import bodies

    # Words drawn at random from a small vocabulary: text that compresses about as well as a
    # rendered notice (to about a quarter).
    draw = random.Random(7)
    vocabulary = [
        "".join(draw.choices("etaoinshrdlucmfwyp", k=draw.randint(2, 9))) for _ in range(60)
    ]
    words = " ".join(draw.choices(vocabulary, k=200))
    packed = [
        bodies.pack(f"Dear Reader {n},\n{words}\n", f"<p>Dear Reader {n},</p><p>{words}</p>")
        for n in range(recipients)
    ]
    return bodies.reference(packed[0]), [bodies.delta(packed[0], own) for own in packed]


def floor_audit(conn: sqlite3.Connection, row: tuple[object, ...]) -> None:
    """An agreement's audit row (agreement_id, event, from_state, to_state, actor, effective_on,
    recorded_at, note, data as JSON text) chained as pal chains it (`workflow.audit`): its
    chain's head read, its hash computed over its content (compact JSON with sorted keys,
    SHA-256), the row written and the head moved on (one upsert)."""
    agreement_id, event, source, dest, actor, on, at, note, data = row
    subject = f"agreement:{agreement_id}"
    head = conn.execute(
        "SELECT length, head FROM audit_chain WHERE subject = ?", (subject,)
    ).fetchone()
    seq, prev = (head[0] + 1, head[1]) if head is not None else (1, None)
    content = {
        "subject": subject, "agreement_id": agreement_id, "event": event, "from_state": source,
        "to_state": dest, "actor": actor, "effective_on": str(on), "recorded_at": str(at),
        "note": note, "data": json.loads(str(data)), "seq": seq, "prev_hash": prev,
    }  # fmt: skip
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(text.encode("ascii")).hexdigest()
    conn.execute(
        "INSERT INTO audit (agreement_id, subject, event, from_state, to_state, actor,"
        " effective_on, recorded_at, note, data, seq, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (agreement_id, subject, event, source, dest, actor, on, at, note, data, seq, prev, digest),
    )
    conn.execute(
        "INSERT INTO audit_chain (subject, length, head) VALUES (?, ?, ?) ON CONFLICT (subject)"
        " DO UPDATE SET length = excluded.length, head = excluded.head",
        (subject, seq, digest),
    )


def _utc_naive() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(" ")


def prepare_signed(bench: EngineBench, count: int, budget_s: float) -> list[int]:
    """Bring up to `count` new agreements to `signed` (5 transactions each) within `budget_s`."""
    ids: list[int] = []
    start = time.perf_counter()
    while len(ids) < count:
        ids.append(bench.run_agreement(stop_after=PREPARED_STEP))
        if time.perf_counter() - start >= budget_s:
            break
    return ids


def time_open_rga(bench: EngineBench, ids: list[int]) -> float:
    """`engine.apply` of `open_rga` on each agreement, one transaction each; seconds."""
    start = time.perf_counter()
    for agreement_id in ids:
        bench.run_step(agreement_id, HEADLINE_STEP)
    return time.perf_counter() - start


def bench_throughput(cfg: Config, tmp: Path) -> tuple[list[Row], EngineBench, int]:
    floor = FloorBench(tmp / "floor.db", rows=100)
    extra = cfg.profile_agreements if cfg.profile else 0
    bench = EngineBench(tmp / "engine.db", districts=cfg.max_agreements + 2 + extra)
    # Warm-up outside the timing (lazy imports, rule loading, statement caches), and the
    # agreement that `pal agreement show` will display: signed, in rga, with open deadlines.
    bench.run_agreement()
    show_id = bench.run_agreement(stop_after="open_rga")
    floor.run(20)
    for times in bench.step_times.values():
        times.clear()

    # Untimed for the headline (but each step's time is kept for the lifecycle line).
    ids = prepare_signed(bench, cfg.max_agreements, cfg.prepare_budget_s)
    floor_a = floor.timed(cfg.floor_budget_s / 2)
    engine_s = time_open_rga(bench, ids)  # the headline
    floor_b = floor.timed(cfg.floor_budget_s / 2)  # before and after: cancels out drift
    floor.close()
    for agreement_id in ids:  # the last step, for the lifecycle line only
        bench.run_step(agreement_id, "escalate")

    floor_n, floor_s = floor_a[0] + floor_b[0], floor_a[1] + floor_b[1]
    floor_rate = floor_n / floor_s
    engine_rate = len(ids) / engine_s
    ratio = engine_rate / floor_rate
    lifecycle_tx = sum(len(t) for t in bench.step_times.values())
    lifecycle_s = sum(sum(t) for t in bench.step_times.values())
    rows = [
        Row(f"engine open_rga tx/s ({len(ids)} tx, agreements signed untimed)",
            f"{engine_rate:,.0f}/s"),
        Row(f"raw sqlite3 floor tx/s ({floor_n} tx, before+after)", f"{floor_rate:,.0f}/s"),
        Row("  engine / floor", f"{ratio:.2f}", f">= {ENGINE_RATIO_TARGET:.2f}",
            ratio >= ENGINE_RATIO_TARGET),
        Row("  engine ms per open_rga", f"{1000 / engine_rate:.2f} ms"),
        Row("  floor ms per transaction", f"{1000 / floor_rate:.2f} ms"),
        Row(f"full lifecycle mix tx/s ({len(ids)} agreements x {len(STEPS)} tx, info)",
            f"{lifecycle_tx / lifecycle_s:,.0f}/s"),
    ]  # fmt: skip
    for step, times in bench.step_times.items():
        if times:
            rows.append(Row(f"  ms per {step} (mean of {len(times)})",
                            f"{1000 * statistics.mean(times):.2f} ms"))  # fmt: skip
    if cfg.profile:  # after the rows: its transactions do not count in them
        profile_engine(bench, cfg.profile_agreements)
    return rows, bench, show_id


def profile_engine(bench: EngineBench, agreements: int) -> None:
    """--profile: cProfile of `open_rga` on agreements signed for it (untimed, after the table)."""
    import cProfile
    import io
    import pstats

    ids = [bench.run_agreement(stop_after=PREPARED_STEP) for _ in range(agreements)]
    profiler = cProfile.Profile()
    profiler.enable()
    for agreement_id in ids:
        bench.run_step(agreement_id, HEADLINE_STEP)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(15)
    print(f"cProfile of {agreements} more `open_rga` transactions:")
    print(out.getvalue())


# --------------------------------------------------------------------------------------------
# 2 and 3. Subprocess wall times
# --------------------------------------------------------------------------------------------


def _env(db_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAL_")}
    env.pop("PYTHONPATH", None)
    if db_url is not None:
        env["PAL_DATABASE_URL"] = db_url
    return env


def _wall(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(
            f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return elapsed


def bench_show(cfg: Config, tmp: Path, db_url: str, agreement_id: int) -> list[Row]:
    show = [PAL, "agreement", "show", str(agreement_id)]
    baseline = [PYTHON, "-c", "import sqlmodel; print('ok')"]
    env = _env(db_url)
    _wall(show, env, tmp)  # warm-up: bytecode caches, page cache
    _wall(baseline, env, tmp)
    show_times, base_times = [], []
    for run in range(cfg.show_runs):  # pairs, back to back, the order alternating
        if run % 2:
            show_times.append(_wall(show, env, tmp))
            base_times.append(_wall(baseline, env, tmp))
        else:
            base_times.append(_wall(baseline, env, tmp))
            show_times.append(_wall(show, env, tmp))
    show_s, base_s = statistics.median(show_times), statistics.median(base_times)
    # The ratio within each pair (both saw the same machine), then the median over the pairs:
    # steadier on a noisy VM than a ratio of medians.
    ratio = statistics.median(s / b for s, b in zip(show_times, base_times, strict=True))
    n = cfg.show_runs
    return [
        Row(f"pal agreement show {agreement_id} (median of {n})", f"{show_s:.3f} s"),
        Row(f'python -c "import sqlmodel" (median of {n})', f"{base_s:.3f} s"),
        Row("  show / import sqlmodel (median of the pairs' ratios)", f"{ratio:.2f}",
            f"<= {SHOW_RATIO_TARGET:.2f}",
            ratio <= SHOW_RATIO_TARGET),
    ]  # fmt: skip


def bench_help(cfg: Config, tmp: Path) -> list[Row]:
    argv = [PAL, "--help"]
    env = _env()
    _wall(argv, env, tmp)  # warm-up
    times = [_wall(argv, env, tmp) for _ in range(cfg.help_runs)]
    median = statistics.median(times)
    return [
        Row(f"pal --help (median of {cfg.help_runs})", f"{median:.3f} s",
            f"< {HELP_TARGET_S:.2f} s", median < HELP_TARGET_S),
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------


def print_table(rows: list[Row]) -> None:
    name_w = max(len(r.name) for r in rows)
    value_w = max(len(r.measured) for r in rows)
    target_w = max(len("target"), *(len(r.target) for r in rows))
    print(f"{'measure':<{name_w}}  {'measured':>{value_w}}  {'target':<{target_w}}  result")
    print("-" * (name_w + value_w + target_w + 12))
    for r in rows:
        result = "" if r.ok is None else ("PASS" if r.ok else "FAIL")
        print(f"{r.name:<{name_w}}  {r.measured:>{value_w}}  {r.target:<{target_w}}  {result}")


def finish(rows: list[Row], began: float, *, check: bool) -> int:
    """Print the run's total time and whether every target was met; the exit code: 1 when
    `--check` was given and a target was missed, else 0 (a report)."""
    missed = [r.name.strip() for r in rows if r.ok is False]
    print(f"total {time.perf_counter() - began:.1f} s; "
          + (f"{len(missed)} target(s) missed" if missed else "all targets met"))  # fmt: skip
    return 1 if (missed and check) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (a few seconds)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print per-step engine times and a cProfile of the engine",
    )
    args = parser.parse_args(argv)
    cfg = Config(quick=args.quick, profile=args.profile)

    if not Path(PAL).exists():
        print(f"error: no pal script next to {PYTHON} (install the project in this venv)",
              file=sys.stderr)  # fmt: skip
        return 2

    began = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="pal-bench-"))
    try:
        rows, bench, show_id = bench_throughput(cfg, tmp)
        db_url = bench.url
        bench.dispose()
        rows += bench_show(cfg, tmp, db_url, show_id)
        rows += bench_help(cfg, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"pal lifecycle bench{' (quick)' if cfg.quick else ''}: python {sys.version.split()[0]},"
        f" sqlite {sqlite3.sqlite_version}, temp dir {tempfile.gettempdir()}"
    )
    print_table(rows)
    return finish(rows, began, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
