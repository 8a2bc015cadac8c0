"""`workflow.dashboard.serve`: the dashboard served on 127.0.0.1 from the last site built in
full, built again when a sweep or a recorded change moves the database's marker, and served as it
was while a build fails. A small builder stands in for the site's (it writes what it read)."""

from __future__ import annotations

import logging
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from helpers import Pal, assert_error, ok, signed_agreement
from service_support import tick

from config.settings import Settings
from states.agreement import STATE_LABELS
from states.context import Context
from states.errors import BadInput, StoreBusy
from workflow.app import App, open_app
from workflow.dashboard.serve import (
    Dashboard,
    Retry,
    Watcher,
    open_server,
    serve_dashboard,
    site_folder,
)

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
# Long enough for a slow machine, short enough that a broken rebuild fails the test soon.
WAIT_S = 30.0


class Builder:
    """Writes an index naming the districts read and the build's number, a page per district
    and a stylesheet; `gate`, when set, holds a build between its first file and the rest."""

    def __init__(self) -> None:
        self.builds = 0
        self.gate: tuple[threading.Event, threading.Event] | None = None

    def __call__(self, session: Any, out: Path, ctx: Context) -> list[Path]:
        from sqlalchemy import text

        self.builds += 1
        codes = [row[0] for row in session.execute(text("SELECT code FROM district ORDER BY 1"))]
        out.mkdir(parents=True, exist_ok=True)
        (out / "index.html").write_text(f"build {self.builds}: {' '.join(codes)}\n")
        if self.gate is not None:
            started, go_on = self.gate
            started.set()
            assert go_on.wait(WAIT_S)
        (out / "districts").mkdir(exist_ok=True)
        for code in codes:
            (out / "districts" / f"{code}.html").write_text(f"build {self.builds}: {code}\n")
        (out / "style.css").write_text("body { margin: 0 }\n")
        (out / ".pal-dashboard").write_text("written by the test\n")
        return [Path("index.html")]


@pytest.fixture
def app(seeded: Pal) -> Iterator[App]:
    with open_app(Settings(database_url=seeded.db_url)) as opened:
        yield opened


@contextmanager
def serving(app: App, builder: Builder, every: float = 0.05) -> Iterator[str]:
    """The dashboard served in a thread on a free port; its URL."""
    stop, urls = threading.Event(), queue.Queue[str]()
    failed: list[BaseException] = []

    def run() -> None:
        try:
            with site_folder(None) as out:
                dashboard = Dashboard(app, builder, out, lambda: NOW)
                serve_dashboard(dashboard, 0, every=every, announce=urls.put, stop=stop)
        except BaseException as exc:
            failed.append(exc)
            urls.put("")

    thread = threading.Thread(target=run)
    thread.start()
    try:
        url = urls.get(timeout=WAIT_S)
        assert url, failed
        yield url
    finally:
        stop.set()
        thread.join(WAIT_S)
    assert not thread.is_alive() and not failed, failed


def fetch(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=WAIT_S) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def until(check: Callable[[], bool]) -> None:
    """Asks `check` until it holds (every 20 ms, at most WAIT_S): the page changes when the
    server's own loop has looked again, which the test cannot know otherwise."""
    done = threading.Event()
    for _ in range(int(WAIT_S / 0.02)):
        if check():
            return
        done.wait(0.02)
    raise AssertionError("the page did not change")


def test_the_site_is_served_on_127_0_0_1_and_nothing_outside_it(app: App) -> None:
    """The pages are served on 127.0.0.1 with their types; a folder's index stands for it; hidden
    files and paths climbing out of the site are not found."""
    with serving(app, Builder()) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        assert fetch(url) == (200, "text/html; charset=utf-8", "build 1: PSA1 TRAD\n")
        assert fetch(url + "index.html")[2] == "build 1: PSA1 TRAD\n"
        assert fetch(url + "districts/TRAD.html")[2] == "build 1: TRAD\n"
        assert fetch(url + "style.css")[:2] == (200, "text/css; charset=utf-8")
        for missing in ("nothing.html", ".pal-dashboard", "..%2f..%2fetc%2fpasswd", "%2e%2e/"):
            assert fetch(url + missing)[0] == 404, missing
        port = int(url.rsplit(":", 1)[1].strip("/"))
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.2", port)) != 0  # bound to 127.0.0.1 alone


