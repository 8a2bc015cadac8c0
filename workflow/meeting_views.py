"""What `pal agreement show` tells of an agreement's meetings: the next one, and the open action
items raised at them."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from states.context import Context
from workflow.action_items import list_actions
from workflow.meetings import next_meeting


def meetings_of(session: Session, agreement: int, ctx: Context) -> dict[str, Any]:
    return {
        "next_meeting": next_meeting(session, agreement, ctx.now),
        "open_action_items": list_actions(session, ctx.today, agreement=agreement,
                                          only_open=True),
    }
