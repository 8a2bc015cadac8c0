"""The CLI as people use it: a progress bar on a terminal only, imports from standard input, the
agreement and outbox list filters, choices from the process definitions, shell completion, the
installed version, `--json` on `tick` and the imports, and `pal export`."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    ASSESSMENT_ON,
    DIRECTOR,
    LIAISON,
    PSA,
    TRAD,
    TRAD_PARTIES,
    Pal,
    add_school,
    assert_error,
    identify,
    ok,
    refused,
    sign,
    signed_agreement,
    snapshot,
    start_assessment,
    today,
)

from states.agreement import AGREEMENT, PARTIES, STATES
from states.rules import ROLES
from workflow.export import TABLES

PAL = str(Path(sys.executable).parent / "pal")
DISTRICT_HEADER = "code,name,isd,psa,authorizer\n"
BENCHMARK_HEADER = "school,kind,label,baseline,target_18,target_36,direction\n"
MEASUREMENT_HEADER = "benchmark,value,on,evidence\n"


def districts_csv(path: Path, count: int) -> Path:
    rows = "".join(f"D{n:05},District {n},,,\n" for n in range(count))
    path.write_text(DISTRICT_HEADER + rows, encoding="utf-8")
    return path


def run_pal(db_url: str, *args: str, **streams: Any) -> subprocess.Popen[bytes]:
    """`pal ARGS` as a real process (the console script), against `db_url`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAL_")}
    env["PAL_DATABASE_URL"] = db_url
    return subprocess.Popen([PAL, *args], env=env, **streams)


def on_a_terminal(db_url: str, *args: str) -> tuple[subprocess.Popen[bytes], str, bytes]:
    """`pal ARGS` run to its end with standard error a terminal: the finished process, what it
    drew on the terminal, and its standard output."""
    terminal, other_end = os.openpty()
    process = run_pal(db_url, *args, stdout=subprocess.PIPE, stderr=other_end)
    os.close(other_end)
    drawn = read_all(terminal).decode()
    os.close(terminal)
    out, _ = process.communicate(timeout=120)
    return process, drawn, out


def fed(pal: Pal, *args: Any, input: str) -> str:
    """Run a command that must succeed with `input` on standard input; return its stdout."""
    result = pal(*args, input=input)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    assert result.stderr == ""
    return result.stdout


def read_all(fd: int) -> bytes:
    """Everything written to a pty's other end until it is closed."""
    found = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the last writer has gone
            return found
        if not chunk:
            return found
        found += chunk


# --- the progress bar ----------------------------------------------------------------------------


def test_an_import_draws_a_progress_bar_on_a_terminal(seeded: Pal, tmp_path: Path) -> None:
    """With standard error a terminal, `pal district import` draws a bar there, to 100%."""
    path = districts_csv(tmp_path / "d.csv", 300)
    process, drawn, out = on_a_terminal(seeded.db_url, "district", "import", str(path))
    assert process.returncode == 0, drawn
    assert out.decode() == "imported 300 districts\n"
    assert "districts" in drawn
    assert "100%" in drawn


@pytest.mark.parametrize("terminal_for", ["nothing", "stdout"])
def test_no_progress_bar_when_standard_error_is_piped(
    seeded: Pal, tmp_path: Path, terminal_for: str
) -> None:
    """Piped (even with standard output a terminal), an import writes nothing on standard error."""
    path = districts_csv(tmp_path / "d.csv", 300)
    terminal, other_end = os.openpty()
    stdout = other_end if terminal_for == "stdout" else subprocess.PIPE
    process = run_pal(seeded.db_url, "district", "import", str(path), stdout=stdout,
                      stderr=subprocess.PIPE)  # fmt: skip
    os.close(other_end)
    shown = read_all(terminal).decode() if terminal_for == "stdout" else ""
    os.close(terminal)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert err == b""
    assert "imported 300 districts" in (shown or out.decode())


# --- standard input ------------------------------------------------------------------------------


