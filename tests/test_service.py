"""The service around the sweep: killed and restarted, `pal serve`, naive `--now`, the file
backend. Processes are real subprocesses; time moves only through `--now` or `Context(now=...)`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time as clock
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    DIRECTOR,
    LIAISON,
    PSA,
    STATE_SUPERINTENDENT,
    STATUS_EXITS,
    TRAD,
    Pal,
    execute,
    identify,
    person,
    start_assessment,
)
from service_support import (
    PLAN_DUE,
    PSA_REMINDED,
    RGA_DUE,
    TRAD_IDENTIFIED,
    TRAD_REMINDED,
    duplicate_keys,
    expected,
    local,
    mail_log,
    outbox,
    parse,
    state_of,
    tick,
    timer_statuses,
    use_mail_dir,
)
from sqlmodel import select

from states.context import Context
from storage.db import make_engine, transaction
from storage.models import Assignment, District, Person
from storage.service_models import Timer
from workflow import sweep as sweep_module
from workflow.actors import Actor
from workflow.engine import Request, apply
from workflow.sweep import sweep


def mail_files(mail_dir: Path) -> dict[str, float]:
    """Each .eml file in `mail_dir` and its modification time."""
    if not mail_dir.exists():
        return {}
    return {p.name: p.stat().st_mtime_ns for p in mail_dir.glob("*.eml")}


def mail_dir_log(mail_dir: Path) -> list[tuple[int, str, str]]:
    messages = [parse(p.read_bytes()) for p in sorted(mail_dir.glob("*.eml"))]
    # The recipient as the To header names it (with a display name since issue 12).
    return mail_log(([m["To"].addresses[0].addr_spec], m) for m in messages)


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = clock.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if clock.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        clock.sleep(0.02)


def subprocess_env(db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAL_")}
    return {**env, "PAL_DATABASE_URL": db_url, **extra}


def in_progress(pal: Pal, district: str = TRAD, on: str = "2018-03-01") -> int:
    agreement = identify(pal, district, on=on)
    start_assessment(pal, agreement, on=on)
    return agreement


# --- the file backend and local time ----------------------------------------------------------


def test_without_an_smtp_host_each_message_is_one_eml_file_and_a_second_tick_writes_nothing(
    seeded: Pal, tmp_path: Path
) -> None:
    """The embedded default writes one .eml per message into PAL_MAIL_DIR; a repeated tick
    leaves the folder exactly as it was."""
    mail_dir = tmp_path / "mail-folder"
    use_mail_dir(seeded, mail_dir)
    trad = in_progress(seeded, TRAD)
    psa = in_progress(seeded, PSA)
    when = local(PLAN_DUE, offset_days=-30)

    tick(seeded, when)

    files = mail_files(mail_dir)
    assert len(files) == len(TRAD_REMINDED) + len(PSA_REMINDED)
    assert mail_dir_log(mail_dir) == sorted(
        expected(trad, "plan_reminder", TRAD_REMINDED)
        + expected(psa, "plan_reminder", PSA_REMINDED)
    )
    assert sorted(p.name for p in mail_dir.iterdir()) == sorted(files)  # no temporary leftovers
    sent = [r for r in outbox(seeded) if r["notice"] == "plan_reminder"]
    assert {r["status"] for r in sent} == {"sent"}

    tick(seeded, when)
    tick(seeded, local(PLAN_DUE, time(9, 0), offset_days=-30))

    assert mail_files(mail_dir) == files


def test_a_naive_now_is_local_time_so_an_0800_reminder_goes_at_0800_detroit_not_0759(
    seeded: Pal, tmp_path: Path
) -> None:
    """`pal tick --now 2018-06-01T08:00` means 08:00 in America/Detroit: a reminder due then is
    sent at 08:00, not at 07:59 (nor at 11:59 UTC, the same instant as 07:59 local)."""
    mail_dir = tmp_path / "mail"
    use_mail_dir(seeded, mail_dir)
    agreement = in_progress(seeded, TRAD, on="2018-04-02")  # plan due 2018-07-01; -30 = 06-01

    tick(seeded, "2018-06-01T07:59")
    tick(seeded, "2018-06-01T11:59:59+00:00")
    assert mail_files(mail_dir) == {}
    assert timer_statuses(seeded.db_url, agreement)[("plan_due", -30)] == "pending"

    result = tick(seeded, "2018-06-01T08:00")

    assert "1 timers fired" in result.stdout
    assert mail_dir_log(mail_dir) == expected(agreement, "plan_reminder", TRAD_REMINDED)


def test_pal_status_shows_the_last_tick_the_outbox_counts_and_the_next_timer(
    seeded: Pal, tmp_path: Path
) -> None:
    """After a tick, `pal status --json` shows its heartbeat at the tick's `now`, the outbox by
    status, and the next reminder still to come."""
    use_mail_dir(seeded, tmp_path / "mail")
    in_progress(seeded)
    when = local(PLAN_DUE, offset_days=-30)

    tick(seeded, when)

    report = status(seeded)
    [beat] = [h for h in report["heartbeats"] if h["name"] == "tick"]
    assert datetime.fromisoformat(beat["at"]) == datetime.fromisoformat(when)
    assert "fired=1" in beat["detail"]
    assert report["outbox"]["sent"] == len(TRAD_REMINDED)
    assert report["timers_pending"] == 8
    assert datetime.fromisoformat(report["next_timer_at"]) == datetime.fromisoformat(
        local(PLAN_DUE, offset_days=-14)
    )
    assert [(d["kind"], d["due"]) for d in report["next_deadlines"]] == [
        ("plan_due", PLAN_DUE.isoformat())
    ]


# --- killed mid-sweep -------------------------------------------------------------------------

AGREEMENTS = 40
KILL_SCRIPT = """
import sys
from datetime import datetime
from storage.db import make_engine
from states.context import Context
import time
import workflow.sweep as sweeping

