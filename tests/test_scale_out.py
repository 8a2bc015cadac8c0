"""Several `pal serve` instances (issue 14, part A): on SQLite a second one is refused, on
PostgreSQL they cooperate and `pal status` tells the live from the stopped and the silent; a
lease that ran out is another dispatcher's; a database out of reach is waited out.

Real processes, real databases, a real SMTP server on 127.0.0.1; no sleeping for timers.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers import Pal, assert_error, execute
from smtp_server import SmtpServer
from test_service import (
    in_progress,
    mail_files,
    many_agreements,
    pending_due,
    serve,
    status,
    stop,
    wait_for,
)
from test_service_hardening import serve_smtp

from notifications.dispatch import LEASE, anything_due, claim_due, deliver_due
from notifications.transports import FileTransport
from storage.db import make_engine
from workflow.heartbeat import this_process
from workflow.outage import Outage
from workflow.sole_service import lock_path, sole_service

MAIL_FROM = "PAL Test Mailer <pal-test@mde.example>"


def instance_of(pal: Pal, pid: int) -> dict[str, Any] | None:
    return next((i for i in status(pal)["instances"] if i["pid"] == pid), None)


def none_live(pal: Pal) -> dict[str, Any] | None:
    """The status report once no instance is live, else None."""
    report = status(pal)
    return None if report["live_instances"] else report


def sqlite_file(db_url: str) -> Path:
    return Path(db_url.removeprefix("sqlite:///"))


# --- one service per SQLite file ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_second_serve_on_one_sqlite_file_is_refused_naming_the_first_and_changes_nothing(
    seeded: Pal, db_url: str, tmp_path: Path
) -> None:
    """A second `pal serve` exits 3 with one line naming the running one (host:pid, since when)
    and leaves no trace; `pal tick` still works beside the first."""
    first = serve(db_url, tmp_path, PAL_SWEEP_SECONDS="0.2")
    try:
        wait_for(lambda: instance_of(seeded, first.pid), 20, "the first serve's sweep")
        second = serve(db_url, tmp_path, PAL_SWEEP_SECONDS="0.2")
        out, err = second.communicate(timeout=30)
        tick = seeded("tick")
        assert first.poll() is None
    finally:
        stop(first)

    assert second.returncode == 3, err
    [line] = err.splitlines()
    assert line.startswith(f"error: pal serve is already running on {sqlite_file(db_url)} ")
    assert "serve@" in line and f":{first.pid}, since 20" in line and "last swept" in line
    assert out == ""
    assert instance_of(seeded, second.pid) is None  # never beat, never recorded
    assert tick.exit_code == 0, tick.stderr


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])
def test_after_a_serve_is_killed_a_new_one_starts_on_the_same_sqlite_file(
    seeded: Pal, db_url: str, tmp_path: Path
) -> None:
    """SIGKILL leaves no stale lock: the kernel lets the lock go with the process."""
    first = serve(db_url, tmp_path, PAL_SWEEP_SECONDS="0.2")
    try:
        wait_for(lambda: instance_of(seeded, first.pid), 20, "the first serve's sweep")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        stop(first)
    assert lock_path(sqlite_file(db_url)).exists()  # left behind, and harmless

    second = serve(db_url, tmp_path, PAL_SWEEP_SECONDS="0.2")
    try:
        wait_for(lambda: instance_of(seeded, second.pid), 20, "the new serve's sweep")
        second.send_signal(signal.SIGTERM)
        _, err = second.communicate(timeout=20)
    finally:
        stop(second)
    assert second.returncode == 0, err


@pytest.mark.parametrize("backend", ["sqlite"])
def test_restore_is_refused_while_a_serve_holds_the_lock_even_before_its_first_sweep(
    seeded: Pal, db_url: str, tmp_path: Path
) -> None:
    """The lock alone says a service runs: one that has not swept has no row to go by."""
    copy = tmp_path / "copy.db"
    assert seeded("backup", str(copy)).exit_code == 0
    engine = make_engine(db_url)
    identity = this_process("serve", 60)
    try:
        with sole_service(engine, identity, datetime.now(UTC)):
            result = seeded("restore", str(copy))
    finally:
        engine.dispose()
    assert_error(result, 3, mentions=identity.name)
    assert list(tmp_path.glob("*.before-restore-*")) == []


# --- several instances on PostgreSQL -------------------------------------------------------------


# Whole processes on one PostgreSQL database (no SQLite variant: one serve per SQLite file).
def on_postgresql(test: Callable[..., None]) -> Callable[..., None]:
    on_one_backend = pytest.mark.parametrize("backend", ["postgres"])(test)
    return pytest.mark.slow(pytest.mark.postgres(on_one_backend))  # type: ignore[no-any-return]


def message_ids(server: SmtpServer) -> Counter[str]:
    return Counter(str(item.message["Message-ID"]) for item in server.received)


def sent_rows(db_url: str) -> int:
    return int(execute(db_url, "SELECT count(*) FROM outbox WHERE status = 'sent'")[0][0])


def all_done(db_url: str, server: SmtpServer) -> bool:
    """Nothing due is left (timers or mail) and every message that arrived is recorded as sent."""
    now = datetime.now(UTC)
    if pending_due(db_url, now.isoformat()) or not server.received:
        return False
    engine = make_engine(db_url)
    try:
        nothing_due = not anything_due(engine, now)
    finally:
        engine.dispose()
    return nothing_due and len(message_ids(server)) == sent_rows(db_url)


def leased_message_ids(db_url: str) -> set[str]:
    """Message-IDs of rows a dispatcher has leased and not yet recorded (not sent, not due)."""
    query = ("SELECT message_id FROM outbox WHERE status IN ('pending', 'retrying') "
             "AND next_attempt_at > :now")  # fmt: skip
    return {row[0] for row in execute(db_url, query, now=datetime.now(UTC))}


def sent_message_ids(db_url: str) -> set[str]:
    sent = "SELECT message_id FROM outbox WHERE status = 'sent'"
    return {row[0] for row in execute(db_url, sent)}


def assert_each_once(db_url: str, server: SmtpServer, killed: int = 0) -> None:
    """Every timer fired once (no idempotency key twice, none due left), every sent row arrived
    once (one Message-ID each); `killed` more arrived from a serve killed before recording them."""
    received = message_ids(server)
    assert [mid for mid, times in received.items() if times > 1] == []
    assert len(received) == sent_rows(db_url) + killed
    keys = "SELECT idempotency_key FROM outbox GROUP BY idempotency_key HAVING count(*) > 1"
    assert execute(db_url, keys) == []
    assert pending_due(db_url, datetime.now(UTC).isoformat()) == []


@on_postgresql
def test_two_serves_on_postgresql_share_the_work_and_status_tells_live_stopped_and_silent(
    seeded: Pal, db_url: str, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    """Two whole `pal serve` processes on one database send every message once and fire every
    timer once; `pal status` lists both as live, then one stopped (SIGTERM) and one silent
    (SIGKILL, presumed dead) once three of its sweep intervals pass without a beat."""
    many_agreements(db_url, 60)
    env = {"PAL_SWEEP_SECONDS": "0.3", "PAL_LOG_LEVEL": "warning"}
    a = serve_smtp(db_url, tmp_path, smtp_server, **env)
    b = serve_smtp(db_url, tmp_path, smtp_server, **env)
    try:
        wait_for(lambda: all_done(db_url, smtp_server), 120, "every message sent")
        wait_for(lambda: len(status(seeded)["live_instances"]) == 2, 20, "two live instances")
        live = seeded("status")
        a.send_signal(signal.SIGTERM)
        _, a_err = a.communicate(timeout=30)
        b.send_signal(signal.SIGKILL)
        _, b_err = b.communicate(timeout=10)
    finally:
        stop(a)
        stop(b)

    assert a.returncode == 0, a_err
    assert "error" not in a_err + b_err, a_err + b_err  # starting together is no conflict
    # A serve killed between sending a batch and writing its results leaves those rows leased:
    # they go again when the lease runs out (at-least-once). Every other message went once.
    sent_late = set(message_ids(smtp_server)) - sent_message_ids(db_url)
    assert sent_late <= leased_message_ids(db_url)
    assert_each_once(db_url, smtp_server, killed=len(sent_late))
    assert "service instances: 2 live" in live.stdout
    assert f":{a.pid}  live, pal " in live.stdout and f":{b.pid}  live, pal " in live.stdout
    report = wait_for(lambda: none_live(seeded), 10, "the killed instance silent")
    assert report["live_instances"] == []
    states = {i["pid"]: i["state"] for i in report["instances"]}
    assert states == {a.pid: "stopped", b.pid: "silent"}
    text = seeded("status").stdout
    assert "service instances: 1 stopped, 1 silent (presumed dead)" in text
    assert "presumed dead (killed, its host down) or stuck" in text


def more_after(db_url: str, server: SmtpServer) -> Callable[[], bool]:
    """A condition: more messages arrived than now, or nothing is left to send."""
    before = len(server.received)
    return lambda: len(server.received) > before or all_done(db_url, server)


def terminate_backends(db_url: str, pid: int) -> int:
    """Terminate every PostgreSQL connection of the `pal serve` with this process id (found by
    its application_name): only this test's service is touched."""
    rows = execute(
        db_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE :name",
        name=f"pal serve@%:{pid}",
    )
    return len(rows)


