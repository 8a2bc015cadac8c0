"""People over time: several roles per person, roles ended and handed on, liaisons reassigned."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers import (
    DIRECTOR,
    IDENTIFIED_ON,
    LIAISON,
    PSA,
    TRAD,
    TRAD_PARTIES,
    Pal,
    add_district,
    execute,
    identify,
    ok,
    person,
    refused,
    sign,
    snapshot,
    start_assessment,
)
from service_support import PLAN_DUE, local, tick

SHARED = "shared@isd.example"
NEW_SUPER = "new.super@trad.example"
OLD_SUPER = person(TRAD, "superintendent")
NEW_LIAISON = "second.liaison@mde.example"


def mail(db_url: str, notice: str) -> list[tuple[int, str]]:
    rows = execute(
        db_url, "SELECT agreement_id, recipient FROM outbox WHERE notice = :n ORDER BY id", n=notice
    )
    return [(int(a), str(r)) for a, r in rows]


def contacts(pal: Pal, *args: str) -> list[dict[str, Any]]:
    return list(json.loads(ok(pal, "contact", "list", "--json", *args)))


def test_a_person_with_two_roles_in_two_districts_gets_each_districts_notices(
    seeded: Pal, db_url: str
) -> None:
    """One email, superintendent of one district and ISD superintendent of another: each
    district's identification and the second's signing reach them, once each."""
    for code in ("NORTH", "SOUTH"):
        add_district(seeded, code)
    ok(seeded, "contact", "add", SHARED, "--name", "Pat Shared", "--role", "superintendent",
       "--district", "NORTH")  # fmt: skip
    ok(seeded, "contact", "add", SHARED, "--name", "Pat Shared", "--role", "isd_superintendent",
       "--district", "SOUTH", "--phone", "")  # fmt: skip
    north = identify(seeded, "NORTH")
    south = identify(seeded, "SOUTH")
    start_assessment(seeded, south)
    sign(seeded, south, TRAD_PARTIES)

    assert (north, SHARED) in mail(db_url, "identified")
    # SOUTH's ISD superintendent, not its superintendent: told once all the same.
    assert mail(db_url, "identified").count((south, SHARED)) == 1
    assert (south, SHARED) in mail(db_url, "signed")
    held = {(c["role"], c["district_code"]) for c in contacts(seeded) if c["email"] == SHARED}
    assert held == {("superintendent", "NORTH"), ("isd_superintendent", "SOUTH")}


def test_a_superintendent_replaced_mid_ladder_leaves_the_next_reminder_to_the_new_one_only(
    seeded: Pal, db_url: str
) -> None:
    """The 30-day plan reminder reaches the old superintendent; after the role passes on, the
    14-day reminder reaches the new one and not the old."""
    identify(seeded, TRAD)
    tick(seeded, local(PLAN_DUE, offset_days=-30))
    handover = PLAN_DUE.replace(day=10).isoformat()
    ok(seeded, "contact", "end", OLD_SUPER, "--role", "superintendent", "--district", TRAD,
       "--on", handover)  # fmt: skip
    ok(seeded, "contact", "add", NEW_SUPER, "--name", "Robin New", "--role", "superintendent",
       "--district", TRAD, "--on", handover)  # fmt: skip
    tick(seeded, local(PLAN_DUE, offset_days=-14))

    rows = mail(db_url, "plan_reminder")
    to_old = [r for r in rows if r[1] == OLD_SUPER]
    to_new = [r for r in rows if r[1] == NEW_SUPER]
    assert len(to_old) == 1 and len(to_new) == 1, rows
    assert rows.index(to_old[0]) < rows.index(to_new[0])
    current = {c["email"] for c in contacts(seeded, "--district", TRAD)}
    assert NEW_SUPER in current and OLD_SUPER not in current
    everyone = contacts(seeded, "--district", TRAD, "--all")
    ended = [c for c in everyone if c["email"] == OLD_SUPER]
    assert ended[0]["ended_on"] == handover


def test_a_reassigned_liaison_is_the_one_told_from_then_on_and_both_hear_of_it(
    seeded: Pal, db_url: str
) -> None:
    """`assign_liaison` in the needs assessment names another liaison: the old and the new
    liaison get the reassignment notice, the agreement shows the new one, the audit keeps both."""
    ok(seeded, "contact", "add", NEW_LIAISON, "--name", "Sam Second", "--role", "liaison")
    agreement = identify(seeded, TRAD)
    start_assessment(seeded, agreement)
    ok(seeded, "agreement", "fire", agreement, "assign_liaison", "--set",
       f"liaison={NEW_LIAISON}", "--by", DIRECTOR)  # fmt: skip

    told = {r for a, r in mail(db_url, "liaison_reassigned") if a == agreement}
    assert told == {LIAISON, NEW_LIAISON}
    view = json.loads(ok(seeded, "agreement", "show", agreement, "--json"))
    assert view["liaison"] == NEW_LIAISON
    data = execute(
        db_url, "SELECT data FROM audit WHERE event = 'assign_liaison' AND agreement_id = :a",
        a=agreement,
    )[0][0]  # fmt: skip
    found = json.loads(data) if isinstance(data, str) else data
    assert found["former_liaison"] == LIAISON and found["liaison"] == NEW_LIAISON


def test_a_liaison_whose_role_ended_is_not_emailed_and_the_notice_stays_unaddressed(
    seeded: Pal, db_url: str
) -> None:
    """The named liaison no longer holds the role: the plan reminder goes to the district's
    people, and the liaison's copy is an unaddressed row, not an email to them."""
    agreement = identify(seeded, TRAD)
    start_assessment(seeded, agreement)
    ok(seeded, "contact", "end", LIAISON, "--role", "liaison", "--on", IDENTIFIED_ON)
    tick(seeded, local(PLAN_DUE, offset_days=-30))
    recipients = [r for a, r in mail(db_url, "plan_reminder") if a == agreement]
    assert LIAISON not in recipients
    statuses = execute(
        db_url,
        "SELECT status FROM outbox WHERE notice = 'plan_reminder' AND recipient = '(liaison)'",
    )
    assert [s for (s,) in statuses] == ["unaddressed"]


