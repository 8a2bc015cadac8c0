"""The CLI around the lifecycle: help, init, diagram, JSON shapes, deadlines, settings precedence,
and the append-only audit log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
import sqlalchemy as sa
from helpers import (
    DIRECTOR,
    LIAISON,
    PSA,
    STATE_SUPERINTENDENT,
    STATUS_EXITS,
    TRAD,
    Pal,
    assert_error,
    execute,
    identify,
    ok,
    show,
    signed_agreement,
    snapshot,
)

from states.agreement import AGREEMENT, STATES, TERMINAL
from storage.migrate import head
from workflow.cli import cli


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in sorted(group.commands.items()):
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found.extend(command_paths(command, (*prefix, name)))
    return found


@pytest.fixture
def offline(tmp_path: Path) -> Pal:
    """The CLI pointed at a database that does not exist (for commands that need none)."""
    return Pal(f"sqlite:///{tmp_path}/never.db")


# --- help, version, diagram ----------------------------------------------------------------------


@pytest.mark.parametrize("path", [(), *command_paths(cli)], ids=lambda p: " ".join(p) or "pal")
def test_every_command_has_help(offline: Pal, tmp_path: Path, path: tuple[str, ...]) -> None:
    """`pal [COMMAND ...] --help` exits 0 with a usage line and touches no database."""
    result = offline(*path, "--help")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Usage: pal")
    assert result.stderr == ""
    assert not (tmp_path / "never.db").exists()


def test_python_dash_m_workflow_runs_the_cli(tmp_path: Path) -> None:
    """`python -m workflow --help` is the same CLI as the `pal` script."""
    done = subprocess.run([sys.executable, "-m", "workflow", "--help"], capture_output=True,
                          text=True, timeout=60, cwd=tmp_path, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "agreement" in done.stdout


def test_version(offline: Pal) -> None:
    """`pal --version` names the program and exits 0."""
    result = offline("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("pal")


def test_diagram_is_mermaid_with_every_state_and_edge(offline: Pal, tmp_path: Path) -> None:
    """`pal diagram` prints stateDiagram-v2 naming every state and every transition."""
    result = offline("diagram")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "stateDiagram-v2"
    text = result.stdout
    for state in STATES:
        assert state in text
    assert "[*] --> identified : identify" in text
    for spec in AGREEMENT.events[1:]:
        for source in spec.sources:
            dest = source if source in spec.stays_in else spec.dest or source
            assert f"{source} --> {dest} : {spec.name}" in text
    assert "rga --> implementing : determine" in text
    assert "review_36 --> review_36 : determine" in text
    for state in TERMINAL:
        assert f"{state} --> [*]" in text
    assert not (tmp_path / "never.db").exists()


# --- init ----------------------------------------------------------------------------------------


def test_init_twice_is_fine_and_changes_nothing_the_second_time(pal: Pal, db_url: str) -> None:
    """`pal init` creates the schema at head; running it again succeeds and changes nothing."""
    first = ok(pal, "init")
    assert first.startswith("database ready:")
    once = snapshot(db_url)
    assert once["alembic_version"] == [(repr(head()),)]
    expected = {"district", "school", "person", "assignment", "agreement", "signature", "deadline",
                "audit"}
    assert expected <= set(once)
    ok(pal, "init")
    assert snapshot(db_url) == once


def test_init_keeps_existing_data(seeded: Pal, db_url: str) -> None:
    """`pal init` on a database in use leaves every row in place."""
    signed_agreement(seeded)
    before = snapshot(db_url)
    ok(seeded, "init")
    assert snapshot(db_url) == before


def test_init_hides_the_database_password(offline: Pal, tmp_path: Path) -> None:
    """What `pal init` prints never includes a password from the URL."""
    result = offline("--database-url", "postgresql+psycopg://pal:s3cret-pw@127.0.0.1:1/none",
                     "init")  # fmt: skip
    assert "s3cret-pw" not in result.stdout + result.stderr


# --- JSON shapes ---------------------------------------------------------------------------------


def test_show_json_has_the_documented_shape(seeded: Pal) -> None:
    """`agreement show --json`: id, district, state, dates, signatures, deadlines, history,
    schools and the open review."""
    agreement = signed_agreement(seeded, PSA)
    ok(seeded, "agreement", "fire", agreement, "open_rga", "--by", DIRECTOR, "--on", "2019-10-01")
    view = show(seeded, agreement)
    assert {"id", "district", "state", "identified_on", "signed_on", "signatures", "deadlines",
            "history", "schools", "review"} <= set(view)  # fmt: skip
    assert (view["id"], view["district"], view["state"]) == (agreement, PSA, "rga")
    assert view["signed_on"] == "2018-05-01"
    parties = ("board", "superintendent", "mde", "authorizer")
    assert view["signatures"] == dict.fromkeys(parties, "2018-05-01")
    assert [(d["kind"], d["due"], d["status"]) for d in view["deadlines"]] == [
        ("plan_due", "2018-05-30", "met"),
        ("evidence_due", "2019-10-31", "open"),
        ("rga_due", "2019-11-01", "met"),
        ("conference_due", "2019-11-30", "open"),
        ("determination_due", "2019-12-30", "open"),
        ("review_24_due", "2020-05-01", "open"),
        ("review_36_due", "2021-05-01", "open"),
    ]
    assert view["schools"] == []
    review = view["review"]
    assert (review["kind"], review["opened_on"], review["steps"], review["next_step"]) == (
        "rga", "2019-10-01", [], "evidence"
    )  # fmt: skip
    assert (review["due"], review["determined_on"]) == ("2019-10-31", None)
    for entry in view["history"]:
        assert {"event", "from", "to", "by", "on"} <= set(entry)
    assert [h["event"] for h in view["history"]] == [
        "identify", "start_assessment", "record_signature", "record_signature",
        "record_signature", "record_signature", "sign", "open_rga",
    ]  # fmt: skip


def test_list_json_is_the_same_objects_without_history(seeded: Pal) -> None:
    """`agreement list --json` lists every agreement like `show --json`, minus history, schools,
    review, amendments, next meeting and open action items."""
    trad = identify(seeded, TRAD)
    psa = signed_agreement(seeded, PSA)
    listed = json.loads(ok(seeded, "agreement", "list", "--json"))
    assert [row["id"] for row in listed] == [trad, psa]
    for row in listed:
        assert "history" not in row
        full = show(seeded, row["id"])
        for detail in ("history", "schools", "review", "amendments", "next_meeting",
                       "open_action_items"):  # fmt: skip
            del full[detail]
        assert row == full


def test_list_filters_by_state_and_district(seeded: Pal) -> None:
    """--state and --district narrow the listing."""
    trad = identify(seeded, TRAD)
    psa = signed_agreement(seeded, PSA)

    def ids(*args: str) -> list[int]:
        return [r["id"] for r in json.loads(ok(seeded, "agreement", "list", "--json", *args))]

    assert ids("--state", "signed") == [psa]
    assert ids("--state", "identified") == [trad]
    assert ids("--state", "rga") == []
    assert ids("--district", TRAD) == [trad]
    assert ids("--district", PSA, "--state", "identified") == []


def test_human_show_is_a_readable_summary(seeded: Pal) -> None:
    """The human `show` has the stage, dates, next deadline, signatures and history, each in
    words: no engine name of a state, event, deadline, party or option."""
    agreement = signed_agreement(seeded)
    text = ok(seeded, "agreement", "show", agreement)
    assert "stage          Plan signed" in text
    assert "2018-03-01" in text
    assert "next deadline  18-month Review of Goal Attainment, due 2019-11-01" in text
    assert "Board of Education" in text and "Michigan Department of Education" in text
    assert "record a signature of the plan" in text
    assert "Intervention by the ISD" in text
    assert "system" in text
    for name in ("rga_due", "record_signature", "needs_assessment", "isd_intervention"):
        assert name not in text


def test_human_list_has_one_line_per_agreement(seeded: Pal) -> None:
    """The human `list` prints one line per agreement with its state."""
    identify(seeded, TRAD)
    identify(seeded, PSA)
    lines = ok(seeded, "agreement", "list").splitlines()
    assert len(lines) == 2
    assert all("Identified for partnership" in line for line in lines)


def test_contact_and_district_lists_as_json(seeded: Pal) -> None:
    """`contact list --json` and `district list --json` return the registry; --district narrows."""
    districts = json.loads(ok(seeded, "district", "list", "--json"))
    assert [d["code"] for d in districts] == sorted([TRAD, PSA])
    contacts = json.loads(ok(seeded, "contact", "list", "--json"))
    assert {c["email"] for c in contacts} >= {DIRECTOR, LIAISON, STATE_SUPERINTENDENT}
    in_psa = json.loads(ok(seeded, "contact", "list", "--district", PSA, "--json"))
    assert in_psa and all(c["district_code"] == PSA for c in in_psa)


# --- deadlines -----------------------------------------------------------------------------------


@pytest.fixture
def two_agreements(seeded: Pal) -> tuple[int, int]:
    """TRAD identified 2018-03-01 (plan due 2018-05-30); PSA signed 2018-05-01."""
    return identify(seeded, TRAD), signed_agreement(seeded, PSA)


def deadlines(pal: Pal, *args: str) -> list[dict[str, object]]:
    return json.loads(ok(pal, "deadlines", "--json", *args))  # type: ignore[no-any-return]


def test_deadlines_lists_open_deadlines_soonest_first(
    seeded: Pal, two_agreements: tuple[int, int]
) -> None:
    """Without --within every open deadline is listed, soonest first, with its agreement."""
    trad, psa = two_agreements
    rows = deadlines(seeded, "--now", "2018-05-01")
    assert [(r["agreement"], r["kind"], r["due"]) for r in rows] == [
        (trad, "plan_due", "2018-05-30"),
        (psa, "rga_due", "2019-11-01"),
        (psa, "review_24_due", "2020-05-01"),
        (psa, "review_36_due", "2021-05-01"),
    ]
    assert rows[0] == {"agreement": trad, "district": TRAD, "state": "identified",
                       "kind": "plan_due", "due": "2018-05-30", "days_left": 29,
                       "status": "open"}  # fmt: skip


def test_deadlines_within_counts_days_from_now(
    seeded: Pal, two_agreements: tuple[int, int]
) -> None:
    """--within N keeps deadlines due within N days of --now (the due day itself included)."""
    assert [r["kind"] for r in deadlines(seeded, "--now", "2018-05-01", "--within", "28")] == []
    assert [r["kind"] for r in deadlines(seeded, "--now", "2018-05-01", "--within", "29")] == [
        "plan_due"
    ]


def test_overdue_deadlines_are_listed_as_overdue(
    seeded: Pal, two_agreements: tuple[int, int]
) -> None:
    """A deadline past its due day stays listed, marked overdue with negative days left."""
    rows = deadlines(seeded, "--now", "2018-06-01", "--within", "0")
    assert [(r["kind"], r["status"], r["days_left"]) for r in rows] == [("plan_due", "overdue", -2)]


def test_no_open_deadlines_says_so(seeded: Pal) -> None:
    """With nothing open, the human listing says so and JSON is an empty list."""
    assert ok(seeded, "deadlines").strip() == "no open deadlines"
    assert deadlines(seeded) == []


# --- settings precedence -------------------------------------------------------------------------


def initialised(db_url: str) -> bool:
    return "alembic_version" in snapshot(db_url)


def toml(path: Path, **values: str) -> Path:
    path.write_text("".join(f'{key} = "{value}"\n' for key, value in values.items()))
    return path


@pytest.fixture
def bare(db_url: str) -> Pal:
    """The CLI with no PAL_DATABASE_URL: each test says where the database comes from."""
    pal = Pal(db_url)
    pal.env["PAL_DATABASE_URL"] = None
    return pal


def test_flag_beats_environment(bare: Pal, db_url: str, tmp_path: Path) -> None:
    """--database-url wins over PAL_DATABASE_URL."""
    bare.env["PAL_DATABASE_URL"] = f"sqlite:///{tmp_path}/from-env.db"
    ok(bare, "--database-url", db_url, "init")
    assert initialised(db_url)
    assert not (tmp_path / "from-env.db").exists()


def test_environment_beats_config_file(bare: Pal, db_url: str, tmp_path: Path) -> None:
    """PAL_DATABASE_URL wins over the TOML file (--config, PAL_CONFIG or ./pal.toml)."""
    config = toml(tmp_path / "pal.toml", database_url=f"sqlite:///{tmp_path}/from-toml.db")
    bare.env["PAL_DATABASE_URL"] = db_url
    ok(bare, "init")
    ok(bare, "--config", config, "init")
    bare.env["PAL_CONFIG"] = str(config)
    ok(bare, "init")
    assert initialised(db_url)
    assert not (tmp_path / "from-toml.db").exists()


def test_config_flag_file_is_read(bare: Pal, db_url: str, tmp_path: Path) -> None:
    """--config FILE supplies the database URL and the default actor."""
    config = toml(tmp_path / "settings.toml", database_url=db_url, actor=DIRECTOR)
    ok(bare, "--config", config, "init")
    assert initialised(db_url)
    ok(bare, "--config", config, "district", "add", TRAD, "--name", "Trad")
    ok(bare, "--config", config, "contact", "add", DIRECTOR, "--name", "D", "--role", "director")
    agreement = int(ok(bare, "--config", config, "agreement", "identify", TRAD,
                       "--on", "2018-03-01").strip())  # fmt: skip
    view = json.loads(ok(bare, "--config", config, "agreement", "show", agreement, "--json"))
    assert view["history"][0]["by"] == DIRECTOR


def test_pal_config_environment_names_the_file(bare: Pal, db_url: str, tmp_path: Path) -> None:
    """PAL_CONFIG names the TOML file when --config is not given."""
    bare.env["PAL_CONFIG"] = str(toml(tmp_path / "elsewhere.toml", database_url=db_url))
    ok(bare, "init")
    assert initialised(db_url)


def test_config_flag_beats_pal_config(bare: Pal, db_url: str, tmp_path: Path) -> None:
    """--config wins over PAL_CONFIG."""
    loser = toml(tmp_path / "loser.toml", database_url=f"sqlite:///{tmp_path}/loser.db")
    bare.env["PAL_CONFIG"] = str(loser)
    ok(bare, "--config", toml(tmp_path / "winner.toml", database_url=db_url), "init")
    assert initialised(db_url)
    assert not (tmp_path / "loser.db").exists()


def test_pal_config_beats_the_local_pal_toml(bare: Pal, db_url: str, tmp_path: Path) -> None:
    """PAL_CONFIG wins over ./pal.toml; ./pal.toml is read when nothing else names a file."""
    toml(tmp_path / "pal.toml", database_url=f"sqlite:///{tmp_path}/local.db")
    bare.env["PAL_CONFIG"] = str(toml(tmp_path / "named.toml", database_url=db_url))
    ok(bare, "init")
    assert initialised(db_url)
    assert not (tmp_path / "local.db").exists()
    bare.env["PAL_CONFIG"] = None
    ok(bare, "init")
    assert (tmp_path / "local.db").exists()


def test_default_database_is_pal_db_in_the_current_folder(tmp_path: Path) -> None:
    """With no flag, environment or config file, the database is ./pal.db."""
    pal = Pal("unused")
    pal.env["PAL_DATABASE_URL"] = None
    ok(pal, "init")
    assert (tmp_path / "pal.db").exists()
    assert initialised(f"sqlite:///{tmp_path}/pal.db")


def test_timezone_flag_beats_environment(seeded: Pal) -> None:
    """--timezone wins over PAL_TIMEZONE (a bad value in the losing source is never read)."""
    seeded.env["PAL_TIMEZONE"] = "Not/AZone"
    assert_error(seeded("agreement", "list"), 2)
    ok(seeded, "--timezone", "America/Detroit", "agreement", "list")


# --- the audit log is append-only ----------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit SET actor = 'someone-else'", "DELETE FROM audit",
     "DELETE FROM audit WHERE id = (SELECT max(id) FROM audit)", "TRUNCATE audit",
     "TRUNCATE agreement CASCADE"],
)  # fmt: skip
def test_audit_rows_cannot_be_updated_or_deleted(
    seeded: Pal, db_url: str, backend: str, statement: str
) -> None:
    """The database itself refuses UPDATE, DELETE and TRUNCATE on the audit log."""
    if statement.startswith("TRUNCATE") and backend == "sqlite":
        pytest.skip("SQLite has no TRUNCATE (DELETE FROM is its equivalent, tested above)")
    signed_agreement(seeded)
    before = snapshot(db_url)
    assert before["audit"]
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        execute(db_url, statement)
    assert snapshot(db_url) == before


def test_a_mail_from_without_a_usable_address_is_refused_at_start_up(seeded: Pal) -> None:
    """An unquoted comma in the display name would make every message fail: refused at once."""
    seeded.env["PAL_MAIL_FROM"] = "Office, MDE <partnership@mde.example>"

    result = seeded("status")

    assert result.exit_code == 2
    assert result.stderr.startswith("error: bad setting mail_from")
    assert len(result.stderr.strip().splitlines()) == 1


def test_pal_variables_that_name_no_setting_are_ignored(seeded: Pal) -> None:
    """PAL_CONFIG, PAL_DEBUG and the tests' own PAL_* variables are not settings: no error."""
    seeded.env["PAL_SOMETHING_ELSE"] = "x"

    assert seeded("status").exit_code in STATUS_EXITS
