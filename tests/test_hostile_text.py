"""Text that enters pal and reaches messages (issue 9, items 5, 6 and 12, and the CSV parts of the
error contract), through the CLI on both backends and a real SMTP server on 127.0.0.1.

Where text enters (`workflow.text`, `workflow.actors.normalize_email`) it is refused with one
`error:` line, exit 2 and nothing changed; what reaches a header anyway is folded and encoded by
`notifications.mime` (see tests/test_mime.py for its properties).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import smtp_server as smtp
from helpers import (
    DIRECTOR,
    LIAISON,
    TRAD,
    Pal,
    execute,
    identify,
    ok,
    person,
    refused,
)
from service_support import outbox, tick

LONG_WORD = "Lakeview" + "x" * 4992  # one word of 5,000 characters (item 5)
HEADER = "code,name,isd,psa,authorizer\n"
GOOD_ROW = "DET,Detroit Public Schools Community District,Wayne RESA,false,\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "districts.csv"
    path.write_bytes(text.encode("utf-8"))
    return path


# --- item 5: a 5,000-character word in a district's name ----------------------------------------


@pytest.mark.parametrize(
    ("name", "via"),
    [
        ("Lakeview " + "y" * 180 + " Schools", "cli"),  # a 180-character word, within the bound
        (f"{LONG_WORD} Public Schools", "on file"),  # stored before names were bounded
    ],
)
def test_a_notice_for_a_district_with_a_very_long_word_in_its_name_is_accepted_over_smtp(
    mailed: Pal, smtp_server: smtp.SmtpServer, name: str, via: str
) -> None:
    """The SMTP server used to answer "500 Line too long" to the 5,001-character Subject and every
    notice of the district failed for good; now each is folded and accepted, and reads back as
    the district's name."""
    if via == "cli":
        ok(mailed, "district", "add", "LONG", "--name", name)
    else:
        ok(mailed, "district", "add", "LONG", "--name", "Lakeview")
        execute(mailed.db_url, "UPDATE district SET name = :name WHERE code = 'LONG'", name=name)
    for role in ("superintendent", "board_president", "isd_superintendent"):
        ok(mailed, "contact", "add", person("LONG", role), "--name", role.title(),
           "--role", role, "--district", "LONG")  # fmt: skip

    identify_today_and_deliver(mailed, "LONG")

    rows = outbox(mailed)
    assert {row["status"] for row in rows} == {"sent"}, rows
    assert sorted(smtp_server.handler.recipients()) == sorted(
        person("LONG", role) for role in ("board_president", "isd_superintendent", "superintendent")
    )
    for item in smtp_server.received:
        assert max(len(line) for line in item.content.split(b"\r\n")) <= 998
        headers = item.content.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        assert max(len(line) for line in headers) <= 78
        assert item.message["Subject"].startswith(
            f"{name} has been identified for a partnership agreement: signed plan due "
        )
        assert name in item.message.get_body(("plain",)).get_content()


def identify_today_and_deliver(pal: Pal, district: str) -> None:
    """Identify today (its notices are due now), then one `pal tick` now delivers them."""
    ok(pal, "agreement", "identify", district, "--by", DIRECTOR)
    tick(pal, datetime.now(UTC).isoformat())


@pytest.mark.parametrize(
    "args",
    [
        ["district", "add", "NEW", "--name", LONG_WORD],
        ["district", "add", "NEW", "--name", "New", "--isd", "x" * 201],
        ["district", "add", "NEW", "--name", "New", "--psa", "--authorizer", "x" * 201],
        ["school", "add", "S1", "--name", "x" * 201, "--district", TRAD],
        ["contact", "add", "new@mde.example", "--name", "x" * 201, "--role", "liaison"],
        ["agreement", "identify", TRAD, "--cohort", "x" * 2001, "--by", DIRECTOR],
        ["agreement", "identify", TRAD, "--note", "x" * 2001, "--by", DIRECTOR],
    ],
    ids=["district", "isd", "authorizer", "school", "contact", "cohort", "note"],
)
def test_a_name_or_note_over_its_bound_is_refused_where_it_enters(
    seeded: Pal, args: list[str]
) -> None:
    """Names and labels hold at most 200 characters, notes and event text 2,000."""
    refused(seeded, 2, *args, mentions="the most allowed is")


def test_a_csv_name_over_the_bound_is_refused_naming_its_line(seeded: Pal, tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + GOOD_ROW + f"LONG,{LONG_WORD},,false,\n")
    result = refused(seeded, 2, "district", "import", path, mentions="line 3: district name")
    assert len(result.stderr) < 300  # the name is not echoed back


