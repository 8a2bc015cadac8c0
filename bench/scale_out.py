"""Scale-out benchmark: sweep and delivery throughput of 1, 2 and 3 `pal serve` on PostgreSQL
(issue 14).

    PAL_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python bench/scale_out.py [--agreements N] [--instances 1,2,3] [--check]

One template schema is built once, through the engine in-process: N agreements (default 1,000)
identified on 2018-03-01 with their whole plan ladder due by the wall clock (9 timers each: 7 are
superseded, 2 send; 3 messages each). Each run gets its own copy of it (a schema of its own,
migrated, the rows copied), so every run starts from the same rows. For each run the script
holds `LOCK TABLE timer, outbox IN ACCESS EXCLUSIVE MODE`, starts the instances (a loopback SMTP
sink in its own process; `PAL_SWEEP_SECONDS=0.5`), waits until each has logged its start-up line,
then lets go of the lock: that moment is t0. It polls the database every 0.1 s: the sweep is done
when no due timer is pending, the delivery when every message is sent. Figures: timers settled
per second (fired or superseded) and messages sent per second, each over its time from t0; the
ratio to one instance; and where the CPU went during the run (the serve processes, PostgreSQL's
processes, the SMTP sink, all from /proc) with the machine's load, and how often a poll found a
PostgreSQL backend waiting on a lock.

A report: exit 0 whatever it measures, unless `--check` is given (exit 1 when 2 instances are
below 1.6x one). The schemas it makes are named `bench_scale_<pid>*` and dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from lifecycle import PAL, ROOT, Row, _env, finish, print_table
from service import MAIL_FROM, sink_server

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RATIO_TARGET = 1.6  # 2 instances >= 1.6x one
SWEEP_SECONDS = "0.5"
TICKS = os.sysconf("SC_CLK_TCK")
STAFF = {
    "director@mde.example": "director",
    "liaison@mde.example": "liaison",
    "state.superintendent@mde.example": "state_superintendent",
}


def schema_url(base: str, schema: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


def admin(base: str, *statements: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(base, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def build_template(url: str, count: int) -> None:
    """Migrate, add the office's staff, then `count` districts and agreements (untimed)."""
    import logging

    logging.getLogger("pal").setLevel(logging.ERROR)  # nobody on file as ISD superintendent
    from states.context import Context
    from storage.db import make_engine, transaction
    from storage.migrate import upgrade
    from storage.models import Assignment, District, Person
    from workflow.actors import Actor
    from workflow.engine import Request, apply

    engine = make_engine(url)
    upgrade(engine)
    ctx = Context(now=datetime(2030, 1, 1, 17, 0, tzinfo=UTC))  # its own notices not due
    director, liaison = Actor("director@mde.example", "director"), Actor(
        "liaison@mde.example", "liaison"
    )
    with transaction(engine) as session:
        for email, role in STAFF.items():
            session.add(Person(email=email, name=role.title()))
            session.flush()
            session.add(Assignment(email=email, role=role))
        codes = [f"B{n:05d}" for n in range(count)]
        session.add_all(District(code=c, name=f"District {c}", isd="Wayne RESA") for c in codes)
        session.flush()
        for code in codes:
            for role in ("superintendent", "board_president"):
                session.add(Person(email=f"{role}@{code.lower()}.example", name=role.title()))
        session.flush()
        for code in codes:
            for role in ("superintendent", "board_president"):
                email = f"{role}@{code.lower()}.example"
                session.add(Assignment(email=email, role=role, district_code=code))
        session.flush()
        for code in codes:
            identify = Request("identify", director, parent=code, on=date(2018, 3, 1),
                               rules_version="2017-10")  # fmt: skip
            agreement = apply(session, identify, ctx)
            start = Request("start_assessment", liaison, case=agreement.id, on=date(2018, 3, 1),
                            data={"liaison": "liaison@mde.example"})  # fmt: skip
            apply(session, start, ctx)
    engine.dispose()


