"""`pal dashboard --serve PORT`: the dashboard over HTTP on 127.0.0.1, built again after each
sweep of the service (another process) and after each change recorded at the command line.

The service says nothing to this process: every few seconds it reads a change marker (the
service instances' sweeps, the newest audit row, the outbox's counts by status and the health
`pal status` judges, each a handful of rows or an index) and, when it moved,
builds the whole site again. Pages are served from memory, from the last site built in full, and
swapped for the next one in a single assignment: a request sees one site or the other, never
half of one. A build that fails (the database busy or out of reach) leaves the last site served
and is tried again at growing intervals, with one log line when it starts failing and one when
it works again.
"""

from __future__ import annotations

import errno
import logging
import mimetypes
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import func
from sqlmodel import Session, select

from notifications.errors import Redactor
from states.context import Context
from states.errors import BadInput, StoreGone
from storage.models import Audit
from storage.service_models import Outbox, ServiceInstance
from workflow.app import App
from workflow.health import instance_state, judge
from workflow.service import one_line
from workflow.status import read_health

log = logging.getLogger("pal.dashboard")

HOST = "127.0.0.1"
# How often the database is asked whether anything changed (`--every`).
EVERY_S = 5.0
# A failed build is tried again this soon, then twice as late each time, up to the cap.
FIRST_RETRY_S, LAST_RETRY_EVERY_S = 1.0, 60.0

# The site builder's contract (workflow.dashboard.site.build_site): the whole site read from the
# session, as of ctx.now, written to the folder; the relative paths of its pages.
BuildSite = Callable[[Session, Path, Context], list[Path]]
# One page or file of the site as served: its bytes and its Content-Type.
Site = Mapping[str, tuple[bytes, str]]


# --- what is served ------------------------------------------------------------------------------


def load_site(folder: Path) -> dict[str, tuple[bytes, str]]:
    """Every file under `folder` by its URL path (`/agreements/3.html`), hidden ones left out."""
    site: dict[str, tuple[bytes, str]] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            site["/" + relative.as_posix()] = (path.read_bytes(), _content_type(path))
    return site


def _content_type(path: Path) -> str:
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def _lookup(site: Site, target: str) -> tuple[bytes, str] | None:
    """The file a request's target names: `/` and folders by their `index.html`. A dictionary
    lookup: no path reaches outside the site, whatever dots or escapes it holds."""
    path = unquote(urlsplit(target).path)
    if path.endswith("/"):
        path += "index.html"
    return site.get(path)


def _folder(site: Site, target: str) -> str | None:
    """A folder named without its closing slash (`/agreements`): where it is, to redirect to."""
    path = unquote(urlsplit(target).path)
    return path + "/" if not path.endswith("/") and f"{path}/index.html" in site else None


NOT_FOUND = (
    b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>'
    b'<body><main><h1>No such page in the dashboard</h1><p><a href="/">Back to the overview</a>'
    b"</p></main></body></html>\n"
)


class _Handler(BaseHTTPRequestHandler):
    server: DashboardServer
    server_version = "pal-dashboard"
    sys_version = ""

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, *, with_body: bool) -> None:
        folder = _folder(self.server.site, self.path)
        if folder is not None:
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", folder)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        found = _lookup(self.server.site, self.path)
        status = HTTPStatus.OK if found else HTTPStatus.NOT_FOUND
        body, kind = found or (NOT_FOUND, "text/html; charset=utf-8")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        # Always asked again: the next sweep may have changed any page.
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # Each request at debug only: on the terminal, the dashboard's log is its problems.
        log.debug("%s %s", self.address_string(), format % args)


class DashboardServer(ThreadingHTTPServer):
    """The HTTP server; `site` is replaced whole by each build."""

    daemon_threads = True
    site: Site = MappingProxyType({})

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/"


