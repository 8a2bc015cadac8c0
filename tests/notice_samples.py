"""Sample values for every packaged notice, and the words no notice may carry.

Shared by the tests of the notices' words and of their HTML in a browser: each notice is
rendered as the outbox renders it (`render_once(...).to(person)`) for a person of each role.
"""

from __future__ import annotations

import email
import email.policy
import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from config.rules import load_rules
from notifications.render import Rendered, notice_names, render_once
from notifications.reviews import ReviewFacts, SchoolFacts, StepFacts
from notifications.schools import PlanSchools, School
from states.labels import (
    BENCHMARK_KIND_LABELS,
    CONSEQUENCE_LABELS,
    PARTY_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    STEP_LABELS,
)
from states.registry import PROCESSES

# Every role a notice may be addressed to (rule data `to` lists, resolved to people).
ROLES = (
    "superintendent",
    "board_president",
    "authorizer",
    "isd_superintendent",
    "partner",
    "liaison",
    "director",
    "state_superintendent",
)
STAFF = frozenset({"liaison", "director", "state_superintendent"})

DISTRICT = SimpleNamespace(
    code="82010", name="Lakeview Public School Academy", psa=True, authorizer="Bay Mills College"
)
AGREEMENT = SimpleNamespace(
    id=12,
    cohort="2018-03",
    state="rga",
    escalation_option="isd_intervention,increased_supports",
    identified_on=date(2018, 3, 1),
    signed_on=date(2018, 5, 3),
)
LIAISON = SimpleNamespace(
    name="Lee Liaison", email="lee.liaison@mde.example", phone="517-555-0101", role="liaison"
)
OFFICE = SimpleNamespace(phone="517-555-0100", web="https://www.mde.example/partnership")
SCHOOLS = PlanSchools.of(
    [School("82010-01", "Lakeview Elementary"), School("82010-02", "Lakeview High School")]
)
TODAY = date(2020, 2, 1)


def deadline(days_left: int, label: str = "the signed partnership plan") -> SimpleNamespace:
    return SimpleNamespace(
        kind="plan_due", label=label, due_on=date(2020, 3, 2), days_left=days_left
    )


def _review() -> ReviewFacts:
    steps = tuple(
        StepFacts(label, date(2020, 3, 2), date(2020, 2, 20) if i == 0 else None,
                  "Lee Liaison" if i == 0 else None)
        for i, label in enumerate(STEP_LABELS.values())
    )  # fmt: skip
    schools = (
        SchoolFacts("82010-01", "Lakeview Elementary", "On-Track", "On-Track", None, False, 0),
        SchoolFacts("82010-02", "Lakeview High School", "Off-Track with Progress",
                    "Off-Track with Limited Progress", "attendance measured late", True, 1),
    )  # fmt: skip
    return ReviewFacts(
        label="18-month Review of Goal Attainment",
        opened_on=date(2020, 1, 2),
        steps=steps,
        last=steps[0],
        next=steps[1],
        next_due=date(2020, 3, 2),
        next_due_for="district self-assessment",
        determination_due=date(2020, 4, 1),
        determined_on=date(2020, 3, 30),
        determined_by="Dana Director",
        schools=schools,
        outcome_follows=True,
    )


def values(days_left: int = 7) -> dict[str, Any]:
    """Values every notice can be rendered with (as the outbox gives them), `days_left` from
    the day the notice is made to its deadline."""
    return {
        "agreement": AGREEMENT,
        "district": DISTRICT,
        "liaison": LIAISON,
        "deadline": deadline(days_left),
        "missing_parties": ["Board of Education", "Authorizer"],
        "plan_schools": SCHOOLS,
        "office": OFFICE,
        "event_day": date(2020, 1, 2),
        "note": "the board asked for more time",
        "review": _review(),
        "review_name": "18-month Review of Goal Attainment",
        "due_step": "evidence submission and benchmark assessment",
        "due_step_key": "evidence",
        "open_deadlines": [deadline(30, "the 24-month review")],
        "renewed_from": 7,
        "named": {"former_liaison": SimpleNamespace(name="Kim Liaison", email="kim@mde.example")},
        "correction": SimpleNamespace(
            event_label="sign the plan",
            was=date(2018, 5, 3),
            now=date(2018, 5, 1),
            moved=[
                SimpleNamespace(
                    label="the 18-month Review of Goal Attainment",
                    now=date(2019, 11, 1),
                    was=date(2019, 11, 3),
                )
            ],
        ),
        "amendment": SimpleNamespace(
            number=1,
            note="a new attendance benchmark",
            opened_on=date(2019, 1, 2),
            in_force_on=date(2019, 2, 1),
            changes=["attendance rate at Lakeview Elementary added"],
        ),
        "action": "open_review_24",
        "action_label": "open the 24-month review",
        "reason": "the agreement is at the stage “18-month Review of Goal Attainment”",
        "waits": True,
        # The meeting a meeting's notice is about (workflow.case_tables).
        "meeting": SimpleNamespace(
            label="high-need district meeting",
            when="Tuesday, March 10, 2020 at 10:00 a.m. Eastern Time",
            day=date(2020, 3, 10),
            place="Room 3, Lansing",
            agenda="Attendance; the reading plan",
            reason="the superintendent is ill",
        ),
        # The case of another process a notice is about (CaseStore.notice_facts).
        "case": SimpleNamespace(
            about="the request of $125,000.00 for fiscal year 2025-26",
            year="2025-26",
            total="$125,000.00",
            activities=[
                SimpleNamespace(label="Professional development for teachers",
                                amount="$100,000.00"),
                SimpleNamespace(label="Teacher mentors", amount="$25,000.00"),
            ],
        ),
    }


