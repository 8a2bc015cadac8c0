"""A fund request's deadlines, reminders and notices, through the service and a real SMTP server:
the decision within 30 days of submission, the effectiveness report 60 days after the fiscal
year ends, and the district told of each decision and of the funding (rule data
`[processes.funds]`). Time moves only through explicit dates and `pal tick --now`."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

import pytest
import smtp_server as smtp
from funds_helpers import METRICS, SCHOOL, YEAR
from helpers import (
    DIRECTOR,
    LIAISON,
    TRAD,
    Pal,
    add_benchmark,
    add_school,
    engine_for,
    execute,
    identify,
    person,
    start_assessment,
)
from notice_samples import as_rendered, engine_terms
from service_support import local, notice_day, tick

from states.context import Context
from storage.db import transaction
from workflow import funds
from workflow.actors import Actor

BY_LIAISON = Actor(LIAISON, "liaison")
BY_DIRECTOR = Actor(DIRECTOR, "director")
SUPERINTENDENT = person(TRAD, "superintendent")
SUBMITTED = date(2025, 10, 6)  # a Monday: the decision is due on Wednesday, November 5
DECISION_DUE = date(2025, 11, 5)
FUNDED = date(2026, 1, 15)  # in fiscal year 2025-26, which ends on September 30, 2026
REPORT_DUE = date(2026, 11, 29)  # 60 days later: a Sunday (the notices move, the date not)


@pytest.fixture
def agreement(mailed: Pal) -> tuple[int, int]:
    """A traditional district's agreement with its liaison and one benchmark, identified in
    September 2025: (agreement, benchmark)."""
    agreement = identify(mailed, TRAD, on="2025-09-02")
    start_assessment(mailed, agreement, on="2025-09-03")
    add_school(mailed, SCHOOL)
    return agreement, add_benchmark(mailed, agreement, SCHOOL, "on_track", 40, 50, 60)


def noon(day: date) -> Context:
    return Context(now=datetime.fromisoformat(local(day)).replace(hour=12))


def step(pal: Pal, command: str, request: int, on: date, by: Actor = BY_DIRECTOR,
         note: str | None = None, **data: str) -> None:  # fmt: skip
    """`pal funds COMMAND` as of `on`, through the library the command calls."""
    engine = engine_for(pal.db_url)
    try:
        with transaction(engine) as session:
            funds.step(session, command, request, by, noon(on), on=on, note=note, data=data)
    finally:
        engine.dispose()


def submitted(pal: Pal, agreement: tuple[int, int], on: date = SUBMITTED) -> int:
    """A request of $125,000.00 in two activities, entered and submitted `on` by the liaison."""
    engine = engine_for(pal.db_url)
    ctx = noon(on)
    try:
        with transaction(engine) as session:
            request = funds.new_request(
                session, agreement[0], BY_LIAISON, ctx, year=YEAR,
                rationale="early literacy lags the benchmark", serves=str(agreement[1]),
                priorities="literacy",
            )  # fmt: skip
            for category, amount in (("pd_teachers", "100000.00"), ("teacher_mentors", "25000")):
                funds.add_activity(session, request, BY_LIAISON, ctx, category=category,
                                   amount=amount, metrics=METRICS)  # fmt: skip
            funds.step(session, "submit", request, BY_LIAISON, ctx, on=on)
    finally:
        engine.dispose()
    return request


def funds_mail(server: smtp.SmtpServer, request: int) -> list[tuple[str, str, Any]]:
    """(notice, recipient, message) of each message about `request` the server received."""
    found = []
    for item in server.received:
        message = item.message
        key = "".join(str(message["X-PAL-Key"]).split())
        _, case, notice, _ = key.split(":", 3)
        if case == f"funds{request}":
            found.extend((notice, to, message) for to in item.rcpt_tos)
    return found


def sent(server: smtp.SmtpServer, request: int) -> Counter[tuple[str, str]]:
    return Counter((notice, to) for notice, to, _ in funds_mail(server, request))


def tick_twice(pal: Pal, day: date) -> None:
    tick(pal, local(day))
    tick(pal, local(day))  # the same day again: nothing is sent twice


def test_an_undecided_request_is_reminded_then_told_overdue_once_each(
    mailed: Pal, agreement: tuple[int, int], smtp_server: smtp.SmtpServer
) -> None:
    """Undecided, the director and the liaison get the reminder a week before the decision is
    due, then an overdue notice the day after and a week later: each once, however often the
    service ticks."""
    request = submitted(mailed, agreement)
    step(mailed, "review", request, date(2025, 10, 7), BY_LIAISON)
    for offset in (-7, 1, 8):
        tick_twice(mailed, notice_day(DECISION_DUE, offset))

    assert sent(smtp_server, request) == Counter({
        ("funds_decision_reminder", DIRECTOR): 1, ("funds_decision_reminder", LIAISON): 1,
        ("deadline_overdue", DIRECTOR): 2, ("deadline_overdue", LIAISON): 2,
    })  # fmt: skip
    reminder = next(m for n, _, m in funds_mail(smtp_server, request)
                    if n == "funds_decision_reminder")  # fmt: skip
    words = as_rendered(reminder)
    assert "$125,000.00" in words.text and "2025-26" in words.text
    assert "November 5, 2025" in words.text
    assert engine_terms(words) == []


def test_a_request_decided_before_its_reminder_is_never_reminded(
    mailed: Pal, agreement: tuple[int, int], smtp_server: smtp.SmtpServer
) -> None:
    """Approved before the reminder's day, the decision deadline is met: no reminder or overdue
    notice follows, only the approval the district is told of."""
    request = submitted(mailed, agreement)
    step(mailed, "review", request, date(2025, 10, 7), BY_LIAISON)
    step(mailed, "approve", request, date(2025, 10, 20))
    for offset in (-7, 1, 8):
        tick_twice(mailed, notice_day(DECISION_DUE, offset))

    assert sent(smtp_server, request) == Counter({
        ("funds_approved", SUPERINTENDENT): 1, ("funds_approved", LIAISON): 1,
    })  # fmt: skip
    found = execute(mailed.db_url, "SELECT kind, status, closed_on FROM deadline WHERE "
                    "case_id = :r", r=request)  # fmt: skip
    assert [(k, s, str(on)) for k, s, on in found] == [("funds_decision_due", "met", "2025-10-20")]
    timers = execute(mailed.db_url, "SELECT DISTINCT status FROM timer WHERE case_id = :r",
                     r=request)  # fmt: skip
    assert timers == [("cancelled",)]


def test_the_effectiveness_report_is_reminded_and_told_overdue_after_the_fiscal_year(
    mailed: Pal, agreement: tuple[int, int], smtp_server: smtp.SmtpServer
) -> None:
    """Funded in 2025-26, the report is due on November 29, 2026: the superintendent and the
    liaison are reminded 30 and 7 days before (a Sunday's reminder goes on the Friday), and told
    overdue three times with the director; once reported (late), nothing more."""
    request = submitted(mailed, agreement)
    step(mailed, "review", request, date(2025, 10, 7), BY_LIAISON)
    step(mailed, "approve", request, date(2025, 10, 20))
    step(mailed, "fund", request, FUNDED)
    due = execute(mailed.db_url, "SELECT due_on FROM deadline WHERE case_id = :r AND kind = "
                  "'funds_report_due'", r=request)  # fmt: skip
    assert [str(on) for on, in due] == [REPORT_DUE.isoformat()]
    for offset in (-30, -7, 1, 8, 15):
        tick_twice(mailed, notice_day(REPORT_DUE, offset))
    step(mailed, "report", request, date(2026, 12, 15), BY_LIAISON,
         effectiveness="82% of teachers observed using the practice")  # fmt: skip
    tick_twice(mailed, date(2026, 12, 21))

    told = sent(smtp_server, request)
    assert {k: n for k, n in told.items() if k[0].startswith("deadline_")} == {
        ("deadline_reminder", SUPERINTENDENT): 2, ("deadline_reminder", LIAISON): 2,
        ("deadline_overdue", SUPERINTENDENT): 3, ("deadline_overdue", LIAISON): 3,
        ("deadline_overdue", DIRECTOR): 3,
    }  # fmt: skip
    assert notice_day(REPORT_DUE, -7) == date(2026, 11, 20)
    assert execute(mailed.db_url, "SELECT status FROM deadline WHERE case_id = :r AND kind = "
                   "'funds_report_due'", r=request) == [("met_late",)]  # fmt: skip


def test_the_report_is_due_after_the_requests_own_fiscal_year_even_when_funded_in_the_next(
    mailed: Pal, agreement: tuple[int, int]
) -> None:
    """A 2025-26 request funded on October 5, 2026 (in 2026-27) reports by November 29, 2026:
    60 days after its own fiscal year ends, not a year later."""
    request = submitted(mailed, agreement)
    step(mailed, "review", request, date(2025, 10, 7), BY_LIAISON)
    step(mailed, "approve", request, date(2025, 10, 20))
    step(mailed, "fund", request, date(2026, 10, 5))
    due = execute(mailed.db_url, "SELECT due_on FROM deadline WHERE case_id = :r AND kind = "
                  "'funds_report_due'", r=request)  # fmt: skip
    assert [str(on) for on, in due] == [REPORT_DUE.isoformat()]


def test_the_district_is_told_of_a_return_a_denial_an_approval_and_funding_in_its_words(
    mailed: Pal, agreement: tuple[int, int], smtp_server: smtp.SmtpServer
) -> None:
    """Returned with comments, resubmitted, approved and funded (and another request denied with
    the reason): the superintendent and the liaison get each notice once, telling the comments,
    the reason and the amounts in dollars and cents; the funding's carries the report's date."""
    request = submitted(mailed, agreement)
    step(mailed, "review", request, date(2025, 10, 7), BY_LIAISON)
    step(mailed, "return", request, date(2025, 10, 14), note="tie the mentors to the benchmark")
    step(mailed, "submit", request, date(2025, 10, 20), BY_LIAISON)
    step(mailed, "review", request, date(2025, 10, 21), BY_LIAISON)
    step(mailed, "approve", request, date(2025, 10, 28))
    denied = submitted(mailed, agreement, on=date(2025, 11, 3))
    step(mailed, "review", denied, date(2025, 11, 4), BY_LIAISON)
    step(mailed, "deny", denied, date(2025, 11, 10), note="the activities duplicate funded ones")
    step(mailed, "fund", request, FUNDED)
    tick_twice(mailed, date(2026, 1, 16))

    both = {SUPERINTENDENT, LIAISON}
    assert sent(smtp_server, request) == Counter(
        {(n, to): 1 for n in ("funds_returned", "funds_approved", "funds_funded") for to in both}
    )
    assert sent(smtp_server, denied) == Counter({("funds_denied", to): 1 for to in both})
    words = {n: as_rendered(m) for n, to, m in [*funds_mail(smtp_server, request),
             *funds_mail(smtp_server, denied)] if to == SUPERINTENDENT}  # fmt: skip
    assert "tie the mentors to the benchmark" in words["funds_returned"].text
    assert "the activities duplicate funded ones" in words["funds_denied"].text
    assert "$125,000.00" in words["funds_approved"].subject
    assert "Teacher mentors: $25,000.00" in words["funds_approved"].text
    assert "November 29, 2026" in words["funds_funded"].text
    assert all(engine_terms(message) == [] for message in words.values())
    funded = next(m for n, _, m in funds_mail(smtp_server, request) if n == "funds_funded")
    calendar = next(p for p in funded.walk() if p.get_content_type() == "text/calendar")
    assert "DTSTART;VALUE=DATE:20261129" in calendar.get_content()


def test_the_service_records_each_automated_step_and_the_requests_trail_each_persons(
    mailed: Pal, agreement: tuple[int, int], smtp_server: smtp.SmtpServer
) -> None:
    """What the service did for the request (as `system`) is on its timers, each run once with
    its outcome; the request's audit trail holds each person's step, who took it and when."""
    request = submitted(mailed, agreement)
    step(mailed, "review", request, date(2025, 10, 7), BY_LIAISON)
    tick_twice(mailed, notice_day(DECISION_DUE, -7))
    step(mailed, "deny", request, date(2025, 10, 31), note="outside the guidelines")

    timers = execute(mailed.db_url, "SELECT offset_days, status, outcome FROM timer WHERE "
                     "case_id = :r ORDER BY offset_days", r=request)  # fmt: skip
    assert timers == [(-7, "done", "sent"), (1, "cancelled", "deadline closed by funds_deny"),
                      (8, "cancelled", "deadline closed by funds_deny")]  # fmt: skip
    trail = execute(mailed.db_url, "SELECT event, actor, effective_on FROM audit WHERE subject "
                    "= :s ORDER BY id", s=f"funds_request:{request}")  # fmt: skip
    assert [(e, a) for e, a, _ in trail] == [
        ("funds_enter", LIAISON), ("funds_add_activity", LIAISON),
        ("funds_add_activity", LIAISON), ("funds_submit", LIAISON),
        ("funds_start_review", LIAISON), ("funds_deny", DIRECTOR),
    ]  # fmt: skip
    assert str(trail[-1][2]) == "2025-10-31"