def test_dash_reads_a_district_import_from_standard_input(seeded: Pal) -> None:
    """`pal district import -` reads the CSV on standard input, all rows or none."""
    rows = "S1,Stdin One,,,\nS2,Stdin Two,,,\n"
    assert fed(seeded, "district", "import", "-", input=DISTRICT_HEADER + rows) == (
        "imported 2 districts\n"
    )
    codes = {d["code"] for d in json.loads(ok(seeded, "district", "list", "--json"))}
    assert {"S1", "S2"} <= codes


def test_standard_input_that_is_not_utf8_is_refused_and_changes_nothing(seeded: Pal) -> None:
    """Bytes on standard input that are not UTF-8: exit 2 naming standard input."""
    before = snapshot(seeded.db_url)
    from click.testing import CliRunner

    from workflow.cli import cli

    result = CliRunner().invoke(cli, ["district", "import", "-"], input=b"code,name\n\xff\n",
                                env=seeded.env, prog_name="pal")  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == "error: standard input is not UTF-8 text\n"
    assert snapshot(seeded.db_url) == before


def test_dash_reads_benchmark_and_measurement_imports_from_standard_input(seeded: Pal) -> None:
    """`benchmark import AGREEMENT -` and `measure-import AGREEMENT -` read standard input; with
    --json they report what they imported."""
    add_school(seeded, "HS1", high_school=True)
    agreement = identify(seeded, TRAD, "--schools", "HS1")
    start_assessment(seeded, agreement)
    rows = "HS1,graduation_rate,,70,75,80,higher\nHS1,attendance_rate,,90,92,94,higher\n"
    imported = json.loads(fed(seeded, "benchmark", "import", agreement, "-", "--on", ASSESSMENT_ON,
                             "--by", LIAISON, "--json", input=BENCHMARK_HEADER + rows))  # fmt: skip
    assert imported == {"imported": 2, "benchmarks": [1, 2]}
    sign(seeded, agreement, TRAD_PARTIES)
    rows = "1,71,2019-06-01,state data\n2,91,2019-06-01,\n"
    measured = json.loads(fed(seeded, "benchmark", "measure-import", agreement, "-", "--by",
                             LIAISON, "--json", input=MEASUREMENT_HEADER + rows))  # fmt: skip
    assert measured == {"imported": 2}


# --- agreement list and outbox list --------------------------------------------------------------


def listed(pal: Pal, *args: Any) -> list[int]:
    return [a["id"] for a in json.loads(ok(pal, "agreement", "list", "--json", *args))]


def test_agreement_list_filters_by_cohort_school_and_overdue(seeded: Pal) -> None:
    """--cohort, --school (named or given benchmarks) and --overdue each narrow the list, and
    combine; the human listing shows the district's name."""
    add_school(seeded, "HS1", high_school=True)
    late = identify(seeded, TRAD, "--cohort", "2018-03", "--schools", "HS1")
    recent = identify(seeded, PSA, "--cohort", "2019-10", on=today().isoformat())
    assert listed(seeded, "--cohort", "2018-03") == [late]
    assert listed(seeded, "--cohort", "2019-10") == [recent]
    assert listed(seeded, "--cohort", "1999") == []
    assert listed(seeded, "--school", "HS1") == [late]
    assert listed(seeded, "--overdue") == [late]  # its plan was due in 2018
    assert listed(seeded, "--overdue", "--cohort", "2019-10") == []
    human = ok(seeded, "agreement", "list")
    assert f"{TRAD} Public Schools" in human
    assert f"{PSA} Public Schools" in human
    refused(seeded, 2, "agreement", "list", "--school", "NOPE", mentions="NOPE")


def test_outbox_list_limit_and_agreement(seeded: Pal) -> None:
    """--agreement keeps one agreement's mail; --limit N the newest N, still newest last."""
    first = signed_agreement(seeded, TRAD)
    second = signed_agreement(seeded, PSA)
    every = json.loads(ok(seeded, "outbox", "list", "--json"))
    assert {row["agreement_id"] for row in every} == {first, second}
    mine = json.loads(ok(seeded, "outbox", "list", "--agreement", first, "--json"))
    assert mine == [row for row in every if row["agreement_id"] == first]
    assert json.loads(ok(seeded, "outbox", "list", "--limit", 2, "--json")) == every[-2:]
    newest = json.loads(ok(seeded, "outbox", "list", "--agreement", first, "--limit", 1, "--json"))
    assert newest == mine[-1:]
    assert json.loads(ok(seeded, "outbox", "list", "--limit", 0, "--json")) == []
    refused(seeded, 2, "outbox", "list", "--agreement", 99)
    refused(seeded, 2, "outbox", "list", "--limit", -1)


