"""Service benchmark: the sweep, the delivery pass and `pal serve` on SQLite (issue 3).

    python bench/service.py [--quick] [--check] [--profile]

Prints one table, measured in this run, with each value next to its target:

1. Sweep time with nothing due, at 1,000 and at 100,000 signed agreements (each with the rows the
   engine gives a signed agreement: the met plan deadline and its cancelled ladder, 2 open
   deadlines, 5 pending timers). The databases are filled with raw SQL for speed. Median of runs
   of `workflow.sweep.sweep(engine, Context(now))`, `now` before every `fire_at`, the two sizes
   interleaved. Target: the larger within 1.5x of the smaller.
2. Due rows processed per second in one sweep of 10,000 due reminders (`plan_due` step -30,
   `plan_reminder`, four people on file each: 40,000 outbox rows), next to the raw `sqlite3`
   floor for the same writes (per due row: UPDATE the timer, INSERT its notice's reference body
   into `mail_body` and its outbox rows with their bodies compressed against it, as
   notifications.bodies stores them, compressed before the clock starts; 500 due rows per
   transaction as the sweep's batch; WAL, synchronous=FULL), run before and after the sweep on
   copies of the same database. Target: sweep >= 1/3 of floor.
3. Messages per second to a loopback SMTP server (aiosmtpd `Controller` on 127.0.0.1 in its own
   process, a handler that accepts everything) through `notifications.dispatch.deliver_all_due`
   with `SmtpTransport`, next to a bare aiosmtplib client sending the same messages, prebuilt with
   `notifications.mime.build_message`, over the same number of connections (1). Rounds
   interleaved, median. Target: >= 0.8x.
4. `pal serve` resident memory (VmRSS) after 100 and after 10,000 sweeps (PAL_SWEEP_SECONDS=0.001,
   a database with 1,000 agreements, file mail backend), read from /proc when the `serve`
   heartbeat reports that many sweeps. Target: within 5 MB.

It is a report: exit 0 whatever the numbers, unless `--check` is given, which exits 1 when a
target is missed. `--quick` uses smaller sizes (named in the table). `--profile` also prints a
cProfile of a due-reminder sweep and of a delivery pass. Everything happens in a temporary folder
that is removed at the end; the processes started are stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from lifecycle import PAL, PRAGMAS, PYTHON, Row, _env, finish, print_table

if TYPE_CHECKING:
    from sqlalchemy import Engine

SWEEP_SCALE_TARGET = 1.5  # idle sweep at 100k agreements <= 1.5x the one at 1k
DUE_RATIO_TARGET = 1 / 3  # due rows/s in a sweep >= 1/3 of the raw sqlite3 floor
SMTP_RATIO_TARGET = 0.8  # pal messages/s >= 0.8x a bare aiosmtplib client
RSS_TARGET_MB = 5.0  # `pal serve` RSS after 10,000 sweeps within 5 MB of after 100

TZ = ZoneInfo("America/Detroit")
RULES_VERSION = "2017-10"
NOTICE_HOUR = 8
HOST = "127.0.0.1"
MAIL_FROM = "Office of Partnership Districts <partnership@mde.example>"
LIAISON = "liaison@mde.example"
WARMUP_DUE = 50  # due reminders swept (earlier) before the timed sweep, to warm caches
WARMUP_MAIL = 20  # messages sent by each client before the timed rounds

Content = tuple[str, str, str]  # an outbox row's subject, text body and HTML body


@dataclass
class Config:
    quick: bool
    profile: bool = False

    @property
    def idle_sizes(self) -> tuple[int, int]:
        return (1_000, 20_000) if self.quick else (1_000, 100_000)

    @property
    def idle_runs(self) -> int:
        return 9 if self.quick else 25

    @property
    def due_rows(self) -> int:
        return 1_000 if self.quick else 10_000

    @property
    def mail_messages(self) -> int:
        return 300 if self.quick else 1_000

    @property
    def mail_rounds(self) -> int:
        return 3 if self.quick else 9

    @property
    def serve_sweeps(self) -> tuple[int, int]:
        return (100, 1_000) if self.quick else (100, 10_000)

    @property
    def serve_timeout_s(self) -> float:
        return 30.0 if self.quick else 150.0


def _ts(instant: datetime) -> str:
    """An aware datetime as pal's SQLite columns store it (UTC wall time, microseconds)."""
    return instant.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


@cache
def _fire_at(due_on: date, offset_days: int) -> str:
    from states.calendar import add_days, local_instant

    return _ts(local_instant(add_days(due_on, offset_days), clock_time(NOTICE_HOUR, 0), TZ))


@cache
def _due_at(due_on: date) -> str:
    from states.calendar import end_of_day

    return _ts(end_of_day(due_on, TZ))


def _local_today(now: datetime) -> date:
    return now.astimezone(TZ).date()


# --------------------------------------------------------------------------------------------
# Databases filled with raw SQL, in the shape the engine gives its rows
# --------------------------------------------------------------------------------------------


def make_template(tmp: Path) -> Path:
    """An empty database migrated to the head schema; every bench database is a copy of it."""
    from storage.db import make_engine
    from storage.migrate import upgrade

    path = tmp / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    _checkpoint(path)
    return path


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the main file, so that copying the main file copies everything."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def copy_db(source: Path, target: Path) -> Path:
    _checkpoint(source)
    shutil.copyfile(source, target)
    return target


def url(path: Path) -> str:
    return f"sqlite:///{path}"


