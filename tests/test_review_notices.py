"""The notices of the reviews tell the people concerned, in plain words, which review and step,
what to do and by when, each school's status, and the reason for an exit, a renewal or an
escalation; the sweep reminds of each step's deadline and stops once the step is recorded."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace
from typing import Any

import smtp_server as smtp
import sqlalchemy as sa
from helpers import (
    DIRECTOR,
    LIAISON,
    PSA,
    STATE_SUPERINTENDENT,
    TRAD,
    Pal,
    add_benchmark,
    add_school,
    escalate,
    execute,
    fire,
    identify,
    measure,
    ok,
    person,
    record_steps,
    review_done,
    sign,
    start_assessment,
    with_bodies,
)
from service_support import expected, local, mail_log, notice_day, tick

from notifications.render import render

OPENED_ON = "2019-11-01"  # the RGA, opened by the director on its due date
EVIDENCE_DUE = date(2019, 12, 1)  # 30 days after the review opens
CONFERENCE_DUE = date(2019, 12, 31)  # 60 days after
REVIEW_24_DUE = date(2020, 5, 1)  # signed 2018-05-01 + 24 months
REVIEW_24_OPENED_ON = "2020-05-01"
DISTRICT_LEADERS = ("superintendent", "board_president", "isd_superintendent")
OVERRIDE_REASON = "the spring count, sent late, shows the target met"
EXIT_NOTE = "the district met its goals but one school needs another year"
RENEW_NOTE = "a second agreement to finish the work at Oak"
ESCALATE_NOTE = "no progress at either school after 36 months"


def planned(pal: Pal, district: str = TRAD) -> int:
    """An agreement with two schools, each with one benchmark, signed on 2018-05-01."""
    agreement = identify(pal, district)
    start_assessment(pal, agreement)
    for school in (f"{district}-A", f"{district}-B"):
        add_school(pal, school, district)
        add_benchmark(pal, agreement, school, "attendance_rate", 80, 85, 90, on="2018-03-06")
    parties = ("board", "superintendent", "mde", *(("authorizer",) if district == PSA else ()))
    sign(pal, agreement, parties)
    return agreement


def in_rga(pal: Pal, district: str = TRAD) -> int:
    agreement = planned(pal, district)
    fire(pal, agreement, "open_rga", by=DIRECTOR, on=OPENED_ON)
    return agreement


def in_review_36(pal: Pal) -> int:
    """An agreement whose 36-month review is determined: it waits for its outcome."""
    agreement = in_rga(pal)
    review_done(pal, agreement, on="2019-12-15")
    fire(pal, agreement, "open_review_36", by=DIRECTOR, on="2021-05-01")
    review_done(pal, agreement, on="2021-06-15")
    return agreement


def notices(pal: Pal, notice: str, agreement: int | None = None) -> list[Any]:
    """The outbox rows of `notice` (for `agreement`), addressed to someone, oldest first."""
    rows = with_bodies(
        pal.db_url,
        "SELECT id, agreement_id, recipient, subject, occurrence FROM outbox "
        "WHERE notice = :notice AND status != 'unaddressed' ORDER BY id",
        notice=notice,
    )
    return [r for r in rows if agreement is None or r.agreement_id == agreement]


def recipients(rows: list[Any]) -> set[str]:
    return {row.recipient for row in rows}


def district_leaders(district: str = TRAD) -> set[str]:
    return {person(district, role) for role in DISTRICT_LEADERS}


def received(server: smtp.SmtpServer, since: int, *names: str) -> list[tuple[int, str, str]]:
    log = mail_log((item.rcpt_tos, item.message) for item in server.received[since:])
    return [entry for entry in log if entry[1] in names]


def text_of(server: smtp.SmtpServer, since: int, notice: str) -> list[str]:
    found = []
    for item in server.received[since:]:
        if notice in str(item.message["X-PAL-Key"]).replace("\n", "").replace(" ", ""):
            found.append(str(item.message["Subject"]) + "\n" + plain(item.message))
    return found


def plain(message: Any) -> str:
    text: str = message.get_body(("plain",)).get_content()
    return text


# --- review opened ---------------------------------------------------------------------------


def test_the_opened_rga_tells_district_leaders_and_liaison_what_to_submit_and_by_when(
    mailed: Pal,
) -> None:
    """The superintendent, board president, ISD superintendent and liaison learn that the RGA
    opened, that the evidence for each school's benchmarks is due 30 days later, the five
    steps in order and when the determination is due."""
    agreement = in_rga(mailed)

    rows = notices(mailed, "review_opened", agreement)

    assert recipients(rows) == district_leaders() | {LIAISON}
    row = rows[0]
    assert row.subject == "18-month Review of Goal Attainment for TRAD Public Schools has opened"
    assert "evidence for each school's benchmarks" in row.body_text
    assert "by Sunday, December 1, 2019" in row.body_text
    steps = [line.strip() for line in row.body_text.splitlines() if re.match(r"\s+\d\. ", line)]
    assert steps == [
        "1. Evidence submission and benchmark assessment, due by Sunday, December 1, 2019",
        "2. District self-assessment",
        "3. Partner assessment",
        "4. MDE assessment",
        "5. Structured conference, due by Tuesday, December 31, 2019",
    ]
    assert "determines each school's status" in row.body_text
    assert "due by Thursday, January 30, 2020" in row.body_text
    assert "<li>Structured conference, due by Tuesday, December 31, 2019</li>" in row.body_html


def test_a_psa_review_also_tells_the_authorizer(mailed: Pal) -> None:
    """For a public school academy the authorizer is told as well."""
    agreement = in_rga(mailed, PSA)
    rows = notices(mailed, "review_opened", agreement)
    assert recipients(rows) == district_leaders(PSA) | {person(PSA, "authorizer"), LIAISON}


def test_the_24_month_review_lists_only_evidence_and_conference(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """The RGA left a school off track: 60 days before the 24-month review the district's
    leaders, its ISD and the liaison are reminded, and the review the sweep opens lists two
    steps only."""
    agreement = in_rga(mailed)
    review_done(mailed, agreement, on="2019-12-15")  # nothing measured: both off track
    seen = len(smtp_server.received)
    tick(mailed, local(REVIEW_24_DUE, offset_days=-60))
    assert received(smtp_server, seen, "review_24_reminder") == expected(
        agreement, "review_24_reminder", (*district_leaders(), LIAISON)
    )
    [reminder] = text_of(smtp_server, seen, "review_24_reminder")[:1]
    assert "Plan ahead: 24-month review for TRAD Public Schools due in 60 days" in reminder
    assert "Friday, May 1, 2020" in reminder

    tick(mailed, local(REVIEW_24_DUE))

    [row, *_] = [r for r in notices(mailed, "review_opened", agreement) if "24" in r.subject]
    assert row.subject == "24-month review for TRAD Public Schools has opened"
    steps = [line.strip() for line in row.body_text.splitlines() if re.match(r"\s+\d\. ", line)]
    assert steps == [
        "1. Evidence submission and benchmark assessment, due by Sunday, May 31, 2020",
        "2. Structured conference, due by Tuesday, June 30, 2020",
    ]
    assert "self-assessment" not in row.body_text
    assert "18-month targets" in row.body_text


# --- steps and the determination ---------------------------------------------------------------


def test_a_recorded_step_tells_liaison_and_director_what_was_done_and_what_comes_next(
    mailed: Pal,
) -> None:
    """Recording the evidence tells the liaison and director which step, who recorded it and
    when, and that the self-assessment comes next, before the conference due on Dec 31."""
    agreement = in_rga(mailed)

    fire(mailed, agreement, "record_evidence", by=LIAISON, on="2019-11-20")

    rows = notices(mailed, "review_step_recorded", agreement)
    assert recipients(rows) == {LIAISON, DIRECTOR}
    row = rows[0]
    assert row.subject == (
        "Evidence submission and benchmark assessment recorded: "
        "18-month Review of Goal Attainment for TRAD Public Schools"
    )
    assert "recorded by Liaison, done on Wednesday, November 20, 2019" in row.body_text
    assert (
        "What comes next: the district self-assessment; the structured conference is due by "
        "Tuesday, December 31, 2019." in row.body_text
    )


def test_the_last_step_says_the_determination_is_due(mailed: Pal) -> None:
    """Once the conference is recorded, what comes next is the determination, with its date."""
    agreement = in_rga(mailed)
    record_steps(mailed, agreement, on="2019-12-10", by=DIRECTOR)

    last = [r for r in notices(mailed, "review_step_recorded", agreement) if "conference" in
            r.subject]  # fmt: skip
    assert last and "Structured conference recorded" in last[0].subject
    assert "recorded by Director, done on Tuesday, December 10, 2019" in last[0].body_text
    assert "every step is recorded" in last[0].body_text
    assert "due by Thursday, January 30, 2020" in last[0].body_text


def test_the_determination_tells_district_and_liaison_each_schools_status_in_a_table(
    mailed: Pal,
) -> None:
    """The district leaders and the liaison get each school's status; a status the conference
    agreed differently shows both and the reason, a benchmark never measured is flagged, and
    the next review is named."""
    agreement = in_rga(mailed)
    [met, _] = [b for (b,) in execute(mailed.db_url, "SELECT id FROM benchmark ORDER BY id")]
    measure(mailed, agreement, met, 86, "2019-10-15", on="2019-11-05")

    review_done(mailed, agreement, on="2019-12-15", override="TRAD-B=off_track_progress",
                reason=f"TRAD-B={OVERRIDE_REASON}")  # fmt: skip

    rows = notices(mailed, "review_determined", agreement)
    assert recipients(rows) == district_leaders() | {LIAISON}
    row = rows[0]
    assert row.subject == (
        "18-month Review of Goal Attainment for TRAD Public Schools: each school's status"
    )
    text = row.body_text
    assert "determined on Sunday, December 15, 2019 by Director" in text
    assert "TRAD-A School (TRAD-A): On-Track\n" in text
    assert "TRAD-B School (TRAD-B): Off-Track with Progress\n" in text
    assert "by the rules: Off-Track with Limited Progress" in text
    assert f"reason: {OVERRIDE_REASON}" in text
    assert "1 benchmark had no measurement" in text
    assert "the district goes on implementing the plan" in text
    assert "Coming up: the 24-month review, due Friday, May 1, 2020." in text
    html = row.body_html
    assert "<tr><td>TRAD-A School (TRAD-A)</td><td><strong>On-Track</strong></td>" in html
    assert "<td><strong>Off-Track with Progress</strong></td>" in html
    assert OVERRIDE_REASON.replace("'", "&#39;") in html


def test_the_36_month_determination_says_the_outcome_follows(mailed: Pal) -> None:
    """At 36 months the determination leads to an outcome, not back to implementing."""
    agreement = in_review_36(mailed)
    rows = [r for r in notices(mailed, "review_determined", agreement) if "36" in r.subject]
    assert rows and "against each school's 36-month targets" in rows[0].body_text
    assert "decides the outcome of the partnership" in rows[0].body_text
    assert "goes on implementing" not in rows[0].body_text


# --- reminders and overdue notices from the sweep -------------------------------------------------


def test_the_evidence_is_reminded_7_days_before_and_overdue_1_and_8_days_after(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """The sweep reminds the superintendent and liaison 7 days before the evidence is due, and
    tells the liaison and director 1 and 8 days after it when it is still not recorded."""
    agreement = in_rga(mailed)
    leaders = (person(TRAD, "superintendent"), LIAISON)
    staff = (LIAISON, DIRECTOR)
    for offset, notice, to in ((-7, "review_step_reminder", leaders),
                               (1, "review_step_overdue", staff),
                               (8, "review_step_overdue", staff)):  # fmt: skip
        seen = len(smtp_server.received)
        sends_on = notice_day(EVIDENCE_DUE, offset)  # due on a Sunday: -7 goes on the Friday
        tick(mailed, local(sends_on, offset_days=-1))
        assert received(smtp_server, seen, notice) == [], offset
        tick(mailed, local(sends_on))
        assert received(smtp_server, seen, notice) == expected(agreement, notice, to), offset
        [text, *_] = text_of(smtp_server, seen, notice)
        assert "evidence submission and benchmark assessment" in text
        assert "18-month Review of Goal Attainment" in text
        assert "Sunday, December 1, 2019" in text
        if offset < 0:
            # Counted from the day it goes out: the Friday is 9 days before the Sunday.
            assert f"due in {(EVIDENCE_DUE - sends_on).days} days (December 1, 2019)" in text
        else:
            assert f"{offset} day{'s' if offset > 1 else ''} overdue" in text


def test_the_reminders_of_a_step_stop_once_it_is_recorded(
    mailed: Pal, smtp_server: smtp.SmtpServer
) -> None:
    """Evidence recorded early: no evidence reminder or overdue notice, while the conference
    is still reminded 7 days before its own deadline."""
    agreement = in_rga(mailed)
    fire(mailed, agreement, "record_evidence", by=LIAISON, on="2019-11-15")
    seen = len(smtp_server.received)

    for offset in (-7, 1, 8):
        tick(mailed, local(EVIDENCE_DUE, offset_days=offset))
    tick(mailed, local(CONFERENCE_DUE, offset_days=-7))

    reminders = text_of(smtp_server, seen, "review_step_reminder")
    assert received(smtp_server, seen, "review_step_overdue") == []
    assert reminders and all("structured conference" in text for text in reminders)
    assert not any("evidence submission" in text.splitlines()[0] for text in reminders)


# --- outcomes ---------------------------------------------------------------------------------


def everyone(district: str = TRAD) -> set[str]:
    """Everyone on file for the district (an authorizer only for a PSA: the one seeded for the
    traditional district is not its authorizer), the liaison and the director."""
    authorizer = ("authorizer",) if district == PSA else ()
    return {person(district, role) for role in (*DISTRICT_LEADERS, *authorizer)} | {
        LIAISON,
        DIRECTOR,
    }


def test_an_exit_tells_everyone_on_file_and_the_liaison_the_reason(mailed: Pal) -> None:
    """`exit` with a note: everyone on file for the district, the liaison and the director are
    told the district exited, why, and each school's status at 36 months."""
    agreement = in_review_36(mailed)

    fire(mailed, agreement, "exit", "--note", EXIT_NOTE, by=DIRECTOR, on="2021-07-01")

    rows = notices(mailed, "exited", agreement)
    assert recipients(rows) == everyone()
    text = rows[0].body_text
    assert rows[0].subject == "TRAD Public Schools has exited partnership"
    assert f"Reason: {EXIT_NOTE}" in text
    assert "on Thursday, July 1, 2021" in text
    assert "TRAD-A School (TRAD-A): Off-Track with Limited Progress" in text


