"""Review of issue 17 where its parts meet: the dashboard's folder written through a link, after a
killed build and beside a build under way; the served dashboard built again when mail is
delivered or the service falls silent; the annual report of a year cut at September 30."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

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