def person(role: str) -> SimpleNamespace:
    if role == "liaison":
        return LIAISON
    name = ROLE_LABELS[role].removeprefix("the ").title()
    return SimpleNamespace(name=f"Jo {name}", email=f"{role}@lakeview.example", role=role)


def rendered(notice: str, role: str, days_left: int = 7) -> Rendered:
    return render_once(notice, values(days_left)).to(person(role))


def every_notice() -> list[str]:
    return notice_names()


# --- what no district may read ---------------------------------------------------------------

# Engine names that are also plain English words, used as such in the notices' sentences.
ORDINARY_WORDS = frozenset({
    "identified", "signed", "implementing", "exited", "renewed", "identify", "sign", "exit",
    "renew", "escalate", "determine", "amend", "board", "superintendent", "authorizer",
    "liaison", "director", "partner", "evidence", "conference", "closure", "reconstitution",
    "local", "higher", "lower", "system",
    # States of a Section 21(h) fund request.
    "draft", "submitted", "approved", "returned", "denied", "funded",
    # The states of a meeting and of an action item, and the people a notice of them goes to.
    "scheduled", "held", "cancelled", "open", "done", "dropped", "owner", "attendees",
})  # fmt: skip


def engine_names() -> set[str]:
    """Every name the process definitions and the released rule data give a state, event,
    deadline, step, party, option, status, role or benchmark kind."""
    names: set[str] = set()
    for definition in PROCESSES.values():
        names |= set(definition.states) | {e.name for e in definition.events}
        names |= set(definition.deadline_labels) | set(definition.steps)
        names |= set(definition.steps.values())
    rules = load_rules("2017-10")
    names |= {t.notice for t in rules.timers if t.notice} | set(rules.accountability_options)
    for labels in (PARTY_LABELS, CONSEQUENCE_LABELS, STEP_LABELS, STATUS_LABELS, ROLE_LABELS,
                   BENCHMARK_KIND_LABELS):  # fmt: skip
        names |= set(labels)
    names |= set(notice_names())
    return names


def forbidden_words() -> set[str]:
    return {name for name in engine_names() if name not in ORDINARY_WORDS}


_STAFF_LINE = re.compile(r"^For PAL staff:.*$", re.MULTILINE)
_STAFF_PARAGRAPH = re.compile(r"<p[^>]*>For PAL staff:.*?</p>", re.DOTALL)
_ADDRESS = re.compile(r"(?:https?://\S+|[\w.+-]+@[\w.-]+)")
_TAG = re.compile(r"<[^>]+>")
_SNAKE = re.compile(r"\b[A-Za-z0-9]+_[A-Za-z0-9_]+\b")
_COMMAND = re.compile(r"\bpal [a-z]+|--[a-z]")


def staff_lines(message: Rendered) -> tuple[list[str], list[str]]:
    return _STAFF_LINE.findall(message.text), _STAFF_PARAGRAPH.findall(message.html)


def engine_terms(message: Rendered) -> list[str]:
    """The engine terms, backticks and commands a reader would find in the subject and both
    bodies, the one "For PAL staff:" line left out (and addresses, whose parts are no words)."""
    html = _STAFF_PARAGRAPH.sub("", message.html)
    parts = [message.subject, _STAFF_LINE.sub("", message.text), html, _TAG.sub(" ", html)]
    found: list[str] = []
    forbidden = forbidden_words()
    for part in parts:
        found += ["`"] * part.count("`")
        words = _ADDRESS.sub(" ", part)
        found += _SNAKE.findall(words) + _COMMAND.findall(words)
        found += [w for w in re.findall(r"[A-Za-z0-9_]+", words) if w in forbidden]
    return found


# --- the demo's mail --------------------------------------------------------------------------


def demo_roles(folder: Path) -> dict[str, set[str]]:
    """Each address of the demo's database with the roles it ever held."""
    roles: dict[str, set[str]] = defaultdict(set)
    with sqlite3.connect(folder / "pal.db") as db:
        for address, role in db.execute("SELECT email, role FROM assignment"):
            roles[address].add(role)
    return roles


def demo_messages(folder: Path) -> Iterator[tuple[str, EmailMessage]]:
    """Each message the demo wrote to its mail folder, with its file's name."""
    for path in sorted((folder / "mail").rglob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        yield path.name, message


def as_rendered(message: EmailMessage) -> Rendered:
    """A sent message's subject and bodies, as the renderer made them."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return Rendered(str(message["Subject"]), text.get_content(), html.get_content())
