"""Amendments of an agreement's terms: opened as a draft of the terms in force, changed with the
usual commands naming `--amendment N`, in force only once every required party has signed it,
every version kept (`agreement show --amendment N`), the reviews judging by the terms in force
on the determination day, and the statutory clocks left where they were."""

from __future__ import annotations

import json
from typing import Any

from helpers import (
    DIRECTOR,
    LIAISON,
    PSA,
    PSA_PARTIES,
    TRAD,
    TRAD_PARTIES,
    Pal,
    add_school,
    execute,
    fire,
    identify,
    ok,
    person,
    record_steps,
    refused,
    show,
    sign,
    start_assessment,
    with_bodies,
)

SIGNED_ON = "2018-05-01"
AMENDED_ON = "2019-06-03"


def planned(pal: Pal, district: str = TRAD, school: str = "HS1") -> tuple[int, dict[str, int]]:
    """A signed agreement (2018-05-01) of one high school with a graduation benchmark (50 -> 60
    at 18 months, 70 at 36) and an attendance one (80 -> 85, 90)."""
    add_school(pal, school, district, high_school=True)
    agreement = identify(pal, district, "--schools", school)
    start_assessment(pal, agreement)
    ids = {}
    for name, kind, targets in (("grad", "graduation_rate", ("50", "60", "70")),
                                ("attendance", "attendance_rate", ("80", "85", "90"))):
        baseline, target_18, target_36 = targets
        ids[name] = int(ok(pal, "benchmark", "add", agreement, "--school", school, "--kind",
                           kind, "--baseline", baseline, "--target-18", target_18,
                           "--target-36", target_36, "--on", "2018-04-02",
                           "--by", LIAISON).strip())  # fmt: skip
    sign(pal, agreement, PSA_PARTIES if district == PSA else TRAD_PARTIES, on=SIGNED_ON)
    return agreement, ids


def amend(pal: Pal, agreement: int, note: str = "graduation target lowered",
          on: str = AMENDED_ON) -> int:  # fmt: skip
    return int(ok(pal, "agreement", "amend", agreement, "--note", note, "--on", on,
                  "--by", LIAISON).strip())  # fmt: skip


def sign_amendment(pal: Pal, agreement: int, number: int, parties: tuple[str, ...],
                   on: str) -> str:  # fmt: skip
    out = ""
    for party in parties:
        out = ok(pal, "agreement", "sign", agreement, "--party", party, "--amendment", number,
                 "--on", on, "--by", LIAISON)  # fmt: skip
    return out


def terms(pal: Pal, agreement: int, number: int) -> dict[str, Any]:
    out = ok(pal, "agreement", "show", agreement, "--amendment", number, "--json")
    return json.loads(out)  # type: ignore[no-any-return]


def targets(view: dict[str, Any]) -> dict[int, tuple[float, float, float]]:
    return {b["id"]: (b["baseline"], b["target_18"], b["target_36"])
            for school in view["schools"] for b in school["benchmarks"]}  # fmt: skip


def measure(pal: Pal, benchmark: int, value: str, on: str = "2019-09-15") -> None:
    ok(pal, "benchmark", "measure", benchmark, "--value", value, "--on", on,
       "--evidence", "state data", "--by", LIAISON)  # fmt: skip


def rga_determined(pal: Pal, agreement: int, on: str = "2020-01-06") -> dict[str, Any]:
    """Open the RGA on 2019-11-01, record its steps and determine on `on`; the review."""
    fire(pal, agreement, "open_rga", by=DIRECTOR, on="2019-11-01")
    record_steps(pal, agreement, on="2019-12-02")
    ok(pal, "review", "determine", agreement, "--on", on, "--by", DIRECTOR)
    return json.loads(ok(pal, "review", "show", agreement, "--json"))  # type: ignore[no-any-return]


def judged(review: dict[str, Any], school: str, benchmark: int) -> dict[str, Any]:
    found = next(s for s in review["schools"] if s["school"] == school)
    return next(b for b in found["benchmarks"] if b["id"] == benchmark)  # type: ignore[no-any-return]


# --- taking effect -------------------------------------------------------------------------------


