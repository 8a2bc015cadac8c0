"""Review of issue 17 where its parts meet: the dashboard's folder written through a link, after a
killed build and beside a build under way; the served dashboard built again when mail is
delivered or the service falls silent; the annual report of a year cut at September 30."""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import (
    DIRECTOR,
    PSA,
    PSA_PARTIES,
    Pal,
    add_benchmark,
    add_school,
    assert_error,
    fire,
    identify,
    ok,
    review_done,
    show,
    sign,
    signed_agreement,
    signed_off_track,
    start_assessment,
)
from service_support import MAIL_FROM, tick
from sqlmodel import func, select

from config.settings import Settings
from notifications.dispatch import deliver_all_due
from notifications.transports import FileTransport
from states.agreement import STATE_LABELS
from storage.models import Audit
from storage.service_models import Outbox
from workflow.app import App, open_app
from workflow.dashboard.serve import change_marker
from workflow.dashboard.writing import MARKER, write_site

PAGES = {"index.html": "<p>new</p>", "agreements/1.html": "<p>one</p>"}


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_link_to_a_folder_has_the_folder_written_and_the_link_kept(tmp_path: Path) -> None:
    """--out naming a link writes the site into the folder it links to, keeps the link, and
    leaves nothing hidden beside it."""
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    write_site(tmp_path / "link", PAGES)
    write_site(tmp_path / "link", PAGES)
    assert (tmp_path / "link").is_symlink()
    assert (tmp_path / "real" / "index.html").read_text() == "<p>new</p>"
    assert _hidden(tmp_path) == []