class Store:
    """Bulk inserts into a copy of the template (synchronous=OFF: building is not measured)."""

    def __init__(self, path: Path, template: Path) -> None:
        from config.rules import load_rules

        copy_db(template, path)
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None)
        # Building is not measured: no journal, no fsync, a big page cache. WAL comes back (and
        # stays, as it is recorded in the file) at `close`.
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA cache_size=-262144")
        self.rules = load_rules(RULES_VERSION)
        self.next_id = {
            table: (self.conn.execute(f"SELECT MAX(id) FROM {table}").fetchone()[0] or 0) + 1
            for table in ("agreement", "deadline", "timer", "outbox")
        }
        self.districts = 0

    def _ids(self, table: str, count: int) -> range:
        first = self.next_id[table]
        self.next_id[table] = first + count
        return range(first, first + count)

    def close(self) -> None:
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()

    def add_people(self) -> None:
        self._people(
            [
                ("director@mde.example", "Dana Director", "director", None),
                (LIAISON, "Lee Liaison", "liaison", None),
                ("state.super@mde.example", "Sam State", "state_superintendent", None),
            ]
        )

    def _people(self, people: list[tuple[str, str, str, str | None]]) -> None:
        """People on file, each holding one role since before any recorded date."""
        self.conn.executemany(
            "INSERT INTO person (email, name) VALUES (?, ?)", [p[:2] for p in people]
        )
        self.conn.executemany(
            "INSERT INTO assignment (email, role, district_code) VALUES (?, ?, ?)",
            [(email, role, code) for email, _, role, code in people],
        )

    def _add_districts(self, count: int, contacts: bool) -> list[str]:
        first = self.districts
        self.districts += count
        codes = [f"D{i:06d}" for i in range(first, first + count)]
        self.conn.executemany(
            "INSERT INTO district (code, name, isd, psa, authorizer) VALUES (?, ?, NULL, 0, NULL)",
            [(code, f"District {code[1:]}") for code in codes],
        )
        if contacts:
            people = []
            for code in codes:
                n = int(code[1:])
                people.append((f"super{n}@d{n}.example", f"Superintendent {n}", "superintendent",
                               code))  # fmt: skip
                people.append((f"board{n}@d{n}.example", f"Board President {n}", "board_president",
                               code))  # fmt: skip
                people.append((f"isd{n}@isd{n}.example", f"ISD Superintendent {n}",
                               "isd_superintendent", code))  # fmt: skip
            self._people(people)
        return codes

    def _insert(
        self,
        agreements: list[tuple[Any, ...]],
        deadlines: list[tuple[Any, ...]],
        timers: list[tuple[Any, ...]],
    ) -> None:
        self.conn.executemany(
            "INSERT INTO agreement (id, district_code, cohort, state, rules_version, consequences,"
            " liaison_email, identified_on, signed_on, escalation_option, last_event_on, version,"
            " updated_at) VALUES (?, ?, 'bench', ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)",
            agreements,
        )
        self.conn.executemany(
            "INSERT INTO deadline (id, agreement_id, kind, due_on, due_at, status, opened_on,"
            " closed_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            deadlines,
        )
        self.conn.executemany(
            "INSERT INTO timer (id, agreement_id, deadline_id, ladder, offset_days, notice, action,"
            " fire_at, status, done_at, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            timers,
        )

    def _timers(
        self, agreement_id: int, deadline_id: int, kind: str, due_on: date, status: str,
        outcome: str | None, offsets: Sequence[int] | None = None,
    ) -> list[tuple[Any, ...]]:  # fmt: skip
        steps = [
            s for s in self.rules.timers_for(kind) if offsets is None or s.offset_days in offsets
        ]
        ids = self._ids("timer", len(steps))
        return [
            (timer_id, agreement_id, deadline_id, s.ladder, s.offset_days, s.notice, s.action,
             _fire_at(due_on, s.offset_days), status, outcome)
            for timer_id, s in zip(ids, steps, strict=True)
        ]  # fmt: skip

    def add_signed(self, count: int, today: date, block: int = 1_000) -> None:
        """`count` agreements as `sign` leaves them, signed over the last 200 days: nothing due
        for months (the earliest step, rga_due -90 days, is about 8 months out). Each has its met
        plan deadline, 2 open deadlines and their 5 pending timers. The 9 cancelled timers of the
        met plan ladder are left out: the sweep reads pending rows only, through the (status,
        fire_at) index, and they would triple the build time.

        The first `block` are built in Python; the rest are copies of that block made in SQL
        with shifted ids and district codes (the same rows, 10x faster to build).
        """
        base = min(count, block)
        first = {table: self.next_id[table] for table in ("agreement", "deadline", "timer")}
        first_district = self.districts
        self.conn.execute("BEGIN")
        self._add_signed_block(base, today)
        copies, rest = divmod(count - base, base)
        width = {table: self.next_id[table] - first[table] for table in first}
        with self._indexes_dropped(("timer", "deadline", "agreement")):
            for k in range(1, copies + 1):
                self._copy_signed_block(k, first, width, first_district)
        if rest:
            self._add_signed_block(rest, today)
        self.conn.execute("COMMIT")

    @contextlib.contextmanager
    def _indexes_dropped(self, tables: Sequence[str]) -> Iterator[None]:
        """Bulk load without the secondary indexes, then build them once (sorted, faster)."""
        marks = ", ".join("?" for _ in tables)
        found = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            f" AND tbl_name IN ({marks})",
            tuple(tables),
        ).fetchall()
        for name, _ in found:
            self.conn.execute(f'DROP INDEX "{name}"')
        yield
        for _, sql in found:
            self.conn.execute(sql)

    def _copy_signed_block(
        self, k: int, first: dict[str, int], width: dict[str, int], first_district: int
    ) -> None:
        a, d, t = (k * width[table] for table in ("agreement", "deadline", "timer"))
        code = "printf('D%06d', CAST(substr({col}, 2) AS INTEGER) + :a)"
        params = {"a": a, "d": d, "t": t}
        lo_code, hi_code = (
            f"D{first_district:06d}",
            f"D{first_district + width['agreement'] - 1:06d}",
        )
        new_code = code.format(col="code")
        self.conn.execute(
            f"INSERT INTO district (code, name, isd, psa, authorizer) SELECT {new_code},"
            f" 'District ' || substr({new_code}, 2), isd, psa, authorizer"
            " FROM district WHERE code BETWEEN :lo AND :hi",
            {**params, "lo": lo_code, "hi": hi_code},
        )
        span = {table: (first[table], first[table] + width[table] - 1) for table in first}
        self.conn.execute(
            f"INSERT INTO agreement SELECT id + :a, {code.format(col='district_code')}, cohort,"
            " state, rules_version, consequences, liaison_email, identified_on, signed_on,"
            " escalation_option, last_event_on, version, updated_at, renewed_from, renewed_as"
            " FROM agreement WHERE id BETWEEN :lo AND :hi",
            {**params, "lo": span["agreement"][0], "hi": span["agreement"][1]},
        )
        self.conn.execute(
            "INSERT INTO deadline SELECT id + :d, agreement_id + :a, kind, due_on, due_at, status,"
            " opened_on, closed_on FROM deadline WHERE id BETWEEN :lo AND :hi",
            {**params, "lo": span["deadline"][0], "hi": span["deadline"][1]},
        )
        self.conn.execute(
            "INSERT INTO timer SELECT id + :t, agreement_id + :a, deadline_id + :d, ladder,"
            " offset_days, notice, action, fire_at, status, done_at, outcome FROM timer"
            " WHERE id BETWEEN :lo AND :hi",
            {**params, "lo": span["timer"][0], "hi": span["timer"][1]},
        )
        for table in ("agreement", "deadline", "timer"):
            self.next_id[table] += width[table]
        self.districts += width["agreement"]

    def _add_signed_block(self, count: int, today: date) -> None:
        plan = self.rules.deadline("plan_due")
        rga = self.rules.deadline("rga_due")
        review = self.rules.deadline("review_36_due")
        consequences = ",".join(self.rules.accountability_options)
        now = _ts(datetime.now(UTC))
        codes = self._add_districts(count, contacts=False)
        agreements, deadlines, timers = [], [], []
        for code, agreement_id in zip(codes, self._ids("agreement", count), strict=True):
            signed_on = today - timedelta(days=agreement_id % 200)
            identified_on = signed_on - timedelta(days=30)
            agreements.append((agreement_id, code, "signed", RULES_VERSION, consequences,
                               LIAISON, identified_on.isoformat(), signed_on.isoformat(),
                               signed_on.isoformat(), 6, now))  # fmt: skip
            plan_id, rga_id, review_id = self._ids("deadline", 3)
            plan_due = plan.due(identified_on)
            rga_due, review_due = rga.due(signed_on), review.due(signed_on)
            deadlines += [
                (plan_id, agreement_id, "plan_due", plan_due.isoformat(), _due_at(plan_due),
                 "met", identified_on.isoformat(), signed_on.isoformat()),
                (rga_id, agreement_id, "rga_due", rga_due.isoformat(), _due_at(rga_due),
                 "open", signed_on.isoformat(), None),
                (review_id, agreement_id, "review_36_due", review_due.isoformat(),
                 _due_at(review_due), "open", signed_on.isoformat(), None),
            ]  # fmt: skip
            timers += self._timers(agreement_id, rga_id, "rga_due", rga_due, "pending", None)
            timers += self._timers(
                agreement_id, review_id, "review_36_due", review_due, "pending", None
            )
        self._insert(agreements, deadlines, timers)

    def add_due_reminders(self, count: int, now: datetime, *, warmup: int) -> datetime:
        """`count` agreements in needs_assessment whose first plan reminder (-30 days) is due at
        `now` and nothing else is (the -14 step is 1 to 15 days out), with superintendent, board
        president, ISD superintendent and liaison on file: each due row owes 4 emails. Plus
        `warmup` agreements whose only timer is due 20 days earlier; returns a moment at which
        only those are due."""
        plan = self.rules.deadline("plan_due")
        consequences = ",".join(self.rules.accountability_options)
        today = _local_today(now)
        stamp = _ts(now)
        self.conn.execute("BEGIN")
        codes = self._add_districts(warmup + count, contacts=True)
        agreements, deadlines, timers = [], [], []
        for n, (code, agreement_id) in enumerate(
            zip(codes, self._ids("agreement", len(codes)), strict=True)
        ):
            warm = n < warmup
            due_on = today + timedelta(days=10 if warm else 15 + n % 15)
            identified_on = due_on - timedelta(days=plan.days)
            last_event_on = (identified_on + timedelta(days=1)).isoformat()
            agreements.append((agreement_id, code, "needs_assessment", RULES_VERSION, consequences,
                               LIAISON, identified_on.isoformat(), None, last_event_on, 2,
                               stamp))  # fmt: skip
            (deadline_id,) = self._ids("deadline", 1)
            deadlines.append((deadline_id, agreement_id, "plan_due", due_on.isoformat(),
                              _due_at(due_on), "open", identified_on.isoformat(),
                              None))  # fmt: skip
            timers += self._timers(agreement_id, deadline_id, "plan_due", due_on, "pending", None,
                                   offsets=(-30,) if warm else None)  # fmt: skip
        self._insert(agreements, deadlines, timers)
        self.conn.execute("COMMIT")
        warm_day = today - timedelta(days=20)
        return datetime.combine(warm_day, clock_time(12, 0), tzinfo=TZ).astimezone(UTC)

    def add_outbox(self, count: int, samples: Sequence[Content], at: datetime) -> None:
        """`count` pending messages (subject and bodies from real rendered notices), stored as
        pal stores them: each run of four samples a notice, its first body the reference; each
        a reminder to a named person with the liaison as Reply-To, in its deadline's thread,
        with the notice's calendar file (issue 12)."""
        from notifications import bodies
        from notifications.calendar import Entry, ics
        from notifications.deadline_series import Series

        stamp = _ts(at)
        rows = []
        references = {}
        for n, outbox_id in enumerate(self._ids("outbox", count)):
            subject, text, html = samples[n % len(samples)]
            first = samples[n % len(samples) // NOTICE_SIZE * NOTICE_SIZE]
            reference = bodies.pack(first[1], first[2])
            ref = bodies.digest(reference)
            references[ref] = bodies.reference(reference)
            body = bodies.delta(reference, bodies.pack(text, html))
            notice = n // NOTICE_SIZE
            series = Series(notice, "plan_due", 1, 0, at.date() + timedelta(days=30), None)
            calendar = ics([Entry(series, f"Due: the signed partnership plan (District {notice})")],
                           domain="mde.example", stamp=at, mail_from=MAIL_FROM)  # fmt: skip
            calendar_ref = bodies.digest(calendar)
            references[calendar_ref] = bodies.reference(calendar)
            key = f"bench:{outbox_id}"
            rows.append((outbox_id, "plan_reminder", "bench", f"super{n}@d{n}.example", key,
                         _message_id(key), subject, ref, body, stamp, stamp,
                         f"Superintendent {n}", LIAISON, "Lee Liaison", "plan_due.1",
                         calendar_ref))  # fmt: skip
        self.conn.execute("BEGIN")
        self.conn.executemany(
            "INSERT INTO mail_body (digest, content) VALUES (?, ?) ON CONFLICT DO NOTHING",
            references.items(),
        )
        self.conn.executemany(
            "INSERT INTO outbox (id, agreement_id, notice, occurrence, recipient, idempotency_key,"
            " message_id, subject, body_ref, body, status, attempts, next_attempt_at,"
            " last_error, created_at, sent_at, to_name, reply_to, reply_to_name, thread,"
            " calendar_ref)"
            " VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, NULL, ?, NULL,"
            " ?, ?, ?, ?, ?)",
            rows,
        )
        self.conn.execute("COMMIT")


def _message_id(key: str) -> str:
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@mde.example>"


def _context(now: datetime) -> Any:
    from states.context import Context

    return Context(
        now=now, tz=TZ, notice_hour=NOTICE_HOUR, message_domain="mde.example", mail_from=MAIL_FROM
    )


def _profile(title: str, work: Callable[[], object]) -> None:
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    work()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)
    print(f"cProfile: {title}")
    print(out.getvalue())


