"""Concurrent changes to one agreement: exactly one wins, the other is refused, nothing is lost.

Two long-lived OS processes (`sys.executable -c ...`, running `workflow.cli.main()`) import
everything once, then for each race are released at the same instant through a file barrier, so
start-up time neither slows the suite nor spreads the two writes apart. The engine-level tests
interleave two transactions deterministically.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import (
    DIRECTOR,
    ESCALATION_NOTE,
    LIAISON,
    STATE_SUPERINTENDENT,
    TRAD,
    TRAD_PARTIES,
    Pal,
    escalate,
    identify,
    show,
    sign,
    signed_agreement,
    snapshot,
    start_assessment,
)

from states.context import Context
from states.errors import ConcurrentModification, NotAllowedInState, PalError
from storage.db import make_engine, transaction
from storage.models import Agreement
from workflow.actors import Actor
from workflow.engine import Request, apply

pytestmark = pytest.mark.slow

# A racer process: imports everything a command needs once, then for each round k reads its
# command, reports ready, waits for the shared go file and runs the CLI, writing its outcome.
RACER = """
import contextlib, io, json, os, sys, time
from pathlib import Path
from workflow.cli import main
import workflow.cli.agreement, workflow.engine, workflow.app, workflow.views, storage.db
from config.rules import load_rules
from states.agreement import AGREEMENT
load_rules(); AGREEMENT.machine
import sqlalchemy.dialects.postgresql.psycopg, sqlalchemy.dialects.sqlite.pysqlite

folder, me = Path(sys.argv[1]), sys.argv[2]

def wait_for(path):
    limit = time.monotonic() + 120
    while not path.exists():
        if (folder / "stop").exists() or time.monotonic() > limit:
            sys.exit(0)
        time.sleep(0.0005)

for k in range(10_000):
    command = folder / f"command-{k}-{me}.json"
    wait_for(command)
    args = json.loads(command.read_text())
    (folder / f"ready-{k}-{me}").touch()
    wait_for(folder / f"go-{k}")
    out, err = io.StringIO(), io.StringIO()
    sys.argv = ["pal", *args]
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    result = {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}
    (folder / f"result-{k}-{me}.tmp").write_text(json.dumps(result))
    (folder / f"result-{k}-{me}.tmp").rename(folder / f"result-{k}-{me}.json")
