"""What the meeting and action-item tests share: a district with a running agreement and a
liaison, meetings and items made through the library as of a given moment, and the messages
the test SMTP server received about them."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import smtp_server as smtp
from helpers import DETROIT, LIAISON, TRAD, Pal, engine_for, identify
from helpers import start_assessment as assess

from states.context import Context
from storage.db import transaction
from workflow.actors import Actor

BY_LIAISON = Actor(LIAISON, "liaison")


def at(day: date, hour: int = 12) -> datetime:
    """`day` at `hour`:00 in Detroit, the moment a step is taken."""
    return datetime.combine(day, time(hour), tzinfo=DETROIT)


def agreement_with_liaison(pal: Pal) -> int:
    agreement = identify(pal, TRAD, on="2018-12-03")
    assess(pal, agreement, on="2018-12-04")
    return agreement


def run(pal: Pal, now: datetime, step: Any, *args: Any, **kwargs: Any) -> Any:
    """`step(session, *args, ..., ctx, **kwargs)` in one transaction as of `now` (the library
    function's last positional parameter is the context)."""
    engine = engine_for(pal.db_url)
    try:
        with transaction(engine) as session:
            return step(session, *args, Context(now=now), **kwargs)
    finally:
        engine.dispose()


def sent(server: smtp.SmtpServer, case: str) -> list[tuple[str, str]]:
    """(notice, recipient) of each message received about the case `case` (`action_item3`)."""
    found = []
    for item in server.received:
        key = "".join(str(item.message["X-PAL-Key"]).split())
        _, about, notice, _ = key.split(":", 3)
        if about == case:
            found.extend((notice, to) for to in item.rcpt_tos)
    return found