# Every claim after the first waits a moment, so the kill lands between committed batches however
# fast a batch has become (the sweep itself runs unchanged).
claim, claims = sweeping._claim, []
def slow_claim(*args, **kwargs):
    if claims:
        time.sleep(0.05)
    claims.append(1)
    return claim(*args, **kwargs)
sweeping._claim = slow_claim

url, now, batch = sys.argv[1], datetime.fromisoformat(sys.argv[2]), int(sys.argv[3])
sweeping.sweep(make_engine(url), Context(now=now), batch=batch)
print("sweep finished", flush=True)
"""


def many_agreements(db_url: str, count: int) -> list[int]:
    """`count` districts, each with a superintendent and board president, and an agreement
    identified on 2018-03-01 with the liaison named: nine timers each."""
    engine = make_engine(db_url)
    # Recorded "now" (as the CLI would, by the wall clock): their own notices are not due in 2018.
    ctx = Context(now=datetime(2030, 1, 1, 17, 0, tzinfo=UTC))
    director = Actor(DIRECTOR, "director")
    liaison = Actor(LIAISON, "liaison")
    ids = []
    try:
        with transaction(engine) as session:
            codes = [f"K{n:04d}" for n in range(count)]
            session.add_all(District(code=c, name=f"District {c}", isd="Wayne RESA") for c in codes)
            session.flush()
            for code in codes:
                for role in ("superintendent", "board_president"):
                    email = person(code, role)
                    session.add(Person(email=email, name=role))
            session.flush()
            for code in codes:
                for role in ("superintendent", "board_president"):
                    email = person(code, role)
                    session.add(Assignment(email=email, role=role, district_code=code))
            session.flush()
            for code in codes:
                agreement = apply(
                    session,
                    Request("identify", director, parent=code, on=date(2018, 3, 1),
                            rules_version="2017-10"),
                    ctx,
                )  # fmt: skip
                assert agreement.id is not None
                apply(
                    session,
                    Request("start_assessment", liaison, case=agreement.id,
                            on=date(2018, 3, 1), data={"liaison": LIAISON}),
                    ctx,
                )  # fmt: skip
                ids.append(agreement.id)
    finally:
        engine.dispose()
    return ids


def timer_outbox_rows(db_url: str) -> int:
    return int(execute(db_url, "SELECT count(*) FROM outbox WHERE occurrence LIKE 'timer%'")[0][0])


def pending_due(db_url: str, now: str) -> list[int]:
    """Timers still pending although due at `now`."""
    engine = make_engine(db_url)
    try:
        with transaction(engine, read_only=True) as session:
            return list(
                session.exec(
                    select(Timer.id).where(
                        Timer.status == "pending", Timer.fire_at <= datetime.fromisoformat(now)
                    )
                ).all()
            )
    finally:
        engine.dispose()


def test_a_sweep_killed_midway_and_restarted_loses_no_deadline_and_repeats_nothing(
    seeded: Pal, db_url: str, tmp_path: Path
) -> None:
    """SIGKILL part way through a catch-up sweep, then `pal tick` at the same moment: every due
    timer ends done or skipped exactly once, no idempotency key twice, nothing due left pending."""
    ids = many_agreements(db_url, AGREEMENTS)
    now = local(PLAN_DUE, offset_days=40)
    script = tmp_path / "sweep_once.py"
    script.write_text(KILL_SCRIPT)
    process = subprocess.Popen(
        [sys.executable, str(script), db_url, now, "2"],
        env=subprocess_env(db_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: timer_outbox_rows(db_url) > 0, 30, "the first committed batch")
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == -signal.SIGKILL, process.stdout.read() if process.stdout else ""
    assert pending_due(db_url, now), "the sweep finished before it was killed: nothing to test"

    use_mail_dir(seeded, tmp_path / "mail")
    tick(seeded, now)

    assert pending_due(db_url, now) == []
    for agreement in ids:
        assert timer_statuses(db_url, agreement) == {
            **{("plan_due", o): "skipped" for o in (-30, -14, -7, -1, 1, 8, 15)},
            ("plan_due", 22): "done",
            ("plan_due_state_superintendent", 30): "done",
        }, agreement
    assert duplicate_keys(db_url) == []
    per_notice = execute(
        db_url,
        "SELECT agreement_id, notice, count(*) FROM outbox WHERE occurrence LIKE 'timer%' "
        "GROUP BY agreement_id, notice",
    )
    assert sorted(per_notice) == sorted(
        [(a, "plan_overdue", 2) for a in ids] + [(a, "plan_overdue_accountability", 1) for a in ids]
    )
    assert len(mail_files(tmp_path / "mail")) == 3 * AGREEMENTS


def sign_all(db_url: str, ids: list[int], on: date) -> None:
    engine = make_engine(db_url)
    ctx = Context(now=datetime(2030, 1, 1, 17, 0, tzinfo=UTC))
    try:
        with transaction(engine) as session:
            for agreement in ids:
                for party in ("board", "superintendent", "mde"):
                    request = Request("record_signature", Actor(LIAISON, "liaison"),
                                      case=agreement, on=on, data={"party": party})  # fmt: skip
                    apply(session, request, ctx)
    finally:
        engine.dispose()


@pytest.mark.parametrize("batch", [1, 3, 500])
def test_a_catch_up_sweep_in_any_batch_size_fires_timed_actions_and_skips_overtaken_reminders(
    seeded: Pal, db_url: str, batch: int
) -> None:
    """After downtime past the RGA due date, one sweep (reminders and timed actions interleaved
    in due order, claimed in batches of any size) opens the RGA of every signed agreement and
    sends it no overtaken RGA reminder, while the unsigned ones get only their latest plan step."""
    ids = many_agreements(db_url, 6)
    signed, unsigned = ids[::2], ids[1::2]
    sign_all(db_url, signed, date(2018, 5, 1))
    now = datetime.fromisoformat(local(RGA_DUE, offset_days=1))

    report = sweep(make_engine(db_url), Context(now=now), batch=batch)

    opened = "open the 18-month Review of Goal Attainment; now at 18-month Review of Goal "
    opened += "Attainment"
    assert sorted(report.actions) == [f"partnership agreement {a}: {opened}" for a in signed]
    assert report.blocked == []
    for agreement in signed:
        assert state_of(db_url, agreement) == "rga"
        statuses = timer_statuses(db_url, agreement)
        assert (statuses[("rga_due", -90)], statuses[("rga_due", -30)]) == ("skipped", "skipped")
        assert (statuses[("rga_due", 0)], statuses[("review_36_due", -60)]) == ("done", "pending")
    for agreement in unsigned:
        assert state_of(db_url, agreement) == "needs_assessment"
        statuses = timer_statuses(db_url, agreement)
        assert statuses[("plan_due", 22)] == statuses[("plan_due_state_superintendent", 30)]
        assert statuses[("plan_due", 22)] == "done"
        assert sorted(v for k, v in statuses.items() if k[1] < 22) == ["skipped"] * 7
    notices = execute(
        db_url,
        "SELECT notice, count(*) FROM outbox WHERE occurrence LIKE 'timer%' GROUP BY notice",
    )
    assert sorted(notices) == [("plan_overdue", 2 * 3), ("plan_overdue_accountability", 3)]
    assert sweep(make_engine(db_url), Context(now=now), batch=batch).fired == 0


# --- pal serve --------------------------------------------------------------------------------


def serve(db_url: str, tmp_path: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "workflow", "serve", *args],
        env=subprocess_env(db_url, PAL_MAIL_DIR=str(tmp_path / "mail"), **env),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def status(pal: Pal) -> dict[str, Any]:
    result = pal("status", "--json")
    assert result.exit_code in STATUS_EXITS, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(10)


def test_pal_serve_beats_delivers_due_mail_to_the_folder_and_stops_on_sigterm(
    seeded: Pal, db_url: str, tmp_path: Path
) -> None:
    """`pal serve` sweeps on its interval, writes a heartbeat `pal status` shows, delivers what
    is due into the mail folder once, and exits 0 promptly on SIGTERM."""
    agreement = in_progress(seeded)  # by the wall clock every plan step is long past
    process = serve(db_url, tmp_path, PAL_SWEEP_SECONDS="0.2")
    try:
        wait_for(lambda: len(mail_files(tmp_path / "mail")) >= 6, 20, "six messages")
        beats = wait_for(
            lambda: [h for h in status(seeded)["heartbeats"] if h["name"] == "serve"],
            10,
            "a serve heartbeat",
        )
        assert f"pid={process.pid}" in beats[0]["detail"]
        clock.sleep(0.5)  # a few more sweeps and delivery passes: nothing new may appear
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        stop(process)

    assert process.returncode == 0, err
    assert "pal serve stopped" in out
    assert mail_dir_log(tmp_path / "mail") == sorted(
        expected(agreement, "identified", TRAD_IDENTIFIED)
        + expected(agreement, "liaison_named", (LIAISON,))
        + expected(agreement, "plan_overdue", (LIAISON, DIRECTOR))
        + expected(agreement, "plan_overdue_accountability", (STATE_SUPERINTENDENT,))
    )
    assert status(seeded)["outbox"]["sent"] == 7
    assert [t for t, s in timer_statuses(db_url, agreement).items() if s == "pending"] == []


def test_pal_serve_max_sweeps_stops_by_itself_after_n_sweeps(
    seeded: Pal, db_url: str, tmp_path: Path
) -> None:
    """`pal serve --max-sweeps 3` exits 0 on its own after its third sweep."""
    process = serve(db_url, tmp_path, "--max-sweeps", "3", PAL_SWEEP_SECONDS="0.1")
    try:
        out, err = process.communicate(timeout=20)
    finally:
        stop(process)

    assert process.returncode == 0, err
    assert "pal serve stopped" in out
    [beat] = [h for h in status(seeded)["heartbeats"] if h["name"] == "serve"]
    assert "sweeps=3 " in beat["detail"] + " "


def test_sweep_called_directly_twice_at_one_moment_fires_once(seeded: Pal, db_url: str) -> None:
    """`sweep(engine, Context(now))` fires what is due; a second call at the same `now` fires
    nothing and queues nothing."""
    agreement = in_progress(seeded)
    now = datetime.fromisoformat(local(PLAN_DUE, offset_days=-14))
    engine = make_engine(db_url)
    try:
        first = sweep(engine, Context(now=now))
        second = sweep(engine, Context(now=now))
    finally:
        engine.dispose()

    assert (first.fired, first.skipped, first.emails) == (1, 1, len(TRAD_REMINDED))
    assert (second.fired, second.skipped, second.emails, second.actions) == (0, 0, 0, [])
    statuses = timer_statuses(db_url, agreement)
    assert (statuses[("plan_due", -30)], statuses[("plan_due", -14)]) == ("skipped", "done")
    rows = [r for r in outbox(seeded) if r["notice"] == "plan_reminder"]
    assert sorted(r["to"] for r in rows) == sorted(TRAD_REMINDED)
    assert {r["occurrence"] for r in rows} == {f"timer{timer_id(db_url, agreement)}"}


def timer_id(db_url: str, agreement: int) -> int:
    rows = execute(
        db_url,
        "SELECT id FROM timer WHERE agreement_id = :id AND ladder = 'plan_due' "
        "AND offset_days = -14",
        id=agreement,
    )
    return int(rows[0][0])


def test_two_sweeps_at_once_on_postgresql_still_send_only_the_latest_due_step_of_a_ladder(
    seeded: Pal, db_url: str, backend: str, monkeypatch: Any
) -> None:
    """Two sweepers catching up together (pal serve and a cron `pal tick`, or two services: the
    reason the claim skips locked rows) send one reminder for a ladder, not the overtaken one too.

    Sweeper A claims the -30 step and is slow to look at it; sweeper B meanwhile claims the -14
    step of the same ladder, sends it and commits. A must still see -30 as superseded."""
    if backend == "sqlite":
        pytest.skip("SQLite runs one writer at a time: two sweeps cannot interleave")
    agreement = in_progress(seeded)
    now = Context(now=datetime.fromisoformat(local(PLAN_DUE, offset_days=-14)))
    original = sweep_module._superseded
    claimed = threading.Event()
    b_done = threading.Event()

    def slow_for_a(session: Any, due: Any, ctx: Context) -> Any:
        if threading.current_thread().name == "sweeper-a":
            claimed.set()
            assert b_done.wait(20), "sweeper B did not finish"
        return original(session, due, ctx)

    monkeypatch.setattr(sweep_module, "_superseded", slow_for_a)
    engine = make_engine(db_url)
    reports: dict[str, Any] = {}
    a = threading.Thread(
        target=lambda: reports.update(a=sweep(engine, now, batch=1)), name="sweeper-a"
    )
    try:
        a.start()
        assert claimed.wait(20), "sweeper A did not claim the first step"
        reports["b"] = sweep(engine, now)
        b_done.set()
        a.join(20)
    finally:
        b_done.set()
        a.join(20)
        engine.dispose()

    reminders = [r for r in outbox(seeded) if r["notice"] == "plan_reminder"]
    statuses = timer_statuses(db_url, agreement)
    assert (statuses[("plan_due", -30)], statuses[("plan_due", -14)]) == ("skipped", "done")
    assert sorted(r["to"] for r in reminders) == sorted(TRAD_REMINDED), [
        (r["to"], r["occurrence"]) for r in reminders
    ]
