"""`pal agreement import`: agreements already under way when an office starts using pal.

Each row's history (`states.going_live.history`) is applied through the engine like any other
event, dated as given, by the person importing, noted as imported and telling nobody; so its
deadlines and timer ladders are the ones pal would have opened. Then every timer whose moment
has passed is closed as `before_go_live`: pal does not send today what was due before it ran.
All rows or none (`workflow.registry.import_rows`): a bad row is named by its line.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import and_, bindparam, not_, or_, update
from sqlmodel import Session

from config.rules import load_rules
from states.context import Context
from states.errors import BadInput, NotFound
from states.going_live import KnownHistory, history
from states.process import parse_date
from states.registry import process
from storage import tables
from storage.models import District
from workflow.actors import Actor
from workflow.deadlines import BEFORE_GO_LIVE
from workflow.engine import Request, apply
from workflow.progress import Progress, no_progress
from workflow.registry import import_rows
from workflow.text import optional_text, quoted

PROCESS = "agreement"
PARTIES = ("board", "superintendent", "mde", "authorizer")
CSV_HEADER = (
    "district", "identified_on", "cohort", "liaison", "rules", "consequences",
    *(f"{party}_signed" for party in PARTIES), "state", "note",
)  # fmt: skip
IMPORTED = "imported"
WAITS = (
    "due before the agreement was imported into pal, at a stage that does not allow it yet: "
    "it runs after the agreement's next change of stage"
)


def import_agreements(
    session: Session, text: str, actor: Actor, ctx: Context, progress: Progress = no_progress
) -> list[int]:
    """The ids of the agreements the CSV `text` describes, all written or none."""
    return import_rows(text, CSV_HEADER, lambda row: go_live(session, row, actor, ctx), progress)


def go_live(session: Session, row: Mapping[str, str], actor: Actor, ctx: Context) -> int:
    """Write one agreement under way, with its history, deadlines and timers; returns its id."""
    definition = process(PROCESS)
    state = row["state"].strip()
    if state not in definition.active:
        raise BadInput(
            f"state {quoted(row['state'])} is not a stage an agreement under way can be at "
            f"({', '.join(definition.active)})"
        )
    district = session.get(District, row["district"].strip())
    if district is None:
        raise NotFound(f"no district {quoted(row['district'])} on file")
    known = KnownHistory(
        identified_on=parse_date(row["identified_on"], "identified_on"),
        state=state,
        psa=bool(district.psa),
        liaison=row["liaison"].strip() or None,
        signed={
            party: parse_date(row[f"{party}_signed"], f"{party}_signed")
            for party in PARTIES
            if row[f"{party}_signed"].strip()
        },
    )
    note = optional_text(row["note"], "note")
    noted = f"{IMPORTED}: {note}" if note else IMPORTED
    first = Request(
        definition.create.name, actor, parent=district.code, process=PROCESS,
        on=known.identified_on, note=noted, quiet=True,
        data={name: row[name] for name in ("cohort", "consequences") if row[name].strip()},
        rules_version=row["rules"].strip() or None,
    )  # fmt: skip
    created = apply(session, first, ctx)
    rules = load_rules(created.rules_version)
    for step in history(definition, known, rules, ctx.today):
        request = Request(step.event, actor, case=created.id, process=PROCESS, on=step.on,
                          note=noted, data=dict(step.data), quiet=True)  # fmt: skip
        created = apply(session, request, ctx)
    if created.state != state:
        shown = definition.state_labels
        raise BadInput(
            f"the row's dates lead to “{shown[created.state]}”, not “{shown[state]}”"
        )
    close_past_timers(session, created.id, created.state, ctx)
    return int(created.id)


def close_past_timers(session: Session, agreement_id: int, state: str, ctx: Context) -> None:
    """Every timer of the agreement whose moment has passed is closed as `before_go_live`,
    sending nothing; but a timed action the agreement's stage does not allow yet waits for it,
    as it would have under pal (its next change of state re-arms it, `deadlines.rearm_waiting`).
    """
    definition = process(PROCESS)
    later = tuple(spec.name for spec in definition.events
                  if not definition.allows(state, spec.name))  # fmt: skip
    timer = tables.TIMER.c
    past = and_(
        timer.agreement_id == bindparam("agreement"),
        timer.status.in_(("pending", "waiting")),
        timer.fire_at <= bindparam("now"),
    )
    waits = and_(timer.action.is_not(None), timer.action.in_(later))
    params = {"agreement": agreement_id, "now": ctx.now}
    # Its outcome says why it waits, as the sweep's does (`pal status` lists it with it).
    waiting = update(tables.TIMER).where(past, waits).values(status="waiting", outcome=WAITS)
    session.execute(waiting, params)
    session.execute(
        update(tables.TIMER)
        .where(past, or_(timer.action.is_(None), not_(timer.action.in_(later))))
        .values(
            status=BEFORE_GO_LIVE,
            done_at=bindparam("now"),
            outcome="its moment passed before the agreement was imported into pal",
        ),
        params,
    )
