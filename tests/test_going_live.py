"""`pal agreement import`: agreements under way go live without mail about their past."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
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
    snapshot,
    today,
)

from states.agreement import ACTIVE
from states.going_live import KnownHistory, history
from states.registry import process

# Each active state, with when the agreement was identified and when every party signed (days
# ago): chosen so that each has reminders still to come and some whose moment has passed.
AT_EVERY_STATE: dict[str, tuple[int, int | None]] = {
    "identified": (80, None),
    "needs_assessment": (80, None),
    "signed": (400, 300),
    "rga": (700, 600),
    "implementing": (750, 650),
    "review_24": (860, 760),
    "review_36": (1200, 1100),
}


def district_for(state: str, twin: bool = False) -> str:
    return ("T" if twin else "G") + state.upper().replace("_", "")[:8]



def row(at: str, code: str | None = None, **given: str) -> str:
    """A CSV row of an agreement at `at` (`given`: columns that differ)."""
    state = at
    identified, signed = AT_EVERY_STATE[state]
    values = {
        "district": code or district_for(state),
        "identified_on": ago(identified),
        "cohort": "2019",
        "liaison": "" if state == "identified" else LIAISON,
        "rules": "",
        "consequences": "",
        "board_signed": ago(signed) if signed else "",
        "superintendent_signed": ago(signed) if signed else "",
        "mde_signed": ago(signed) if signed else "",
        "authorizer_signed": "",
        "state": state,
        "note": "loaded from the 2019 tracking sheet",
    }
    if state == "needs_assessment":
        values["board_signed"] = ago(5)
    values.update(given)
    return ",".join(values.values()) + "\n"


def imported(pal: Pal, text: str, tmp_path: Any) -> list[int]:
    path = tmp_path / "agreements.csv"
    path.write_text(text, encoding="utf-8")
    out = ok(pal, "agreement", "import", path, "--by", DIRECTOR)
    listed = json.loads(ok(pal, "agreement", "list", "--json"))
    assert f"imported {len(text.splitlines()) - 1} agreements" in out
    return [a["id"] for a in listed]


def future_timers(db_url: str, agreement: int, now: datetime) -> list[tuple[Any, ...]]:
    rows = execute(
        db_url,
        "SELECT d.kind, t.ladder, t.offset_days, t.notice, t.action, t.fire_at, t.status "
        "FROM timer t JOIN deadline d ON d.id = t.deadline_id "
        "WHERE t.agreement_id = :a AND t.status IN ('pending', 'waiting')",
        a=agreement,
    )
    return sorted(
        (r[0], r[1], r[2], r[3], r[4], _aware(r[5]), r[6]) for r in rows if _aware(r[5]) > now
    )


def _aware(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def walk_by_commands(pal: Pal, state: str, code: str) -> int:
    """The twin: the same agreement recorded with backdated commands, as before going live."""
    from config.rules import load_rules

    identified, signed = AT_EVERY_STATE[state]
    out = ok(pal, "agreement", "identify", code, "--on", ago(identified), "--by", DIRECTOR,
             "--cohort", "2019")  # fmt: skip
    agreement = int(out.strip())
    signatures: dict[str, date] = {}
    if signed is not None:
        day = date.fromisoformat(ago(signed))
        signatures = dict.fromkeys(("board", "superintendent", "mde"), day)
    if state == "needs_assessment":
        signatures = {"board": date.fromisoformat(ago(5))}
    known = KnownHistory(
        date.fromisoformat(ago(identified)), state,
        liaison=None if state == "identified" else LIAISON, signed=signatures,
    )  # fmt: skip
    for step in history(process("agreement"), known, load_rules("2017-10"), today()):
        sets = [arg for key, value in step.data.items() for arg in ("--set", f"{key}={value}")]
        ok(pal, "agreement", "fire", agreement, step.event, "--on", step.on.isoformat(),
           "--by", DIRECTOR, *sets)  # fmt: skip
    return agreement


def test_agreements_at_every_active_state_go_live_without_mail_about_the_past(
    seeded: Pal, db_url: str, tmp_path: Any
) -> None:
    """Loaded at every active state, then one tick: no mail at all; each agreement's timers
    still to come are those backdated commands would have scheduled, none already past is left
    to fire, and the next reminder goes exactly at its moment."""
    for state in ACTIVE:
        register(seeded, district_for(state))
        register(seeded, district_for(state, twin=True))
    text = IMPORT_HEADER + "".join(row(state) for state in ACTIVE)
    ids = imported(seeded, text, tmp_path)
    assert len(ids) == len(ACTIVE)
    now = datetime.now(DETROIT)
    views = {v["district"]: v for v in json.loads(ok(seeded, "agreement", "list", "--json"))}
    for state in ACTIVE:
        assert views[district_for(state)]["state"] == state
    assert execute(db_url, "SELECT count(*) FROM outbox")[0][0] == 0
    ok(seeded, "tick", "--now", now.isoformat())
    assert execute(db_url, "SELECT count(*) FROM outbox")[0][0] == 0
    assert execute(db_url, "SELECT count(*) FROM timer WHERE status = 'before_go_live'")[0][0] > 0
    for state in ACTIVE:
        agreement = views[district_for(state)]["id"]
        twin = walk_by_commands(seeded, state, district_for(state, twin=True))
        assert future_timers(db_url, agreement, now) == future_timers(db_url, twin, now), state
    # The next reminder of an agreement identified 80 days ago (plan due in 10 days): the
    # plan reminder 7 days before, at its moment, and nothing before it.
    first = views[district_for("identified")]["id"]
    upcoming = [t for t in future_timers(db_url, first, now) if t[3] == "plan_reminder"]
    moment = min(t[5] for t in upcoming)
    ok(seeded, "tick", "--now", (moment - timedelta(minutes=1)).isoformat())
    assert _mail(db_url, first) == []
    ok(seeded, "tick", "--now", moment.isoformat())
    assert {m[0] for m in _mail(db_url, first)} == {"plan_reminder"}


def _mail(db_url: str, agreement: int) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in execute(
        db_url, "SELECT notice, recipient FROM outbox WHERE agreement_id = :a", a=agreement)]


def test_each_step_is_audited_as_given_by_the_importer_noted_as_imported(
    seeded: Pal, db_url: str, tmp_path: Any
) -> None:
    """The history is written as dated audit rows by the importing person (the follow-up
    signing by pal), each noted as imported with the row's note."""
    register(seeded, "GSIGNED")
    (agreement,) = imported(seeded, IMPORT_HEADER + row("signed", "GSIGNED"), tmp_path)
    rows = execute(db_url, "SELECT event, actor, effective_on, note FROM audit "
                   "WHERE agreement_id = :a ORDER BY id", a=agreement)  # fmt: skip
    assert [r[0] for r in rows] == [
        "identify", "start_assessment", "record_signature", "record_signature",
        "record_signature", "sign",
    ]  # fmt: skip
    assert {r[1] for r in rows[:-1]} == {DIRECTOR} and rows[-1][1] == "system"
    assert str(rows[0][2]) == ago(400) and str(rows[-1][2]) == ago(300)
    assert all(r[3].startswith("imported: loaded from the 2019 tracking sheet") for r in rows)