def test_a_change_at_the_command_line_is_served_after_the_next_look(app: App, seeded: Pal) -> None:
    """A district added with the CLI (an audit row) shows on the page once the server looks."""
    with serving(app, Builder()) as url:
        ok(seeded, "district", "add", "NEW1", "--name", "New District")
        until(lambda: "NEW1" in fetch(url)[2])
        assert fetch(url + "districts/NEW1.html")[0] == 200


def test_a_sweep_builds_the_site_again(app: App, seeded: Pal) -> None:
    """A sweep that changed nothing else (`pal tick`) still builds the site again."""
    builder = Builder()
    with serving(app, builder) as url:
        assert fetch(url)[2].startswith("build 1:")
        assert tick(seeded, "2026-12-02T10:00:00").exit_code == 0
        until(lambda: fetch(url)[2].startswith("build 2:"))


def test_nothing_changed_nothing_built(app: App) -> None:
    """Looking again at an unchanged database builds nothing."""
    builder = Builder()
    with site_folder(None) as out, open_server(0) as server:
        dashboard = Dashboard(app, builder, out, lambda: NOW)
        watcher = Watcher(dashboard.marker, dashboard.build_into(server), every=5)
        assert [watcher.step() for _ in range(3)] == [5, 5, 5]
        assert builder.builds == 1


def test_mid_build_the_last_site_is_served_whole(app: App, seeded: Pal) -> None:
    """While a build has written only part of the next site, every page served is the last one
    built in full; once it is done, the new one."""
    builder = Builder()
    with serving(app, builder, every=0.01) as url:
        started, go_on = threading.Event(), threading.Event()
        builder.gate = (started, go_on)
        ok(seeded, "district", "add", "NEW1", "--name", "New District")
        assert started.wait(WAIT_S)
        assert fetch(url)[2] == "build 1: PSA1 TRAD\n"
        assert fetch(url + "districts/NEW1.html")[0] == 404
        go_on.set()
        until(lambda: fetch(url)[2] == "build 2: NEW1 PSA1 TRAD\n")
        assert fetch(url + "districts/NEW1.html")[2] == "build 2: NEW1\n"


class Failing(Builder):
    """Fails as a busy database does, `times` times after its first build."""

    def __init__(self, times: int) -> None:
        super().__init__()
        self.times = times

    def __call__(self, session: Any, out: Path, ctx: Context) -> list[Path]:
        if self.builds and self.times:
            self.times -= 1
            raise StoreBusy("the database is busy (another writer held its lock)")
        return super().__call__(session, out, ctx)


def test_a_failed_build_keeps_the_last_site_and_is_tried_later_and_later(
    app: App, seeded: Pal, caplog: pytest.LogCaptureFixture
) -> None:
    """A failing build leaves the site served as it was and is tried again after 1, 2, 4 ...
    seconds up to a cap, with one log line when it starts failing and one when it works."""
    builder = Failing(times=5)
    with site_folder(None) as out, open_server(0) as server:
        dashboard = Dashboard(app, builder, out, lambda: NOW)
        watcher = Watcher(dashboard.marker, dashboard.build_into(server), 5, Retry(1, 6))
        watcher.step()
        served = server.site
        ok(seeded, "district", "add", "NEW1", "--name", "New District")
        with caplog.at_level(logging.INFO, logger="pal.dashboard"):
            waits = [watcher.step() for _ in range(6)]
        assert waits == [1, 2, 4, 6, 6, 5]
        assert builder.builds == 2 and server.site is not served
        lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(lines) == 2, lines
        assert lines[0].startswith("dashboard not rebuilt: the database is busy")
        assert "still serving the last one built" in lines[0]
        assert lines[1] == "dashboard rebuilt again after 5 failed tries"


