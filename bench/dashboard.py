"""Dashboard benchmark: `pal dashboard` for 500 agreements next to reading the same rows (issue 17).

    python bench/dashboard.py [--agreements N] [--runs R] [--check] [--profile]

The database (untimed) is a temp-file SQLite one built through the engine with
`lifecycle.EngineBench`: N agreements (default 500), each with its district's superintendent,
board president and ISD superintendent on file, brought through the lifecycle one transaction
per step and left spread over the stages: a fifth each in needs assessment, plan signed, the
18-month review, the 18-month review with a meeting scheduled and an action item raised at it,
and next-level accountability (escalated from the review). Their deadlines, timers, audit rows
and queued notices are the engine's own.

Two things are timed, each in its own read-only session (`storage.db.transaction(engine,
read_only=True)`, as `pal dashboard` reads), R times each (default 5), alternating, medians:

- build: `workflow.dashboard.site.build_site(session, out, ctx)` into a fresh folder: every read,
  every page rendered, every file written.
- read: "the time to read the same rows": for each table the build's own statements name
  (collected by listening to the engine's statements during a warm-up build), `SELECT * FROM
  table`, every row fetched (`.all()`), through the session. No views, no rendering, no files.

Target (issue 17): build <= 10x read ("at least 1/10"), judged on the median over the rounds
of the ratio within a round (the two back to back see the same machine; on a shared machine a
ratio of medians swings more). Informational lines: the same ratio in CPU time
(`time.process_time`), the pages written, the build's own statements run again raw, and its time
split into reading (`dashboard.data.gather`), rendering (`dashboard.site.pages`) and writing
(`dashboard.writing.write_site`). `--profile` prints a cProfile of one build.

A report: exit 0 whatever it measures, unless `--check` is given (exit 1 when the target is
missed). Everything happens in a temporary folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from lifecycle import ROOT, EngineBench, Row, finish, print_table

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RATIO_TARGET = 10.0  # build <= 10x the time to read the same rows
TABLE = re.compile(r'\b(?:FROM|JOIN)\s+"?([a-z_][a-z0-9_]*)"?', re.IGNORECASE)
# Where each fifth of the agreements is left (the last step they are brought through).
STOPS = ("start_assessment", "record_signature:mde", "open_rga", "meeting", "escalate")


def build_database(bench: EngineBench, count: int) -> None:
    """`count` agreements spread over STOPS; a meeting and an action item for the 4th fifth."""
    from storage.db import transaction
    from workflow.action_items import add_action
    from workflow.meetings import schedule_meeting

    steps = ("start_assessment", "record_signature:board", "record_signature:superintendent",
             "record_signature:mde", "open_rga")  # fmt: skip
    for n in range(count):
        stop = STOPS[n * len(STOPS) // count]
        agreement = bench.new_agreement()
        last = steps.index(stop) if stop in steps else len(steps) - 1
        for step in steps[: last + 1]:
            bench.run_step(agreement, step)
        if stop == "escalate":
            bench.run_step(agreement, "escalate")
        elif stop == "meeting":
            ctx = bench.context()
            with transaction(bench.engine) as session:
                meeting = schedule_meeting(session, f"D{n:04d}", ctx.now + timedelta(days=20),
                                           bench.liaison, ctx, kind="other")  # fmt: skip
                add_action(session, meeting, f"super{n}@d{n}.example",
                           ctx.today + timedelta(days=30), "send the attendance data",
                           bench.liaison, ctx)  # fmt: skip


@contextmanager
def statements(engine: Any) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements `engine` runs inside the block, with their parameters."""
    from sqlalchemy import event

    seen: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        seen.append((args[2], args[3]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def build(bench: EngineBench, out: Path) -> int:
    """One `build_site` in its own read-only session; the number of pages written."""
    from storage.db import transaction
    from workflow.dashboard.site import build_site

    with transaction(bench.engine, read_only=True) as session:
        return len(build_site(session, out, bench.context()))


def read_rows(bench: EngineBench, tables: list[str]) -> int:
    """Every row of `tables` read through one read-only session; how many rows."""
    import sqlalchemy as sa

    from storage.db import transaction

    with transaction(bench.engine, read_only=True) as session:
        return sum(len(session.execute(sa.text(f"SELECT * FROM {t}")).all()) for t in tables)


def rerun(bench: EngineBench, seen: list[tuple[str, Any]]) -> int:
    """The build's own statements run again as they were sent, rows fetched; how many rows."""
    from storage.db import transaction

    with transaction(bench.engine, read_only=True) as session:
        connection = session.connection()
        return sum(len(connection.exec_driver_sql(sql, params).all()) for sql, params in seen
                   if sql.lstrip().upper().startswith(("SELECT", "WITH")))  # fmt: skip


def split(bench: EngineBench, out: Path) -> tuple[float, float, float]:
    """One build's reading, rendering and writing, timed apart (seconds)."""
    from storage.db import transaction
    from workflow.dashboard.data import gather
    from workflow.dashboard.render import stylesheet
    from workflow.dashboard.site import pages
    from workflow.dashboard.writing import write_site

    with transaction(bench.engine, read_only=True) as session:
        began = time.perf_counter()
        data = gather(session, bench.context())
        read = time.perf_counter()
        files = pages(data)
        rendered = time.perf_counter()
        write_site(out, {**files, "style.css": stylesheet()})
        return read - began, rendered - read, time.perf_counter() - rendered


def timed(work: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds (of this process) of `work`."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(bench: EngineBench, tmp: Path, runs: int) -> tuple[list[Row], list[str]]:
    with statements(bench.engine) as seen:
        pages = build(bench, tmp / "warm")  # warm-up: imports, templates, statement caches
    tables = sorted({name.lower() for sql, _ in seen for name in TABLE.findall(sql)})
    rows_read, rows_rerun = read_rows(bench, tables), rerun(bench, seen)
    rounds, parts = [], []
    for n in range(runs):
        out = tmp / f"site{n}"
        work = [lambda out=out: build(bench, out), lambda: read_rows(bench, tables),
                lambda: rerun(bench, seen)]  # fmt: skip
        order = [0, 1, 2] if n % 2 == 0 else [2, 1, 0]  # drift evens out
        times = {k: timed(work[k]) for k in order}
        rounds.append([times[k] for k in range(3)])
        parts.append(split(bench, tmp / f"split{n}"))

    def median(of: Callable[[list[tuple[float, float]]], float]) -> float:
        return statistics.median(of(r) for r in rounds)

    built, read, raw = (median(lambda r, k=k: r[k][0]) for k in range(3))
    ratio = median(lambda r: r[0][0] / r[1][0])  # within a round: the same machine
    cpu_ratio = median(lambda r: r[0][1] / r[1][1])
    gather_s, render_s, write_s = (statistics.median(p[k] for p in parts) for k in range(3))
    return [
        Row(f"build_site, {pages} pages", f"{built:.3f} s"),
        Row(f"read the same rows ({rows_read:,} rows of {len(tables)} tables)", f"{read:.3f} s"),
        Row("build / read", f"{ratio:.1f}x", f"<= {RATIO_TARGET:g}x", ratio <= RATIO_TARGET),
        Row("  build / read in CPU time", f"{cpu_ratio:.1f}x"),
        Row(f"  the build's own {len(seen)} statements run raw ({rows_rerun:,} rows)",
            f"{raw:.3f} s"),
        Row("  build / the build's own statements run raw",
            f"{median(lambda r: r[0][0] / r[2][0]):.1f}x"),
        Row("  of a build: reading (gather)", f"{gather_s:.3f} s"),
        Row("  of a build: rendering (pages)", f"{render_s:.3f} s"),
        Row("  of a build: writing (write_site)", f"{write_s:.3f} s"),
    ], tables


def profile(bench: EngineBench, tmp: Path) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(build, bench, tmp / "profiled")
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
    print(text.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agreements", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one build")
    args = parser.parse_args(argv)
    import logging

    logging.getLogger("pal").setLevel(logging.ERROR)
    began, tables = time.perf_counter(), []
    tmp = Path(tempfile.mkdtemp(prefix="pal-bench-dashboard-"))
    try:
        bench = EngineBench(tmp / "dashboard.db", districts=args.agreements)
        building, _ = timed(lambda: build_database(bench, args.agreements))
        measured, tables = measure(bench, tmp, args.runs)
        rows = [Row(f"database built through the engine, {args.agreements} agreements",
                    f"{building:.1f} s"), *measured]  # fmt: skip
        if args.profile:
            profile(bench, tmp)
        bench.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"pal dashboard bench: python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version},"
          f" {args.runs} rounds, medians; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print_table(rows)
    print("tables the build reads (the read's SELECT * of each): " + ", ".join(tables))
    return finish(rows, began, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