# --------------------------------------------------------------------------------------------
# 1. Sweep with nothing due, 1k vs 100k agreements
# --------------------------------------------------------------------------------------------


def bench_idle_sweep(cfg: Config, tmp: Path, template: Path) -> list[Row]:
    from storage.db import make_engine
    from workflow.sweep import sweep

    now = datetime.now(UTC)
    engines: dict[int, Engine] = {}
    build_s: dict[int, float] = {}
    for size in cfg.idle_sizes:
        began = time.perf_counter()
        store = Store(tmp / f"idle{size}.db", template)
        store.add_people()
        store.add_signed(size, _local_today(now))
        earliest = store.conn.execute(
            "SELECT MIN(fire_at) FROM timer WHERE status = 'pending'"
        ).fetchone()[0]
        store.close()
        build_s[size] = time.perf_counter() - began
        if earliest <= _ts(now):
            raise RuntimeError(f"idle database has a timer due at {earliest}")
        engines[size] = make_engine(url(store.path))
    ctx = _context(now)
    times: dict[int, list[float]] = {size: [] for size in cfg.idle_sizes}
    for engine in engines.values():  # warm-up: connection, statement cache, page cache
        for _ in range(3):
            sweep(engine, ctx)
    for _ in range(cfg.idle_runs):  # interleaved: both sizes see the same machine state
        for size, engine in engines.items():
            began = time.perf_counter()
            report = sweep(engine, ctx)
            times[size].append(time.perf_counter() - began)
            if report.fired or report.skipped:
                raise RuntimeError(f"idle sweep fired {report.fired} timers")
    for engine in engines.values():
        engine.dispose()
    small, large = cfg.idle_sizes
    small_s, large_s = statistics.median(times[small]), statistics.median(times[large])
    ratio = large_s / small_s
    n = cfg.idle_runs
    return [
        Row(f"idle sweep, {small:,} agreements (median of {n})", f"{1000 * small_s:.2f} ms"),
        Row(f"idle sweep, {large:,} agreements (median of {n})", f"{1000 * large_s:.2f} ms"),
        Row(f"  {large // 1000}k / {small // 1000}k", f"{ratio:.2f}",
            f"<= {SWEEP_SCALE_TARGET:.2f}", ratio <= SWEEP_SCALE_TARGET),
        Row(f"  (raw SQL build of the {large:,}-agreement database)", f"{build_s[large]:.1f} s"),
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------
# 2. One sweep of 10,000 due reminders vs the raw sqlite3 floor
# --------------------------------------------------------------------------------------------


# Per due row: the timer UPDATE's parameters, the INSERT parameters of its reference body and of
# its calendar file (both in `mail_body`), and one INSERT's parameters per outbox row.
FloorItem = tuple[
    tuple[Any, ...], tuple[bytes, bytes], tuple[bytes, bytes], list[tuple[Any, ...]]
]
# The recipients of each reminder: the samples come in runs of this many, one notice each.
NOTICE_SIZE = 4


class DueFloor:
    """Per due row: UPDATE its timer, INSERT its reference body, its calendar file and its
    outbox rows; `batch` due rows per transaction."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        for pragma in PRAGMAS:
            self.conn.execute(f"PRAGMA {pragma}")

    def run(self, work: Sequence[FloorItem], batch: int) -> float:
        conn = self.conn
        update = "UPDATE timer SET status = ?, done_at = ?, outcome = ? WHERE id = ?"
        reference = "INSERT INTO mail_body (digest, content) VALUES (?, ?) ON CONFLICT DO NOTHING"
        insert = (
            "INSERT INTO outbox (agreement_id, notice, occurrence, recipient, idempotency_key,"
            " message_id, subject, body_ref, body, status, attempts, next_attempt_at,"
            " last_error, created_at, sent_at, to_name, reply_to, reply_to_name, thread,"
            " calendar_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        began = time.perf_counter()
        for start in range(0, len(work), batch):
            conn.execute("BEGIN IMMEDIATE")
            for timer_params, reference_params, calendar_params, outbox_rows in work[
                start : start + batch
            ]:
                conn.execute(update, timer_params)
                conn.execute(reference, reference_params)
                conn.execute(reference, calendar_params)
                for row in outbox_rows:
                    conn.execute(insert, row)
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - began
        self.conn.close()
        return elapsed


def _floor_work(path: Path, now: datetime, samples: dict[str, Content]) -> list[FloorItem]:
    """The parameters of the floor's writes for every timer due at `now` (built untimed, the
    bodies compressed as pal compresses them). Each reminder's reference body is the
    superintendent's sample made its own (the agreement named in it), as each district's
    reminder differs from the others': every due row stores a new reference, as in the sweep,
    and a calendar file of its own."""
    from notifications import bodies
    from notifications.calendar import Entry, ics
    from notifications.deadline_series import Series

    conn = sqlite3.connect(path)
    due = conn.execute(
        "SELECT t.id, t.agreement_id, a.district_code FROM timer t"
        " JOIN agreement a ON a.id = t.agreement_id"
        " WHERE t.status = 'pending' AND t.fire_at <= ? ORDER BY t.fire_at, t.id",
        (_ts(now),),
    ).fetchall()
    conn.close()
    stamp = _ts(now)
    work = []
    for timer_id, agreement_id, code in due:
        n = int(code[1:])
        rows = []
        _, first_text, first_html = samples["superintendent"]
        reference = bodies.pack(f"{first_text}agreement {agreement_id}\n", first_html)
        ref = bodies.digest(reference)
        series = Series(agreement_id, "plan_due", 1, 0, _local_today(now), None)
        summary = f"Due: the signed partnership plan (District {code[1:]})"
        calendar = ics([Entry(series, summary)], domain="mde.example", stamp=now,
                       mail_from=MAIL_FROM)  # fmt: skip
        calendar_ref = bodies.digest(calendar)
        for role, email, name in (
            ("superintendent", f"super{n}@d{n}.example", f"Superintendent {n}"),
            ("board_president", f"board{n}@d{n}.example", f"Board President {n}"),
            ("isd_superintendent", f"isd{n}@isd{n}.example", f"ISD Superintendent {n}"),
            ("liaison", LIAISON, "Lee Liaison"),
        ):
            subject, text, html = samples[role]
            body = bodies.delta(reference, bodies.pack(text, html))
            occurrence = f"timer{timer_id}"
            key = f"a{agreement_id}:plan_reminder:{occurrence}:{email}"
            reply = (None, None) if role == "liaison" else (LIAISON, "Lee Liaison")
            rows.append((agreement_id, "plan_reminder", occurrence, email, key, _message_id(key),
                         subject, ref, body, "pending", 0, stamp, None, stamp, None, name, *reply,
                         "plan_due.1", calendar_ref))  # fmt: skip
        work.append((("done", stamp, "sent", timer_id), (ref, bodies.reference(reference)),
                     (calendar_ref, bodies.reference(calendar)), rows))  # fmt: skip
    return work


def _messages(path: Path, ids: Sequence[int]) -> dict[int, Content]:
    """The subject and bodies of outbox rows, read back as pal stores them."""
    from notifications import bodies
    from storage.db import make_engine

    engine = make_engine(url(path))
    try:
        with engine.connect() as connection:
            return dict(bodies.read(connection, ids))
    finally:
        engine.dispose()


def bench_due_sweep(cfg: Config, tmp: Path, template: Path) -> tuple[list[Row], list[Content]]:
    from storage.db import make_engine
    from workflow.sweep import BATCH, sweep

    now = datetime.now(UTC)
    store = Store(tmp / "due.db", template)
    store.add_people()
    warm_now = store.add_due_reminders(cfg.due_rows, now, warmup=WARMUP_DUE)
    store.close()
    engine = make_engine(url(store.path))
    warm = sweep(engine, _context(warm_now))  # imports, templates, rules, statement cache
    if warm.fired != WARMUP_DUE:
        raise RuntimeError(f"warm-up sweep fired {warm.fired} timers, expected {WARMUP_DUE}")
    engine.dispose()

    # Subject and bodies of real rendered reminders, per recipient role, for the floor's rows.
    conn = sqlite3.connect(store.path)
    outbox = conn.execute(
        "SELECT o.id, a.role FROM outbox o JOIN assignment a ON a.email = o.recipient"
        " WHERE o.notice = 'plan_reminder' ORDER BY o.id"
    ).fetchall()
    conn.close()
    messages = _messages(store.path, [outbox_id for outbox_id, _ in outbox])
    samples = {role: messages[outbox_id] for outbox_id, role in outbox}
    mail_samples = [messages[outbox_id] for outbox_id, _ in outbox[: 10 * NOTICE_SIZE]]
    work = _floor_work(store.path, now, samples)
    if len(work) != cfg.due_rows:
        raise RuntimeError(f"{len(work)} timers due at now, expected {cfg.due_rows}")
    floor_a = copy_db(store.path, tmp / "due-floor-a.db")
    floor_b = copy_db(store.path, tmp / "due-floor-b.db")
    profile_db = copy_db(store.path, tmp / "due-profile.db") if cfg.profile else None

    # As for delivery below: this process holds the floor's prepared rows and the bodies read
    # back, a heap a real `pal serve` does not have; frozen, garbage collection during the timed
    # sweep scans only what the sweep allocates (the floor allocates next to nothing).
    gc.collect()
    gc.freeze()
    floor_a_s = DueFloor(floor_a).run(work, BATCH)
    began = time.perf_counter()
    report = sweep(engine, _context(now))
    sweep_s = time.perf_counter() - began
    floor_b_s = DueFloor(floor_b).run(work, BATCH)
    engine.dispose()
    emails = report.emails
    if report.fired != cfg.due_rows or emails != NOTICE_SIZE * cfg.due_rows:
        raise RuntimeError(f"sweep fired {report.fired} timers and queued {emails} emails")

    n = cfg.due_rows
    sweep_rate = n / sweep_s
    floor_rate = 2 * n / (floor_a_s + floor_b_s)
    ratio = sweep_rate / floor_rate
    rows = [
        Row(f"due sweep: {n:,} reminders ({emails:,} emails), rows/s", f"{sweep_rate:,.0f}/s"),
        Row("raw sqlite3 floor, same writes (before+after), rows/s", f"{floor_rate:,.0f}/s"),
        Row("  sweep / floor", f"{ratio:.2f}", f">= {DUE_RATIO_TARGET:.2f}",
            ratio >= DUE_RATIO_TARGET),
        Row("  sweep ms per due row", f"{1000 / sweep_rate:.3f} ms"),
        Row("  floor ms per due row", f"{1000 / floor_rate:.3f} ms"),
    ]  # fmt: skip
    if profile_db is not None:
        # About a quarter of the due rows (the oldest 4 of the 15 days they are spread over).
        part_now = datetime.combine(_local_today(now) - timedelta(days=12), clock_time(12, 0),
                                    tzinfo=TZ).astimezone(UTC)  # fmt: skip
        engine = make_engine(url(profile_db))
        sweep(engine, _context(warm_now))
        _profile("a sweep of about a quarter of the due reminders",
                 lambda: sweep(engine, _context(part_now)))  # fmt: skip
        engine.dispose()
    return rows, mail_samples


# --------------------------------------------------------------------------------------------
# 3. Delivery to a loopback SMTP server vs a bare aiosmtplib client
# --------------------------------------------------------------------------------------------

SINK_SERVER = r"""
import socket, sys
from aiosmtpd.controller import Controller

