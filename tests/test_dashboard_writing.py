"""`pal dashboard --out DIR` writes its folder whole or not at all: a folder pal did not write
(or a file) is refused with nothing changed, a dashboard written before is replaced, and what a
district or school is named is shown as text, never run as markup."""

from __future__ import annotations

from pathlib import Path

from dashboard_pages import parse
from helpers import TRAD, Pal, add_school, assert_error, identify, ok, seed

HOSTILE = '<script>alert("x")</script> & <b>Sons</b>'


def _listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}  # fmt: skip


def test_a_folder_with_files_pal_did_not_write_is_refused_untouched(
    pal: Pal, tmp_path: Path
) -> None:
    """Exit 2 with one line; the folder's files, and the folder around it, stay as they were."""
    ok(pal, "init")
    mine = tmp_path / "mine"
    (mine / "notes").mkdir(parents=True)
    (mine / "index.html").write_text("my own page")
    (mine / "notes" / "a.txt").write_text("keep me")
    before, around = _listing(mine), sorted(p.name for p in tmp_path.iterdir())
    result = pal("dashboard", "--out", mine)
    assert_error(result, 2, mentions="pal did not write")
    assert len(result.stderr.strip().splitlines()) == 1
    assert _listing(mine) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == around


def test_a_file_is_refused(pal: Pal, tmp_path: Path) -> None:
    """A path that is a file is bad input, and the file is left as it was."""
    ok(pal, "init")
    target = tmp_path / "site"
    target.write_text("a file")
    assert_error(pal("dashboard", "--out", target), 2, mentions="is a file")
    assert target.read_text() == "a file"


def test_an_unwritable_place_is_refused(pal: Pal, tmp_path: Path) -> None:
    """A folder under a file, or a name longer than the file system allows: bad input."""
    ok(pal, "init")
    (tmp_path / "plain").write_text("x")
    result = pal("dashboard", "--out", tmp_path / "plain" / "site")
    assert_error(result, 2, mentions="cannot write")
    assert_error(pal("dashboard", "--out", tmp_path / ("x" * 300)), 2, mentions="too long")


def test_a_dashboard_written_before_is_replaced_whole(pal: Pal, tmp_path: Path) -> None:
    """Building again into the same folder replaces it: a page left over from before is gone,
    and no building folder is left beside it."""
    seed(pal)
    out = tmp_path / "place" / "site"
    ok(pal, "dashboard", "--out", out)
    (out / "agreements" / "999.html").write_text("stale")  # a page of an earlier build's
    with (out / ".pal-dashboard").open("a") as marker:
        marker.write("agreements/999.html\n")
    identify(pal)
    said = ok(pal, "dashboard", "--out", out)
    assert said == f"Dashboard written to {out}: 7 pages. Open {out / 'index.html'}.\n"
    assert (out / "agreements" / "1.html").is_file()
    assert not (out / "agreements" / "999.html").exists()
    assert [p.name for p in out.parent.iterdir()] == ["site"]


def test_hostile_names_are_shown_as_text(pal: Pal, tmp_path: Path) -> None:
    """A district and a school named with markup appear escaped, on the overview's list and on
    the agreement's page, and no page holds a script."""
    seed(pal)
    ok(pal, "district", "edit", TRAD, "--name", HOSTILE)
    add_school(pal, "S1")
    ok(pal, "school", "edit", "S1", "--name", HOSTILE)
    agreement = identify(pal, TRAD, "--schools", "S1", "--note", HOSTILE)
    out = tmp_path / "site"
    ok(pal, "dashboard", "--out", out)
    for path in (out / "agreements" / "index.html", out / "agreements" / f"{agreement}.html"):
        raw = path.read_text()
        assert "<script" not in raw and "<b>Sons" not in raw
        assert HOSTILE in parse(path).text