# --- choices, completion, version ----------------------------------------------------------------

CHOICES = [
    (("contact", "add"), ROLES),
    (("contact", "end"), ROLES),
    (("agreement", "list"), STATES),
    (("agreement", "sign"), PARTIES),
    (("agreement", "unsign"), PARTIES),
    (("agreement", "fire"), AGREEMENT.event_names),
]


@pytest.mark.parametrize(("command", "names"), CHOICES, ids=" ".join)
def test_help_lists_the_names_the_process_definitions_give(
    command: tuple[str, ...], names: tuple[str, ...], tmp_path: Path
) -> None:
    """Roles, states, parties and events are listed in `--help`, as `states/` defines them."""
    text = ok(Pal(f"sqlite:///{tmp_path}/none.db"), *command, "--help")
    for name in names:
        assert name in text, name


BAD_CHOICES = [
    ["contact", "add", "x@mde.example", "--name", "X", "--role", "mayor"],
    ["agreement", "list", "--state", "paused"],
    ["agreement", "sign", "1", "--party", "mayor", "--by", LIAISON],
    ["agreement", "fire", "1", "promote", "--by", DIRECTOR],
    ["completion", "tcsh"],
    ["export", "everything"],
]


@pytest.mark.parametrize("args", BAD_CHOICES, ids=lambda a: " ".join(a[:2]))
def test_a_bad_choice_is_clicks_usage_error(seeded: Pal, args: list[str]) -> None:
    """A name not among the choices: one error line naming it, exit 2, nothing changed."""
    refused(seeded, 2, *args, mentions="is not one of")


def test_the_shell_completes_a_choice(seeded: Pal) -> None:
    """Asked by a shell's completion script, pal completes `--role` with the roles."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAL_")}
    env |= {"PAL_DATABASE_URL": seeded.db_url, "_PAL_COMPLETE": "bash_complete",
            "COMP_WORDS": "pal contact add x --role ", "COMP_CWORD": "5"}  # fmt: skip
    done = subprocess.run([PAL], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"plain,{role}" for role in ROLES]


@pytest.mark.parametrize(("shell", "marker"), [
    ("bash", "_PAL_COMPLETE=bash_complete"),
    ("zsh", "#compdef pal"),
    ("fish", "_PAL_COMPLETE=fish_complete"),
])  # fmt: skip
def test_completion_prints_the_script_for_each_shell(
    shell: str, marker: str, tmp_path: Path
) -> None:
    """`pal completion SHELL` prints click's completion script for SHELL."""
    assert marker in ok(Pal(f"sqlite:///{tmp_path}/none.db"), "completion", shell)


def test_version_is_the_installed_packages(tmp_path: Path) -> None:
    """`pal --version` prints the version in the package metadata."""
    out = ok(Pal(f"sqlite:///{tmp_path}/none.db"), "--version")
    assert out == f"pal, version {version('pal')}\n"


def test_tick_json_reports_each_pass(seeded: Pal) -> None:
    """`pal tick --json`: the sweep's and the delivery's counts, as the human report has them."""
    signed_agreement(seeded)
    report = json.loads(ok(seeded, "tick", "--now", "2019-11-01T12:00:00", "--json"))
    assert set(report) == {"sweep", "delivery"}
    assert {"fired", "skipped", "emails", "actions", "blocked", "failed"} <= set(report["sweep"])
    assert {"sent", "retrying", "failed", "errors"} <= set(report["delivery"])
    assert report["sweep"]["fired"] >= 1


# --- pal export ----------------------------------------------------------------------------------


