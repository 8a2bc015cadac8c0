"""Scale-out on PostgreSQL (issue 14): three real `pal serve` processes share one database of
2,000 agreements whose deadlines are all due, against a real SMTP server on 127.0.0.1. Each
message arrives once (a duplicate only after a SIGKILL, with the same Message-ID), each timer
settles once, and the audit log verifies.

Time: the agreements were identified in 2018 and half of the signed ones' reviews fell due in
2019-2021, so by the wall clock `pal serve` reads at its edge everything is long due; nothing
here sets a clock. What the instances do together must equal what one sweep does alone: the
timers' outcomes below are those of `workflow.sweep.sweep` on the same data (see
test_service's catch-up tests).
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import PostgresTemplate, clone_postgres_template, postgres_schema
from helpers import execute
from smtp_server import SmtpServer
from test_service import many_agreements, sign_all, subprocess_env
from test_service_hardening import MAIL_FROM, Timed, resent, tick_after_the_lease

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

AGREEMENTS = 2000
SIGNED = 200  # signed on 2018-05-01: their RGA opens, and the 36-month review waits for it
INSTANCES = 3
SEED = 14  # the crash test's kill schedule
KILLS = 12
SERVER_GRACE_S = 1.0

# How each agreement's timers settle (cancelled ones left out: the signing cancelled the plan's).
UNSIGNED_TIMERS = {
    **{("plan_due", o): "skipped" for o in (-30, -14, -7, -1, 1, 8, 15)},
    ("plan_due", 22): "done",
    ("plan_due_state_superintendent", 30): "done",
}
SIGNED_TIMERS = {
    ("rga_due", -90): "skipped",
    ("rga_due", -30): "skipped",
    ("rga_due", 0): "done",  # open_rga, by the system actor
    ("review_24_due", -60): "skipped",
    ("review_24_due", 0): "skipped",  # waived: the 36-month review is due too
    ("review_36_due", -60): "skipped",
    ("review_36_due", 0): "waiting",  # until the RGA is determined
    **{(kind, o): "skipped" for kind in ("evidence_due", "conference_due", "determination_due")
       for o in (-7, 1)},
    **{(kind, 8): "done" for kind in ("evidence_due", "conference_due", "determination_due")},
}  # fmt: skip
# What the sweeps send: plan_overdue (2) and plan_overdue_accountability (1) per unsigned
# agreement; per signed one review_opened (3: superintendent, board president, liaison; the ISD
# superintendent is not on file), review_step_overdue (3 steps x 2) and action_not_possible (2).
EXPECTED_NOTICES = {
    "plan_overdue": 2 * (AGREEMENTS - SIGNED),
    "plan_overdue_accountability": AGREEMENTS - SIGNED,
    "review_opened": 3 * SIGNED,
    "review_step_overdue": 6 * SIGNED,
    "action_not_possible": 2 * SIGNED,
}
EXPECTED_MESSAGES = sum(EXPECTED_NOTICES.values())


@pytest.fixture(scope="module")
def due_template(postgres_template: PostgresTemplate) -> Iterator[PostgresTemplate]:
    """The seeded registry with AGREEMENTS agreements (SIGNED of them signed), built once through
    the engine in-process and copied into each test's schema."""
    with postgres_schema("t_scale") as url:
        clone_postgres_template(url, postgres_template)
        ids = many_agreements(url, AGREEMENTS)
        sign_all(url, ids[:SIGNED], date(2018, 5, 1))
        yield replace(postgres_template, schema=url.rsplit("%3D", 1)[1])


@pytest.fixture
def due_db(postgres_url: str, due_template: PostgresTemplate) -> str:
    clone_postgres_template(postgres_url, due_template)
    return postgres_url


class Slow(Timed):
    """Accepts each message after `delay` seconds: deliveries are in flight when a kill lands."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@dataclass
class Instances:
    """`pal serve` processes on one database, each logging to a file of its own."""

    db_url: str
    folder: Path
    server: SmtpServer
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    kills: list[float] = field(default_factory=list)  # time.monotonic() of each SIGKILL

    def start(self) -> subprocess.Popen[bytes]:
        log = (self.folder / f"serve{len(self.processes)}.log").open("wb")
        env = {"PAL_SMTP_HOST": self.server.host, "PAL_SMTP_PORT": str(self.server.port)}
        process = subprocess.Popen(
            [sys.executable, "-m", "workflow", "serve"],
            env=subprocess_env(self.db_url, PAL_MAIL_FROM=MAIL_FROM, PAL_SWEEP_SECONDS="0.5",
                               **env),
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )  # fmt: skip
        log.close()
        self.processes.append(process)
        return process

    def live(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.processes if p.poll() is None]

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        self.kills.append(time.monotonic())
        process.wait(10)

    def stop_all(self) -> list[int]:
        """SIGTERM to every live instance; their exit codes."""
        for process in self.live():
            process.send_signal(signal.SIGTERM)
        return [p.wait(60) for p in self.processes if p.returncode != -signal.SIGKILL]

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.folder.glob("serve*.log")))


@pytest.fixture
def instances(due_db: str, tmp_path: Path) -> Iterator[Callable[[SmtpServer], Instances]]:
    made: list[Instances] = []

    def make(server: SmtpServer) -> Instances:
        made.append(Instances(due_db, tmp_path, server))
        return made[-1]

    yield make
    for group in made:
        for process in group.live():
            process.kill()
            process.wait(10)


def until(condition: Callable[[], Any], timeout: float, what: str) -> None:
    """Poll `condition` four times a second (each poll is a new connection to the database)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.25)


