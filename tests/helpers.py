"""Shared test helpers: who is on file, small CLI flows, and database snapshots.

Fixtures live in conftest.py; the plain functions and constants live here so tests can import them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

DETROIT = ZoneInfo("America/Detroit")

TRAD = "TRAD"  # a traditional district
PSA = "PSA1"  # a public school academy with an authorizer
DISTRICTS = (TRAD, PSA)

DIRECTOR = "director@mde.example"
LIAISON = "liaison@mde.example"
STATE_SUPERINTENDENT = "state.superintendent@mde.example"
MDE_CONTACTS = {
    DIRECTOR: "director",
    LIAISON: "liaison",
    STATE_SUPERINTENDENT: "state_superintendent",
}
DISTRICT_ROLES = ("superintendent", "board_president", "authorizer", "isd_superintendent")
ALL_CONSEQUENCES = ["closure", "reconstitution", "isd_intervention", "increased_supports"]
TRAD_PARTIES = ("board", "superintendent", "mde")
PSA_PARTIES = ("board", "superintendent", "mde", "authorizer")

IDENTIFIED_ON = "2018-03-01"
ASSESSMENT_ON = "2018-03-05"
SIGNED_ON = "2018-05-01"


def person(district: str, role: str) -> str:
    """The seeded contact with `role` in `district`."""
    return f"{role}@{district.lower()}.example"


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class Pal:
    """Runs `pal ARGS` in-process against one database, like the console script would."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.env: dict[str, str | None] = {"PAL_DATABASE_URL": db_url}

    def __call__(self, *args: Any, input: str | None = None) -> Outcome:
        from click.testing import CliRunner

        from workflow.cli import cli

        # PalGroup.main ends in sys.exit; CliRunner turns that into exit_code. Anything else
        # escaping the CLI is a bug, so it is not caught here.
        result = CliRunner().invoke(
            cli, [str(arg) for arg in args], input=input, env=self.env,
            prog_name="pal", catch_exceptions=False,
        )  # fmt: skip
        return Outcome(result.exit_code, result.stdout, result.stderr)