def test_dot_names_the_folder_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--out .` inside a dashboard written before replaces that dashboard."""
    write_site(tmp_path / "site", {"index.html": "<p>old</p>"})
    monkeypatch.chdir(tmp_path / "site")
    write_site(Path("."), PAGES)
    assert (tmp_path / "site" / "index.html").read_text() == "<p>new</p>"
    assert _hidden(tmp_path) == []


KILLED = """
import os, sys
from pathlib import Path
from workflow.dashboard.writing import write_site
def pages():
    yield "index.html", "<p>half</p>"
    os._exit(9)
write_site(Path(sys.argv[1]), pages())
"""


def test_a_build_killed_midway_leaves_a_folder_the_next_build_removes(tmp_path: Path) -> None:
    """A build killed mid-way leaves its hidden building folder, and the next build removes it
    while keeping the site it writes."""
    out = tmp_path / "site"
    write_site(out, {"index.html": "<p>old</p>"})
    subprocess.run([sys.executable, "-c", KILLED, str(out)], check=False)
    assert len(_hidden(tmp_path)) == 1
    assert (out / "index.html").read_text() == "<p>old</p>"
    write_site(out, PAGES)
    assert _hidden(tmp_path) == []
    assert (out / "index.html").read_text() == "<p>new</p>" and (out / MARKER).is_file()


def test_a_build_under_way_is_not_removed_by_another(tmp_path: Path) -> None:
    """Two builds into one folder at once both finish, the one under way untouched by the
    other's cleaning, and nothing hidden is left."""
    out = tmp_path / "site"
    write_site(out, {"index.html": "<p>old</p>"})
    started, go = threading.Event(), threading.Event()

    def slow() -> Iterator[tuple[str, str]]:
        yield "index.html", "<p>slow</p>"
        started.set()
        go.wait(30)
        yield "agreements/1.html", "<p>one</p>"

    failed: list[BaseException] = []

    def first() -> None:
        try:
            write_site(out, slow())
        except BaseException as exc:  # reported by the assertion below
            failed.append(exc)

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(30)
    write_site(out, PAGES)
    go.set()
    thread.join(30)
    assert failed == []
    assert (out / "index.html").read_text() == "<p>slow</p>"
    assert (out / "agreements" / "1.html").is_file()
    assert _hidden(tmp_path) == []


NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def _marker(app: App, at: datetime) -> object:
    with app.read() as session:
        return change_marker(session, app.context(at))


def test_mail_delivered_moves_the_served_dashboards_marker(seeded: Pal, tmp_path: Path) -> None:
    """Mail delivered (no audit row, no sweep) builds the served dashboard again: its mail
    counts change."""
    identify(seeded)
    with open_app(Settings(database_url=seeded.db_url)) as app:
        with app.read() as session:
            assert session.exec(select(func.count()).select_from(Outbox)).one() > 0
            audit = session.exec(select(func.max(Audit.id))).one()
        before = _marker(app, NOW)
        report = asyncio.run(deliver_all_due(app.engine, FileTransport(tmp_path), NOW, MAIL_FROM))
        assert report.sent > 0
        with app.read() as session:
            assert session.exec(select(func.max(Audit.id))).one() == audit
        assert _marker(app, NOW) != before


def test_a_service_fallen_silent_moves_the_marker(seeded: Pal) -> None:
    """The same database looked at after the service has missed its sweeps gives another marker
    (the mail's health shown changes), and a moment later with nothing missed the same one."""
    tick(seeded, "2026-12-02T14:59:00+00:00")
    with open_app(Settings(database_url=seeded.db_url)) as app:
        assert _marker(app, NOW) == _marker(app, NOW + timedelta(seconds=1))
        assert _marker(app, NOW) != _marker(app, NOW + timedelta(hours=2))


def _year(pal: Pal, year: int, agreement: int) -> list[tuple[str, str, str, str]]:
    text = ok(pal, "report", "annual", "--year", str(year), "--format", "csv")
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["agreement"] == str(agreement)]
    return [(r["section"], r["school"], r["item"], r["value"])
            for r in rows if r["section"] in ("review", "status")]  # fmt: skip


def _psa_off_track(pal: Pal, school: str) -> int:
    """`signed_off_track` in the other district."""
    add_school(pal, school, PSA)
    agreement = identify(pal, PSA, "--schools", school)
    start_assessment(pal, agreement)
    add_benchmark(pal, agreement, school, "attendance_rate", 80, 85, 90, on="2018-04-01")
    sign(pal, agreement, PSA_PARTIES, on="2018-05-01")
    return agreement


def test_a_review_determined_after_september_30_is_not_yet_in_that_years_report(
    seeded: Pal,
) -> None:
    """A review determined on September 30 is determined, with its statuses, in that fiscal
    year's report; one determined on October 1 is "not yet", its schools not determined, until
    the next year's."""
    on_time, late = signed_off_track(seeded, "S1")[0], _psa_off_track(seeded, "S2")
    for agreement, day in ((on_time, "2019-09-30"), (late, "2019-10-01")):
        fire(seeded, agreement, "open_rga", by=DIRECTOR, on="2019-09-01")
        review_done(seeded, agreement, on=day)
    determined = [("review", "", "Latest review opened on", "2019-09-01"),
                  ("review", "", "Determined on", "2019-09-30"),
                  ("status", "S1 School", "Status", "Off-Track with Limited Progress")]  # fmt: skip
    assert _year(seeded, 2019, on_time) == determined
    assert _year(seeded, 2019, late) == [
        ("review", "", "Latest review opened on", "2019-09-01"),
        ("review", "", "Determined on", "not yet"),
        ("status", "S2 School", "Status", "not determined"),
    ]
    assert _year(seeded, 2020, late)[1] == ("review", "", "Determined on", "2019-10-01")


def test_a_file_put_in_a_dashboards_folder_is_refused_and_kept(pal: Pal, tmp_path: Path) -> None:
    """A file someone put in a folder pal wrote makes the next build one error line, exit 2,
    with the folder unchanged; once moved away, the build replaces the folder."""
    ok(pal, "init")
    out = tmp_path / "site"
    ok(pal, "dashboard", "--out", out)
    (out / "agreements" / "notes.txt").write_text("mine")
    before = sorted((p.as_posix(), p.read_bytes()) for p in out.rglob("*") if p.is_file())
    result = pal("dashboard", "--out", out)
    assert_error(result, 2, mentions="agreements/notes.txt")
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted((p.as_posix(), p.read_bytes()) for p in out.rglob("*") if p.is_file()) == before
    (out / "agreements" / "notes.txt").unlink()
    ok(pal, "dashboard", "--out", out)


def test_a_dashboard_named_like_the_folder_beside_it_is_not_taken_for_a_leftover(
    tmp_path: Path,
) -> None:
    """A dashboard someone built at `.site.backup` stays when `site` is built beside it."""
    write_site(tmp_path / ".site.backup", PAGES)
    write_site(tmp_path / "site", PAGES)
    assert (tmp_path / ".site.backup" / "index.html").read_text() == "<p>new</p>"


def test_an_agreement_signed_after_september_30_is_unsigned_in_that_years_report(
    seeded: Pal,
) -> None:
    """An agreement signed on October 15 is reported in the year before with the state it was
    in on September 30 and "not signed"; in the next year's, signed, in its state now."""
    agreement = signed_agreement(seeded, signed_on="2018-10-15")
    now = STATE_LABELS[show(seeded, agreement)["state"]]

    def said(year: int) -> dict[str, str]:
        text = ok(seeded, "report", "annual", "--year", str(year), "--format", "csv")
        return {r["item"]: r["value"] for r in csv.DictReader(io.StringIO(text))
                if r["section"] == "agreement"}  # fmt: skip

    before, after = said(2018), said(2019)
    assert (before["Signed on"], after["Signed on"]) == ("not signed", "2018-10-15")
    assert before["State"] != now and after["State"] == now