def test_contact_edit_and_district_and_school_edits_are_audited_with_what_they_were(
    seeded: Pal, db_url: str
) -> None:
    """Editing a person, a district and a school changes them and audits each change's old
    and new value."""
    ok(seeded, "contact", "edit", LIAISON, "--name", "Lee Renamed", "--phone", "517-555-0100")
    ok(seeded, "district", "edit", TRAD, "--name", "Trad Community Schools", "--isd", "Oakland")
    ok(seeded, "district", "edit", PSA, "--authorizer", "Grand Valley State University")
    ok(seeded, "school", "add", "S1", "--name", "First School", "--district", TRAD)
    ok(seeded, "school", "edit", "S1", "--name", "First Elementary", "--csi", "--high-school")

    people = {c["email"]: c for c in contacts(seeded)}
    assert people[LIAISON]["name"] == "Lee Renamed"
    assert people[LIAISON]["phone"] == "517-555-0100"
    districts = {d["code"]: d for d in json.loads(ok(seeded, "district", "list", "--json"))}
    assert districts[TRAD]["isd"] == "Oakland"
    assert districts[PSA]["authorizer"] == "Grand Valley State University"
    schools = json.loads(ok(seeded, "school", "list", "--district", TRAD, "--json"))
    assert [(s["code"], s["name"], s["csi"], s["high_school"]) for s in schools] == [
        ("S1", "First Elementary", True, True)
    ]
    events = [e for (e,) in execute(db_url, "SELECT event FROM audit ORDER BY id")]
    assert events[-4:] == ["district_edit", "district_edit", "school_add", "school_edit"]
    data = execute(db_url, "SELECT data FROM audit WHERE event = 'contact_edit'")[0][0]
    found = json.loads(data) if isinstance(data, str) else data
    assert found["changed"]["name"] == {"from": "Liaison", "to": "Lee Renamed"}


BAD_INPUT = [
    (["contact", "add", "x@mde.example", "--name", "X", "--role", "wizard"], 2),
    (["contact", "add", "x@mde.example", "--name", "X", "--role", "superintendent"], 2),
    (["contact", "add", "x@mde.example", "--name", "X", "--role", "director", "--district",
      TRAD], 2),
    (["contact", "add", LIAISON, "--name", "Liaison", "--role", "liaison"], 2),
    (["contact", "add", LIAISON, "--name", "Somebody Else", "--role", "partner"], 2),
    (["contact", "add", "x@mde.example", "--name", "X", "--role", "liaison", "--on",
      "2999-01-01"], 2),
    (["contact", "add", "x@mde.example", "--name", "X", "--role", "superintendent",
      "--district", "NOPE"], 2),
    (["contact", "end", "nobody@mde.example", "--role", "liaison", "--on", "2020-01-01"], 2),
    (["contact", "end", LIAISON, "--role", "director", "--on", "2020-01-01"], 3),
    (["contact", "end", LIAISON, "--role", "liaison"], 2),
    (["contact", "edit", LIAISON], 2),
    (["contact", "edit", "nobody@mde.example", "--name", "X"], 2),
    (["contact", "edit", LIAISON, "--name", ""], 2),
    (["contact", "list", "--district", "NOPE"], 2),
    (["district", "edit", "NOPE", "--name", "X"], 2),
    (["district", "edit", TRAD], 2),
    (["district", "edit", TRAD, "--authorizer", "Someone"], 2),
    (["district", "edit", TRAD, "--name", ""], 2),
    (["school", "list", "--district", "NOPE"], 2),
    (["school", "edit", "NOPE", "--name", "X"], 2),
    (["agreement", "fire", "1", "assign_liaison", "--set", "liaison=nobody@mde.example",
      "--by", DIRECTOR], 2),
    (["agreement", "fire", "1", "assign_liaison", "--set", f"liaison={OLD_SUPER}",
      "--by", DIRECTOR], 2),
    (["agreement", "fire", "1", "assign_liaison", "--set", f"liaison={LIAISON}",
      "--by", DIRECTOR], 3),
    (["agreement", "fire", "1", "assign_liaison", "--set", f"liaison={LIAISON}",
      "--by", OLD_SUPER], 4),
]


@pytest.mark.parametrize(("args", "code"), BAD_INPUT, ids=[" ".join(a[:4]) for a, _ in BAD_INPUT])
def test_bad_input_to_the_people_commands_is_one_error_line_and_changes_nothing(
    seeded: Pal, db_url: str, args: list[str], code: int
) -> None:
    """Each refusal prints one `error:` line, exits with its documented code, changes nothing."""
    agreement = identify(seeded, TRAD)
    start_assessment(seeded, agreement)
    assert agreement == 1
    before = snapshot(db_url)
    refused(seeded, code, *args)
    assert snapshot(db_url) == before
