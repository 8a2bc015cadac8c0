"""The verdict of `pal status`: a pure function of what was read and the moment it is judged at.

- `down`: no instance swept within three of its sweep intervals (or none ever did);
- `degraded`: mail failing (a failed message) or waiting over an hour to go, a notice with
  nobody to address it to in the last UNADDRESSED_WINDOW, a timer that failed;
- `ok` otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `pal status`'s text uses age_words: kept free of the database's modules
    from workflow.heartbeat import InstanceReading

OK, DEGRADED, DOWN = "ok", "degraded", "down"
EXIT_CODES = {OK: 0, DEGRADED: 7, DOWN: 8}
# A sweep may be this many intervals late before the service counts as down.
MISSED_SWEEPS = 3
# Mail not on its way after this long is a problem, whatever the reason (retries, no service).
MAIL_WAIT = timedelta(hours=1)
# An unaddressed notice stays unaddressed (the row is the record of it): it degrades the
# verdict for this long after it was made, long enough for a monitor to raise it.
UNADDRESSED_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class WaitingMessage:
    """The oldest message not yet sent: queued, or waiting for a retry."""

    id: int
    to: str
    subject: str
    status: str
    attempts: int
    waiting_since: datetime
    next_attempt_at: datetime
    last_error: str | None


@dataclass(frozen=True)
class Readings:
    instances: list[InstanceReading]
    failed_messages: int
    unaddressed_recent: int  # made within UNADDRESSED_WINDOW of the moment read
    oldest_waiting: WaitingMessage | None
    failed_timers: int


@dataclass(frozen=True)
class Verdict:
    status: str
    reasons: tuple[str, ...]

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]


def swept_in_time(instance: InstanceReading, now: datetime) -> bool:
    if instance.last_sweep_at is None:
        return False
    return now - instance.last_sweep_at <= MISSED_SWEEPS * timedelta(
        seconds=instance.sweep_seconds
    )


# What an instance's row says of it at a moment (`pal status`): `live`, heard from within
# MISSED_SWEEPS of its sweep intervals; `stopped`, a `pal serve` that recorded its stop, or the
# ticks of a host not run since; `silent`, a `pal serve` not heard from since and that never
# said it stopped: presumed dead (killed, its host down) or stuck.
LIVE, STOPPED, SILENT = "live", "stopped", "silent"


def instance_state(instance: InstanceReading, now: datetime) -> str:
    heard = now - instance.beat_at <= MISSED_SWEEPS * timedelta(seconds=instance.sweep_seconds)
    if instance.kind != "serve":  # a tick stops after each run: not heard of is not dead
        return LIVE if heard else STOPPED
    if instance.stopped_at is not None:
        return STOPPED
    return LIVE if heard else SILENT


def judge(readings: Readings, now: datetime) -> Verdict:
    """The verdict and its reasons, in words, worst first."""
    reasons: list[str] = []
    down = not any(swept_in_time(instance, now) for instance in readings.instances)
    if down:
        swept = [i.last_sweep_at for i in readings.instances if i.last_sweep_at is not None]
        reasons.append(
            f"no sweep for {age_words(now - max(swept))} (more than {MISSED_SWEEPS} sweep "
            "intervals)"
            if swept
            else "the service has never swept"
        )
    if readings.failed_messages:
        reasons.append(f"{_count(readings.failed_messages, 'message')} failed")
    waiting = readings.oldest_waiting
    if waiting is not None and now - waiting.waiting_since > MAIL_WAIT:
        error = f" (last error: {waiting.last_error})" if waiting.last_error else ""
        reasons.append(f"mail waiting over an hour to go: message {waiting.id}{error}")
    if readings.unaddressed_recent:
        reasons.append(
            f"{_count(readings.unaddressed_recent, 'notice')} with nobody on file to address "
            f"in the last {UNADDRESSED_WINDOW.days} days"
        )
    if readings.failed_timers:
        reasons.append(f"{_count(readings.failed_timers, 'timer')} failed")
    status = DOWN if down else DEGRADED if reasons else OK
    return Verdict(status, tuple(reasons))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def age_words(age: timedelta) -> str:
    """`12 s`, `5 min`, `3 h 20 min`, `2 days`: how long, in the largest units that matter."""
    seconds = int(abs(age).total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min" if minutes % 60 else f"{hours} h"
    return f"{hours // 24} days"


def running(
    instances: list[InstanceReading], now: datetime, host: str, alive: Callable[[int], bool]
) -> list[InstanceReading]:
    """The `pal serve` instances that look to be running at `now`: not stopped, and beating
    within three sweep intervals, or (on this host) their process still alive, however long
    its current sweep has taken."""
    return [
        instance
        for instance in instances
        if instance.kind == "serve"
        and instance.stopped_at is None
        and (
            now - instance.beat_at <= MISSED_SWEEPS * timedelta(seconds=instance.sweep_seconds)
            or (instance.host == host and alive(instance.pid))
        )
    ]
