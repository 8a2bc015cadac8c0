"""Helpers shared by the service tests: moving time with `pal tick`, and reading what was sent.

Time only moves through `pal tick --now ...` (or `sweep(engine, Context(now=...))`): nothing here
sleeps to wait for a timer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from helpers import DETROIT, LIAISON, PSA, TRAD, Outcome, Pal, execute, person

from states.calendar import business_day_after, business_day_before

MAIL_FROM = "PAL Test Mailer <pal-test@mde.example>"
MAIL_FROM_ADDRESS = "pal-test@mde.example"
NOTICE_HOUR = time(8, 0)

# Identified on helpers.IDENTIFIED_ON (2018-03-01): the plan is due 90 days later.
PLAN_DUE = date(2018, 5, 30)
# Signed on helpers.SIGNED_ON (2018-05-01): the RGA is due 18 months later, the review at 36.
RGA_DUE = date(2019, 11, 1)
REVIEW_36_DUE = date(2021, 5, 1)

# Who a plan reminder goes to in each seeded district (a PSA's authorizer too; the ISD, which
# helps write the plan).
TRAD_REMINDED = (
    person(TRAD, "superintendent"),
    person(TRAD, "board_president"),
    person(TRAD, "isd_superintendent"),
    LIAISON,
)
PSA_REMINDED = (
    person(PSA, "superintendent"),
    person(PSA, "board_president"),
    person(PSA, "authorizer"),
    person(PSA, "isd_superintendent"),
    LIAISON,
)
# Who a traditional district's review is reminded to (as its opening is told).
REVIEW_TOLD = (
    person(TRAD, "superintendent"),
    person(TRAD, "board_president"),
    person(TRAD, "isd_superintendent"),
    LIAISON,
)
# Who is told of the identification of a traditional district.
TRAD_IDENTIFIED = (
    person(TRAD, "superintendent"),
    person(TRAD, "board_president"),
    person(TRAD, "isd_superintendent"),
)


def local(day: date, at: time = NOTICE_HOUR, *, offset_days: int = 0) -> str:
    """`day + offset_days` at `at` in America/Detroit, as an ISO date-time with its UTC offset."""
    moment = datetime.combine(day + timedelta(days=offset_days), at, tzinfo=DETROIT)
    return moment.isoformat()


def notice_day(due: date, offset_days: int) -> date:
    """The day the shipped rules send the notice `offset_days` from `due`: a weekend or Michigan
    holiday moves a reminder to the business day before, an overdue notice to the one after."""
    day = due + timedelta(days=offset_days)
    return business_day_before(day) if offset_days <= 0 else business_day_after(day)


def tick(pal: Pal, when: str) -> Outcome:
    """`pal tick --now WHEN`; the sweep must have run (exit 0)."""
    result = pal("tick", "--now", when)
    assert result.exit_code == 0, (when, result.stdout, result.stderr)
    return result


def use_smtp(pal: Any, host: str, port: int, mail_from: str = MAIL_FROM) -> None:
    pal.env.update({"PAL_SMTP_HOST": host, "PAL_SMTP_PORT": str(port), "PAL_MAIL_FROM": mail_from})


def use_mail_dir(pal: Any, mail_dir: Path) -> None:
    pal.env.update({"PAL_MAIL_DIR": str(mail_dir), "PAL_MAIL_FROM": MAIL_FROM})


def parse(content: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(content)
    assert isinstance(message, EmailMessage)
    return message


def key_parts(message: EmailMessage) -> tuple[int, str, str]:
    """(agreement id, notice, occurrence) from the X-PAL-Key header `a<id>:<notice>:<occ>:<to>`."""
    key = "".join(str(message["X-PAL-Key"]).split())  # a long key is folded over two lines
    agreement, notice, occurrence, _ = key.split(":", 3)
    return int(agreement.removeprefix("a")), notice, occurrence


def mail_log(messages: Iterable[tuple[list[str], EmailMessage]]) -> list[tuple[int, str, str]]:
    """(agreement, notice, recipient) for each envelope recipient of each message, sorted."""
    found = []
    for recipients, message in messages:
        agreement, notice, _ = key_parts(message)
        found.extend((agreement, notice, recipient) for recipient in recipients)
    return sorted(found)


def expected(agreement: int, notice: str, recipients: Iterable[str]) -> list[tuple[int, str, str]]:
    return sorted((agreement, notice, recipient) for recipient in recipients)


def outbox(pal: Pal, *args: str) -> list[dict[str, Any]]:
    result = pal("outbox", "list", "--json", *args)
    assert result.exit_code == 0, result.stderr
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def timer_statuses(db_url: str, agreement: int) -> dict[tuple[str, int], str]:
    rows = execute(
        db_url,
        "SELECT ladder, offset_days, status FROM timer WHERE agreement_id = :id",
        id=agreement,
    )
    return {(ladder, offset): status for ladder, offset, status in rows}


def duplicate_keys(db_url: str) -> list[Any]:
    return execute(
        db_url,
        "SELECT idempotency_key, count(*) FROM outbox GROUP BY idempotency_key HAVING count(*) > 1",
    )


def state_of(db_url: str, agreement: int) -> str:
    return str(execute(db_url, "SELECT state FROM agreement WHERE id = :id", id=agreement)[0][0])