"""


@dataclass(frozen=True)
class Finished:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str


class Racers:
    """Two long-lived OS processes running the real CLI; `race` releases both at one instant."""

    def __init__(self, folder: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAL_")}
        self.folder = folder
        self.round = 0
        self.procs = [
            subprocess.Popen([sys.executable, "-c", RACER, str(folder), str(n)], env=env,
                             cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for n in range(2)
        ]  # fmt: skip

    def _wait(self, paths: list[Path]) -> None:
        limit = time.monotonic() + 60
        while not all(p.exists() for p in paths):
            dead = [p for p in self.procs if p.poll() is not None]
            assert not dead, [p.communicate() for p in dead]
            assert time.monotonic() < limit, f"racers never produced {paths}"
            time.sleep(0.001)

    def race(self, db_url: str, *commands: list[str]) -> list[Finished]:
        k, self.round = self.round, self.round + 1
        for n, command in enumerate(commands):
            args = ["--database-url", db_url, *command]
            staged = self.folder / f"command-{k}-{n}.tmp"
            staged.write_text(json.dumps(args))
            staged.rename(self.folder / f"command-{k}-{n}.json")  # appears whole, never partial
        try:
            self._wait([self.folder / f"ready-{k}-{n}" for n in range(len(commands))])
        finally:
            (self.folder / f"go-{k}").touch()  # never leave a racer waiting on a dead round
        results = [self.folder / f"result-{k}-{n}.json" for n in range(len(commands))]
        self._wait(results)
        found = [json.loads(path.read_text()) for path in results]
        return [Finished(c, r["code"], r["stdout"], r["stderr"])
                for c, r in zip(commands, found, strict=True)]  # fmt: skip

    def stop(self) -> None:
        (self.folder / "stop").touch()
        for proc in self.procs:
            try:
                proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()


@pytest.fixture(scope="session")
def racers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Racers]:
    found = Racers(tmp_path_factory.mktemp("racers"))
    yield found
    found.stop()


def assert_one_winner(results: list[Finished]) -> None:
    codes = sorted(r.returncode for r in results)
    assert codes[0] == 0 and codes[1] in (3, 5), [(r.returncode, r.stderr) for r in results]
    assert codes.count(0) == 1
    loser = next(r for r in results if r.returncode != 0)
    assert loser.stdout == ""
    assert len(loser.stderr.splitlines()) == 1, loser.stderr
    assert loser.stderr.startswith("error: ")
    for result in results:
        assert "Traceback" not in result.stderr


def events(pal: Pal, agreement: int) -> list[str]:
    return [h["event"] for h in show(pal, agreement)["history"]]


@pytest.mark.parametrize("round_", range(3))
def test_two_processes_escalating_one_agreement_one_wins(
    seeded: Pal, db_url: str, racers: Racers, round_: int
) -> None:
    """Two escalations at the same moment: one exits 0, the other 3 or 5; one escalate recorded."""
    agreement = signed_agreement(seeded)
    command = ["agreement", "fire", str(agreement), "escalate", "--set", "option=closure",
               "--by", STATE_SUPERINTENDENT, "--note", ESCALATION_NOTE]  # fmt: skip
    assert_one_winner(racers.race(db_url, command, command))
    view = show(seeded, agreement)
    assert view["state"] == "next_level_accountability"
    assert events(seeded, agreement).count("escalate") == 1


def test_two_processes_opening_the_rga_one_wins(seeded: Pal, db_url: str, racers: Racers) -> None:
    """Two directors open the RGA at once: one succeeds, the other is refused (3 or 5)."""
    agreement = signed_agreement(seeded)
    command = ["agreement", "fire", str(agreement), "open_rga", "--by", DIRECTOR,
               "--on", "2019-10-01"]  # fmt: skip
    assert_one_winner(racers.race(db_url, command, command))
    view = show(seeded, agreement)
    assert view["state"] == "rga"
    assert events(seeded, agreement).count("open_rga") == 1
    assert [d["status"] for d in view["deadlines"] if d["kind"] == "rga_due"] == ["met"]


def test_two_processes_escalating_and_opening_the_rga_apply_in_some_order(
    seeded: Pal, db_url: str, racers: Racers
) -> None:
    """Different events at once: each is applied whole or refused (3 or 5), never half."""
    agreement = signed_agreement(seeded)
    escalation = ["agreement", "fire", str(agreement), "escalate", "--set", "option=closure",
                  "--by", STATE_SUPERINTENDENT, "--on", "2019-10-01",
                  "--note", ESCALATION_NOTE]  # fmt: skip
    open_rga = ["agreement", "fire", str(agreement), "open_rga", "--by", DIRECTOR,
                "--on", "2019-10-01"]  # fmt: skip
    results = racers.race(db_url, escalation, open_rga)
    for result in results:
        assert result.returncode in (0, 3, 5), result.stderr
        assert "Traceback" not in result.stderr
        if result.returncode:
            assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    escalated, opened = (result.returncode == 0 for result in results)
    assert escalated or opened, [r.stderr for r in results]
    # Both may apply only one after the other: the RGA opened first, then escalation (rga is an
    # active state). Either way each applied event is in the history exactly once.
    history = events(seeded, agreement)
    assert history.count("escalate") == int(escalated)
    assert history.count("open_rga") == int(opened)
    if escalated and opened:
        assert history[-2:] == ["open_rga", "escalate"]
    state = show(seeded, agreement)["state"]
    assert state == ("next_level_accountability" if escalated else "rga")


def test_two_processes_recording_the_last_signature_sign_once(
    seeded: Pal, db_url: str, racers: Racers
) -> None:
    """The same last signature recorded twice at once: one `sign`, one refusal (3 or 5)."""
    agreement = identify(seeded)
    start_assessment(seeded, agreement)
    sign(seeded, agreement, TRAD_PARTIES[:-1])
    command = ["agreement", "sign", str(agreement), "--party", TRAD_PARTIES[-1], "--by", LIAISON]
    assert_one_winner(racers.race(db_url, command, command))
    history = events(seeded, agreement)
    assert history.count("sign") == 1
    assert history.count("record_signature") == len(TRAD_PARTIES)


# --- engine level --------------------------------------------------------------------------------

NOW = datetime(2019, 10, 1, 16, 0, tzinfo=UTC)
DIRECTOR_ACTOR = Actor(DIRECTOR, "director")
STATE_SUPERINTENDENT_ACTOR = Actor(STATE_SUPERINTENDENT, "state_superintendent")


@pytest.fixture
def store(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def test_a_stale_copy_the_session_holds_is_not_what_the_engine_acts_on(
    seeded: Pal, db_url: str, store: sa.Engine
) -> None:
    """An agreement object read before someone else's commit, held by the caller's session, is
    not what the engine judges: it reads the row as committed, refuses the event for the state
    the agreement is really in, and writes nothing."""
    agreement = signed_agreement(seeded)
    with transaction(store, read_only=True) as session:
        stale = session.get(Agreement, agreement)
    escalate(seeded, agreement, on="2019-10-01")
    before = snapshot(db_url)

    def open_rga_from_the_stale_copy() -> None:
        with transaction(store) as session:
            session.add(stale)  # the session now holds the copy read before the escalation
            apply(session, Request("open_rga", DIRECTOR_ACTOR, case=agreement,
                                   on=date(2019, 10, 1)), Context(now=NOW))  # fmt: skip

    with pytest.raises(NotAllowedInState, match="not allowed in state next_level_accountability"):
        open_rga_from_the_stale_copy()
    assert snapshot(db_url) == before


def test_a_change_committed_between_read_and_write_is_detected(
    seeded: Pal, db_url: str, store: sa.Engine, backend: str
) -> None:
    """Session A reads, session B commits an escalation, A's open_rga fails and changes nothing.

    On SQLite a write transaction starts with BEGIN IMMEDIATE and would simply queue B behind A,
    so A reads in a deferred transaction there: the engine reads A's stale snapshot, and the
    version check refuses the write. On PostgreSQL (read committed) the engine's own read of the
    row sees B's commit, and open_rga is refused for the state the agreement is in now.
    """
    agreement = signed_agreement(seeded)
    after_b: list[object] = []

    def interleave() -> None:
        with transaction(store, read_only=backend == "sqlite") as first:
            held = first.get(Agreement, agreement)  # kept in first's identity map
            assert held.state == "signed"
            with transaction(store) as second:
                apply(second, Request("escalate", STATE_SUPERINTENDENT_ACTOR, case=agreement,
                                      data={"option": "closure"}, note=ESCALATION_NOTE),
                      Context(now=NOW))  # fmt: skip
            after_b.append(snapshot(db_url))
            apply(first, Request("open_rga", DIRECTOR_ACTOR, case=agreement),
                  Context(now=NOW))  # fmt: skip

    refused = ConcurrentModification if backend == "sqlite" else NotAllowedInState
    with pytest.raises(refused):
        interleave()
    assert snapshot(db_url) == after_b[0]
    assert show(seeded, agreement)["state"] == "next_level_accountability"


def _in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # collected for the test to inspect
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def test_two_concurrent_identifies_of_one_district_leave_one_active_agreement(
    seeded: Pal, db_url: str, store: sa.Engine
) -> None:
    """Two transactions identifying the same district at once: one agreement, one refusal."""
    identified = threading.Event()
    second_done = threading.Event()

    def identify_in(ready: threading.Event | None, wait_for: threading.Event | None) -> None:
        with transaction(store) as session:
            apply(session, Request("identify", DIRECTOR_ACTOR, parent=TRAD,
                                   on=date(2019, 9, 30), rules_version="2017-10"),
                  Context(now=NOW))  # fmt: skip
            session.flush()
            if ready is not None:
                ready.set()
            if wait_for is not None:
                wait_for.wait(timeout=0.5)  # on SQLite the other writer queues behind us

    first, first_errors = _in_thread(lambda: identify_in(identified, second_done))
    assert identified.wait(timeout=30)
    second, second_errors = _in_thread(lambda: identify_in(None, None))
    second.join(timeout=0.5)
    second_done.set()
    first.join(timeout=30)
    second.join(timeout=30)
    errors = first_errors + second_errors
    assert all(isinstance(e, PalError) for e in errors), errors
    rows = sa.select(Agreement.id).where(Agreement.district_code == TRAD)
    with transaction(store, read_only=True) as session:
        active = session.execute(rows).scalars().all()
    assert len(active) == 1, f"{len(active)} active agreements for {TRAD}: {active}"
    assert len(errors) == 1
    assert isinstance(errors[0], NotAllowedInState | ConcurrentModification)