def test_a_partly_signed_amendment_leaves_the_review_on_the_old_target(seeded: Pal) -> None:
    """An amendment lowering a target, signed by two of its three parties, is not in force: the
    RGA judges by the old target, and the amendment takes effect only at the last signature."""
    agreement, ids = planned(seeded)
    number = amend(seeded, agreement)
    ok(seeded, "benchmark", "edit", ids["grad"], "--amendment", number, "--target-18", "55",
       "--on", AMENDED_ON, "--by", LIAISON)  # fmt: skip
    out = sign_amendment(seeded, agreement, number, ("board", "superintendent"), on="2019-06-10")
    signed = f"agreement {agreement}: Superintendent signed amendment 1; not yet in force"
    assert out.strip() == signed
    measure(seeded, ids["grad"], "57")
    measure(seeded, ids["attendance"], "86")

    review = rga_determined(seeded, agreement)

    grad = judged(review, "HS1", ids["grad"])
    assert (grad["target"], grad["value"], grad["met"]) == (60, 57, False)
    assert review["schools"][0]["agreed"] != "on_track"
    assert terms(seeded, agreement, number)["status"] == "drafting"
    out = sign_amendment(seeded, agreement, number, ("mde",), on="2020-01-08")
    assert out.strip() == (
        f"agreement {agreement}: Michigan Department of Education signed amendment 1; "
        "in force from 2020-01-08"
    )
    assert terms(seeded, agreement, number)["status"] == "in_force"
    assert terms(seeded, agreement, number)["in_force_on"] == "2020-01-08"
    assert terms(seeded, agreement, 0)["status"] == "superseded"


def test_a_fully_signed_amendment_is_the_target_the_review_judges_by(seeded: Pal) -> None:
    """Once every party (a PSA's authorizer too) has signed, the review judges by the amended
    target, and the measurement taken before the amendment still counts for the benchmark."""
    agreement, ids = planned(seeded, PSA, "PS1")
    measure(seeded, ids["grad"], "57", on="2019-05-20")
    measure(seeded, ids["attendance"], "86", on="2019-05-20")
    number = amend(seeded, agreement)
    ok(seeded, "benchmark", "edit", ids["grad"], "--amendment", number, "--target-18", "55",
       "--on", AMENDED_ON, "--by", LIAISON)  # fmt: skip
    sign_amendment(seeded, agreement, number, PSA_PARTIES, on="2019-06-10")

    review = rga_determined(seeded, agreement)

    grad = judged(review, "PS1", ids["grad"])
    assert (grad["target"], grad["value"], grad["met"]) == (55, 57, True)
    assert review["schools"][0]["agreed"] == "on_track"
    history = show(seeded, agreement)["history"]
    last_signing = [h for h in history if h["event"] == "amendment_in_force"]
    assert [(h["by"], h["on"], h["data"]) for h in last_signing] == [
        ("system", "2019-06-10", {"amendment": 1})
    ]


def test_each_review_judges_by_the_terms_in_force_on_its_determination_day(seeded: Pal) -> None:
    """The RGA, determined before an amendment, keeps the old targets; the 36-month review,
    after it, judges by the amended ones; a benchmark the amendment adds counts only then,
    and one it removes is no longer judged (its measurements stay on file)."""
    agreement, ids = planned(seeded)
    measure(seeded, ids["grad"], "61")
    measure(seeded, ids["attendance"], "86")
    rga = rga_determined(seeded, agreement)
    number = amend(seeded, agreement, "36-month targets revised", on="2020-02-03")
    ok(seeded, "benchmark", "edit", ids["grad"], "--amendment", number, "--target-36", "65",
       "--on", "2020-02-03", "--by", LIAISON)  # fmt: skip
    ok(seeded, "benchmark", "remove", ids["attendance"], "--amendment", number,
       "--on", "2020-02-03", "--by", LIAISON)  # fmt: skip
    added = int(ok(seeded, "benchmark", "add", agreement, "--amendment", number, "--school",
                   "HS1", "--kind", "on_track", "--baseline", "20", "--target-18", "25",
                   "--target-36", "30", "--on", "2020-02-03", "--by", LIAISON).strip())  # fmt: skip
    sign_amendment(seeded, agreement, number, TRAD_PARTIES, on="2020-02-10")
    measure(seeded, ids["grad"], "66", on="2021-03-01")
    measure(seeded, added, "31", on="2021-03-01")
    fire(seeded, agreement, "open_review_36", by=DIRECTOR, on="2021-05-01")
    record_steps(seeded, agreement, on="2021-05-05")
    ok(seeded, "review", "determine", agreement, "--on", "2021-05-06", "--by", DIRECTOR)

    review = json.loads(ok(seeded, "review", "show", agreement, "--json"))
    school = review["schools"][0]
    assert {b["id"]: (b["target"], b["met"]) for b in school["benchmarks"]} == {
        ids["grad"]: (65, True),
        added: (30, True),
    }
    assert school["agreed"] == "on_track"
    assert judged(rga, "HS1", ids["grad"])["target"] == 60
    kept = execute(seeded.db_url, "SELECT count(*) FROM measurement WHERE benchmark_id = :id",
                   id=ids["attendance"])  # fmt: skip
    assert kept[0][0] == 1