def open_server(port: int) -> DashboardServer:
    """A server bound to 127.0.0.1:`port` (0: a free port); a port taken or not ours to bind is
    bad input."""
    try:
        return DashboardServer((HOST, port), _Handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise BadInput(f"port {port} is in use on {HOST}: choose another (0 picks a free one)"
                           ) from exc  # fmt: skip
        if exc.errno == errno.EACCES:
            raise BadInput(f"port {port} needs privileges pal does not run with: choose one from "
                           "1024 up (0 picks a free one)") from exc  # fmt: skip
        raise BadInput(f"cannot serve on {HOST}:{port}: {exc.strerror}") from exc


# --- when to build again -------------------------------------------------------------------------


def change_marker(session: Session, ctx: Context) -> tuple[object, ...]:
    """What moves with each sweep (any instance's, `pal tick`'s too), each recorded change (an
    audit row, the CLI's included), each message sent, retried or failed (delivery writes no audit
    row and is not a sweep), each new local day (days left and overdue change with it) and the
    health `pal status` judges (a service that stops writes nothing: only the clock says so):
    equal markers, the same dashboard."""
    instances = ServiceInstance.sweeps, ServiceInstance.last_sweep_at
    count, sweeps, last = session.exec(
        select(func.count(), func.sum(instances[0]), func.max(instances[1]))
    ).one()
    newest = session.exec(select(func.max(Audit.id))).one()
    # Read from the index on (status, next_attempt_at) alone.
    outbox = session.exec(
        select(Outbox.status, func.count(), func.max(Outbox.next_attempt_at))
        .group_by(Outbox.status)
        .order_by(Outbox.status)
    ).all()
    readings = read_health(session, ctx.now)
    health = (
        judge(readings, ctx.now).status,
        [instance_state(i, ctx.now) for i in readings.instances],
    )
    return (ctx.today, count, sweeps, last, newest, tuple(outbox), health)


class Retry:
    """A build that failed: when to try again (growing intervals, up to a cap), with one log line
    when the failures begin and one when a build works again."""

    def __init__(self, first: float = FIRST_RETRY_S, cap: float = LAST_RETRY_EVERY_S) -> None:
        self.first, self.cap = first, max(cap, first)
        self.failures = 0
        self.wait = first

    def failed(self, exc: BaseException) -> float:
        """Seconds until the next try."""
        if self.failures == 0:
            self.wait = self.first
            log.warning(
                "dashboard not rebuilt: %s; still serving the last one built, trying again in "
                "%g s, then less often (at most every %g s)", one_line(exc, Redactor()), self.first,
                self.cap,
            )  # fmt: skip
        else:
            self.wait = min(self.wait * 2, self.cap)
        self.failures += 1
        return self.wait

    def succeeded(self) -> None:
        if self.failures:
            tries = "try" if self.failures == 1 else "tries"
            log.warning("dashboard rebuilt again after %d failed %s", self.failures, tries)
        self.failures = 0


@dataclass
class Watcher:
    """Looks at the marker each `every` seconds and builds again when it moved."""

    marker: Callable[[], object]
    build: Callable[[], None]
    every: float = EVERY_S
    retry: Retry | None = None
    built: object = None  # the marker of the site served

    def step(self) -> float:
        """One look (and a build when the marker moved); the seconds until the next look. A
        failure leaves the site served as it was; the database file replaced under us stops."""
        retry = self.retry = self.retry or Retry()
        try:
            seen = self.marker()
            if seen != self.built:
                self.build()
                self.built = seen
        except StoreGone:
            raise
        except Exception as exc:
            return retry.failed(exc)
        retry.succeeded()
        return self.every


# --- the whole -----------------------------------------------------------------------------------


@dataclass
class Dashboard:
    """What `pal dashboard --serve` runs: the database, the builder, where the site is written
    and the clock its moment is read from."""

    app: App
    build_site: BuildSite
    out: Path
    clock: Callable[[], datetime]

    def marker(self) -> object:
        with self.app.read() as session:
            return change_marker(session, self.app.context(self.clock()))

    def build_into(self, server: DashboardServer) -> Callable[[], None]:
        def build() -> None:
            started = time.monotonic()
            with self.app.read() as session:
                self.build_site(session, self.out, self.app.context(self.clock()))
            server.site = load_site(self.out)  # one assignment: the swap
            log.info("dashboard rebuilt in %.1f s", time.monotonic() - started)

        return build


def serve_dashboard(
    dashboard: Dashboard,
    port: int,
    *,
    every: float = EVERY_S,
    announce: Callable[[str], None],
    stop: threading.Event | None = None,
) -> None:
    """Build the site, serve it on 127.0.0.1:`port` and build it again whenever the database
    changes, until SIGINT or SIGTERM (or `stop` is set); `announce` is given the URL once."""
    stop = stop or threading.Event()
    with open_server(port) as server, _stopping_on_signals(stop):
        watcher = Watcher(dashboard.marker, dashboard.build_into(server), every)
        # The first build is not retried: at start there is no site to fall back on, and the
        # operator is there to read why.
        watcher.built = dashboard.marker()
        dashboard.build_into(server)()
        announce(server.url)
        thread = threading.Thread(target=server.serve_forever, name="dashboard", daemon=True)
        thread.start()
        try:
            while not stop.wait(watcher.step()):
                pass
        finally:
            server.shutdown()
            thread.join()


@contextmanager
def _stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` (a second one stops at once, as by default); only the main
    thread may take signals, so elsewhere (a test's thread) `stop` alone ends the serving."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    before = {sig: signal.getsignal(sig) for sig in signals}

    def on_signal(signum: int, frame: object) -> None:
        stop.set()
        for sig in signals:
            signal.signal(sig, signal.SIG_DFL)

    for sig in signals:
        signal.signal(sig, on_signal)
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)


@contextmanager
def site_folder(out: Path | None) -> Iterator[Path]:
    """`out` when given (left as last built); otherwise a temporary folder, removed at the end."""
    if out is not None:
        yield out
        return
    parent = Path(tempfile.mkdtemp(prefix="pal-dashboard-"))
    try:
        yield parent / "site"
    finally:
        with suppress(OSError):
            shutil.rmtree(parent)