def pending_timers(db_url: str) -> int:
    now = datetime.now(UTC)
    rows = execute(
        db_url, "SELECT count(*) FROM timer WHERE status = 'pending' AND fire_at <= :now", now=now
    )
    return int(rows[0][0])


def unsent(db_url: str, *, due_only: bool = False) -> int:
    """Messages the timers queued that are not sent yet (`due_only`: nor leased to anyone)."""
    due = " AND next_attempt_at <= :now" if due_only else ""
    rows = execute(
        db_url,
        "SELECT count(*) FROM outbox WHERE occurrence LIKE 'timer%' "
        f"AND status NOT IN ('sent', 'unaddressed'){due}",
        now=datetime.now(UTC),
    )
    return int(rows[0][0])


def unfinished(db_url: str) -> int:
    """Timers due and not settled, and timer messages not yet sent: 0 when the work is done."""
    return pending_timers(db_url) + unsent(db_url)


def sent_notices(db_url: str) -> dict[str, int]:
    sql = "SELECT notice, count(*) FROM outbox WHERE status = 'sent' GROUP BY notice"
    return dict(execute(db_url, sql))


def sent_message_ids(db_url: str) -> list[str]:
    return [r[0] for r in execute(db_url, "SELECT message_id FROM outbox WHERE status = 'sent'")]


def received_ids(handler: Timed) -> Counter[str]:
    return Counter(message_id for message_id, _ in handler.accepted)


def assert_every_timer_settled_once(db_url: str) -> None:
    """Each agreement's timers ended as one sweep would have left them; each timed action is
    one audit row by `system`."""
    rows = execute(
        db_url,
        "SELECT agreement_id, ladder, offset_days, status FROM timer WHERE status <> 'cancelled'",
    )
    found: dict[int, dict[tuple[str, int], str]] = {}
    for agreement, ladder, offset, status in rows:
        found.setdefault(agreement, {})[(ladder, offset)] = status
    signed = {a for (a,) in execute(db_url, "SELECT id FROM agreement WHERE signed_on IS NOT NULL")}
    assert len(found) == AGREEMENTS and len(signed) == SIGNED
    wrong = [
        (agreement, timers)
        for agreement, timers in found.items()
        if timers != (SIGNED_TIMERS if agreement in signed else UNSIGNED_TIMERS)
    ]
    assert wrong == [], wrong[:3]
    by_system = execute(
        db_url,
        "SELECT event, agreement_id, count(*) FROM audit WHERE actor = 'system' "
        "GROUP BY event, agreement_id",
    )
    assert Counter((event, n) for event, _, n in by_system) == {
        ("sign", 1): SIGNED,
        ("open_rga", 1): SIGNED,
    }


def errors(logs: str) -> list[str]:
    """The instances' error lines (none is expected: not even the first beats of instances
    starting at once collide, since the shared heartbeat is one upsert)."""
    return [line for line in logs.splitlines() if "error:" in line or "Traceback" in line]


