"""The words of the notices: labels only, no engine term or command for a district, each step
of a ladder distinct, and whom to contact (see docs/design.md, "Words people read")."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import TRAD, Pal, identify, start_assessment
from notice_samples import (
    LIAISON,
    OFFICE,
    ROLES,
    SCHOOLS,
    STAFF,
    as_rendered,
    demo_messages,
    demo_roles,
    engine_terms,
    every_notice,
    forbidden_words,
    person,
    rendered,
    staff_lines,
    values,
)
from service_support import PLAN_DUE, local, outbox, tick

from notifications.render import Rendered, render_once


def test_the_forbidden_words_are_built_from_the_process_definitions() -> None:
    """The scan looks for every engine name that is not a plain English word: the state `rga`,
    the party `mde`, every snake_case event, deadline, step and notice name."""
    words = forbidden_words()
    assert {"rga", "mde", "needs_assessment", "open_review_36", "plan_due", "isd_intervention",
            "self_assessment", "plan_reminder"} <= words  # fmt: skip
    assert "sign" not in words and "board" not in words


@pytest.mark.parametrize("notice", every_notice())
@pytest.mark.parametrize("role", ROLES)
def test_no_notice_carries_an_engine_term_a_backtick_or_a_command(notice: str, role: str) -> None:
    """Each notice, rendered for a person of each role, names no engine term, snake_case word,
    backtick or command in its subject or either body, outside the one line for PAL staff."""
    message = rendered(notice, role)

    assert engine_terms(message) == []


@pytest.mark.parametrize("notice", every_notice())
@pytest.mark.parametrize("role", ROLES)
def test_only_staff_get_the_one_line_for_pal_staff(notice: str, role: str) -> None:
    """The liaison, the director and the State Superintendent get at most one "For PAL staff:"
    line (the same in both bodies); nobody else gets one."""
    text, html = staff_lines(rendered(notice, role))

    if role in STAFF:
        assert len(text) == len(html) <= 1
    else:
        assert text == html == []


@pytest.mark.parametrize("notice", every_notice())
def test_the_liaison_is_named_as_the_contact_to_everyone_but_the_liaison(notice: str) -> None:
    """Everyone else is given the liaison's name, email and phone and the office's phone and
    web address; the liaison is not told to contact themselves."""
    for role in ROLES:
        message = rendered(notice, role)
        for body in (message.text, message.html):
            assert OFFICE.phone in body and OFFICE.web in body
            told = "Your partnership liaison" in body
            assert told is (role != "liaison"), (role, body)
            if told:
                assert LIAISON.name in body and LIAISON.email in body and LIAISON.phone in body


@pytest.mark.parametrize("notice", every_notice())
def test_every_notice_names_the_schools_of_the_plan(notice: str) -> None:
    """The schools the plan covers are named in both bodies of every notice."""
    message = rendered(notice, "superintendent")
    for school in SCHOOLS:
        assert school.name in message.text and school.name in message.html


@pytest.mark.parametrize("notice", every_notice())
def test_the_html_is_a_complete_document_with_its_subject_as_title_and_heading(
    notice: str,
) -> None:
    """`<head>` with a charset, a viewport and the subject as `<title>`; the subject as `<h1>`;
    a column of at most 600 px; the deadline in a box of its own."""
    message = rendered(notice, "superintendent")
    html = message.html
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in html and 'name="viewport"' in html
    escaped = message.subject.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&#34;")
    assert f"<title>{escaped}</title>" in html
    assert f">{escaped}</h1>" in html
    assert "max-width:600px" in html
    assert "Due Monday, March 2, 2020" in html and "Due Monday, March 2, 2020" in message.text


@pytest.mark.parametrize(
    ("notice", "offsets"),
    [
        ("plan_reminder", (-30, -14, -7, -1)),
        ("plan_overdue", (1, 8, 15, 22)),
        ("plan_overdue_accountability", (30,)),
        ("rga_reminder", (-90, -30)),
        ("review_step_reminder", (-7, -1)),
        ("review_step_overdue", (1, 8)),
    ],
)
def test_the_subjects_along_a_ladder_are_distinct_and_carry_the_countdown(
    notice: str, offsets: tuple[int, ...]
) -> None:
    """Each step of a ladder (offsets from the due date) has its own subject, carrying the days
    left ("due in 7 days", "due tomorrow") or the days overdue ("8 days overdue")."""
    subjects = [rendered(notice, "superintendent", -offset).subject for offset in offsets]

    assert len(set(subjects)) == len(subjects), subjects
    for offset, subject in zip(offsets, subjects, strict=True):
        if offset == -1:
            assert "due tomorrow" in subject
        elif offset < 0:
            assert f"due in {-offset} days" in subject
        else:
            assert f"{offset} day{'s' if offset > 1 else ''} overdue" in subject


def _what_to_do(message: Rendered) -> str:
    return next(line for line in message.text.splitlines() if line.startswith("What to do:"))


def test_the_plan_reminders_change_their_words_as_the_due_date_nears() -> None:
    """30 days out: plan ahead; 14 and 7 days: finish and collect; 1 day: the final reminder;
    each step's "What to do" differs, and names the signatures still missing."""
    messages = {offset: rendered("plan_reminder", "superintendent", offset)
                for offset in (30, 14, 7, 1)}  # fmt: skip

    assert messages[30].subject.startswith("Plan ahead:")
    assert "Plan ahead" in _what_to_do(messages[30])
    assert messages[1].subject.startswith("Final reminder:")
    assert "final reminder" in _what_to_do(messages[1])
    assert len({_what_to_do(m) for m in messages.values()}) == 4
    for message in messages.values():
        assert "Signatures still needed: Board of Education and Authorizer." in message.text
        assert "2 signatures missing" in message.subject


