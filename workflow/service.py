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
import traceback
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from notifications.dispatch import DeliveryReport, deliver_all_due
from notifications.errors import Redactor, redacted_logs, redactor_for
from notifications.transports import transport_from_settings
from states.errors import ConcurrentModification, PalError, StoreGone, StoreUnreachable
from storage.db import check_alive, ping
from storage.errors import redact as redact_urls
from workflow.app import App
from workflow.heartbeat import Beat, Identity, beat, stopped, this_process
from workflow.outage import FIRST_TRY_S, LAST_TRY_EVERY_S, Outage
from workflow.sweep import SweepReport, sweep

log = logging.getLogger("pal.service")
DELIVERY_BATCH = 50
# How long one sweep batch of `pal serve` may hold the write lock: delivery results wait at most
# about this long for it (plus their RECORD_LINGER), whatever the sweep has to catch up.
SWEEP_BATCH_SECONDS = 0.1


@dataclass
class TickReport:
    sweep: SweepReport
    delivery: DeliveryReport

    def view(self) -> dict[str, Any]:
        """What `pal tick --json` prints: each pass's report, field by field."""
        return {"sweep": asdict(self.sweep), "delivery": asdict(self.delivery)}


async def tick_async(app: App, now: datetime) -> TickReport:
    # Made first: a transport the settings cannot make is refused before the sweep commits.
    transport = transport_from_settings(app.settings)
    with redacted_logs(redactor_for(app.settings)):
        swept = await asyncio.to_thread(sweep, app.engine, app.context(now))
        async with transport:
            delivered = await deliver_all_due(
                app.engine, transport, now, app.settings.mail_from, clock=_running_from(now)
            )
        _log_sweep(swept)
        _log_delivery(delivered)
        of = Beat(
            this_process("tick", app.settings.sweep_seconds),
            started_at=now,
            sent=delivered.sent,
            delivered_at=now,
            stopped=True,  # a tick is over when it has beaten
        )
        beat(app.engine, "tick", now, f"fired={swept.fired} sent={delivered.sent}", of)
    return TickReport(swept, delivered)


def _log_sweep(report: SweepReport) -> None:
    """One INFO line for a sweep that did something (nothing for one that found nothing due);
    counts that are zero are left out (a log search for `failed` finds only failures)."""
    counts = {
        "timers fired": report.fired,
        "superseded": report.skipped,
        "notices queued": report.emails,
        "actions taken": len(report.actions),
        "not possible": len(report.blocked),
        "failed": len(report.failed),
    }
    if any(counts.values()):
        log.info(
            "swept: %s", _said(counts),
            extra={"pal": {"event": "sweep", "fired": report.fired, "superseded": report.skipped,
                           "queued": report.emails, "actions": len(report.actions),
                           "blocked": len(report.blocked), "failed": len(report.failed)}},
        )  # fmt: skip


def _log_delivery(report: DeliveryReport) -> None:
    """One INFO line for a delivery pass that sent, deferred or failed something."""
    counts = {"sent": report.sent, "to retry": report.retrying, "failed": report.failed}
    if any(counts.values()):
        log.info(
            "delivered: %s", _said(counts),
            extra={"pal": {"event": "delivery", "sent": report.sent,
                           "retrying": report.retrying, "failed": report.failed}},
        )  # fmt: skip