@on_postgresql
def test_serve_recovers_when_its_postgresql_backends_are_terminated(
    seeded: Pal, db_url: str, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    """Its connections terminated again and again while it sweeps and sends, `pal serve` goes
    on: every due message is sent once, every timer fires once, no traceback, and each outage
    it noticed is one line when it began and one when it ended."""
    many_agreements(db_url, 150)
    process = serve_smtp(db_url, tmp_path, smtp_server, PAL_SWEEP_SECONDS="0.3")
    terminated = 0
    try:
        wait_for(lambda: len(smtp_server.received) > 0, 60, "the first messages")
        for _ in range(10):
            terminated += terminate_backends(db_url, process.pid)
            wait_for(more_after(db_url, smtp_server), 30, "more messages")
        wait_for(lambda: all_done(db_url, smtp_server), 120, "every message sent")
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        stop(process)

    assert process.returncode == 0, err
    assert terminated > 0
    assert_each_once(db_url, smtp_server)
    assert "Traceback" not in err, err
    lost = [line for line in err.splitlines() if "database unreachable" in line]
    back = [line for line in err.splitlines() if "database reachable again" in line]
    assert len(lost) == len(back), err


# --- a lease that ran out -------------------------------------------------------------------------


def test_rows_claimed_by_another_dispatcher_after_the_lease_ran_out_are_left_to_it(
    seeded: Pal, db_url: str, tmp_path: Path
) -> None:
    """A dispatcher stalled past its lease finds its rows claimed by another when it comes to
    extend the lease: it sends none of them, and the other sends each once."""
    in_progress(seeded)  # its identification notices are due by the wall clock
    engine = make_engine(db_url)
    start = datetime.now(UTC)
    later = start + LEASE + timedelta(minutes=1)  # the first lease has run out
    other: list[Any] = []

    def stalled_clock() -> datetime:
        if not other:  # while the first dispatcher was stalled, another claimed its rows
            other.extend(claim_due(engine, later, 200))
        return later

    stalled, free = tmp_path / "stalled", tmp_path / "free"
    try:
        first = asyncio.run(
            deliver_due(engine, FileTransport(stalled), start, MAIL_FROM, clock=stalled_clock)
        )
        second = asyncio.run(deliver_due(engine, FileTransport(free), later + LEASE, MAIL_FROM))
    finally:
        engine.dispose()

    assert first.claimed == len(other) > 0 and first.sent == 0
    assert mail_files(stalled) == {}
    assert second.sent == len(mail_files(free)) == len(other)


# --- a database out of reach ----------------------------------------------------------------------


def test_an_outage_is_one_line_then_tries_back_off_to_their_cap_then_one_line_when_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="pal.service")
    moment = [0.0]
    outage = Outage(first=1, cap=60, clock=lambda: moment[0])
    assert outage.lost("connection refused")
    waits = []
    for _ in range(9):
        waits.append(outage.wait)
        moment[0] += outage.wait
        assert not outage.lost("connection refused")
    outage.back()

    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert not outage.ongoing
    assert [r.getMessage() for r in caplog.records] == [
        "database unreachable: connection refused; nothing is lost, trying again in 1 s, then "
        "less often (at most every 60 s)",
        "database reachable again after 4 min (10 tries); carrying on",
    ]
