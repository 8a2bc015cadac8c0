"""`pal forecast`: what the service will send and do until a day, computed without changing
anything, and exactly what ticks over the same days then do."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, time, timedelta
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

DAYS = 75




def under_way(pal: Pal, tmp_path: Any) -> dict[str, int]:
    """A plan due in 40 days (its whole reminder ladder ahead), and a plan signed about 17
    months ago (the 18-month review opens by itself in about three weeks, with its steps'
    reminders after it)."""
    register(pal, "FPLAN")
    register(pal, "FRGA")
    signed = ago(528)
    rows = (
        f"FPLAN,{ago(50)},2019,{LIAISON},,,,,,,needs_assessment,\n"
        f"FRGA,{ago(600)},2019,{LIAISON},,,{signed},{signed},{signed},,signed,\n"
    )
    path = tmp_path / "agreements.csv"
    path.write_text(IMPORT_HEADER + rows, encoding="utf-8")
    ok(pal, "agreement", "import", path, "--by", DIRECTOR)
    return {a["district"]: a["id"] for a in json.loads(ok(pal, "agreement", "list", "--json"))}


def _local_day(value: Any) -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(DETROIT).date().isoformat()


def test_the_forecast_equals_what_ticks_over_the_same_days_then_send(
    seeded: Pal, db_url: str, tmp_path: Any
) -> None:
    """Every notice (recipient and day) and every timed step the forecast lists is what a tick
    each day until then sends and does, no more, no less; the forecast itself changes nothing."""
    ids = under_way(seeded, tmp_path)
    now = datetime.now(DETROIT)
    until = today() + timedelta(days=DAYS)
    before = snapshot(db_url)
    found = json.loads(ok(seeded, "forecast", "--until", until.isoformat(), "--now",
                          now.isoformat(), "--json"))  # fmt: skip
    assert snapshot(db_url) == before
    audits = execute(db_url, "SELECT max(id) FROM audit")[0][0]
    ok(seeded, "tick", "--now", now.isoformat())
    for day in range(1, DAYS + 1):
        moment = datetime.combine(today() + timedelta(days=day), time(12), DETROIT)
        ok(seeded, "tick", "--now", moment.isoformat())
    sent = Counter(
        (r[0], r[1], r[2], _local_day(r[3]))
        for r in execute(db_url, "SELECT agreement_id, notice, recipient, created_at FROM outbox")
    )
    forecast = Counter((n["agreement"], n["notice"], n["to"], n["day"]) for n in found["notices"])
    assert forecast == sent
    assert {n for n, _ in Counter(k[1] for k in sent).items()} >= {
        "plan_reminder", "plan_overdue", "plan_overdue_accountability", "review_step_reminder",
    }  # fmt: skip
    taken = [(r[0], r[1], str(r[2])) for r in execute(
        db_url, "SELECT agreement_id, event, effective_on FROM audit WHERE id > :a ORDER BY id",
        a=audits)]  # fmt: skip
    assert [(a["agreement"], a["event"], a["day"]) for a in found["actions"]] == taken
    assert [a[0] for a in taken] == [ids["FRGA"]]


def test_one_agreements_forecast_in_words(seeded: Pal, db_url: str, tmp_path: Any) -> None:
    """`--agreement` keeps to that agreement, and the text speaks of steps and stages in words,
    never in engine names."""
    ids = under_way(seeded, tmp_path)
    until = (today() + timedelta(days=DAYS)).isoformat()
    found = json.loads(ok(seeded, "forecast", "--until", until, "--agreement", ids["FPLAN"],
                          "--json"))  # fmt: skip
    assert {n["agreement"] for n in found["notices"]} == {ids["FPLAN"]}
    assert found["actions"] == []
    text = ok(seeded, "forecast", "--until", until, "--agreement", ids["FRGA"])
    assert "pal will open the 18-month Review of Goal Attainment" in text
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", re.sub(r"\S+@\S+", "", text)), text


def test_a_forecast_of_nothing_says_so(seeded: Pal) -> None:
    """With no agreement, nothing is to be sent: said in words, exit 0."""
    out = ok(seeded, "forecast", "--until", (today() + timedelta(days=30)).isoformat())
    assert "nothing will be sent" in out


def test_a_forecast_refuses_a_past_day_and_an_unknown_agreement(seeded: Pal) -> None:
    """`--until` before today and an agreement not on file are bad input (exit 2)."""
    assert_error(seeded("forecast", "--until", "2001-01-01"), 2, mentions="before today")
    until = (today() + timedelta(days=3)).isoformat()
    assert_error(seeded("forecast", "--until", until, "--agreement", "999"), 2)