def test_a_renewal_tells_about_the_new_agreement_the_reason_and_the_new_plan_due(
    mailed: Pal,
) -> None:
    """`renew` with a note: the notice is the new agreement's; it names the renewed one, the
    reason, and the new plan's due date 90 days later."""
    agreement = in_review_36(mailed)

    fire(mailed, agreement, "renew", "--note", RENEW_NOTE, by=DIRECTOR, on="2021-07-01")

    [(successor,)] = execute(mailed.db_url, "SELECT id FROM agreement WHERE renewed_from = :a",
                             a=agreement)  # fmt: skip
    rows = notices(mailed, "renewed")
    assert {row.agreement_id for row in rows} == {successor}
    assert recipients(rows) == everyone()
    text = rows[0].body_text
    assert "The partnership agreement for TRAD Public Schools was renewed" in text
    assert "a new agreement follows it" in text
    assert f"Reason: {RENEW_NOTE}" in text
    assert "by Wednesday, September 29, 2021" in text  # 90 days after the renewal


def test_an_escalation_names_each_option_chosen_and_the_reason(mailed: Pal) -> None:
    """Two options are told by their labels, with the State Superintendent's reason."""
    agreement = in_rga(mailed)

    escalate(mailed, agreement, "isd_intervention", "increased_supports", note=ESCALATE_NOTE,
             on="2019-12-01")  # fmt: skip

    rows = notices(mailed, "escalated", agreement)
    assert recipients(rows) == everyone()
    text = rows[0].body_text
    assert (
        "The consequences chosen: Intervention by the ISD and Increased supports from MDE." in text
    )
    assert f"Reason: {ESCALATE_NOTE}" in text
    assert STATE_SUPERINTENDENT not in text