class Sink:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 2.0.0 accepted"

probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
print(port, flush=True)
sys.stdin.read()  # until the benchmark closes our stdin (or dies)
controller.stop()
"""


@contextlib.contextmanager
def sink_server() -> Iterator[int]:
    """aiosmtpd in its own process (its own CPU time, no shared GIL); yields its port."""
    proc = subprocess.Popen(
        [PYTHON, "-c", SINK_SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        line = proc.stdout.readline().strip()
        if not line.isdigit():
            raise RuntimeError(f"SMTP sink did not start (said {line!r})")
        yield int(line)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _bare_send(port: int, messages: Sequence[Any]) -> float:
    """Prebuilt `Outgoing` messages (envelope and bytes) through one plain aiosmtplib client."""
    import aiosmtplib

    began = time.perf_counter()
    smtp = aiosmtplib.SMTP(hostname=HOST, port=port, timeout=30)
    await smtp.connect()
    for message in messages:
        refused, _ = await smtp.sendmail(message.sender, [message.recipient], message.data)
        if refused:
            raise RuntimeError(f"sink refused {refused}")
    await smtp.quit()
    return time.perf_counter() - began


async def _pal_send(engine: Engine, port: int, now: datetime, expected: int) -> float:
    from notifications.dispatch import deliver_all_due
    from notifications.transports import SmtpTransport

    transport = SmtpTransport(HOST, port, "none", timeout=30)
    began = time.perf_counter()
    report = await deliver_all_due(engine, transport, now, MAIL_FROM)
    elapsed = time.perf_counter() - began
    if report.sent != expected or transport.connections != 1:
        raise RuntimeError(
            f"deliver_all_due sent {report.sent}/{expected} over {transport.connections}"
            f" connections: {report.errors[:3]}"
        )
    return elapsed


def _reset_outbox(path: Path, first_id: int, due_at: datetime) -> None:
    """Make the timed rows pending again (untimed), as if never sent."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    conn.execute(
        "UPDATE outbox SET status = 'pending', attempts = 0, sent_at = NULL, last_error = NULL,"
        " next_attempt_at = ? WHERE id >= ?",
        (_ts(due_at), first_id),
    )
    conn.close()