def ok(pal: Pal, *args: Any) -> str:
    """Run a command that must succeed; return its stdout."""
    result = pal(*args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    assert result.stderr == ""
    return result.stdout


# `pal status` exits with its verdict: ok, degraded, down.
STATUS_EXITS = (0, 7, 8)


def reported(pal: Pal, *args: Any) -> str:
    """Run `pal status ...`, which must report (whatever its verdict); return its stdout."""
    result = pal(*args)
    assert result.exit_code in STATUS_EXITS, (args, result.stdout, result.stderr)
    assert result.stderr == ""
    return result.stdout


def assert_error(result: Outcome, exit_code: int, *, mentions: str | None = None) -> None:
    """One `error:` line on stderr, the documented exit code, no traceback anywhere."""
    assert result.exit_code == exit_code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    if mentions is not None:
        assert mentions in lines[0], lines[0]


def today() -> date:
    return datetime.now(DETROIT).date()


def iso(day: date) -> str:
    return day.isoformat()


def days_after(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def ago(days: int) -> str:
    """The ISO date `days` days before today (Detroit)."""
    return (today() - timedelta(days=days)).isoformat()


# --- registering reference data -----------------------------------------------------------------


def add_district(pal: Pal, code: str, *, psa: bool = False) -> None:
    args: list[str] = ["district", "add", code, "--name", f"{code} Public Schools"]
    args += ["--isd", "Wayne RESA"]
    if psa:
        args += ["--psa", "--authorizer", "Central Michigan University"]
    ok(pal, *args)


def add_contact(pal: Pal, email: str, role: str, district: str | None = None) -> None:
    args = [
        "contact",
        "add",
        email,
        "--name",
        email.split("@", maxsplit=1)[0].title(),
        "--role",
        role,
    ]
    if district is not None:
        args += ["--district", district]
    ok(pal, *args)


def register(pal: Pal, code: str) -> None:
    """A traditional district with its superintendent, board president and ISD superintendent."""
    add_district(pal, code)
    for role in ("superintendent", "board_president", "isd_superintendent"):
        add_contact(pal, person(code, role), role, code)


# The header of `pal agreement import` (going live), as issue 13 spells it: written out, not
# read from the code, since other programs write files to it.
IMPORT_HEADER = (
    "district,identified_on,cohort,liaison,rules,consequences,board_signed,"
    "superintendent_signed,mde_signed,authorizer_signed,state,note\n"
)


def seed(pal: Pal) -> None:
    """`pal init`, a traditional and a PSA district, and a contact for every role."""
    ok(pal, "init")
    add_district(pal, TRAD)
    add_district(pal, PSA, psa=True)
    for email, role in MDE_CONTACTS.items():
        add_contact(pal, email, role)
    for code in DISTRICTS:
        for role in DISTRICT_ROLES:
            add_contact(pal, person(code, role), role, code)


# --- walking an agreement through its lifecycle --------------------------------------------------


def identify(pal: Pal, district: str = TRAD, *extra: str, on: str = IDENTIFIED_ON) -> int:
    out = ok(pal, "agreement", "identify", district, "--on", on, "--by", DIRECTOR, *extra)
    return int(out.strip())


def start_assessment(pal: Pal, agreement: int, on: str = ASSESSMENT_ON) -> None:
    ok(pal, "agreement", "fire", agreement, "start_assessment", "--set", f"liaison={LIAISON}",
       "--by", LIAISON, "--on", on)  # fmt: skip


def sign(pal: Pal, agreement: int, parties: Sequence[str], on: str = SIGNED_ON) -> None:
    for party in parties:
        ok(pal, "agreement", "sign", agreement, "--party", party, "--by", LIAISON, "--on", on)


def signed_agreement(
    pal: Pal,
    district: str = TRAD,
    *,
    identified_on: str = IDENTIFIED_ON,
    signed_on: str = SIGNED_ON,
) -> int:
    agreement = identify(pal, district, on=identified_on)
    start_assessment(pal, agreement, on=identified_on)
    sign(pal, agreement, PSA_PARTIES if district == PSA else TRAD_PARTIES, on=signed_on)
    return agreement


def show(pal: Pal, agreement: int) -> dict[str, Any]:
    return json.loads(ok(pal, "agreement", "show", agreement, "--json"))


def deadline(view: dict[str, Any], kind: str) -> dict[str, Any]:
    found = [d for d in view["deadlines"] if d["kind"] == kind]
    assert len(found) == 1, view["deadlines"]
    return found[0]


# --- the database, directly ---------------------------------------------------------------------


def engine_for(db_url: str) -> sa.Engine:
    return sa.create_engine(db_url, poolclass=sa.pool.NullPool)


def snapshot(db_url: str) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, as sorted tuples of reprs: equal snapshots mean nothing changed."""
    engine = engine_for(db_url)
    try:
        with engine.connect() as connection:
            tables = sa.inspect(connection).get_table_names()
            found = {}
            for name in sorted(tables):
                rows = connection.execute(sa.text(f'SELECT * FROM "{name}"')).all()
                found[name] = sorted(tuple(repr(value) for value in row) for row in rows)
            return found
    finally:
        engine.dispose()


def execute(db_url: str, sql: str, **params: Any) -> list[Any]:
    """Run one statement in its own committed transaction; return the rows, if any."""
    engine = engine_for(db_url)
    try:
        with engine.begin() as connection:
            result = connection.execute(sa.text(sql), params)
            return list(result.all()) if result.returns_rows else []
    finally:
        engine.dispose()


def audit_count(db_url: str, agreement: int | None = None) -> int:
    if agreement is None:
        return int(execute(db_url, "SELECT count(*) FROM audit")[0][0])
    rows = execute(db_url, "SELECT count(*) FROM audit WHERE agreement_id = :id", id=agreement)
    return int(rows[0][0])


def refused(pal: Pal, exit_code: int, *args: Any, mentions: str | None = None) -> Outcome:
    """Run a command that must fail with `exit_code` and leave the database exactly as it was."""
    before = snapshot(pal.db_url)
    result = pal(*args)
    assert_error(result, exit_code, mentions=mentions)
    assert snapshot(pal.db_url) == before, f"pal {' '.join(map(str, args))} changed the database"
    return result


# --- the plan and the reviews -------------------------------------------------------------------

ESCALATION_NOTE = "benchmarks missed at the review"


def fire(pal: Pal, agreement: int, event: str, *extra: Any, by: str, on: str | None = None) -> str:
    """`pal agreement fire AGREEMENT EVENT ...`, which must succeed; its stdout."""
    when = ["--on", on] if on is not None else []
    return ok(pal, "agreement", "fire", agreement, event, *extra, "--by", by, *when)


def escalate(
    pal: Pal,
    agreement: int,
    *options: str,
    on: str | None = None,
    note: str = ESCALATION_NOTE,
    by: str = STATE_SUPERINTENDENT,
) -> str:
    """The state superintendent escalates with `options` (default: closure) and a note."""
    chosen = ",".join(options or ("closure",))
    return fire(pal, agreement, "escalate", "--set", f"option={chosen}", "--note", note,
                by=by, on=on)  # fmt: skip


def add_school(pal: Pal, code: str, district: str = TRAD, *, high_school: bool = False) -> None:
    args = ["school", "add", code, "--name", f"{code} School", "--district", district]
    ok(pal, *args, *(["--high-school"] if high_school else []), "--by", DIRECTOR)


def add_benchmark(
    pal: Pal,
    agreement: int,
    school: str,
    kind: str,
    baseline: float,
    target_18: float,
    target_36: float,
    *,
    label: str | None = None,
    lower: bool = False,
    on: str | None = None,
) -> int:
    """A benchmark of the plan, added with `add_benchmark` by the liaison; its id."""
    values = [f"school={school}", f"kind={kind}", f"baseline={baseline}",
              f"target_18={target_18}", f"target_36={target_36}"]  # fmt: skip
    if label is not None:
        values.append(f"label={label}")
    if lower:
        values.append("direction=lower")
    sets = [arg for value in values for arg in ("--set", value)]
    fire(pal, agreement, "add_benchmark", *sets, by=LIAISON, on=on)
    return int(execute(pal.db_url, "SELECT max(id) FROM benchmark")[0][0])


def measure(
    pal: Pal, agreement: int, benchmark: int, value: float, measured_on: str, *, on: str
) -> None:
    """A measurement of `benchmark` taken on `measured_on`, recorded by the liaison on `on`."""
    fire(pal, agreement, "record_measurement", "--set", f"benchmark={benchmark}",
         "--set", f"value={value}", "--set", f"on={measured_on}", by=LIAISON, on=on)  # fmt: skip


def open_review(pal: Pal, agreement: int) -> tuple[str, list[str]]:
    """The kind of the agreement's latest review and the steps recorded for it so far."""
    rows = execute(pal.db_url, "SELECT id, kind FROM review WHERE agreement_id = :id "
                   "ORDER BY id DESC LIMIT 1", id=agreement)  # fmt: skip
    assert rows, f"agreement {agreement} has no review"
    review, kind = rows[0]
    done = execute(pal.db_url, "SELECT step FROM review_step WHERE review_id = :id ORDER BY step",
                   id=review)  # fmt: skip
    return str(kind), [str(step) for (step,) in done]


def record_steps(pal: Pal, agreement: int, *, on: str, by: str = LIAISON) -> None:
    """Record, on `on`, every step of the open review not recorded yet, in order."""
    from config.rules import load_rules
    from states.agreement import AGREEMENT

    kind, done = open_review(pal, agreement)
    rules = load_rules(show(pal, agreement)["rules_version"])
    for step in rules.review(kind).steps:
        if step not in done:
            fire(pal, agreement, AGREEMENT.steps[step], by=by, on=on)


def review_done(
    pal: Pal,
    agreement: int,
    *,
    on: str,
    override: str | None = None,
    reason: str | None = None,
) -> str:
    """Record every remaining step of the open review, then the director determines (on `on`)."""
    record_steps(pal, agreement, on=on)
    data = []
    if override is not None:
        data += ["--set", f"override={override}"]
    if reason is not None:
        data += ["--set", f"reason={reason}"]
    return fire(pal, agreement, "determine", *data, by=DIRECTOR, on=on)


def planning_school(pal: Pal, school: str) -> int:
    """A new school of TRAD and an agreement naming it, in its needs assessment."""
    add_school(pal, school)
    agreement = identify(pal, TRAD, "--schools", school)
    start_assessment(pal, agreement)
    return agreement


def signed_off_track(pal: Pal, school: str) -> tuple[int, int]:
    """`planning_school` with one attendance benchmark (80 -> 85 -> 90) that is never measured,
    so the school is off track at every review; signed 2018-05-01. (agreement, benchmark)"""
    agreement = planning_school(pal, school)
    measured = add_benchmark(pal, agreement, school, "attendance_rate", 80, 85, 90,
                             on="2018-04-01")  # fmt: skip
    sign(pal, agreement, TRAD_PARTIES, on="2018-05-01")
    return agreement, measured


def at_review_36(pal: Pal, *identify_args: str, determined: bool = True) -> int:
    """An agreement signed 2018-05-01, taken by hand through the RGA to the 36-month review's
    determination (no schools: no school is judged), or to just before it."""
    agreement = identify(pal, TRAD, *identify_args)
    start_assessment(pal, agreement)
    sign(pal, agreement, TRAD_PARTIES, on="2018-05-01")
    fire(pal, agreement, "open_rga", by=DIRECTOR, on="2019-11-01")
    review_done(pal, agreement, on="2019-12-15")
    fire(pal, agreement, "open_review_36", by=DIRECTOR, on="2021-05-01")
    if determined:
        review_done(pal, agreement, on="2021-05-05")
    else:
        record_steps(pal, agreement, on="2021-05-05")
    return agreement


@contextmanager
def rules_folder(pal: Pal, folder: Path, versions: Mapping[str, str]) -> Iterator[Pal]:
    """`pal` with `PAL_RULES_DIR` at `folder`, holding each version's TOML text."""
    from config.rules import load_rules

    folder.mkdir()
    for version, text in versions.items():
        (folder / f"{version}.toml").write_text(text)
    pal.env["PAL_RULES_DIR"] = str(folder)
    load_rules.cache_clear()
    try:
        yield pal
    finally:
        load_rules.cache_clear()


def with_bodies(db_url: str, sql: str, **params: Any) -> list[Any]:
    """The rows of `sql` (a SELECT of outbox rows naming their `id`), each with the text and HTML
    bodies it stores as `body_text` and `body_html`, read back through notifications.bodies."""
    from types import SimpleNamespace

    from notifications import bodies

    rows = execute(db_url, sql, **params)
    engine = engine_for(db_url)
    try:
        with engine.connect() as connection:
            found = bodies.read(connection, [row.id for row in rows])
    finally:
        engine.dispose()
    return [
        SimpleNamespace(**row._asdict(), body_text=found[row.id].text, body_html=found[row.id].html)
        for row in rows
    ]
