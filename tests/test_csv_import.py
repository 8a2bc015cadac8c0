"""`pal district import FILE.csv`: every row or none, and a bad row is named by its line number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import DISTRICTS, Pal, assert_error, audit_count, ok, snapshot

HEADER = "code,name,isd,psa,authorizer\n"
GOOD_ROWS = (
    "DET,Detroit Public Schools Community District,Wayne RESA,false,\n"
    "BH,Benton Harbor Area Schools,Berrien RESA,false,\n"
    'ACAD,"Academy of the Lakes, a PSA",,true,Central Michigan University\n'
)


def write(tmp_path: Path, text: str, name: str = "districts.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def districts(pal: Pal) -> dict[str, dict[str, object]]:
    return {row["code"]: row for row in json.loads(ok(pal, "district", "list", "--json"))}


def test_a_good_csv_imports_every_row(seeded: Pal, db_url: str, tmp_path: Path) -> None:
    """All rows are added, each audited, with their ISD, PSA flag and authorizer."""
    audits = audit_count(db_url)
    out = ok(seeded, "district", "import", write(tmp_path, HEADER + GOOD_ROWS))
    assert "3" in out
    found = districts(seeded)
    assert set(found) == {*DISTRICTS, "DET", "BH", "ACAD"}
    assert found["DET"]["isd"] == "Wayne RESA"
    assert found["DET"]["psa"] is False
    assert found["ACAD"] == {
        "code": "ACAD", "name": "Academy of the Lakes, a PSA", "isd": None, "psa": True,
        "authorizer": "Central Michigan University",
    }  # fmt: skip
    assert audit_count(db_url) == audits + 3


def test_a_csv_with_bom_crlf_and_upper_case_true_imports(seeded: Pal, tmp_path: Path) -> None:
    """A spreadsheet export (UTF-8 BOM, CRLF line ends, TRUE) imports like a plain file."""
    text = "\ufeff" + (HEADER + "PSA9,Ninth Academy,,TRUE,Grand Valley State\n").replace(
        "\n", "\r\n"
    )
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode("utf-8"))
    ok(seeded, "district", "import", path)
    assert districts(seeded)["PSA9"]["psa"] is True


def test_a_header_only_csv_imports_nothing_and_succeeds(seeded: Pal, db_url: str,
                                                        tmp_path: Path) -> None:  # fmt: skip
    """A file with just the header is a valid, empty import."""
    before = snapshot(db_url)
    ok(seeded, "district", "import", write(tmp_path, HEADER))
    assert snapshot(db_url) == before


BAD_FILES = [
    ("psa=maybe on line 4", HEADER + "DET,Detroit,,false,\nBH,Benton Harbor,,false,\n"
     "X,X,,maybe,\n", 4),
    ("duplicate code in the file", HEADER + "DET,Detroit,,false,\nDET,Detroit again,,false,\n",
     3),
    ("code already on file", HEADER + "NEW,New,,false,\nTRAD,Trad again,,false,\n", 3),
    ("PSA without authorizer", HEADER + "DET,Detroit,,false,\nP2,Academy,,true,\n", 3),
    ("authorizer without PSA", HEADER + "DET,Detroit,,false,\nP2,Academy,,false,CMU\n", 3),
    ("too few fields", HEADER + "DET,Detroit,,false,\nBH,Benton Harbor,false\n", 3),
    ("too many fields", HEADER + "DET,Detroit,,false,,extra\n", 2),
    ("malformed code", HEADER + "DET,Detroit,,false,\nBH,Benton Harbor,,false,\n"
     "no code!,Nameless,,false,\n", 4),
    ("empty name", HEADER + "DET,,,false,\n", 2),
    ("wrong header", "code,name,psa\nDET,Detroit,false\n", 1),
    ("empty file", "", 1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "line"), [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES]
)
def test_a_bad_line_imports_nothing_and_names_the_line(
    seeded: Pal, db_url: str, tmp_path: Path, text: str, line: int
) -> None:
    """One bad line rolls back the whole file (2), and the error names that line."""
    before = snapshot(db_url)
    result = seeded("district", "import", write(tmp_path, text))
    assert_error(result, 2, mentions=f"line {line}")
    assert snapshot(db_url) == before


def test_a_file_that_is_not_utf8_is_bad_input(seeded: Pal, db_url: str, tmp_path: Path) -> None:
    """A Latin-1 file is refused (2) and nothing is imported."""
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "SAULT,Sault Ste. Marie Área,,false,\n").encode("latin-1"))
    before = snapshot(db_url)
    assert_error(seeded("district", "import", path), 2)
    assert snapshot(db_url) == before


def test_a_missing_file_is_bad_input(seeded: Pal, db_url: str) -> None:
    """Importing a file that does not exist is bad input (2)."""
    before = snapshot(db_url)
    assert_error(seeded("district", "import", "nowhere.csv"), 2)
    assert snapshot(db_url) == before
