"""`pal tick` and `pal serve`: the sweep and the delivery pass, once or on a schedule.

APScheduler only runs these periodic jobs; every deadline and email is a row in the database,
so a restart loses nothing and a second run of the same moment does nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from notifications.dispatch import DeliveryReport, deliver_all_due
from notifications.transports import transport_from_settings
from workflow.app import App
from workflow.heartbeat import beat
from workflow.sweep import SweepReport, sweep

log = logging.getLogger("pal.service")
DELIVERY_BATCH = 50


@dataclass
class TickReport:
    sweep: SweepReport
    delivery: DeliveryReport


async def tick_async(app: App, now: datetime) -> TickReport:
    swept = await asyncio.to_thread(sweep, app.engine, app.context(now))
    async with transport_from_settings(app.settings) as transport:
        delivered = await deliver_all_due(
            app.engine, transport, now, app.settings.mail_from, clock=_running_from(now)
        )
    beat(app.engine, "tick", now, f"fired={swept.fired} sent={delivered.sent}")
    return TickReport(swept, delivered)


def _running_from(now: datetime) -> Callable[[], datetime]:
    """A clock that starts at `now` (which may be simulated) and moves with elapsed time."""
    started = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - started)


def tick(app: App, now: datetime) -> TickReport:
    return asyncio.run(tick_async(app, now))


class _OverlapFilter(logging.Filter):
    """Drops APScheduler's warning that a job is still running when its next run comes due.

    With `max_instances=1` and `coalesce=True` that is how pal serve works, not a problem: a
    long catch-up sweep simply delays the next one. A warning per skipped run would bury the
    log (thousands an hour with short intervals). They are counted instead.
    """

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if "maximum number of running instances reached" in record.getMessage():
            self.count += 1
            return False
        return True


@contextmanager
def _counting_overlaps() -> Iterator[_OverlapFilter]:
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    overlaps = _OverlapFilter()
    scheduler_log.addFilter(overlaps)
    try:
        yield overlaps
    finally:
        scheduler_log.removeFilter(overlaps)


class Service:
    """The long-running scheduler: sweep and deliver on intervals, stop cleanly on a signal."""

    def __init__(self, app: App, clock: Callable[[], datetime] | None = None) -> None:
        self.app = app
        self.clock = clock or (lambda: datetime.now(UTC))
        self.sweeps = 0
        self._stopping = asyncio.Event()
        self._busy: set[asyncio.Task[Any]] = set()
        self._stop_sweeping = threading.Event()

    async def run(self, max_sweeps: int | None = None) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self._install_signal_handlers()
        seconds = self.app.settings.sweep_seconds
        scheduler = AsyncIOScheduler(timezone=UTC)
        common: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        scheduler.add_job(
            self._sweep_job,
            "interval",
            seconds=seconds,
            id="sweep",
            next_run_time=self.clock(),
            kwargs={"max_sweeps": max_sweeps},
            **common,
        )
        scheduler.add_job(
            self._deliver_job,
            "interval",
            seconds=max(seconds / 4, 0.001),
            id="deliver",
            next_run_time=self.clock(),
            **common,
        )
        with _counting_overlaps() as overlaps:
            async with transport_from_settings(self.app.settings) as transport:
                self.transport = transport
                scheduler.start()
                log.info("pal serve: sweeping every %s s", seconds)
                await self._stopping.wait()
                # No new runs; let the running ones finish (a sweep batch, the message in
                # flight) before the scheduler goes: its shutdown cancels jobs still running.
                scheduler.pause()
                while self._busy:
                    await asyncio.gather(*self._busy, return_exceptions=True)
                scheduler.shutdown(wait=False)
        if overlaps.count:
            log.info("%d runs were skipped while the previous one was still going", overlaps.count)

    def stop(self) -> None:
        self._stopping.set()
        self._stop_sweeping.set()  # seen by the sweep thread between batches

    def _on_signal(self) -> None:
        log.info("stopping: finishing the work in hand (signal again to stop at once)")
        self.stop()
        # A second signal gets the default behaviour: an operator can always stop a shutdown
        # that hangs (on a lock wait, say) without SIGKILL.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal)

    @contextmanager
    def _running(self) -> Iterator[None]:
        """Marks the current job as running, so that a stop waits for it."""
        task = asyncio.current_task()
        assert task is not None
        self._busy.add(task)
        try:
            yield
        finally:
            self._busy.discard(task)

    async def _sweep_job(self, max_sweeps: int | None) -> None:
        if self._stopping.is_set():
            return
        now = self.clock()
        with self._running():
            try:
                report = await asyncio.to_thread(
                    sweep, self.app.engine, self.app.context(now), stop=self._stop_sweeping
                )
            except Exception:
                log.exception("sweep failed; it will run again at the next interval")
                return
            self.sweeps += 1
            detail = f"pid={os.getpid()} sweeps={self.sweeps} fired={report.fired}"
            await asyncio.to_thread(beat, self.app.engine, "serve", now, detail)
        if max_sweeps is not None and self.sweeps >= max_sweeps:
            self.stop()

    async def _deliver_job(self) -> None:
        if self._stopping.is_set():
            return
        with self._running():
            try:
                await deliver_all_due(
                    self.app.engine,
                    self.transport,
                    self.clock(),
                    self.app.settings.mail_from,
                    stop=self._stopping,
                    clock=self.clock,
                )
            except Exception:
                log.exception("delivery pass failed; it will run again at the next interval")