def copy_schema(base: str, source: str, target: str) -> str:
    """A new schema `target`, migrated, holding `source`'s rows; its URL."""
    import sqlalchemy as sa

    from storage.db import make_engine
    from storage.migrate import upgrade

    admin(base, f'CREATE SCHEMA "{target}"')
    url = schema_url(base, target)
    engine = make_engine(url)
    upgrade(engine)
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("SET session_replication_role = replica"))  # no triggers
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            connection.execute(sa.text(f'DELETE FROM "{table.name}"'))
            connection.execute(
                sa.text(f'INSERT INTO "{table.name}" SELECT * FROM "{source}"."{table.name}"')
            )
            for column in table.columns:
                default = column.server_default
                if default is not None and "nextval" in str(getattr(default, "arg", "")):
                    connection.execute(sa.text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', "
                        f"'{column.name}'), coalesce((SELECT max(\"{column.name}\") FROM "
                        f'"{table.name}"), 0) + 1, false)'
                    ))  # fmt: skip
        connection.execute(sa.text("SET session_replication_role = origin"))
    engine.dispose()
    return url


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def postgres_cpu() -> float:
    """CPU seconds used so far by every process named postgres (the server and its backends)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(entry.name))
            except OSError:
                continue
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICKS, sum(values) / TICKS


@dataclass
class Run:
    instances: int
    timers: int
    messages: int
    sweep_s: float = 0.0
    mail_s: float = 0.0
    serve_cpu: float = 0.0
    pg_cpu: float = 0.0
    sink_cpu: float = 0.0
    busy: float = 0.0  # the machine's CPU seconds busy during the run, all processes
    wall: float = 0.0
    polls: int = 0
    lock_waits: int = 0  # polls that found a backend waiting for a lock
    connections: int = 0  # the most PostgreSQL connections one instance held at a poll
    pids: list[int] = field(default_factory=list)


def counts(connection: Any) -> tuple[int, int, int, int]:
    """(due timers still pending, messages not sent, backends waiting on a lock, the most
    connections one instance holds)."""
    import sqlalchemy as sa

    row = connection.execute(sa.text(
        "SELECT (SELECT count(*) FROM timer WHERE status = 'pending' AND fire_at <= now()),"
        " (SELECT count(*) FROM outbox WHERE status IN ('pending', 'retrying')"
        "   AND occurrence LIKE 'timer%'),"
        " (SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'),"
        " (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM pg_stat_activity"
        "   WHERE application_name LIKE 'pal-bench-%' OR application_name LIKE 'pal serve@%'"
        "   GROUP BY application_name) AS per_instance)"
    )).one()  # fmt: skip
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


@contextmanager
def serving(url: str, port: int, folder: Path, n: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    env = {**_env(url), "PAL_SMTP_HOST": "127.0.0.1", "PAL_SMTP_PORT": str(port),
           "PAL_MAIL_FROM": MAIL_FROM, "PAL_SWEEP_SECONDS": SWEEP_SECONDS}  # fmt: skip
    processes = []
    try:
        for index in range(n):
            # libpq's name for the connections (unless pal names them itself): counted per instance.
            named = {**env, "PGAPPNAME": f"pal-bench-{n}-{index}"}
            with (folder / f"serve{n}-{index}.log").open("wb") as log:
                processes.append(subprocess.Popen(
                    [PAL, "serve"], env=named, cwd=folder, stdout=subprocess.DEVNULL, stderr=log
                ))  # fmt: skip
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def measure(url: str, n: int, folder: Path, sink: tuple[int, int]) -> Run:
    import sqlalchemy as sa

    port, sink_pid = sink
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as poller:
        pending, _, _, _ = counts(poller)
        poller.commit()
        run = Run(n, pending, 0)
        gate = engine.connect()
        gate.execute(sa.text("LOCK TABLE timer, outbox IN ACCESS EXCLUSIVE MODE"))
        with serving(url, port, folder, n) as processes:
            logs = [folder / f"serve{n}-{index}.log" for index in range(n)]
            while not all("serving as" in log.read_text() for log in logs):
                time.sleep(0.05)
            serve_before = sum(cpu_seconds(p.pid) for p in processes)  # their start-up
            before = (postgres_cpu(), cpu_seconds(sink_pid), machine_busy()[0])
            started = time.monotonic()
            gate.commit()  # t0: the instances' waiting claims go through
            gate.close()
            while True:
                pending, unsent, waiting, connections = counts(poller)
                poller.commit()
                now = time.monotonic() - started
                run.polls += 1
                run.lock_waits += waiting > 0
                run.connections = max(run.connections, connections)
                if pending == 0 and not run.sweep_s:
                    run.sweep_s = now
                if pending == 0 and unsent == 0:
                    run.mail_s = now
                    break
                if now > 900:
                    raise RuntimeError(f"{n} instances: not done after 900 s")
                time.sleep(0.1)
            run.wall = time.monotonic() - started
            sent = poller.execute(sa.text("SELECT count(*) FROM outbox WHERE status = 'sent'"))
            run.messages = int(sent.scalar_one())
            run.serve_cpu = sum(cpu_seconds(p.pid) for p in processes) - serve_before
            run.pg_cpu = postgres_cpu() - before[0]
            run.sink_cpu = cpu_seconds(sink_pid) - before[1]
            run.busy = machine_busy()[0] - before[2]
            errors = [line for log in logs for line in log.read_text().splitlines()
                      if "error:" in line]  # fmt: skip
            if errors:
                print(f"{n} instances logged errors, e.g. {errors[0]}", file=sys.stderr)
    engine.dispose()
    return run


def rows_for(runs: list[Run]) -> list[Row]:
    one = runs[0]
    table: list[Row] = []
    for run in runs:
        timers, mail = run.timers / run.sweep_s, run.messages / run.mail_s
        name = f"{run.instances} instance{'s' if run.instances > 1 else ''}"
        table.append(Row(f"{name}: timers settled/s", f"{timers:,.0f}"))
        table.append(Row(f"{name}: messages sent/s", f"{mail:,.0f}"))
        if run is not one:
            ratio_t = timers / (one.timers / one.sweep_s)
            ratio_m = mail / (one.messages / one.mail_s)
            target = run.instances == 2
            table.append(Row(f"  {name} / 1: timers", f"{ratio_t:.2f}",
                             f">= {RATIO_TARGET}" if target else "",
                             ratio_t >= RATIO_TARGET if target else None))  # fmt: skip
            table.append(Row(f"  {name} / 1: messages", f"{ratio_m:.2f}",
                             f">= {RATIO_TARGET}" if target else "",
                             ratio_m >= RATIO_TARGET if target else None))  # fmt: skip
        cpu = (f"serve {run.serve_cpu:.1f} s, PostgreSQL {run.pg_cpu:.1f} s, sink "
               f"{run.sink_cpu:.1f} s; machine busy {run.busy:.1f} of "
               f"{2 * run.wall:.1f} CPU-s")  # fmt: skip
        table.append(Row(f"  CPU over {run.wall:.1f} s", cpu))
        table.append(Row("  polls with a backend waiting on a lock",
                         f"{run.lock_waits} of {run.polls}"))  # fmt: skip
        table.append(Row("  most connections one instance held", f"{run.connections}"))
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agreements", type=int, default=1000)
    parser.add_argument("--instances", default="1,2,3")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    base = os.environ.get("PAL_BENCH_POSTGRES_URL") or os.environ.get("PAL_TEST_POSTGRES_URL")
    if not base:
        print("set PAL_TEST_POSTGRES_URL (or PAL_BENCH_POSTGRES_URL)", file=sys.stderr)
        return 2
    began = time.perf_counter()
    template = f"bench_scale_{os.getpid()}"
    sizes = [int(n) for n in args.instances.split(",")]
    made = [template]
    load = os.getloadavg()
    try:
        admin(base, f'CREATE SCHEMA "{template}"')
        build_template(schema_url(base, template), args.agreements)
        print(f"template of {args.agreements} agreements built in "
              f"{time.perf_counter() - began:.0f} s; load {load[0]:.2f} {load[1]:.2f}")  # fmt: skip
        runs = []
        with tempfile.TemporaryDirectory(prefix="pal-bench-scale-") as tmp, sink_server() as port:
            sink_pid = _sink_pid(port)
            for n in sizes:
                made.append(f"{template}_{n}")
                url = copy_schema(base, template, made[-1])
                runs.append(measure(url, n, Path(tmp), (port, sink_pid)))
        load = os.getloadavg()
        print(f"{args.agreements} agreements: {runs[0].timers:,} due timers, "
              f"{runs[0].messages:,} messages, per run; load after {load[0]:.2f} {load[1]:.2f}")
        rows = rows_for(runs)
        print_table(rows)
    finally:
        admin(base, *(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE' for schema in made))
    return finish(rows, began, check=args.check)


def _sink_pid(port: int) -> int:
    """The SMTP sink's process: the one listening on `port` (found through /proc/net/tcp)."""
    wanted = f"0100007F:{port:04X}"
    inodes = {
        line.split()[9]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if line.split()[1] == wanted and line.split()[3] == "0A"
    }
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd).removeprefix("socket:[").rstrip("]") in inodes:
                    return int(entry.name)
        except OSError:
            continue
    return 0


if __name__ == "__main__":
    sys.exit(main())
