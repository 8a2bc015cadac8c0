"""The notices as staff see them before they go: which there are, when each goes out and to whom
(from rule data), and any one of them rendered for a real agreement or for a sample.

A preview never writes to the configured database. For a real agreement it renders through
`notifications.outbox.render_owed`, the values and addressing `enqueue_many` uses to send; the
sample is the outbox row the real engine writes for a fictional agreement (workflow.
notice_sample), so a preview and a sent notice are built by one path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from config.rules import load_rules
from states.context import Context
from states.corrections import TOLD
from states.errors import BadInput, NotAllowedInState, NotFound
from states.labels import NOTICE_LABELS, ROLE_LABELS
from states.registry import process
from states.rules import MAIN_PROCESS, RuleSet, TimerRule, TransitionNotice
from workflow.app import App


@dataclass(frozen=True)
class Preview:
    notice: str
    label: str
    subject: str
    to: str  # "Name <email>"
    text: str
    html: str
    sample: bool


def notice_list(rules: RuleSet) -> list[dict[str, Any]]:
    """Each notice the rules send: its label, and each occasion it goes out on with whom it
    goes to, in words."""
    occasions: dict[str, list[dict[str, Any]]] = {}
    for when, notice, to in _occasions(rules):
        occasions.setdefault(notice, []).append({"when": when, "to": [_role(r) for r in to]})
    return [
        {"notice": notice, "label": label(notice), "occasions": found}
        for notice, found in occasions.items()
    ]


def label(notice: str) -> str:
    return NOTICE_LABELS.get(notice, notice.replace("_", " ").capitalize())


def preview(app: App, notice: str, agreement_id: int | None, to: str | None) -> Preview:
    """`notice` rendered for `agreement_id` as it stands now, or for the sample agreement; for
    `to` (an email), else for the first person it goes to. Refuses an unknown notice or
    agreement (BadInput, NotFound) and a `to` the notice does not go to (BadInput)."""
    ctx = app.context()
    rules = load_rules(app.settings.rules_version)
    known = sorted({notice for _, notice, _ in _occasions(rules)})
    if notice not in known:
        raise BadInput(f"no notice {notice!r}; known: {', '.join(known)}")
    if agreement_id is None:
        return _sample(app, notice, to)
    with app.read() as session:
        rendered = _live(session, notice, agreement_id, ctx)
    people = [(person, message) for person, message in rendered]
    if not people:
        raise NotAllowedInState(
            f"{label(notice)}: nobody on file receives it for agreement {agreement_id}"
        )
    person, message = _pick(people, to, notice)
    return Preview(notice, label(notice), message.subject, _address(person.name, person.email),
                   message.text, message.html, sample=False)  # fmt: skip


def _pick(people: Sequence[tuple[Any, Any]], to: str | None, notice: str) -> tuple[Any, Any]:
    if to is None:
        return people[0]
    for person, message in people:
        if person.email.lower() == to.strip().lower():
            return person, message
    told = ", ".join(person.email for person, _ in people)
    raise BadInput(f"{to} does not receive {label(notice)} (it goes to {told})")


def _address(name: str | None, email: str) -> str:
    return f"{name} <{email}>" if name else email


# --- rule data -----------------------------------------------------------------------------------


def _occasions(rules: RuleSet) -> list[tuple[str, str, tuple[str, ...]]]:
    """(when in words, notice, roles) for each step and transition that sends a notice: the
    agreement's, then each other process's (`[processes.NAME]`)."""
    found: list[tuple[str, str, tuple[str, ...]]] = []
    for name, scoped in ((MAIN_PROCESS, rules), *rules.processes.items()):
        found.extend(_process_occasions(name, scoped))
    return found


def _process_occasions(name: str, rules: RuleSet) -> list[tuple[str, str, tuple[str, ...]]]:
    found: list[tuple[str, str, tuple[str, ...]]] = []
    ladders: dict[tuple[str, str, tuple[str, ...]], list[TimerRule]] = {}
    for step in rules.timers:
        if step.notice is not None:
            ladders.setdefault((step.deadline, step.notice, step.to), []).append(step)
        if step.otherwise_notice is not None:
            label = _event_label(name, step.action or "")
            when = f"when pal cannot {label} itself on its due date"
            found.append((when, step.otherwise_notice, step.otherwise_to))
    for (deadline, notice, to), steps in ladders.items():
        found.append((_ladder_words(name, deadline, steps, rules), notice, to))
    for item in rules.transition_notices:
        found.append((_transition_words(name, item), item.notice, item.to))
    return found


def _ladder_words(name: str, deadline: str, steps: list[TimerRule], rules: RuleSet) -> str:
    what = process(name).deadline_labels.get(deadline, deadline)
    before = [-s.offset_days for s in steps if s.offset_days < 0]
    after = [s.offset_days for s in steps if s.offset_days > 0]
    parts = []
    if before:
        parts.append(f"{_days(sorted(before, reverse=True))} before {what} is due")
    if any(s.offset_days == 0 for s in steps):
        parts.append(f"on the day {what} is due")
    if after:
        parts.append(f"{_days(sorted(after))} after {what} was due")
    words = "; ".join(parts)
    if rules.business_days:
        words += " (on a business day)"
    return words


def _days(numbers: list[int]) -> str:
    listed = [str(n) for n in numbers]
    joined = listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} and {listed[-1]}"
    return f"{joined} day{'s' if listed != ['1'] else ''}"


def _transition_words(name: str, item: TransitionNotice) -> str:
    return f"when this step is taken: {_event_label(name, item.event)}"


def _event_label(name: str, event: str) -> str:
    try:
        return process(name).event(event).label
    except BadInput:
        return event


def _role(role: str) -> str:
    if role == TOLD:
        return "whoever was told of the step corrected"
    return ROLE_LABELS.get(role, role)


# --- rendering ----------------------------------------------------------------------------------


def _live(session: Session, notice: str, agreement_id: int, ctx: Context) -> list[tuple[Any, Any]]:
    """`notice` for the agreement as it stands, rendered for each person it goes to."""
    from notifications.outbox import Notice, render_owed, transition_notices
    from storage import tables
    from storage.models import Agreement

    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        raise NotFound(f"no agreement {agreement_id}")
    rules = load_rules(agreement.rules_version)
    if notice not in {n for _, n, _ in _process_occasions(MAIN_PROCESS, rules)}:
        # A notice of another process's case (a fund request) is about that case, not the
        # agreement: its sample shows it.
        raise NotAllowedInState(f"{label(notice)} is not about the agreement itself; preview it "
                                "without --agreement for a sample")  # fmt: skip
    owed: list[Notice] = []
    for item in rules.transition_notices:
        if item.notice == notice:
            told = _told(session, agreement_id, rules) if TOLD in item.to else ()
            owed = [n for n in transition_notices(session, agreement, rules, item.event,
                                                  ctx.today, extra=_quiet(notice), told=told)
                    if n.notice == notice]  # fmt: skip
            break
    else:
        # One notice may be sent about several deadlines (a review step reminder: evidence,
        # conference, determination), each with its own recipients: the open one due first.
        steps = _steps(rules, notice, agreement.state)
        # A reminder or overdue notice is about an open deadline: one met or closed is
        # reminded of no more.
        column = tables.DEADLINE.c
        deadline = session.execute(
            select(column.id, column.kind, column.due_on, column.opened_on)
            .where(column.agreement_id == agreement_id, column.kind.in_(sorted(steps)),
                   column.status == "open")
            .order_by(column.due_on, column.id.desc())
        ).first()  # fmt: skip
        if deadline is None:
            labels = process("agreement").deadline_labels
            what = " or ".join(labels.get(kind, kind) for kind in steps)
            raise NotAllowedInState(
                f"agreement {agreement_id} has no open deadline for {what}; "
                "preview without --agreement for a sample"
            )
        _, roles, extra = steps[deadline.kind]
        owed = [Notice(agreement, notice, "preview", roles, deadline, extra)]
    return [(person, message) for _, person, message in render_owed(session, owed, ctx)]


def _told(session: Session, agreement_id: int, rules: RuleSet) -> tuple[str, ...]:
    """Who a correction of the agreement's latest step would tell: whoever its notices told
    (NotAllowedInState, saying why, when that step's date cannot be corrected)."""
    from states.corrections import latest_step
    from workflow.cases import trail_of

    step, _ = latest_step(trail_of(session, agreement_id), process("agreement"))
    roles = (role for entry in step for n in rules.notices_for(entry.event) for role in n.to)
    return tuple(dict.fromkeys(roles))


def _quiet(notice: str) -> dict[str, Any]:
    """Values a notice of an event tells that only the event itself knows (a correction's
    dates): none in a preview, which says so in the notice's own words."""
    return {"correction": None} if notice == "date_corrected" else {}


def _steps(
    rules: RuleSet, notice: str, state: str
) -> dict[str, tuple[TimerRule, tuple[str, ...], dict[str, Any]]]:
    """By deadline kind, the first timer step that sends `notice` about it, with its
    recipients and the values only the sweep knows."""
    found: dict[str, tuple[TimerRule, tuple[str, ...], dict[str, Any]]] = {}
    for step in rules.timers:
        if step.deadline in found:
            continue
        if step.notice == notice:
            found[step.deadline] = (step, step.to, {})
        elif step.otherwise_notice == notice and step.action is not None:
            definition = process("agreement")
            spec = definition.event(step.action)
            error = NotAllowedInState(f"{step.action} is not allowed in state {state}")
            words = {
                "action": step.action,
                "action_label": spec.label,
                "reason": definition.refusal_in_words(spec, state, rules, error),
                "waits": state not in spec.sources,
            }
            found[step.deadline] = (step, step.otherwise_to, words)
    if not found:
        raise BadInput(f"no notice {notice!r}")
    return found


def _sample(app: App, notice: str, to: str | None) -> Preview:
    from notifications import bodies
    from storage import tables
    from workflow.notice_sample import sample_outbox

    with sample_outbox(app.settings, notice) as (sample, ids), sample.read() as session:
        if not ids:
            raise NotAllowedInState(f"the sample agreement is never sent {label(notice)}")
        rows = session.execute(
            select(tables.OUTBOX.c.id, tables.PERSON.c.email, tables.PERSON.c.name)
            .join(tables.PERSON, tables.PERSON.c.email == tables.OUTBOX.c.recipient)
            .where(tables.OUTBOX.c.id.in_(ids))
            .order_by(tables.OUTBOX.c.id)
        ).all()
        messages = bodies.read(session, [row.id for row in rows])
        people = [(row, messages[row.id]) for row in rows]
        person, message = _pick(people, to, notice)
    return Preview(notice, label(notice), message.subject, _address(person.name, person.email),
                   message.text, message.html, sample=True)  # fmt: skip