# --- words -------------------------------------------------------------------------------------

# The engine's names that are single words (the snake_case ones are caught by their "_").
ENGINE_WORDS = re.compile(r"\b(rga|pairs|waived|none|null)\b")


def test_no_review_notice_holds_an_engine_word(mailed: Pal) -> None:
    """Across a whole run (an RGA with its reminders, the 24-month reminder, the 36-month
    review, an exit, and another agreement escalated and renewed) no subject or body holds a
    snake_case name or an engine word."""
    agreement = in_rga(mailed)
    other = in_rga(mailed, PSA)
    tick(mailed, local(EVIDENCE_DUE, offset_days=-7))
    tick(mailed, local(EVIDENCE_DUE, offset_days=1))
    review_done(mailed, agreement, on="2019-12-15")
    escalate(mailed, other, "isd_intervention", "increased_supports", on="2019-12-20")
    tick(mailed, local(REVIEW_24_DUE, offset_days=-60))
    fire(mailed, agreement, "open_review_36", by=DIRECTOR, on="2021-05-01")
    review_done(mailed, agreement, on="2021-06-15")
    fire(mailed, agreement, "exit", "--note", EXIT_NOTE, by=DIRECTOR, on="2021-07-01")
    names = {"review_opened", "review_step_recorded", "review_determined", "exited", "escalated",
             "review_step_reminder", "review_step_overdue", "review_24_reminder"}  # fmt: skip

    rows = [row for notice in names for row in notices(mailed, notice)]

    assert {notice for notice in names if notices(mailed, notice)} == names
    for row in rows:
        for part in (row.subject, row.body_text, re.sub(r"<[^>]+>", " ", row.body_html)):
            words = re.sub(r"\S+@\S+", " ", part)  # addresses are data, not words
            words = re.sub(r"Dear [^,\n]+,", " ", words)  # so are the seeded names
            assert "_" not in words, (row.recipient, part)
            assert not ENGINE_WORDS.search(words.lower()), (row.recipient, part)