def test_a_bad_row_is_refused_by_its_line_and_nothing_is_loaded(
    seeded: Pal, db_url: str, tmp_path: Any
) -> None:
    """A row whose plan is signed before the district was identified refuses the whole file,
    naming line 3; the database is as before."""
    for code in ("GA", "GB"):
        register(seeded, code)
    bad = row("signed", "GB", board_signed=ago(500))
    path = tmp_path / "agreements.csv"
    path.write_text(IMPORT_HEADER + row("signed", "GA") + bad, encoding="utf-8")
    before = snapshot(db_url)
    assert_error(seeded("agreement", "import", path, "--by", DIRECTOR), 2, mentions="line 3")
    assert snapshot(db_url) == before


def test_a_state_that_is_not_active_is_refused(seeded: Pal, db_url: str, tmp_path: Any) -> None:
    """An agreement already ended is not one under way: refused with the line, exit 2."""
    register(seeded, "GX")
    path = tmp_path / "agreements.csv"
    path.write_text(IMPORT_HEADER + row("signed", "GX", state="exited"), encoding="utf-8")
    before = snapshot(db_url)
    assert_error(seeded("agreement", "import", path, "--by", DIRECTOR), 2, mentions="line 2")
    assert snapshot(db_url) == before


def test_an_import_reads_standard_input_given_as_a_dash(seeded: Pal, db_url: str) -> None:
    """`-` reads the CSV from standard input."""
    register(seeded, "GSTDIN")
    result = seeded("agreement", "import", "-", "--by", DIRECTOR,
                    input=IMPORT_HEADER + row("needs_assessment", "GSTDIN"))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    listed = json.loads(ok(seeded, "agreement", "list", "--json"))
    assert [a["state"] for a in listed] == ["needs_assessment"]


def test_a_timed_action_its_stage_does_not_allow_yet_waits_for_it(
    seeded: Pal, db_url: str, tmp_path: Any
) -> None:
    """An RGA still open past the 24-month mark: the 24-month review waits for the
    determination, as it would have under pal, instead of being closed."""
    register(seeded, "GLATE")
    late = row("rga", "GLATE", identified_on=ago(860), board_signed=ago(760),
               superintendent_signed=ago(760), mde_signed=ago(760))  # fmt: skip
    imported(seeded, IMPORT_HEADER + late, tmp_path)
    waiting = execute(db_url, "SELECT action FROM timer WHERE status = 'waiting'")
    assert [r[0] for r in waiting] == ["open_review_24"]
    assert execute(db_url, "SELECT count(*) FROM outbox")[0][0] == 0