def audit_verifies(db_url: str, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workflow", "audit", "verify"],
        env=subprocess_env(db_url),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# --- acceptance ---------------------------------------------------------------------------------


def test_three_instances_send_every_message_once_and_fire_every_timer_once(
    due_db: str,
    tmp_path: Path,
    smtp_server_factory: Callable[..., SmtpServer],
    instances: Callable[[SmtpServer], Instances],
) -> None:
    """Three `pal serve` on one PostgreSQL database with 2,000 agreements due: every message the
    timers queue is received exactly once (compared by Message-ID with the outbox), every timer
    settles as one sweep alone would settle it, and each timed action is audited once."""
    handler = Timed()
    group = instances(smtp_server_factory(handler=handler))
    began = time.monotonic()
    for _ in range(INSTANCES):
        group.start()
    until(lambda: unfinished(due_db) == 0 and len(handler.accepted) > 0, 600, "all the work")
    took = time.monotonic() - began
    assert group.stop_all() == [0] * INSTANCES, group.logs()[-3000:]
    print(f"\n3 instances: {EXPECTED_MESSAGES} messages and all timers in {took:.1f} s")

    assert_every_timer_settled_once(due_db)
    assert sent_notices(due_db) == EXPECTED_NOTICES
    outbox_ids = sent_message_ids(due_db)
    assert len(outbox_ids) == len(set(outbox_ids)) == EXPECTED_MESSAGES
    assert received_ids(handler) == Counter(outbox_ids)  # each exactly once
    assert errors(group.logs()) == []
    # Each instance did a share of the work (none sat idle behind a lock).
    for log in sorted(tmp_path.glob("serve*.log")):
        assert "swept:" in log.read_text() and "delivered:" in log.read_text(), log.name


# --- crash ------------------------------------------------------------------------------------


def test_instances_killed_mid_sweep_and_mid_delivery_lose_nothing_and_the_audit_verifies(
    due_db: str,
    tmp_path: Path,
    smtp_server_factory: Callable[..., SmtpServer],
    instances: Callable[[SmtpServer], Instances],
) -> None:
    """SIGKILL a random instance at random moments while the three sweep and deliver (a slow
    SMTP server keeps messages in flight), starting another each time; then stop them and run
    `pal tick` after the 10-minute lease. Nothing is lost: every message arrived, a duplicate
    only after a kill and with its Message-ID; every timer settled once; `pal audit verify`
    exits 0."""
    print(f"\ncrash test seed {SEED}")
    chance = random.Random(SEED)
    handler = Slow(delay=0.005)
    server = smtp_server_factory(handler=handler)
    group = instances(server)
    for _ in range(INSTANCES):
        group.start()
    until(lambda: unsent(due_db) > 0, 60, "the first sweep batch")
    # Half the kills while due timers are pending (sweeps in flight, and deliveries beside them),
    # half once the sweeps are done and only deliveries are in flight.
    mid_sweep = kill_at_random(group, chance, lambda: pending_timers(due_db) > 0, KILLS // 2)
    until(lambda: pending_timers(due_db) == 0, 600, "the sweeps")

    def still_to_send() -> bool:  # messages not yet claimed: deliveries go on
        return unsent(due_db, due_only=True) > 0

    mid_delivery = kill_at_random(group, chance, still_to_send, KILLS - mid_sweep)
    print(f"{len(group.kills)} kills: {mid_sweep} mid-sweep, {mid_delivery} mid-delivery")
    until(lambda: unsent(due_db, due_only=True) == 0, 600, "every message not leased")
    assert group.stop_all() == [0] * INSTANCES, group.logs()[-3000:]
    tick_after_the_lease(due_db, tmp_path, server)

    assert mid_sweep > 0 and mid_delivery > 0, (mid_sweep, mid_delivery)
    outbox_ids = sent_message_ids(due_db)
    assert sent_notices(due_db) == EXPECTED_NOTICES
    assert errors(group.logs()) == []
    received = received_ids(handler)
    assert set(received) == set(outbox_ids)  # nothing lost, nothing foreign
    again = resent(handler.accepted)
    # A message sent twice was first sent by an instance then killed: accepted before the kill,
    # or just after it (the server finishes a message whose sender has died: SERVER_GRACE_S).
    assert all(first <= max(group.kills) + SERVER_GRACE_S for _, first in again)
    assert all(at >= group.kills[0] for at in _second_receipts(handler))
    ages = [min(abs(k - first) for k in group.kills) for _, first in again]
    print(f"{len(again)} messages received twice, each first accepted within "
          f"{max(ages, default=0):.3f} s of a kill")  # fmt: skip
    assert_every_timer_settled_once(due_db)
    verified = audit_verifies(due_db, tmp_path)
    assert verified.returncode == 0, verified.stderr


def kill_at_random(
    group: Instances, chance: random.Random, busy: Callable[[], bool], most: int
) -> int:
    """While `busy()`, up to `most` times: wait 0.2 to 1.5 s, SIGKILL a live instance chosen at
    random and start another. How many were killed while still `busy()`."""
    killed = 0
    while killed < most and busy():
        time.sleep(chance.uniform(0.2, 1.5))
        if busy():
            group.kill(chance.choice(group.live()))
            killed += 1
            group.start()
    return killed


def _second_receipts(handler: Timed) -> list[float]:
    seen: set[str] = set()
    later = []
    for message_id, at in handler.accepted:
        if message_id in seen:
            later.append(at)
        seen.add(message_id)
    return later