# --- what the notices cost and need ---------------------------------------------------------------


def reads_of_review_tables(pal: Pal, *args: Any) -> list[str]:
    """The SELECTs of review, step and determination rows that `pal ARGS` sends."""
    seen: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and re.search(
            r"\b(review|review_step|determination)\b", statement
        ):
            seen.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", capture)
    try:
        ok(pal, *args)
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", capture)
    return seen


def test_notices_before_a_review_and_the_opening_one_read_no_review_rows(seeded: Pal) -> None:
    """Naming the liaison, signing and opening the RGA send their notices without reading a
    review row (the opened review's notice is told from the state and the deadlines); the
    notice of a recorded step does read them."""
    agreement = identify(seeded, TRAD)
    assert reads_of_review_tables(seeded, "agreement", "fire", agreement, "start_assessment",
                                  "--set", f"liaison={LIAISON}", "--by", LIAISON,
                                  "--on", "2018-03-05") == []  # fmt: skip
    for party in ("board", "superintendent", "mde"):
        assert reads_of_review_tables(seeded, "agreement", "sign", agreement, "--party", party,
                                      "--by", LIAISON, "--on", "2018-05-01") == []  # fmt: skip
    assert reads_of_review_tables(seeded, "agreement", "fire", agreement, "open_rga",
                                  "--by", DIRECTOR, "--on", OPENED_ON) == []  # fmt: skip
    assert len(notices(seeded, "review_opened", agreement)) == 4
    # The control: the notice of a recorded step does read them.
    assert reads_of_review_tables(seeded, "agreement", "fire", agreement, "record_evidence",
                                  "--by", LIAISON, "--on", "2019-11-20") != []  # fmt: skip


def test_outcome_notices_render_without_a_deadline_or_a_review() -> None:
    """A notice sent when no deadline is open (an ended agreement) or with no review facts
    renders; it says what it can."""
    district = SimpleNamespace(code="LAKE", name="Lake", psa=False, authorizer=None)
    agreement = SimpleNamespace(id=3, cohort=None, state="exited", escalation_option=None)
    values = {
        "agreement": agreement,
        "district": district,
        "liaison": None,
        "deadline": None,
        "missing_parties": [],
        "office": SimpleNamespace(phone="517-555-0100", web="https://www.mde.example"),
        "recipient": SimpleNamespace(name="Jo", email="j@x", role="superintendent"),
    }
    for notice in ("review_opened", "review_step_recorded", "review_determined", "exited",
                   "renewed", "escalated"):  # fmt: skip
        rendered = render(notice, values)
        assert "Lake" in rendered.subject + rendered.text, notice
        assert "Deadline" not in rendered.text, notice