def _said(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {what}" for what, count in counts.items() if count)


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


# A failure that repeats is logged again, with its count, at most this often.
REPEAT_EVERY_S = 60.0


def one_line(exc: BaseException, redact: Redactor) -> str:
    """An error as one line of text, without SQL or secrets: pal's own errors say it already."""
    if isinstance(exc, PalError):
        text = str(exc)
    else:
        orig = getattr(exc, "orig", None)  # a DBAPI error: its own message, not SQLAlchemy's SQL
        cause = orig if isinstance(orig, BaseException) else exc
        first = (str(cause).strip().splitlines() or [""])[0]
        text = f"{type(cause).__name__}: {first}" if first else type(cause).__name__
    return redact(redact_urls(text))[:500]


class Failures:
    """What a periodic job logs when it fails: one line the first time, then nothing per pass
    while the same failure repeats, except a line with the count every REPEAT_EVERY_S; one line
    when it works again. The traceback goes to debug logging only. A failure that comes and goes
    (a flapping network) is not logged again within REPEAT_EVERY_S either.

    A busy database (another writer holds the lock) is a warning; anything else an error.
    """

    def __init__(self, job: str, redact: Redactor, every: float = REPEAT_EVERY_S) -> None:
        self.job = job
        self.redact = redact
        self.every = every
        self.count = 0  # failed passes in a row
        self._text: str | None = None  # the failure last logged, and when
        self._said_at = 0.0
        self._told = False  # a failure was logged since the last success

    def failed(self, exc: BaseException) -> None:
        text = one_line(exc, self.redact)
        level = logging.WARNING if isinstance(exc, ConcurrentModification) else logging.ERROR
        if log.isEnabledFor(logging.DEBUG):
            trace = "".join(traceback.format_exception(exc)).rstrip()
            log.debug("%s failed:\n%s", self.job, self.redact(redact_urls(trace)))
        self.count += 1
        now = time.monotonic()
        if text == self._text and now - self._said_at < self.every:
            return
        if text == self._text and self.count > 1:
            log.log(level, "%s still failing, %d passes in a row: %s", self.job, self.count, text)
        else:
            log.log(level, "%s failed: %s (tried again each pass)", self.job, text)
        self._text, self._said_at, self._told = text, now, True

    def succeeded(self) -> None:
        if self._told:
            log.warning("%s works again after %d failed passes", self.job, self.count)
            self._told = False
        self.count = 0


class Service:
    """The long-running scheduler: sweep and deliver on intervals, stop cleanly on a signal.

    A pass that fails is logged by `Failures` and tried again at the next interval; a database
    file deleted or replaced underneath stops the service (`fatal`), since writing on would go
    to a file nobody will ever read. A database server out of reach is an `Outage`: the jobs
    pause while it is tried at growing intervals, and go on when it answers.
    """

    def __init__(
        self,
        app: App,
        clock: Callable[[], datetime] | None = None,
        outage: Outage | None = None,
    ) -> None:
        self.app = app
        self.clock = clock or (lambda: datetime.now(UTC))
        self.sweeps = 0
        self.fatal: PalError | None = None
        self._stopping = asyncio.Event()
        self._busy: set[asyncio.Task[Any]] = set()
        self._stop_sweeping = threading.Event()
        self._redact = redactor_for(app.settings)
        self._sweep_failures = Failures("sweep", self._redact)
        self._delivery_failures = Failures("delivery pass", self._redact)
        # Tries no more often than sweeps (at least a second apart), and at least once a minute.
        seconds = app.settings.sweep_seconds
        self.outage = outage or Outage(cap=min(LAST_TRY_EVERY_S, max(FIRST_TRY_S, seconds)))
        self._reconnecting: asyncio.Task[None] | None = None
        self._scheduler: Any = None
        self.identity: Identity = this_process("serve", app.settings.sweep_seconds)
        self.started_at = self.clock()
        # What the delivery passes did since the last beat (the beat writes it: no write of
        # its own per pass, which runs four times a sweep interval).
        self._sent_since_beat = 0
        self._delivered_at: datetime | None = None

    async def run(self, max_sweeps: int | None = None) -> None:
        with redacted_logs(self._redact):
            await self._run(max_sweeps)

    async def _run(self, max_sweeps: int | None) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self._install_signal_handlers()
        seconds = self.app.settings.sweep_seconds
        scheduler = self._scheduler = AsyncIOScheduler(timezone=UTC)
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
                text, fields = startup(self.app, self.identity)
                log.info("%s", text, extra={"pal": fields})
                scheduler.start()
                await self._stopping.wait()
                # No new runs; let the running ones finish (a sweep batch, the message in
                # flight) before the scheduler goes: its shutdown cancels jobs still running.
                scheduler.pause()
                if self._reconnecting is not None:
                    self._reconnecting.cancel()
                while self._busy:
                    await asyncio.gather(*self._busy, return_exceptions=True)
                scheduler.shutdown(wait=False)
        if overlaps.count:
            log.info("%d runs were skipped while the previous one was still going", overlaps.count)
        if self.fatal is None:
            self._record_stop()

    def _record_stop(self) -> None:
        """The instance's row says it stopped (best effort: a database that fails now is
        logged, and its beats age out instead)."""
        try:
            stopped(self.app.engine, self._beat(swept=False, ended=True), self.clock())
        except Exception as exc:
            log.warning("could not record the stop: %s", one_line(exc, self._redact))
        log.info("stopped")

    def _beat(self, *, swept: bool = True, ended: bool = False) -> Beat:
        return Beat(
            self.identity, self.started_at, swept, self._sent_since_beat, self._delivered_at,
            ended,
        )  # fmt: skip

    def _beaten(self, of: Beat) -> None:
        """`of` is written: what it carried is not carried again (a failed beat's is)."""
        self._sent_since_beat -= of.sent

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
            # SIG_DFL, not Python's KeyboardInterrupt for SIGINT: that would wait for the worker
            # threads (a result write waiting on another process's lock) and print tracebacks.
            signal.signal(sig, signal.SIG_DFL)

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

    def _store_alive(self) -> bool:
        """False (and the service stopping) when the database file is no longer the one opened."""
        try:
            check_alive(self.app.engine)
        except StoreGone as exc:
            self._die(exc)
            return False
        return True

    def _die(self, exc: StoreGone) -> None:
        if self.fatal is None:
            self.fatal = exc
            log.debug("stopping: %s", exc)
        self.stop()

    async def _guarded(self, failures: Failures, work: Awaitable[object]) -> bool:
        """Run one pass; a database gone stops the service, any other failure is counted (and
        logged as `Failures` says) for the next pass to retry. True when the pass succeeded."""
        try:
            await work
        except StoreGone as exc:
            self._die(exc)
            return False
        except StoreUnreachable as exc:
            self._unreachable(exc)
            return False
        except Exception as exc:
            failures.failed(exc)
            return False
        failures.succeeded()
        return True

    def _unreachable(self, exc: StoreUnreachable) -> None:
        why = one_line(exc, self._redact).removeprefix("cannot reach the database: ")
        if self.outage.lost(why) and not self._stopping.is_set():
            self._reconnecting = asyncio.create_task(self._reconnect())

    async def _reconnect(self) -> None:
        """Ask the database at the outage's growing intervals; when it answers, say so and run
        the sweep and a delivery pass at once (what fell due meanwhile)."""
        while True:
            try:
                await asyncio.wait_for(self._stopping.wait(), self.outage.wait)
                return  # stopping: the outage outlives the service
            except TimeoutError:
                pass
            try:
                await asyncio.to_thread(ping, self.app.engine)
            except StoreUnreachable as exc:
                self.outage.lost(one_line(exc, self._redact))
                continue
            except Exception:  # another failure: the jobs will meet it and report it
                pass
            break
        self.outage.back()
        self._reconnecting = None
        for job in ("sweep", "deliver"):
            self._scheduler.modify_job(job, next_run_time=self.clock())

    async def _sweep_once(self, now: datetime) -> None:
        report = await asyncio.to_thread(
            sweep,
            self.app.engine,
            self.app.context(now),
            stop=self._stop_sweeping,
            budget=sweep_budget(self.app.engine),
        )
        self.sweeps += 1
        _log_sweep(report)
        detail = f"pid={os.getpid()} sweeps={self.sweeps} fired={report.fired}"
        of = self._beat()
        await asyncio.to_thread(beat, self.app.engine, "serve", now, detail, of)
        self._beaten(of)

    async def _sweep_job(self, max_sweeps: int | None) -> None:
        if self._stopping.is_set() or self.outage.ongoing or not self._store_alive():
            return
        now = self.clock()
        with self._running():
            if not await self._guarded(self._sweep_failures, self._sweep_once(now)):
                return
        if max_sweeps is not None and self.sweeps >= max_sweeps:
            self.stop()

    async def _deliver_job(self) -> None:
        if self._stopping.is_set() or self.outage.ongoing or not self._store_alive():
            return
        with self._running():
            await self._guarded(self._delivery_failures, self._deliver_once())

    async def _deliver_once(self) -> None:
        report = await deliver_all_due(
            self.app.engine,
            self.transport,
            self.clock(),
            self.app.settings.mail_from,
            stop=self._stopping,
            clock=self.clock,
        )
        _log_delivery(report)
        self._sent_since_beat += report.sent
        self._delivered_at = self.clock()


def sweep_budget(engine: Any) -> float | None:
    """How long one sweep batch of `pal serve` may take: bounded on SQLite, where a batch holds
    the one write lock the delivery results wait for; not on PostgreSQL, where results and other
    instances' batches go beside it (row locks, `SKIP LOCKED`), and shrunken batches would only
    cost each timer more."""
    return SWEEP_BATCH_SECONDS if engine.dialect.name == "sqlite" else None


def startup(app: App, identity: Identity) -> tuple[str, dict[str, Any]]:
    """The start-up line, and its facts as fields (for JSON lines): what an operator needs to
    know the service runs as configured: its version, database (without its password), mail,
    and the rule versions in use. Never a password."""
    from workflow.rule_versions import versions_in_use

    settings = app.settings
    if settings.smtp_host:
        port = f":{settings.smtp_port}" if settings.smtp_port else ""
        login = f", as {settings.smtp_username}" if settings.smtp_username else ""
        mail = f"SMTP {settings.smtp_host}{port} ({settings.smtp_security}{login})"
    else:
        mail = f"files in {settings.mail_dir} (no SMTP host set)"
    try:
        with app.read() as session:
            in_use = versions_in_use(session)
        rules = ", ".join(f"{version} ({count})" for version, count in in_use) or "none yet"
    except Exception as exc:  # the database's failures are the sweep's to report, each pass
        log.debug("rule versions not read at start-up: %s", one_line(exc, redactor_for(settings)))
        in_use, rules = [], "not read (the database did not answer)"
    database = redact_urls(_url(app))
    text = (
        f"pal {identity.version} serving as {identity.name}: database {database}, mail {mail}, "
        f"from {settings.mail_from}; sweeping every {settings.sweep_seconds:g} s in "
        f"{settings.timezone}, notices at {settings.notice_hour}:00; rules for new agreements "
        f"{settings.rules_version}, agreements by rule version: {rules}"
    )
    fields = {
        "event": "start",
        "version": identity.version,
        "instance": identity.name,
        "database": database,
        "smtp_host": settings.smtp_host,
        "smtp_port": settings.smtp_port,
        "smtp_security": settings.smtp_security,
        "smtp_username": settings.smtp_username,
        "mail_dir": None if settings.smtp_host else str(settings.mail_dir),
        "mail_from": settings.mail_from,
        "sweep_seconds": settings.sweep_seconds,
        "timezone": settings.timezone,
        "rules_default": settings.rules_version,
        "rules_in_use": dict(in_use),
    }
    return text, fields


def _url(app: App) -> str:
    return app.engine.url.render_as_string(hide_password=True)