# --- every version kept --------------------------------------------------------------------------


def test_show_amendment_n_shows_each_version_and_show_lists_them(seeded: Pal) -> None:
    """`--amendment 0` is the plan as signed, 1 the first amendment (superseded), 2 the second
    (in force); `show` without the flag shows the terms in force and lists the amendments,
    and a draft shows who still has to sign it."""
    agreement, ids = planned(seeded)
    first = amend(seeded, agreement)
    ok(seeded, "benchmark", "edit", ids["grad"], "--amendment", first, "--target-18", "55",
       "--on", AMENDED_ON, "--by", LIAISON)  # fmt: skip
    sign_amendment(seeded, agreement, first, TRAD_PARTIES, on="2019-06-10")
    second = amend(seeded, agreement, "attendance baseline corrected", on="2019-07-01")
    ok(seeded, "benchmark", "edit", ids["attendance"], "--amendment", second, "--baseline", "78",
       "--on", "2019-07-01", "--by", LIAISON)  # fmt: skip
    ok(seeded, "agreement", "consequences", agreement, "reconstitution,closure",
       "--amendment", second, "--on", "2019-07-01", "--by", LIAISON)  # fmt: skip
    ok(seeded, "agreement", "sign", agreement, "--party", "board", "--amendment", second,
       "--on", "2019-07-02", "--by", LIAISON)  # fmt: skip

    draft = terms(seeded, agreement, second)
    assert (draft["status"], draft["signatures"], draft["missing_signatures"]) == (
        "drafting", {"board": "2019-07-02"}, ["superintendent", "mde"]
    )
    sign_amendment(seeded, agreement, second, ("superintendent", "mde"), on="2019-07-03")
    versions = [terms(seeded, agreement, n) for n in (0, 1, 2)]

    assert [v["status"] for v in versions] == ["superseded", "superseded", "in_force"]
    assert [v["in_force_on"] for v in versions] == [SIGNED_ON, "2019-06-10", "2019-07-03"]
    assert [v["superseded_on"] for v in versions] == ["2019-06-10", "2019-07-03", None]
    assert [targets(v) for v in versions] == [
        {ids["grad"]: (50, 60, 70), ids["attendance"]: (80, 85, 90)},
        {ids["grad"]: (50, 55, 70), ids["attendance"]: (80, 85, 90)},
        {ids["grad"]: (50, 55, 70), ids["attendance"]: (78, 85, 90)},
    ]
    assert versions[2]["consequences"] == ["reconstitution", "closure"]
    assert versions[0]["consequences"] == versions[1]["consequences"] != ["reconstitution",
                                                                          "closure"]
    assert versions[1]["note"] == "graduation target lowered"
    assert versions[1]["changes"] == ["benchmark 1, HS1 graduation rate: 18-month target from "
                                      "60 to 55"]  # fmt: skip
    current = show(seeded, agreement)
    assert current["consequences"] == ["reconstitution", "closure"]
    assert [(a["number"], a["status"]) for a in current["amendments"]] == [
        (1, "superseded"), (2, "in_force")
    ]
    text = ok(seeded, "agreement", "show", agreement)
    listed = "  amendments     1 in force from 2019-06-10 (superseded): graduation target lowered"
    assert listed in text
    assert "78 -> 85 (18 mo)" in text
    human = ok(seeded, "agreement", "show", agreement, "--amendment", 1)
    assert "18-month target from 60 to 55" in human and "superseded on  2019-07-03" in human


def test_an_agreement_never_amended_shows_its_own_terms_as_version_0(seeded: Pal) -> None:
    """`--amendment 0` of an agreement never amended is its plan and consequences, in force
    since the signing, and `show` lists no amendments."""
    agreement, ids = planned(seeded)

    version = terms(seeded, agreement, 0)

    assert version["status"] == "in_force" and version["in_force_on"] == SIGNED_ON
    assert targets(version) == {ids["grad"]: (50, 60, 70), ids["attendance"]: (80, 85, 90)}
    assert show(seeded, agreement)["amendments"] == []
    assert "amendments" not in ok(seeded, "agreement", "show", agreement)


