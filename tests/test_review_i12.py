"""Review of issue 12 and 13 where their parts meet: going live, business days, corrections,
the forecast, headers and status."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from helpers import (
    DETROIT,
    DIRECTOR,
    IMPORT_HEADER,
    LIAISON,
    Pal,
    ago,
    assert_error,
    execute,
    ok,
    register,
    reported,
)


def import_csv(pal: Pal, tmp_path: Any, *rows: str) -> None:
    path = tmp_path / "agreements.csv"
    path.write_text(IMPORT_HEADER + "".join(rows), encoding="utf-8")
    ok(pal, "agreement", "import", path, "--by", DIRECTOR)


def overdue_plan_row(code: str, *, identified: int = 400, rules: str = "") -> str:
    """An agreement whose plan is long overdue: every overdue notice's moment has passed."""
    return f"{code},{ago(identified)},2019,{LIAISON},{rules},,,,,,needs_assessment,\n"


def test_a_rule_migration_after_going_live_sends_no_mail_about_the_past(
    seeded: Pal, db_url: str, tmp_path: Any
) -> None:
    """Migrating an imported agreement to another rule version mails nobody about overdue
    steps whose moment passed before pal ran: they count as run, like ones pal sent."""
    register(seeded, "GMIG")
    import_csv(seeded, tmp_path, overdue_plan_row("GMIG"))
    ok(seeded, "agreement", "migrate", 1, "--rules", "2017-04", "--reason", "the first letter",
       "--by", DIRECTOR)  # fmt: skip
    ok(seeded, "tick", "--now", datetime.now(DETROIT).isoformat())
    mail = [tuple(r) for r in execute(db_url, "SELECT notice, recipient, occurrence FROM outbox")]
    assert mail == []


def test_a_preview_html_file_that_cannot_be_written_is_bad_input(
    seeded: Pal, tmp_path: Any
) -> None:
    """`pal notice preview --html` into a folder that does not exist: one `error:` line, exit 2,
    not an internal error."""
    result = seeded("notice", "preview", "plan_reminder", "--html", tmp_path / "none" / "x.html")
    assert_error(result, 2, mentions="x.html")


def test_status_says_why_an_imported_timed_action_waits(seeded: Pal, tmp_path: Any) -> None:
    """A timed action left waiting by going live is listed by `pal status` with its reason,
    never as "None"."""
    register(seeded, "GWAIT")
    signed = ago(760)
    import_csv(
        seeded, tmp_path,
        f"GWAIT,{ago(860)},2019,{LIAISON},,,{signed},{signed},{signed},,rga,\n",
    )  # fmt: skip
    report = reported(seeded, "status", "--json")
    (waiting,) = json.loads(report)["timers_waiting"]
    assert waiting["action"] == "open_review_24" and waiting["why"]
    assert "None" not in reported(seeded, "status")


def test_a_review_step_reminder_previews_the_next_open_step_of_the_review(
    seeded: Pal, tmp_path: Any
) -> None:
    """Once the evidence is recorded, `pal notice preview review_step_reminder --agreement`
    shows the reminder of the structured conference, the open step the same notice is sent
    about next, instead of refusing for want of an open evidence deadline."""
    register(seeded, "GSTEP")
    signed = ago(560)
    row = f"GSTEP,{ago(600)},2019,{LIAISON},,,{signed},{signed},{signed},,rga,\n"
    import_csv(seeded, tmp_path, row)
    ok(seeded, "review", "step", 1, "evidence", "--evidence", "binder", "--by", LIAISON)
    shown = ok(seeded, "notice", "preview", "review_step_reminder", "--agreement", 1)
    assert "structured conference" in shown.splitlines()[1].lower()


QUERY_PASSWORD = "query-pw-4711"


def test_a_database_password_given_as_a_query_parameter_is_never_shown(postgres_url: str) -> None:
    """A PostgreSQL URL with `?password=` (libpq takes it there too): neither `pal init` nor
    the service's start-up line shows it."""
    from config.settings import Settings
    from workflow.app import open_app
    from workflow.heartbeat import Identity
    from workflow.service import startup

    url = f"{postgres_url}&password={QUERY_PASSWORD}"
    shown = ok(Pal(url), "init")
    assert QUERY_PASSWORD not in shown and "password=***" in shown
    with open_app(Settings(database_url=url)) as app:
        text, fields = startup(app, Identity("serve", "host", 1, "test", 60.0))
    assert QUERY_PASSWORD not in text + json.dumps(fields)
