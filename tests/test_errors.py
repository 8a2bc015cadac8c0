"""Every error path: one `error:` line on stderr, the documented exit code, no traceback, and the
database exactly as it was (2 bad input, 3 not allowed in state, 4 permission denied)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import (
    DIRECTOR,
    IDENTIFIED_ON,
    LIAISON,
    PSA,
    STATE_SUPERINTENDENT,
    TRAD,
    Pal,
    assert_error,
    engine_for,
    identify,
    person,
    show,
    snapshot,
    start_assessment,
)

A = "{agreement}"  # replaced by the id of a TRAD agreement in needs_assessment

SIGN = ["agreement", "sign", A, "--party", "board"]
ESCALATE = ["agreement", "fire", A, "escalate", "--set", "option=closure"]

CASES: list[tuple[str, list[str], int]] = [
    # unknown district, agreement or person
    ("unknown district: identify", ["agreement", "identify", "NOPE", "--on", IDENTIFIED_ON,
                                    "--by", DIRECTOR], 2),
    ("unknown district: school add", ["school", "add", "S1", "--name", "S", "--district", "NOPE"],
     2),
    ("unknown district: contact add", ["contact", "add", "x@nope.example", "--name", "X",
                                       "--role", "superintendent", "--district", "NOPE"], 2),
    ("unknown district: contact list", ["contact", "list", "--district", "NOPE"], 2),
    ("unknown district: agreement list", ["agreement", "list", "--district", "NOPE"], 2),
    ("unknown agreement: show", ["agreement", "show", "999"], 2),
    ("unknown agreement: fire", ["agreement", "fire", "999", "open_rga", "--by", DIRECTOR], 2),
    ("unknown agreement: sign", ["agreement", "sign", "999", "--party", "board", "--by", LIAISON],
     2),
    ("agreement id not a number", ["agreement", "show", "one"], 2),
    ("unknown person: fire", [*ESCALATE, "--by", "nobody@mde.example"], 2),
    ("unknown person: sign", [*SIGN, "--by", "nobody@mde.example"], 2),
    ("nobody acting", ["agreement", "fire", A, "open_rga"], 2),
    # malformed dates
    ("date 2018-02-30", [*SIGN, "--by", LIAISON, "--on", "2018-02-30"], 2),
    ("date 18-3-1", [*SIGN, "--by", LIAISON, "--on", "18-3-1"], 2),
    ("date 2018-3-01", ["agreement", "identify", PSA, "--on", "2018-3-01", "--by", DIRECTOR], 2),
    ("date 2018/03/10", [*SIGN, "--by", LIAISON, "--on", "2018/03/10"], 2),
    ("date 2018-W10-4 (ISO week, not YYYY-MM-DD)", [*SIGN, "--by", LIAISON, "--on", "2018-W10-4"],
     2),
    ("date empty", [*SIGN, "--by", LIAISON, "--on", ""], 2),
    ("deadlines --now 2018-13-01", ["deadlines", "--now", "2018-13-01"], 2),
    # malformed emails
    ("--by without a domain", ["agreement", "fire", A, "open_rga", "--by", "director-at-mde"], 2),
    ("contact add someone@", ["contact", "add", "someone@", "--name", "S", "--role", "liaison"],
     2),
    ("contact add two @", ["contact", "add", "a@b@c.example", "--name", "S", "--role", "liaison"],
     2),
    ("contact add with a space", ["contact", "add", "a b@c.example", "--name", "S",
                                  "--role", "liaison"], 2),
    # events
    ("unknown event", ["agreement", "fire", A, "promote", "--by", DIRECTOR], 2),
    ("open_rga in needs_assessment", ["agreement", "fire", A, "open_rga", "--by", DIRECTOR], 3),
    ("start_assessment twice", ["agreement", "fire", A, "start_assessment", "--set",
                                f"liaison={LIAISON}", "--by", LIAISON], 3),
    # permissions
    ("escalate by the director", [*ESCALATE, "--by", DIRECTOR], 4),
    ("escalate by a district superintendent", [*ESCALATE, "--by", person(TRAD, "superintendent")],
     4),
    ("signature recorded by a board president", [*SIGN, "--by", person(TRAD, "board_president")],
     4),
    ("identify by a liaison", ["agreement", "identify", PSA, "--on", IDENTIFIED_ON,
                               "--by", LIAISON], 4),
    ("sign fired by hand", ["agreement", "fire", A, "sign", "--by", DIRECTOR], 4),
    ("--by system: fire", [*ESCALATE, "--by", "system"], 4),
    ("--by SYSTEM: sign", [*SIGN, "--by", "SYSTEM"], 4),
    ("--by system: identify", ["agreement", "identify", PSA, "--on", IDENTIFIED_ON,
                               "--by", "system"], 4),
    ("--by system: district add", ["district", "add", "NEW", "--name", "New", "--by", "system"],
     4),
    ("--by system: contact add", ["contact", "add", "new@mde.example", "--name", "New",
                                  "--role", "liaison", "--by", "system"], 4),
    # event data
    ("unknown --set key", [*ESCALATE, "--set", "reason=late", "--by", STATE_SUPERINTENDENT], 2),
    ("--set without =", ["agreement", "fire", A, "escalate", "--set", "closure",
                         "--by", STATE_SUPERINTENDENT], 2),
    ("--set with an empty key", ["agreement", "fire", A, "escalate", "--set", "=closure",
                                 "--by", STATE_SUPERINTENDENT], 2),
    # reference data
    ("unknown role", ["contact", "add", "x@mde.example", "--name", "X", "--role", "mayor"], 2),
    ("district role without --district", ["contact", "add", "x@trad.example", "--name", "X",
                                          "--role", "superintendent"], 2),
    ("contact already on file", ["contact", "add", LIAISON.upper(), "--name", "L",
                                 "--role", "liaison"], 2),
    ("district already on file", ["district", "add", TRAD, "--name", "Again"], 2),
    ("PSA without authorizer", ["district", "add", "NEWPSA", "--name", "N", "--psa"], 2),
    ("authorizer without --psa", ["district", "add", "NEW", "--name", "N", "--authorizer", "CMU"],
     2),
    ("malformed district code", ["district", "add", "bad code!", "--name", "N"], 2),
    ("empty district name", ["district", "add", "NEW", "--name", "  "], 2),
    ("school already on file", ["school", "add", "S1", "--name", "S", "--district", TRAD], 2),
    # options and settings
    ("unknown state filter", ["agreement", "list", "--state", "paused"], 2),
    ("negative --within", ["deadlines", "--within", "-1"], 2),
    ("unknown rules version", ["agreement", "identify", PSA, "--on", IDENTIFIED_ON,
                               "--rules", "2099-01", "--by", DIRECTOR], 2),
    ("unknown command", ["agreement", "frobnicate"], 2),
    ("unknown option", ["agreement", "list", "--colour"], 2),
    ("unknown time zone", ["--timezone", "Mars/Olympus_Mons", "agreement", "list"], 2),
    ("missing config file", ["--config", "missing.toml", "agreement", "list"], 2),
    ("unsupported database URL", ["--database-url", "mysql://db.example/pal", "agreement",
                                  "list"], 2),
]  # fmt: skip


@pytest.fixture(scope="module")
def agreement(module_seeded: Pal) -> int:
    """A traditional district's agreement in needs_assessment, plus a school on file."""
    found = identify(module_seeded, TRAD)
    start_assessment(module_seeded, found)
    result = module_seeded("school", "add", "S1", "--name", "School One", "--district", TRAD)
    assert result.exit_code == 0, result.stderr
    return found