# --- the clocks ----------------------------------------------------------------------------------


def test_an_amendment_moves_no_deadline(seeded: Pal) -> None:
    """Opening, changing, signing and putting in force an amendment leaves the signing date and
    every deadline (the RGA at 18 months, the reviews at 24 and 36) where they were."""
    agreement, ids = planned(seeded)
    before = show(seeded, agreement)
    number = amend(seeded, agreement)
    ok(seeded, "benchmark", "edit", ids["grad"], "--amendment", number, "--target-18", "55",
       "--on", AMENDED_ON, "--by", LIAISON)  # fmt: skip
    sign_amendment(seeded, agreement, number, TRAD_PARTIES, on="2019-06-10")

    after = show(seeded, agreement)

    assert after["signed_on"] == before["signed_on"] == SIGNED_ON
    assert after["deadlines"] == before["deadlines"]
    assert {d["kind"]: d["due"] for d in after["deadlines"] if d["status"] == "open"} == {
        "rga_due": "2019-11-01", "review_24_due": "2020-05-01", "review_36_due": "2021-05-01"
    }
    timers = execute(seeded.db_url, "SELECT count(*) FROM timer WHERE agreement_id = :id AND "
                     "status = 'pending'", id=agreement)  # fmt: skip
    assert timers[0][0] > 0


# --- notices -------------------------------------------------------------------------------------


def test_opening_and_taking_effect_tell_the_signatories_and_the_liaison(seeded: Pal) -> None:
    """The signatories and the liaison are told when an amendment opens (its note) and when it
    takes effect (its day and what it changes, in words)."""
    agreement, ids = planned(seeded)
    number = amend(seeded, agreement)
    ok(seeded, "benchmark", "edit", ids["grad"], "--amendment", number, "--target-18", "55",
       "--on", AMENDED_ON, "--by", LIAISON)  # fmt: skip
    sign_amendment(seeded, agreement, number, TRAD_PARTIES, on="2019-06-10")

    rows = with_bodies(seeded.db_url, "SELECT id, notice, recipient, subject FROM outbox WHERE "
                       "notice LIKE 'amendment%' ORDER BY id")  # fmt: skip

    told = {(r.notice, r.recipient) for r in rows}
    for notice in ("amendment_opened", "amendment_effective"):
        for who in (person(TRAD, "superintendent"), person(TRAD, "board_president"), DIRECTOR,
                    LIAISON):
            assert (notice, who) in told
    assert ("amendment_effective", person(TRAD, "isd_superintendent")) in told
    opened = next(r for r in rows if r.notice == "amendment_opened")
    assert "Amendment 1 of the partnership agreement" in opened.body_text
    assert "graduation target lowered" in opened.body_text
    effective = next(r for r in rows if r.notice == "amendment_effective")
    assert "it took effect on Monday, June 10, 2019" in effective.body_text
    assert "18-month target from 60 to 55" in effective.body_text
    assert "_" not in effective.body_text.replace("\n", " ").split("What it changes")[1][:200]


# --- measurements across versions ----------------------------------------------------------------


def test_a_benchmark_only_in_a_draft_cannot_be_measured_until_in_force(seeded: Pal) -> None:
    """A benchmark added to a draft is not part of the terms in force: measuring it is refused
    (exit 2) until the amendment takes effect, then accepted."""
    agreement, _ = planned(seeded)
    number = amend(seeded, agreement)
    added = int(ok(seeded, "benchmark", "add", agreement, "--amendment", number, "--school",
                   "HS1", "--kind", "on_track", "--baseline", "20", "--target-18", "25",
                   "--target-36", "30", "--on", AMENDED_ON, "--by", LIAISON).strip())  # fmt: skip

    refused(seeded, 2, "benchmark", "measure", added, "--value", "22", "--on", "2019-06-05",
            "--by", LIAISON, mentions=f"has no benchmark {added}")  # fmt: skip

    sign_amendment(seeded, agreement, number, TRAD_PARTIES, on="2019-06-10")
    measure(seeded, added, "22", on="2019-06-11")


