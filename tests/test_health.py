"""`pal status`'s verdict: ok, degraded or down (exit 0, 7, 8), judged by a pure function of
what was read and the moment (tested without a clock), and by the command on a real database,
with `pal tick` and a real `pal serve` beating."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import smtp_server as smtp
from helpers import Pal
from service_support import MAIL_FROM, PLAN_DUE, local, tick
from test_reminders_smtp import free_port
from test_service import in_progress, serve, stop, wait_for

from workflow.health import DEGRADED, DOWN, OK, Readings, WaitingMessage, judge, running
from workflow.heartbeat import InstanceReading

NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


def instance(
    swept_ago: timedelta | None, every: float = 60.0, *, kind: str = "serve",
    stopped: bool = False, host: str = "h1", pid: int = 42,
) -> InstanceReading:  # fmt: skip
    last = None if swept_ago is None else NOW - swept_ago
    started = NOW - timedelta(days=1)
    return InstanceReading(
        f"{kind}@{host}:{pid}", kind, host, pid, "0.1.0", every, started, last or started,
        last, last, 10, 3, NOW if stopped else None,
    )  # fmt: skip


def waiting(since: timedelta, error: str | None = "451 try later") -> WaitingMessage:
    return WaitingMessage(
        7, "a@b.example", "s", "retrying", 3, NOW - since, NOW + timedelta(minutes=5), error
    )


def readings(*instances: InstanceReading, **changes: object) -> Readings:
    values: dict[str, object] = {
        "instances": list(instances),
        "failed_messages": 0,
        "unaddressed_recent": 0,
        "oldest_waiting": None,
        "failed_timers": 0,
    }
    values.update(changes)
    return Readings(**values)  # type: ignore[arg-type]


def test_a_service_that_swept_within_three_intervals_with_nothing_wrong_is_ok() -> None:
    verdict = judge(readings(instance(timedelta(seconds=170))), NOW)
    assert (verdict.status, verdict.reasons, verdict.exit_code) == (OK, (), 0)


def test_no_sweep_in_three_intervals_is_down_with_how_long_in_words() -> None:
    verdict = judge(readings(instance(timedelta(seconds=181))), NOW)
    assert (verdict.status, verdict.exit_code) == (DOWN, 8)
    assert verdict.reasons == ("no sweep for 3 min (more than 3 sweep intervals)",)


def test_a_service_that_never_swept_is_down() -> None:
    assert judge(readings(), NOW).reasons == ("the service has never swept",)
    assert judge(readings(instance(None)), NOW).status == DOWN


def test_each_instance_is_judged_by_its_own_interval() -> None:
    """A cron `pal tick` every 15 minutes (PAL_SWEEP_SECONDS=900) ticked 40 minutes ago: ok."""
    cron = instance(timedelta(minutes=40), every=900, kind="tick", stopped=True)
    assert judge(readings(instance(timedelta(hours=2)), cron), NOW).status == OK


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"failed_messages": 2}, "2 messages failed"),
        ({"oldest_waiting": waiting(timedelta(minutes=61))},
         "mail waiting over an hour to go: message 7 (last error: 451 try later)"),
        ({"unaddressed_recent": 1},
         "1 notice with nobody on file to address in the last 7 days"),
        ({"failed_timers": 1}, "1 timer failed"),
    ],
)  # fmt: skip
def test_failing_or_late_mail_an_unaddressed_notice_or_a_failed_timer_is_degraded(
    changes: dict[str, object], reason: str
) -> None:
    verdict = judge(readings(instance(timedelta(seconds=5)), **changes), NOW)
    assert (verdict.status, verdict.reasons, verdict.exit_code) == (DEGRADED, (reason,), 7)


def test_mail_waiting_less_than_an_hour_is_not_a_problem() -> None:
    fresh = readings(instance(timedelta(seconds=5)), oldest_waiting=waiting(timedelta(minutes=59)))
    assert judge(fresh, NOW).status == OK


def test_down_wins_over_degraded_and_keeps_every_reason() -> None:
    verdict = judge(readings(failed_messages=1), NOW)
    assert verdict.status == DOWN
    assert verdict.reasons == ("the service has never swept", "1 message failed")


def test_a_serve_instance_runs_while_it_beats_or_its_process_lives_on_this_host() -> None:
    beating = instance(timedelta(seconds=30))
    silent_here = instance(timedelta(hours=1), pid=43)
    silent_elsewhere = instance(timedelta(hours=1), host="h2", pid=44)
    stopped = instance(timedelta(seconds=1), pid=45, stopped=True)
    ticks = instance(timedelta(seconds=1), kind="tick")
    found = running(
        [beating, silent_here, silent_elsewhere, stopped, ticks], NOW, "h1", lambda pid: pid == 43
    )
    assert found == [beating, silent_here]


# --- the command, on a real database ---------------------------------------------------------


def status(pal: Pal, *args: str) -> tuple[int, dict[str, Any], str]:
    as_json = pal("status", "--json", *args)
    text = pal("status", *args)
    assert as_json.stderr == text.stderr == ""
    assert as_json.exit_code == text.exit_code
    return as_json.exit_code, json.loads(as_json.stdout), text.stdout


def verdict_of(pal: Pal) -> tuple[int, dict[str, Any]]:
    """`pal status --json` once (a service beats meanwhile: one reading)."""
    result = pal("status", "--json")
    return result.exit_code, json.loads(result.stdout)


def test_status_is_down_exit_8_before_any_sweep_and_ok_exit_0_after_a_tick(seeded: Pal) -> None:
    code, report, text = status(seeded)
    assert (code, report["verdict"], report["instances"]) == (8, "down", [])
    assert text.startswith("pal is down (exit 8)\n  the service has never swept\n")

    tick(seeded, "2026-03-02T08:00:00")
    code, report, text = status(seeded, "--now", "2026-03-02T08:02:00")
    assert (code, report["verdict"], report["reasons"]) == (0, "ok", [])
    [ticks] = report["instances"]
    assert ticks["kind"] == "tick" and ticks["sweeps"] == 1
    assert ticks["last_sweep"] == {"at": "2026-03-02T08:00:00-05:00", "age_s": 120}
    assert "    last sweep     2026-03-02 08:00:00 EST (2 min ago), sweeps: 1" in text
    assert "as of 2026-03-02 08:02:00 EST (America/Detroit)" in text

    code, report, _ = status(seeded, "--now", "2026-03-02T08:03:01")
    assert (code, report["verdict"]) == (8, "down")


def test_mail_that_cannot_go_for_over_an_hour_is_degraded_exit_7_with_its_last_error(
    seeded: Pal,
) -> None:
    seeded.env.update({"PAL_SMTP_HOST": smtp.HOST, "PAL_SMTP_PORT": str(free_port()),
                       "PAL_MAIL_FROM": MAIL_FROM, "PAL_SWEEP_SECONDS": "86400"})  # fmt: skip
    in_progress(seeded)
    at = local(PLAN_DUE, offset_days=-30)
    tick(seeded, at)
    later = (datetime.fromisoformat(at) + timedelta(minutes=61)).isoformat()

    code, report, text = status(seeded, "--now", later)

    assert (code, report["verdict"]) == (7, "degraded")
    oldest = report["oldest_waiting"]
    assert oldest["status"] == "retrying" and "cannot connect" in oldest["last_error"]
    assert oldest["waiting_since"]["age_s"] == 61 * 60
    [reason] = report["reasons"]
    assert reason.startswith(f"mail waiting over an hour to go: message {oldest['id']}")
    assert "  last error: " in text and "pal is degraded (exit 7)" in text


def test_status_follows_a_real_serve_ok_while_it_beats_and_down_after_it_is_killed(
    seeded: Pal, db_url: str, tmp_path: Path
) -> None:
    process = serve(db_url, tmp_path, PAL_SWEEP_SECONDS="0.2")
    try:
        wait_for(lambda: verdict_of(seeded)[0] == 0, 20, "an ok verdict")
        _, report = verdict_of(seeded)
        [instance] = report["instances"]
        assert instance["name"].endswith(f":{process.pid}") and instance["stopped"] is None
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        stop(process)
    _, report = wait_for(lambda: (r := verdict_of(seeded))[0] == 8 and r, 10, "down")
    assert report["reasons"][0].startswith("no sweep for ")


def test_a_clean_stop_is_recorded_on_the_instance(seeded: Pal, db_url: str, tmp_path: Path) -> None:
    process = serve(db_url, tmp_path, PAL_SWEEP_SECONDS="0.2")
    try:
        wait_for(lambda: verdict_of(seeded)[1]["instances"], 20, "a first sweep")
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    finally:
        stop(process)
    [instance] = verdict_of(seeded)[1]["instances"]
    assert instance["stopped"] is not None and instance["sweeps"] >= 1