def test_a_port_in_use_is_bad_input() -> None:
    """A port another program holds is refused with one line naming it."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(BadInput, match=f"port {port} is in use on 127.0.0.1"):
            open_server(port)


def test_a_privileged_port_is_bad_input() -> None:
    """A port below 1024, which pal may not bind, is refused with one line saying why (as root,
    tried as `nobody`: root may bind any port)."""
    start = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")
    if start.exists() and int(start.read_text()) <= 80:
        pytest.skip("this kernel lets anyone bind port 80")
    code = "from workflow.dashboard.serve import open_server; open_server(80)"
    command = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root, and no setpriv to try as another user")
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    found = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    last = found.stderr.strip().splitlines()[-1]
    assert last == (
        "states.errors.BadInput: port 80 needs privileges pal does not run with: "
        "choose one from 1024 up (0 picks a free one)"
    ), found.stderr


# --- `pal dashboard --serve`, for real: a process of its own, the site builder, a sweep ----------

PAL = Path(sys.executable).with_name("pal")


def first_line(process: subprocess.Popen[str]) -> str:
    """The process's first line of output, waited for at most WAIT_S."""
    lines = queue.Queue[str]()
    assert process.stdout is not None
    out = process.stdout
    threading.Thread(target=lambda: lines.put(out.readline()), daemon=True).start()
    return lines.get(timeout=WAIT_S)


@pytest.mark.slow
def test_pal_dashboard_serve_shows_a_sweeps_change_and_stops_on_sigterm(
    seeded: Pal, tmp_path: Path
) -> None:
    """`pal dashboard --serve 0` prints its URL once, serves every page, shows the stage a later
    sweep moved the agreement to, and stops on SIGTERM with exit 0 and nothing on stderr,
    leaving the last site built in `--out`."""
    agreement = signed_agreement(seeded)
    env = {**os.environ, "PAL_DATABASE_URL": seeded.db_url}
    out = tmp_path / "site"
    process = subprocess.Popen(
        [str(PAL), "dashboard", "--serve", "0", "--every", "0.2", "--out", str(out)], env=env,
        text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        line = first_line(process)
        found = re.fullmatch(r"Serving the dashboard at (http://127\.0\.0\.1:\d+/) ; rebuilt "
                             r"after each sweep\. Ctrl-C to stop\.\n", line)  # fmt: skip
        assert found, line
        url = found.group(1)
        for page in ("", "style.css", f"agreements/{agreement}.html", "processes/agreement.html"):
            assert fetch(url + page)[0] == 200, page
        page = url + f"agreements/{agreement}.html"
        assert STATE_LABELS["signed"] in fetch(page)[2]
        tick(seeded, "2019-11-01T12:00:00")  # 18 months after the signing: the review opens
        until(lambda: STATE_LABELS["rga"] in fetch(page)[2])
    finally:
        process.send_signal(signal.SIGTERM)
        printed, err = process.communicate(timeout=WAIT_S)
    assert (process.returncode, printed, err) == (0, "", "")
    assert STATE_LABELS["rga"] in (out / f"agreements/{agreement}.html").read_text()


def test_a_port_in_use_is_one_error_line_and_exit_2(seeded: Pal) -> None:
    """`pal dashboard --serve` on a port another program holds: one `error:` line, exit 2."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = seeded("dashboard", "--serve", port)
    assert_error(result, 2, mentions=f"port {port} is in use on 127.0.0.1")


class FolderBuilder(Builder):
    """A site whose `districts/` folder has an index page of its own."""

    def __call__(self, session: Any, out: Path, ctx: Context) -> list[Path]:
        written = super().__call__(session, out, ctx)
        (out / "districts" / "index.html").write_text("every district\n")
        return written


def test_a_folder_named_without_its_slash_is_redirected_to_its_index(app: App) -> None:
    """`/districts` is sent on to `/districts/`, its index; a folder with no index is not found."""
    with serving(app, FolderBuilder()) as url:
        assert fetch(url + "districts") == (200, "text/html; charset=utf-8", "every district\n")
        assert fetch(url + "style.css/")[0] == 404


def test_a_missing_page_says_so_in_words_and_links_to_the_overview(app: App) -> None:
    """A page not in the dashboard is a 404 page with a heading and a link back to the overview."""
    with serving(app, Builder()) as url:
        status, kind, body = fetch(url + "agreements/999.html")
    assert (status, kind) == (404, "text/html; charset=utf-8")
    assert '<html lang="en">' in body and "<h1>" in body and '<a href="/">' in body
