"""`pal notice list` tells each notice, when it goes out and to whom, from rule data; `pal notice
preview` shows any notice as pal would send it, for a real agreement or a sample, and changes
nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers import (
    DIRECTOR,
    LIAISON,
    TRAD,
    Pal,
    assert_error,
    identify,
    ok,
    person,
    snapshot,
    start_assessment,
    with_bodies,
)

from config.rules import load_rules
from workflow.notices import notice_list

# An engine name: snake_case, which the human list shows only as what `preview` takes.
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def sent_notices() -> set[str]:
    """Every notice of the rule data: the agreement's and each other process's (a request's)."""
    found: set[str] = set()
    shipped = load_rules("2017-10")
    for rules in (shipped, *shipped.processes.values()):
        found |= {
            *(step.notice for step in rules.timers if step.notice),
            *(step.otherwise_notice for step in rules.timers if step.otherwise_notice),
            *(item.notice for item in rules.transition_notices),
        }
    return found


# --- list --------------------------------------------------------------------------------------


def test_the_list_names_every_notice_the_rules_send_with_when_and_to_whom(seeded: Pal) -> None:
    """`--json`: one entry per notice of the rule data, each occasion in words with the labels
    of the people it goes to."""
    rows = json.loads(ok(seeded, "notice", "list", "--json"))
    assert {row["notice"] for row in rows} == sent_notices()
    reminder = next(row for row in rows if row["notice"] == "plan_reminder")
    assert reminder["label"] == "Partnership plan due soon"
    [occasion] = reminder["occasions"]
    assert occasion["when"] == (
        "30, 14, 7 and 1 days before the signed partnership plan is due (on a business day)"
    )
    assert "the ISD superintendent" in occasion["to"]
    overdue = next(row for row in rows if row["notice"] == "plan_overdue")
    assert overdue["occasions"][0]["when"].startswith("1, 8, 15 and 22 days after")


def test_the_human_list_uses_words_and_names_a_notice_only_as_the_preview_to_type(
    seeded: Pal,
) -> None:
    """Labels and words throughout; the engine's name of a notice appears only in the
    `preview:` line that says what to type."""
    out = ok(seeded, "notice", "list")
    assert "Identified for partnership\n" in out
    assert "  preview: pal notice preview identified\n" in out
    words = "\n".join(line for line in out.splitlines() if "preview:" not in line)
    assert SNAKE.findall(words) == []


def test_the_list_follows_the_rule_data() -> None:
    """Built from the RuleSet: a version without business days does not say so."""
    rules = load_rules("2017-10")
    plain = type(rules)(**{**rules.__dict__, "business_days": False})
    [row] = [r for r in notice_list(plain) if r["notice"] == "plan_reminder"]
    assert "business day" not in row["occasions"][0]["when"]


# --- preview with sample data -------------------------------------------------------------------


def test_a_sample_preview_prints_subject_to_and_text(seeded: Pal) -> None:
    """Without --agreement: the notice the engine sends for a fictional district, to its first
    recipient, and nothing written to the configured database."""
    before = snapshot(seeded.db_url)
    out = ok(seeded, "notice", "preview", "plan_reminder")
    assert out.startswith("Partnership plan due soon, with sample data\n")
    assert "\nSubject: Plan ahead: partnership plan for Riverbend Academy due in 30 days" in out
    assert "\nTo: Renée Superintendent <superintendent@riverbend.example>\n" in out
    assert "is due on Sunday, June 1, 2025, in 30 days" in out
    assert snapshot(seeded.db_url) == before


def test_a_sample_preview_for_another_recipient_and_the_html_to_a_file(
    seeded: Pal, tmp_path: Path
) -> None:
    """--to picks the recipient; --html writes the HTML body, the same notice."""
    page = tmp_path / "escalated.html"
    out = ok(seeded, "notice", "preview", "escalated", "--to", "LEE.liaison@mde.example",
             "--html", str(page))  # fmt: skip
    assert "\nTo: Lee Liaison <lee.liaison@mde.example>\n" in out
    html = page.read_text(encoding="utf-8")
    assert "Riverbend Academy" in html
    assert "<" in html


def test_every_notice_the_rules_send_has_a_sample(seeded: Pal) -> None:
    """The sample walk reaches every notice of the shipped rules (the outcomes included)."""
    for notice in sorted(sent_notices()):
        out = ok(seeded, "notice", "preview", notice)
        assert "\nSubject: " in out, notice


# --- preview with live data ---------------------------------------------------------------------


def test_a_live_preview_is_what_pal_sent(seeded: Pal) -> None:
    """For a real agreement, the identification's preview for the ISD superintendent is word
    for word the message pal queued for them when the district was identified."""
    agreement = identify(seeded, TRAD)
    isd = person(TRAD, "isd_superintendent")
    [sent] = with_bodies(
        seeded.db_url,
        "SELECT id, subject FROM outbox WHERE notice = 'identified' AND recipient = :to",
        to=isd,
    )
    before = snapshot(seeded.db_url)
    out = ok(seeded, "notice", "preview", "identified", "--agreement", agreement, "--to", isd)
    assert out.startswith("Identified for partnership, with the agreement as it stands\n")
    assert f"\nSubject: {sent.subject}\n" in out
    assert out.endswith(sent.body_text.replace("\r\n", "\n") + "\n")
    assert snapshot(seeded.db_url) == before


def test_a_live_reminder_previews_the_open_deadline(seeded: Pal, tmp_path: Path) -> None:
    """The plan reminder of an agreement in its needs assessment, for the liaison: its due
    date, and the HTML body written."""
    agreement = identify(seeded, TRAD)
    start_assessment(seeded, agreement)
    page = tmp_path / "reminder.html"
    out = ok(seeded, "notice", "preview", "plan_reminder", "--agreement", agreement,
             "--to", LIAISON, "--html", str(page))  # fmt: skip
    assert f"\nTo: Liaison <{LIAISON}>\n" in out
    assert "May 30, 2018" in out  # identified 2018-03-01 + 90 days
    assert "May 30, 2018" in page.read_text(encoding="utf-8")


# --- refusals ------------------------------------------------------------------------------------


def test_an_unknown_notice_is_refused_with_exit_2(seeded: Pal) -> None:
    """One line naming the known notices; nothing changed."""
    before = snapshot(seeded.db_url)
    assert_error(seeded("notice", "preview", "plan_remindr"), 2, mentions="plan_reminder")
    assert snapshot(seeded.db_url) == before


def test_an_unknown_agreement_is_refused_with_exit_2(seeded: Pal) -> None:
    before = snapshot(seeded.db_url)
    assert_error(seeded("notice", "preview", "identified", "--agreement", "99"), 2,
                 mentions="no agreement 99")  # fmt: skip
    assert snapshot(seeded.db_url) == before


def test_a_recipient_who_does_not_receive_the_notice_is_refused_with_exit_2(
    seeded: Pal,
) -> None:
    """The director is not told of an identification: refused, naming who is."""
    agreement = identify(seeded, TRAD)
    before = snapshot(seeded.db_url)
    result = seeded("notice", "preview", "identified", "--agreement", agreement, "--to", DIRECTOR)
    assert_error(result, 2, mentions=f"{DIRECTOR} does not receive Identified for partnership")
    assert person(TRAD, "superintendent") in result.stderr
    assert_error(seeded("notice", "preview", "identified", "--to", DIRECTOR), 2)
    assert snapshot(seeded.db_url) == before


def test_a_reminder_of_a_deadline_the_agreement_does_not_have_open_is_refused_with_exit_3(
    seeded: Pal,
) -> None:
    """An agreement not yet signed has no 18-month review to remind of: exit 3, pointing to the
    sample."""
    agreement = identify(seeded, TRAD)
    result = seeded("notice", "preview", "rga_reminder", "--agreement", agreement)
    assert_error(result, 3, mentions="preview without --agreement for a sample")