# --- item 6: addresses SMTP cannot carry ---------------------------------------------------------

BAD_ADDRESSES = {
    "non-ASCII local part": "dañ@b.example",
    "non-ASCII domain": "dan@bücher.example",
    "quoted local part": '"dan"@b.example',
    "a quote inside": 'a"b@c.example',
    "a backslash": "a\\b@c.example",
    "local part of 65": "x" * 65 + "@b.example",
    "local part of 3,000": "x" * 3000 + "@b.example",
    "address of 255": "xxx@" + ".".join(["d" * 60] * 4) + ".example",
    "NUL": "a\x00b@c.example",
    "line break": "a\nbcc@c.example",
    "ESC": "a\x1b[2Jb@c.example",
    "two @": "a@b@c.example",
    "no domain dot": "a@localhost",
    "address literal": "a@[127.0.0.1]",
    "leading dot": ".a@b.example",
    "double dot": "a..b@c.example",
    "hyphen label": "a@-b.example",
    "encoded word": "=?utf-8?q?x?=@b.example",
    "blank inside": "a b@c.example",
}


@pytest.mark.parametrize("address", BAD_ADDRESSES.values(), ids=BAD_ADDRESSES.keys())
def test_contact_add_refuses_an_address_smtp_cannot_carry(seeded: Pal, address: str) -> None:
    # The CLI refuses NUL in any argument before a command runs ("argument 3 contains a NUL").
    mentions = "NUL" if "\x00" in address else "malformed email address"
    refused(seeded, 2, "contact", "add", address, "--name", "Dan", "--role", "liaison",
            mentions=mentions)  # fmt: skip


@pytest.mark.parametrize(
    "address", ["dañ@b.example", 'a"b@c.example', "x" * 65 + "@b.example"], ids=str.__str__
)
def test_every_way_in_for_an_address_uses_the_same_check(seeded: Pal, address: str) -> None:
    """--by (a person acting, a clerk registering) and --set liaison=... refuse it alike."""
    agreement = identify(seeded)
    for args in (
        ["agreement", "fire", agreement, "start_assessment", "--set", f"liaison={address}",
         "--by", LIAISON],
        ["agreement", "sign", agreement, "--party", "board", "--by", address],
        ["district", "add", "NEW", "--name", "New", "--by", address],
    ):  # fmt: skip
        refused(seeded, 2, *args, mentions="malformed email address")


def test_an_unusual_but_deliverable_address_is_accepted_as_typed_in_lower_case(
    seeded: Pal,
) -> None:
    address = "O'Brien+PAL.{x}@" + "b" * 63 + ".Example"
    out = ok(seeded, "contact", "add", address, "--name", "Pat", "--role", "liaison")
    assert address.lower() in out


# --- item 12: control characters in names, labels and notes --------------------------------------

CONTROLS = {"NUL": "\x00", "BEL": "\x07", "ESC": "\x1b[2J", "DEL": "\x7f", "tab": "\t",
            "line feed": "\n", "C1": "\x85", "line separator": "\u2028"}  # fmt: skip
WAYS_IN = {
    "district name": ["district", "add", "NEW", "--name", "Lake{c}view"],
    "isd": ["district", "add", "NEW", "--name", "New", "--isd", "Wayne{c}RESA"],
    "authorizer": ["district", "add", "NEW", "--name", "New", "--psa", "--authorizer", "C{c}MU"],
    "school name": ["school", "add", "S1", "--name", "Lake{c}School", "--district", TRAD],
    "contact name": ["contact", "add", "new@mde.example", "--name", "P{c}L", "--role", "liaison"],
    "cohort": ["agreement", "identify", TRAD, "--cohort", "2018{c}03", "--by", DIRECTOR],
    "note": ["agreement", "identify", TRAD, "--note", "see{c}this", "--by", DIRECTOR],
}


@pytest.mark.parametrize("control", CONTROLS.values(), ids=CONTROLS.keys())
@pytest.mark.parametrize("way_in", WAYS_IN.values(), ids=WAYS_IN.keys())
def test_a_control_character_is_refused_wherever_text_enters(
    seeded: Pal, way_in: list[str], control: str
) -> None:
    args = [arg.replace("{c}", control) for arg in way_in]
    # The CLI refuses NUL in any argument before a command runs ("argument 5 contains a NUL").
    refused(seeded, 2, *args, mentions="NUL" if control == "\x00" else "contains a control")