def test_the_overdue_notices_change_their_words_with_the_days_overdue() -> None:
    """+1: due yesterday; +8 and +15: follow up; +22: three weeks, the State Superintendent next."""
    texts = {o: _what_to_do(rendered("plan_overdue", "liaison", -o)) for o in (1, 8, 15, 22)}

    assert "due yesterday" in texts[1]
    assert "three weeks" in texts[22] and "State Superintendent" in texts[22]
    assert len({texts[1], texts[8], texts[22]}) == 3


def test_a_recipient_dependent_subject_still_heads_each_recipients_html() -> None:
    """The bodies are given the subject; rendering once for many recipients gives each one's
    HTML title the same subject its own plain render gives."""
    addressable = render_once("plan_reminder", values(7))
    for role in ROLES:
        message = addressable.to(person(role))
        assert f"<title>{message.subject}</title>" in message.html


# --- the demo, read as a superintendent would ----------------------------------------------------


def test_no_message_of_the_demo_carries_an_engine_term(demo: Path) -> None:
    """Every message the demo sends (thousands, every notice) is free of engine terms,
    backticks and commands; only staff get a "For PAL staff:" line."""
    roles = demo_roles(demo)
    count = 0
    for name, message in demo_messages(demo):
        body = as_rendered(message)
        assert engine_terms(body) == [], (name, body.subject)
        address = message["To"].addresses[0].addr_spec
        if not roles[address] & STAFF:
            assert staff_lines(body) == ([], []), (name, address)
        count += 1
    assert count > 1000


# --- the countdown counts from the day the notice is made -------------------------------------


def test_a_reminder_made_late_counts_the_days_really_left(seeded: Pal) -> None:
    """The 7-day plan reminder, made two days late (the service was down), says "due in 5
    days": the countdown is from the day the notice is made, not the step's nominal offset."""
    agreement = identify(seeded, TRAD)
    start_assessment(seeded, agreement)
    tick(seeded, local(PLAN_DUE, offset_days=-5))

    rows = [r for r in outbox(seeded) if r["notice"] == "plan_reminder"]
    assert rows, "the reminder was made"
    assert {row["subject"] for row in rows} == {
        "Due soon: partnership plan for TRAD Public Schools due in 5 days (May 30, 2018), "
        "3 signatures missing"
    }
    shown = seeded("outbox", "show", str(rows[0]["id"]), "--json").json()
    assert "due on Wednesday, May 30, 2018, in 5 days." in shown["text"]
