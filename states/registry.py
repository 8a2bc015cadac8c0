"""Every process definition pal runs, by name."""

from __future__ import annotations

from collections.abc import Mapping

from states.action_item import ACTION_ITEM
from states.agreement import AGREEMENT
from states.errors import BadInput
from states.funds import FUNDS
from states.meeting import MEETING
from states.process import Process

PROCESSES: Mapping[str, Process] = {
    AGREEMENT.name: AGREEMENT,
    FUNDS.name: FUNDS,
    MEETING.name: MEETING,
    ACTION_ITEM.name: ACTION_ITEM,
}


def process(name: str) -> Process:
    found = PROCESSES.get(name)
    if found is None:
        raise BadInput(f"unknown process {name!r}; processes: {', '.join(PROCESSES)}")
    return found
