"""The notes pal writes into the audit trail on its own name the people and deadlines in their
own words, not the engine's (the trail is shown to staff: `pal agreement show`, the dashboard)."""

from __future__ import annotations

from datetime import date

from helpers import TRAD_PARTIES, Pal, show, signed_agreement, signed_off_track
from service_support import local, tick
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