@pytest.mark.parametrize(("args", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_prints_one_line_exits_with_its_code_and_changes_nothing(
    module_seeded: Pal, agreement: int, args: list[str], code: int
) -> None:
    """Each bad request: one `error:` line, its exit code, no traceback, the database unchanged.

    The cases share one database per backend: each one leaves it exactly as it found it.
    """
    before = snapshot(module_seeded.db_url)
    result = module_seeded(*[arg.replace(A, str(agreement)) for arg in args])
    assert_error(result, code)
    assert result.stdout == ""
    assert snapshot(module_seeded.db_url) == before


def test_pal_actor_stands_in_for_by(seeded: Pal, db_url: str) -> None:
    """With PAL_ACTOR set, --by may be left out; PAL_ACTOR=system is refused (4)."""
    agreement = identify(seeded, TRAD)
    start_assessment(seeded, agreement)
    seeded.env["PAL_ACTOR"] = "system"
    before = snapshot(db_url)
    assert_error(seeded("agreement", "sign", agreement, "--party", "board"), 4)
    assert snapshot(db_url) == before
    seeded.env["PAL_ACTOR"] = LIAISON
    result = seeded("agreement", "sign", agreement, "--party", "board")
    assert result.exit_code == 0, result.stderr
    assert show(seeded, agreement)["history"][-1]["by"] == LIAISON


# --- the database itself -------------------------------------------------------------------------


UNINITIALISED_COMMANDS = [
    ["agreement", "list"],
    ["agreement", "show", "1"],
    ["district", "add", TRAD, "--name", "Trad"],
    ["contact", "list", "--json"],
    ["deadlines"],
    ["agreement", "identify", TRAD, "--by", DIRECTOR],
]


@pytest.mark.parametrize("args", UNINITIALISED_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_uninitialised_database_is_bad_input_and_is_not_created(
    pal: Pal, db_url: str, backend: str, args: list[str]
) -> None:
    """Before `pal init`, every command exits 2 with one error line and creates nothing."""
    result = pal(*args)
    assert_error(result, 2, mentions="pal init")
    if backend == "sqlite":
        assert not Path(db_url.removeprefix("sqlite:///")).exists()
    else:
        assert snapshot(db_url) == {}


def test_a_file_that_is_not_a_database_is_bad_input(tmp_path: Path) -> None:
    """Pointing pal at a file that is not SQLite is bad input (2), reported on one line."""
    pal = Pal(f"sqlite:///{tmp_path}/unused.db")
    junk = tmp_path / "notes.db"
    junk.write_text("these are my notes, not a database\n" * 200)
    before = junk.read_bytes()
    result = pal("--database-url", f"sqlite:///{junk}", "agreement", "list")
    assert_error(result, 2)
    assert junk.read_bytes() == before


def test_database_with_an_older_schema_is_refused(pal: Pal, db_url: str) -> None:
    """A database whose schema is behind this pal's is bad input (2) until `pal init` runs."""
    assert pal("init").exit_code == 0
    engine = engine_for(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
    finally:
        engine.dispose()
    before = snapshot(db_url)
    assert_error(pal("agreement", "list"), 2, mentions="pal init")
    assert snapshot(db_url) == before


@pytest.mark.parametrize(
    "content",
    ['database_url = "unterminated\n', 'colour = "blue"\n', "timezone = 5\n"],
    ids=["malformed", "unknown key", "wrong type"],
)
def test_a_bad_config_file_is_bad_input(tmp_path: Path, content: str) -> None:
    """A config file that is not valid TOML, or names unknown or mistyped settings, exits 2."""
    pal = Pal(f"sqlite:///{tmp_path}/unused.db")
    config = tmp_path / "bad.toml"
    config.write_text(content)
    assert_error(pal("--config", str(config), "agreement", "list"), 2)