def test_text_that_is_not_utf8_on_the_command_line_is_refused(seeded: Pal) -> None:
    """A byte that is not UTF-8 reaches Python as a lone surrogate: it cannot be stored or sent."""
    refused(seeded, 2, "district", "add", "NEW", "--name", "Lake\udcffview",
            mentions="not valid UTF-8")  # fmt: skip


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b"], ids=["NUL", "BEL", "ESC"])
def test_a_control_character_in_a_csv_is_refused_naming_its_line(
    seeded: Pal, tmp_path: Path, control: str
) -> None:
    """NUL, BEL and ESC from an imported name never reach a Subject; NUL on PostgreSQL used to
    fail inside the database (exit 1)."""
    path = write(tmp_path, HEADER + GOOD_ROW + f"LAKE,Lake{control}view,,false,\n")
    refused(seeded, 2, "district", "import", path, mentions="line 3: district name contains")


def test_a_control_character_already_on_file_never_reaches_a_header(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """The second line of defence: a name stored before the check reaches the Subject as U+FFFD."""
    ok(mailed, "district", "add", "BELL", "--name", "Bell")
    execute(mailed.db_url, "UPDATE district SET name = :name WHERE code = 'BELL'",
            name="Bell\x07 Lake\x1b[2J")  # fmt: skip
    for role in ("superintendent", "board_president"):
        ok(mailed, "contact", "add", person("BELL", role), "--name", role.title(),
           "--role", role, "--district", "BELL")  # fmt: skip
    identify_today_and_deliver(mailed, "BELL")

    assert len(smtp_server.received) == 2
    for item in smtp_server.received:
        headers = item.content.split(b"\r\n\r\n", 1)[0]
        assert not re.search(rb"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]", headers)
        assert item.message["Subject"].startswith("Bell\ufffd Lake\ufffd[2J has been identified")


# --- the CSV parts of the error contract ---------------------------------------------------------


def test_a_csv_field_over_the_csv_limit_is_refused_naming_its_line(
    seeded: Pal, tmp_path: Path
) -> None:
    """Python's csv module stops at 131,072 characters in a field (it used to exit 1)."""
    path = write(tmp_path, HEADER + GOOD_ROW + "BIG," + "x" * 131_073 + ",,false,\n" + GOOD_ROW)
    result = refused(seeded, 2, "district", "import", path, mentions="line 3: a field is longer")
    assert "131,072" in result.stderr


def test_a_nul_byte_anywhere_in_a_csv_is_refused_naming_its_line(
    seeded: Pal, tmp_path: Path
) -> None:
    """PostgreSQL refuses NUL in text: each column is checked before anything is written."""
    rows = ["N1,\x00,,false,", "N2,Name,\x00,false,", "N3,Name,,false\x00,", "N\x004,Name,,false,",
            "P5,Name,,true,C\x00MU"]  # fmt: skip
    for number, bad in enumerate(rows):
        path = write(tmp_path, HEADER + GOOD_ROW + bad + "\n")
        result = refused(seeded, 2, "district", "import", path, mentions="line 3: ")
        assert "\x00" not in result.stderr, number


def test_a_nul_byte_in_the_csv_header_is_refused_on_line_1(seeded: Pal, tmp_path: Path) -> None:
    path = write(tmp_path, "code,na\x00me,isd,psa,authorizer\n" + GOOD_ROW)
    refused(seeded, 2, "district", "import", path, mentions="line 1: ")


@pytest.mark.parametrize(
    "row",
    ["C" * 100_000 + ",Name,,false,", "BIG,Name,,maybe" + "e" * 100_000 + ","],
    ids=["code", "psa"],
)
def test_a_huge_bad_value_is_named_in_a_short_error_line(
    seeded: Pal, tmp_path: Path, row: str
) -> None:
    result = refused(seeded, 2, "district", "import", write(tmp_path, HEADER + row + "\n"),
                     mentions="line 2: ")  # fmt: skip
    assert len(result.stderr) < 300 and "100,0" in result.stderr


def test_an_address_that_is_ascii_only_after_lower_casing_is_refused() -> None:
    """The Kelvin sign lower-cases to `k`: the address typed is not ASCII, so it is refused."""
    from states.errors import BadInput
    from workflow.actors import normalize_email

    with pytest.raises(BadInput, match="ASCII"):
        normalize_email("\u212aelly@x.example")