def test_amended_consequences_are_the_ones_escalation_may_choose(seeded: Pal) -> None:
    """The consequences in force are the amended ones: an escalation to one the amendment
    dropped is refused (exit 2)."""
    agreement, _ = planned(seeded)
    number = amend(seeded, agreement, "consequences narrowed")
    ok(seeded, "agreement", "consequences", agreement, "reconstitution", "--amendment", number,
       "--on", AMENDED_ON, "--by", LIAISON)  # fmt: skip
    sign_amendment(seeded, agreement, number, TRAD_PARTIES, on="2019-06-10")

    refused(seeded, 2, "agreement", "fire", agreement, "escalate", "--set", "option=closure",
            "--note", "x", "--by", "state.superintendent@mde.example", mentions="closure")
    assert show(seeded, agreement)["consequences"] == ["reconstitution"]


# --- bad input: one `error:` line, the documented exit code, nothing changed ---------------------


def test_an_amendment_needs_a_signed_plan_a_note_and_a_liaison_or_director(seeded: Pal) -> None:
    """Amending before the plan is signed is exit 3, without --note exit 2, by a superintendent
    exit 4, an unknown agreement exit 2; nothing changes."""
    add_school(seeded, "HS1", high_school=True)
    planning = identify(seeded, TRAD, "--schools", "HS1")
    start_assessment(seeded, planning)
    refused(seeded, 3, "agreement", "amend", planning, "--note", "x", "--by", LIAISON,
            mentions="not allowed in state needs_assessment")  # fmt: skip
    sign(seeded, planning, TRAD_PARTIES, on=SIGNED_ON)
    refused(seeded, 2, "agreement", "amend", planning, "--by", LIAISON, mentions="--note")
    refused(seeded, 2, "agreement", "amend", planning, "--note", " ", "--by", LIAISON,
            mentions="note")  # fmt: skip
    refused(seeded, 4, "agreement", "amend", planning, "--note", "x",
            "--by", person(TRAD, "superintendent"), mentions="may not amend")  # fmt: skip
    refused(seeded, 2, "agreement", "amend", 99, "--note", "x", "--by", LIAISON,
            mentions="no agreement 99")  # fmt: skip
    refused(seeded, 2, "agreement", "amend", planning, "--note", "x", "--on", "2018-04-01",
            "--by", LIAISON, mentions="before the agreement's previous event")  # fmt: skip


def test_a_second_amendment_waits_for_the_first_to_be_signed(seeded: Pal) -> None:
    """Only one amendment is open at a time: a second is exit 3 until the first is in force."""
    agreement, _ = planned(seeded)
    number = amend(seeded, agreement)

    refused(seeded, 3, "agreement", "amend", agreement, "--note", "another", "--by", LIAISON,
            mentions=f"amendment {number} is still open")  # fmt: skip

    sign_amendment(seeded, agreement, number, TRAD_PARTIES, on="2019-06-10")
    assert amend(seeded, agreement, "another", on="2019-06-11") == number + 1