@pytest.fixture
def exported(seeded: Pal) -> Pal:
    """Two agreements (one with benchmarks and measurements, one a label starting `=`), mail."""
    add_school(seeded, "HS1", high_school=True)
    agreement = identify(seeded, TRAD, "--schools", "HS1", "--cohort", "2018-03")
    start_assessment(seeded, agreement)
    rows = "HS1,graduation_rate,,70,75,80,higher\nHS1,local,=1+1,12.5,9,6,lower\n"
    fed(seeded, "benchmark", "import", agreement, "-", "--on", ASSESSMENT_ON, "--by", LIAISON,
       input=BENCHMARK_HEADER + rows)  # fmt: skip
    sign(seeded, agreement, TRAD_PARTIES)
    fed(seeded, "benchmark", "measure-import", agreement, "-", "--by", LIAISON,
       input=MEASUREMENT_HEADER + "1,71,2019-06-01,state data\n1,72.5,2019-09-01,\n")  # fmt: skip
    signed_agreement(seeded, PSA)
    ok(seeded, "tick", "--now", "2019-11-01T12:00:00")
    return seeded


def as_text(value: Any) -> str:
    return "" if value is None else str(value)


def as_json_cell(value: Any) -> Any:
    """An xlsx cell as `--json` has it: a date as YYYY-MM-DD (openpyxl reads a datetime)."""
    return value.date().isoformat() if isinstance(value, datetime) else value


@pytest.mark.parametrize("table", TABLES)
def test_export_csv_read_back_equals_the_json(exported: Pal, table: str, tmp_path: Path) -> None:
    """`pal export TABLE` (CSV on standard output, and --out FILE) read back is `--json`'s rows."""
    rows = json.loads(ok(exported, "export", table, "--json"))
    assert rows, table
    expected = [{key: as_text(value) for key, value in row.items()} for row in rows]
    assert list(csv.DictReader(io.StringIO(ok(exported, "export", table)))) == expected
    out = tmp_path / f"{table}.csv"
    assert ok(exported, "export", table, "--out", out) == (
        f"exported {len(rows)} rows of {table} to {out}\n"
    )
    with out.open(encoding="utf-8", newline="") as stream:
        assert list(csv.DictReader(stream)) == expected


@pytest.mark.parametrize("table", TABLES)
def test_export_xlsx_read_back_equals_the_json(exported: Pal, table: str, tmp_path: Path) -> None:
    """`pal export TABLE --format xlsx --out FILE` read back with openpyxl is `--json`'s rows:
    dates as dates, numbers as numbers, text as text (never a formula)."""
    from openpyxl import load_workbook

    rows = json.loads(ok(exported, "export", table, "--json"))
    out = tmp_path / f"{table}.xlsx"
    ok(exported, "export", table, "--format", "xlsx", "--out", out)
    sheet = load_workbook(out)[table]
    [header, *body] = list(sheet.iter_rows(values_only=True))
    assert list(header) == list(rows[0])
    assert [dict(zip(header, map(as_json_cell, values), strict=True)) for values in body] == rows
    if table == "benchmarks":
        cells = [row[header.index("label")] for row in sheet.iter_rows(min_row=2)]
        assert [(c.value, c.data_type) for c in cells if c.value] == [("=1+1", "s")]
        dates = [row[header.index("measured_on")].value for row in sheet.iter_rows(min_row=2)]
        assert date(2019, 6, 1) in [d.date() for d in dates if d]


def test_export_refusals_write_nothing(exported: Pal, tmp_path: Path) -> None:
    """--json with --format, an --out in no folder or with a name too long to make: exit 2, and
    no file is left."""
    refused(exported, 2, "export", "agreements", "--json", "--format", "csv")
    missing = tmp_path / "no-such-folder" / "a.xlsx"
    refused(exported, 2, "export", "agreements", "--format", "xlsx", "--out", missing,
            mentions="cannot write")  # fmt: skip
    assert not missing.parent.exists()
    refused(exported, 2, "export", "agreements", "--out", tmp_path / ("a" * 300),
            mentions="cannot write")  # fmt: skip
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_export_agreements_spreads_signatures_by_party(exported: Pal) -> None:
    """The agreements table has a column per party the process knows, and the district's name."""
    [first, *_] = json.loads(ok(exported, "export", "agreements", "--json"))
    assert first["district_name"] == f"{TRAD} Public Schools"
    assert {f"signed_{party}" for party in PARTIES} <= set(first)
    assert first["signed_board"] == "2018-05-01"
    assert first["signed_authorizer"] is None