def bench_smtp(cfg: Config, tmp: Path, template: Path, samples: Sequence[Content]) -> list[Row]:
    from types import SimpleNamespace

    from sqlmodel import Session, col, select

    from notifications import bodies
    from notifications.mime import build_message
    from storage.db import make_engine
    from storage.service_models import MailBody, Outbox

    now = datetime.now(UTC)
    warm_at, due_at = now - timedelta(hours=2), now - timedelta(minutes=1)
    n = cfg.mail_messages
    store = Store(tmp / "mail.db", template)
    store.add_outbox(WARMUP_MAIL, samples, warm_at)
    first_timed = store.next_id["outbox"]
    store.add_outbox(n, samples, due_at)
    store.close()
    engine = make_engine(url(store.path))
    with Session(engine) as session:  # the prebuilt messages for the bare client (untimed)
        rows = session.exec(select(Outbox).order_by(col(Outbox.id))).all()
        stored = bodies.read(session, [row.id for row in rows if row.id is not None])
        files = {row.digest: bodies.reference_packed(row.content)
                 for row in session.exec(select(MailBody)).all()}  # fmt: skip
        built = [
            build_message(SimpleNamespace(**row.model_dump(), text=message.text,
                                          html=message.html,
                                          calendar=files.get(row.calendar_ref)), MAIL_FROM)
            for row, message in zip(rows, stored.values(), strict=True)
        ]  # fmt: skip
        if not all(b"text/calendar" in message.data for message in built):
            raise RuntimeError("the prebuilt messages lack their calendar files")
    warm_msgs, timed_msgs = built[:WARMUP_MAIL], built[WARMUP_MAIL:]

    bare_s: list[float] = []
    pal_s: list[float] = []
    # The earlier stages leave a large heap in this process; a real `pal serve` has none. Freeze
    # it so that garbage collection during the timed rounds scans only what the clients allocate.
    gc.collect()
    gc.freeze()
    with sink_server() as port:
        asyncio.run(_bare_send(port, warm_msgs))
        asyncio.run(_pal_send(engine, port, warm_at + timedelta(minutes=1), WARMUP_MAIL))
        for round_ in range(cfg.mail_rounds):  # paired rounds, the order alternating
            if round_ % 2:
                pal_s.append(asyncio.run(_pal_send(engine, port, now, n)))
                bare_s.append(asyncio.run(_bare_send(port, timed_msgs)))
            else:
                bare_s.append(asyncio.run(_bare_send(port, timed_msgs)))
                pal_s.append(asyncio.run(_pal_send(engine, port, now, n)))
            _reset_outbox(store.path, first_timed, due_at)
        if cfg.profile:
            _profile(f"deliver_all_due of {n} messages over SMTP",
                     lambda: asyncio.run(_pal_send(engine, port, now, n)))  # fmt: skip
    engine.dispose()
    bare_rate = n / statistics.median(bare_s)
    pal_rate = n / statistics.median(pal_s)
    # The ratio within each round (both clients run back to back, so they see the same machine),
    # then the median over rounds: steadier on a noisy VM than a ratio of medians.
    ratio = statistics.median(bare / pal for bare, pal in zip(bare_s, pal_s, strict=True))
    r = cfg.mail_rounds
    return [
        Row(f"deliver_all_due -> loopback SMTP, {n:,} msgs, 1 conn (median of {r})",
            f"{pal_rate:,.0f}/s"),
        Row(f"bare aiosmtplib, same prebuilt msgs, 1 conn (median of {r})", f"{bare_rate:,.0f}/s"),
        Row("  pal / bare (median of the rounds' ratios)", f"{ratio:.2f}",
            f">= {SMTP_RATIO_TARGET:.2f}",
            ratio >= SMTP_RATIO_TARGET),
        Row("  pal ms per message (each round)",
            ", ".join(f"{1000 * t / n:.2f}" for t in pal_s) + " ms"),
        Row("  bare ms per message (each round)",
            ", ".join(f"{1000 * t / n:.2f}" for t in bare_s) + " ms"),
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------
# 4. `pal serve` memory after 100 and after 10,000 sweeps
# --------------------------------------------------------------------------------------------

_DETAIL = re.compile(r"pid=(\d+) sweeps=(\d+)")


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _heartbeat(conn: sqlite3.Connection) -> tuple[int, int] | None:
    try:
        row = conn.execute("SELECT detail FROM heartbeat WHERE name = 'serve'").fetchone()
    except sqlite3.OperationalError:  # busy, or being checkpointed: try again
        return None
    match = _DETAIL.search(row[0] or "") if row else None
    return (int(match[1]), int(match[2])) if match else None


def bench_serve(cfg: Config, tmp: Path, template: Path) -> list[Row]:
    store = Store(tmp / "serve.db", template)
    store.add_people()
    store.add_signed(1_000, _local_today(datetime.now(UTC)))
    store.close()
    first, last = cfg.serve_sweeps
    env = _env(url(store.path))
    env["PAL_SWEEP_SECONDS"] = "0.001"
    env["PAL_MAIL_DIR"] = str(tmp / "mail")
    log_path = tmp / "serve.log"
    # Stops by itself a little after `last` sweeps, even if this script dies first.
    argv = [PAL, "serve", "--max-sweeps", str(last + max(last // 5, 100))]
    samples: dict[int, tuple[int, int, float]] = {}  # target -> (sweeps seen, rss kB, time)
    timed_out = False
    with log_path.open("w") as log:
        proc = subprocess.Popen(argv, env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
        began = time.monotonic()
        conn = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True, timeout=5)
        try:
            waiting = [first, last]
            seen: tuple[int, int] | None = None
            while waiting and proc.poll() is None:
                if time.monotonic() - began > cfg.serve_timeout_s:
                    timed_out = True
                    if seen is not None and first in samples:  # the last reading there is
                        samples[last] = (seen[1], _rss_kb(seen[0]), time.monotonic())
                    break
                seen = _heartbeat(conn) or seen
                if seen is not None and seen[1] >= waiting[0]:
                    pid, sweeps = seen
                    if pid != proc.pid:
                        raise RuntimeError(f"heartbeat from pid {pid}, started {proc.pid}")
                    samples[waiting.pop(0)] = (sweeps, _rss_kb(pid), time.monotonic())
                    continue
                time.sleep(0.002)
        finally:
            conn.close()
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    lines = log_path.read_text(errors="replace").splitlines()
    skipped = sum("maximum number of running instances reached" in line for line in lines)
    # Log lines are `<time> <level>: ...` (workflow.logs); the CLI's last line `error: ...`.
    errors = sum(line.startswith("error") or " error: " in line for line in lines)
    log_row = Row(
        f"  serve log: {len(lines):,} lines", f"{skipped:,} 'skipped' warnings, {errors} ERROR"
    )
    if len(samples) < 2:
        tail = " | ".join(lines[-6:])
        got = ", ".join(f"{v[0]} sweeps: {v[1] / 1024:.1f} MB" for v in samples.values())
        return [
            Row(f"pal serve RSS after {first:,} and {last:,} sweeps",
                f"no reading ({got or 'none'})", f"<= {RSS_TARGET_MB:.1f} MB", False),
            Row(f"  exit code {proc.returncode}; log tail", tail),
            log_row,
        ]  # fmt: skip
    (s1, rss1, t1), (s2, rss2, t2) = samples[first], samples[last]
    growth = (rss2 - rss1) / 1024
    late = f" (timed out after {cfg.serve_timeout_s:.0f} s)" if timed_out else ""
    return [
        Row(f"pal serve RSS after {s1:,} sweeps", f"{rss1 / 1024:.1f} MB"),
        Row(f"pal serve RSS after {s2:,} sweeps{late}", f"{rss2 / 1024:.1f} MB"),
        Row("  growth", f"{growth:+.1f} MB", f"<= {RSS_TARGET_MB:.1f} MB",
            abs(growth) <= RSS_TARGET_MB and not timed_out),
        Row("  sweeps per second (PAL_SWEEP_SECONDS=0.001)", f"{(s2 - s1) / (t2 - t1):,.0f}/s"),
        Row("  serve exit code after SIGTERM", f"{proc.returncode}"),
        log_row,
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------


STAGES = ("idle", "due", "mail", "serve")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (well under a minute)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile a due sweep and a delivery pass"
    )
    parser.add_argument(
        "--only",
        choices=STAGES,
        action="append",
        help="run only this stage (repeatable); the mail stage also runs the due sweep",
    )
    args = parser.parse_args(argv)
    cfg = Config(quick=args.quick, profile=args.profile)
    wanted = set(args.only or STAGES)
    if not Path(PAL).exists():
        print(f"error: no pal script next to {PYTHON} (install the project in this venv)",
              file=sys.stderr)  # fmt: skip
        return 2

    began = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="pal-bench-service-"))
    rows: list[Row] = []
    stages: list[tuple[str, float]] = []

    def stage(name: str, run: Callable[[], Any]) -> Any:
        if name not in wanted:
            return []
        start = time.perf_counter()
        result = run()
        stages.append((name, time.perf_counter() - start))
        return result

    try:
        template = make_template(tmp)
        rows += stage("idle", lambda: bench_idle_sweep(cfg, tmp, template))
        if "mail" in wanted:
            wanted.add("due")  # the mail stage sends what the due sweep rendered
        due = stage("due", lambda: bench_due_sweep(cfg, tmp, template))
        due_rows, mail_samples = due or ([], [])
        rows += due_rows
        rows += stage("mail", lambda: bench_smtp(cfg, tmp, template, mail_samples))
        rows += stage("serve", lambda: bench_serve(cfg, tmp, template))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"pal service bench{' (quick)' if cfg.quick else ''}: python {sys.version.split()[0]},"
        f" sqlite {sqlite3.sqlite_version}, temp dir {tempfile.gettempdir()}"
    )
    print_table(rows)
    print(", ".join(f"{name} {seconds:.1f} s" for name, seconds in stages))
    return finish(rows, began, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
