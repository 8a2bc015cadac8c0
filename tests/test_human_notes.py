"""The notes pal writes into the audit trail on its own name the people and deadlines in their
own words, not the engine's (the trail is shown to staff: `pal agreement show`, the dashboard)."""

from __future__ import annotations

from datetime import date

from helpers import TRAD_PARTIES, Pal, show, signed_agreement, signed_off_track
from service_support import RGA_DUE, local, tick
from test_amendments import amend, planned, sign_amendment


def notes(pal: Pal, agreement: int, event: str) -> list[str]:
    return [h["note"] for h in show(pal, agreement)["history"] if h["event"] == event]


def test_the_last_signature_names_the_party_by_its_label(seeded: Pal) -> None:
    """The note of the plan's last signature names the party as people call it."""
    agreement = signed_agreement(seeded)
    assert TRAD_PARTIES[-1] == "mde"
    assert notes(seeded, agreement, "sign") == [
        "all required signatures recorded (last: Michigan Department of Education, recorded by "
        "liaison@mde.example)"
    ]


def test_an_amendment_s_last_signature_names_the_party_by_its_label(seeded: Pal) -> None:
    """The note of an amendment's last signature names the party as people call it."""
    agreement, _ = planned(seeded)
    number = amend(seeded, agreement)
    sign_amendment(seeded, agreement, number, TRAD_PARTIES, on="2019-06-10")
    (note,) = notes(seeded, agreement, "amendment_in_force")
    assert "(last: Michigan Department of Education, recorded by " in note


def test_a_timed_step_s_note_names_its_deadline_by_its_label(seeded: Pal) -> None:
    """The sweep that opens the RGA notes the deadline reached by its label and due date."""
    agreement, _ = signed_off_track(seeded, "L1")
    tick(seeded, local(date(2019, 11, 1)))
    (note,) = notes(seeded, agreement, "open_rga")
    assert note == "18-month Review of Goal Attainment due (due 2019-11-01)"


def test_a_timed_step_is_reported_by_tick_in_words(seeded: Pal) -> None:
    """`pal tick` reports the step pal took on its own by the step's and the stage's labels, and
    names the case as people do."""
    agreement = signed_agreement(seeded)
    result = tick(seeded, local(RGA_DUE))
    assert (
        f"  partnership agreement {agreement}: open the 18-month Review of Goal Attainment; now at "
        "18-month Review of Goal Attainment"
    ) in result.stdout.splitlines()
    assert "open_rga" not in result.stdout and " -> " not in result.stdout


def test_a_case_is_named_without_its_article() -> None:
    """A case of any process is named by its process's label without `a`/`an`, then its id."""
    from states.registry import process

    names = [process(name).case_words(3) for name in ("agreement", "action_item", "meeting")]
    assert names == ["partnership agreement 3", "action item 3", "meeting 3"]