def test_error_lines_stay_one_line_after_a_progress_bar(seeded: Pal, tmp_path: Path) -> None:
    """A bad row after a bar was drawn: the `error:` line is a line of its own, nothing loaded."""
    path = districts_csv(tmp_path / "d.csv", 50)
    path.write_text(path.read_text() + "BAD,,,,\n", encoding="utf-8")
    before = snapshot(seeded.db_url)
    process, drawn, _ = on_a_terminal(seeded.db_url, "district", "import", str(path))
    assert process.returncode == 2
    last = drawn.replace("\r\n", "\n").rstrip("\n").split("\n")[-1]
    assert last.startswith("error: line 52:"), drawn
    assert snapshot(seeded.db_url) == before
    assert_error(seeded("district", "import", str(path)), 2, mentions="line 52")


def test_commands_that_report_something_print_it_as_json(seeded: Pal) -> None:
    """identify, fire, benchmark add, sign (plan and amendment), amend, review step and
    determine, and outbox retry print with --json what their line says."""
    def js(*args: Any) -> Any:
        return json.loads(ok(seeded, *args, "--json"))

    add_school(seeded, "HS1", high_school=True)
    created = js("agreement", "identify", TRAD, "--schools", "HS1", "--on", "2018-03-01",
                 "--by", DIRECTOR)  # fmt: skip
    agreement = created["id"]
    assert js("agreement", "fire", agreement, "start_assessment", "--set", f"liaison={LIAISON}",
              "--on", ASSESSMENT_ON, "--by", LIAISON) == {
        "agreement": agreement, "event": "start_assessment", "state": "needs_assessment",
        "renewed_as": None}  # fmt: skip
    assert js("benchmark", "add", agreement, "--school", "HS1", "--kind", "graduation_rate",
              "--baseline", "60", "--target-18", "65", "--target-36", "70", "--on", ASSESSMENT_ON,
              "--by", LIAISON) == {"id": 1}  # fmt: skip
    signed = [js("agreement", "sign", agreement, "--party", party, "--on", "2018-05-01",
                 "--by", LIAISON) for party in TRAD_PARTIES]  # fmt: skip
    assert signed[-1] == {"agreement": agreement, "party": "mde", "state": "signed"}
    ok(seeded, "agreement", "fire", agreement, "open_rga", "--on", "2019-11-01", "--by", DIRECTOR)
    stepped = js("review", "step", agreement, "evidence", "--on", "2019-11-20", "--by", LIAISON)
    assert (stepped["agreement"], stepped["step"]) == (agreement, "evidence")
    assert "review" in stepped
    for step in ("self_assessment", "partner_assessment", "mde_assessment", "conference"):
        ok(seeded, "review", "step", agreement, step, "--on", "2019-11-20", "--by", LIAISON)
    determined = js("review", "determine", agreement, "--on", "2019-12-02", "--by", DIRECTOR)
    assert (determined["agreement"], determined["state"]) == (agreement, "implementing")
    assert js("agreement", "amend", agreement, "--note", "targets", "--on", "2019-12-03",
              "--by", LIAISON) == {"agreement": agreement, "amendment": 1}  # fmt: skip
    board = js("agreement", "sign", agreement, "--party", "board", "--amendment", 1,
               "--on", "2019-12-04", "--by", LIAISON)  # fmt: skip
    assert board == {"agreement": agreement, "amendment": 1, "party": "board", "in_force": None}
    [first, *_] = json.loads(ok(seeded, "outbox", "list", "--json"))
    retried = js("outbox", "retry", first["id"])
    assert (retried["id"], retried["status"]) == (first["id"], "pending")
    assert set(js("init")) == {"database"}
