"""What a review waits for, of many reviews at once: the summary `agreement show` and `review
show` give of an agreement's open (else latest) review (its steps, the step it waits for and its
soonest deadline), one query per part for all the reviews asked for."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from storage import tables
from storage.records import records

T = tables


def review_summaries(
    session: Session, pairs: Sequence[tuple[Any, Any]]
) -> dict[int, dict[str, Any]]:
    """The summary of each (agreement row, review row) pair, by agreement id."""
    if not pairs:
        return {}
    query = (select(T.REVIEW_STEP).where(T.REVIEW_STEP.c.review_id.in_([r.id for _, r in pairs]))
             .order_by(T.REVIEW_STEP.c.id))  # fmt: skip
    steps: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for s in records(session, query):
        steps[s.review_id].append(
            {
                "step": s.step,
                "on": s.done_on.isoformat(),
                "by": s.recorded_by,
                "evidence": s.evidence,
            }
        )
    kinds = {a.id: _deadline_steps(a.rules_version) for a, _ in pairs}
    due = _soonest(session, [a.id for a, r in pairs if r.determined_on is None], kinds)
    return {a.id: _summary(a, r, steps[r.id], due.get(a.id), kinds[a.id]) for a, r in pairs}


def _deadline_steps(rules_version: str) -> dict[str, str]:
    """What each of a review's deadline kinds is for: a step, or the determination."""
    from config.rules import read_rules
    from states.registry import process

    rules = read_rules(rules_version)
    definition = process("agreement")
    closes = {event: step for step, event in definition.steps.items()}
    closes[definition.commands["review determine"]] = "determination"
    return {d.kind: closes[e] for d in rules.deadlines for e in d.met_by if e in closes}


def _soonest(session: Session, ids: list[int], kinds: dict[int, dict[str, str]]) -> dict[int, Any]:
    """Each agreement's soonest open deadline of its review's kinds."""
    if not ids:
        return {}
    every = sorted({k for i in ids for k in kinds[i]})
    d = T.DEADLINE
    query = (select(d.c.agreement_id, d.c.kind, d.c.due_on)
             .where(d.c.agreement_id.in_(ids), d.c.status == "open", d.c.kind.in_(every))
             .order_by(d.c.due_on, d.c.id))  # fmt: skip
    found: dict[int, Any] = {}
    for row in records(session, query):
        if row.agreement_id not in found and row.kind in kinds[row.agreement_id]:
            found[row.agreement_id] = row
    return found


def _summary(agreement: Any, review: Any, steps: list[dict[str, Any]], due: Any,
             kinds: dict[str, str]) -> dict[str, Any]:  # fmt: skip
    from config.rules import read_rules

    done = {s["step"] for s in steps}
    waiting = [s for s in read_rules(agreement.rules_version).review(review.kind).steps
               if s not in done]  # fmt: skip
    return {
        "agreement": agreement.id,
        "kind": review.kind,
        "opened_on": review.opened_on.isoformat(),
        "steps": steps,
        "next_step": waiting[0] if waiting and review.determined_on is None else None,
        "due": due.due_on.isoformat() if due else None,
        "due_kind": due.kind if due else None,
        "due_for": kinds[due.kind] if due else None,
        "determined_on": review.determined_on.isoformat() if review.determined_on else None,
        "determined_by": review.determined_by,
        "rules_version": review.rules_version,
    }