def test_changing_a_draft_refuses_what_it_cannot_do(seeded: Pal) -> None:
    """Each draft command refuses an unknown amendment (2), amendment 0 or one in force (3), an
    unknown benchmark or a malformed value (2), a second benchmark of a kind (3), a target
    behind its baseline (2), nothing to change (2), a traditional district's consequences
    without reconstitution (2); nothing changes."""
    agreement, ids = planned(seeded)
    grad = ids["grad"]
    edit = ("benchmark", "edit", grad, "--on", AMENDED_ON, "--by", LIAISON)
    refused(seeded, 2, *edit, "--amendment", 1, "--target-18", "55",
            mentions=f"agreement {agreement} has no amendment 1")  # fmt: skip
    number = amend(seeded, agreement)
    refused(seeded, 3, *edit, "--amendment", 0, "--target-18", "55", mentions="amendment 0")
    refused(seeded, 2, *edit, "--amendment", "one", "--target-18", "55",
            mentions="not an amendment number")  # fmt: skip
    refused(seeded, 2, *edit, "--amendment", "-1", "--target-18", "55")
    refused(seeded, 2, *edit, "--amendment", number, mentions="nothing to change")
    refused(seeded, 2, *edit, "--amendment", number, "--target-18", "40", mentions="behind")
    refused(seeded, 2, *edit, "--amendment", number, "--target-18", "many", mentions="number")
    refused(seeded, 2, *edit, "--amendment", number, "--label", "x", mentions="only a local")
    refused(seeded, 2, "benchmark", "edit", 999, "--amendment", number, "--target-18", "55",
            "--by", LIAISON, mentions="no benchmark 999")  # fmt: skip
    refused(seeded, 3, "benchmark", "add", agreement, "--amendment", number, "--school", "HS1",
            "--kind", "graduation_rate", "--baseline", "1", "--target-18", "2", "--target-36",
            "3", "--on", AMENDED_ON, "--by", LIAISON, mentions="already has")  # fmt: skip
    refused(seeded, 2, "benchmark", "add", agreement, "--amendment", number, "--school", "XX",
            "--kind", "on_track", "--baseline", "1", "--target-18", "2", "--target-36", "3",
            "--on", AMENDED_ON, "--by", LIAISON, mentions="XX")  # fmt: skip
    refused(seeded, 2, "agreement", "consequences", agreement, "closure", "--amendment", number,
            "--on", AMENDED_ON, "--by", LIAISON, mentions="must include reconstitution")
    refused(seeded, 2, "agreement", "consequences", agreement, "reconstitution,moving",
            "--amendment", number, "--on", AMENDED_ON, "--by", LIAISON, mentions="moving")
    ok(seeded, "benchmark", "remove", grad, "--amendment", number, "--on", AMENDED_ON,
       "--by", LIAISON)  # fmt: skip
    refused(seeded, 2, "benchmark", "remove", grad, "--amendment", number, "--on", AMENDED_ON,
            "--by", LIAISON, mentions=f"amendment {number} of agreement {agreement} has no "
            f"benchmark {grad}")  # fmt: skip
    sign_amendment(seeded, agreement, number, TRAD_PARTIES, on="2019-06-10")
    refused(seeded, 3, "benchmark", "edit", ids["attendance"], "--amendment", number,
            "--target-18", "86", "--by", LIAISON, mentions=f"amendment {number} is in force")


def test_signing_an_amendment_refuses_what_it_cannot_do(seeded: Pal) -> None:
    """Signing refuses an unknown amendment (2), an unknown party or the authorizer of a
    traditional district (2), a party that already signed (3), one in force (3), a signature
    recorded by a role that may not, or putting one in force by hand (4: only `system` does);
    and a draft signed once can no longer change (3)."""
    agreement, ids = planned(seeded)
    sign_cmd = ("agreement", "sign", agreement, "--on", AMENDED_ON, "--by", LIAISON)
    refused(seeded, 2, *sign_cmd, "--party", "board", "--amendment", 1,
            mentions="has no amendment 1")  # fmt: skip
    number = amend(seeded, agreement)
    refused(seeded, 2, *sign_cmd, "--party", "mayor", "--amendment", number, mentions="mayor")
    refused(seeded, 2, *sign_cmd, "--party", "authorizer", "--amendment", number,
            mentions="not a PSA")  # fmt: skip
    refused(seeded, 4, "agreement", "sign", agreement, "--party", "board", "--amendment", number,
            "--by", person(TRAD, "board_president"), mentions="may not")  # fmt: skip
    ok(seeded, *sign_cmd, "--party", "board", "--amendment", number)
    refused(seeded, 3, *sign_cmd, "--party", "board", "--amendment", number,
            mentions=f"board already signed amendment {number}")  # fmt: skip
    refused(seeded, 3, "benchmark", "edit", ids["grad"], "--amendment", number, "--target-18",
            "55", "--on", AMENDED_ON, "--by", LIAISON, mentions="has been signed")  # fmt: skip
    sign_amendment(seeded, agreement, number, ("superintendent", "mde"), on=AMENDED_ON)
    refused(seeded, 3, *sign_cmd, "--party", "mde", "--amendment", number,
            mentions="is in force")  # fmt: skip
    refused(seeded, 4, "agreement", "fire", agreement, "amendment_in_force", "--by", DIRECTOR,
            mentions="may not")  # fmt: skip


def test_showing_an_unknown_version_is_exit_2(seeded: Pal) -> None:
    """`show --amendment N` of a version that does not exist, or not a number, is exit 2."""
    agreement, _ = planned(seeded)
    refused(seeded, 2, "agreement", "show", agreement, "--amendment", 1, mentions="no amendment 1")
    amend(seeded, agreement)
    refused(seeded, 2, "agreement", "show", agreement, "--amendment", 2, mentions="no amendment 2")
    refused(seeded, 2, "agreement", "show", agreement, "--amendment", "x")
    refused(seeded, 2, "agreement", "show", 99, "--amendment", 0, mentions="no agreement 99")
