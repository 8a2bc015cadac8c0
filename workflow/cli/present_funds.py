"""Human output of `pal funds ...`: in the program's words (labels, dollars), never engine names."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from states.funds import CATEGORY_LABELS, PRIORITY_LABELS, STATE_LABELS
from states.labels import countdown
from states.money import dollars
from states.registry import process


def _money(text: str) -> str:
    return dollars(Decimal(text))


def _event(name: str) -> str:
    return process("funds").event(name).label


def stepped(request_id: int, what: str, state: str) -> str:
    return f"fund request {request_id}: {what}; stage: {STATE_LABELS[state]}"


def activity_added(view: dict[str, Any]) -> str:
    added = view["activities"][-1]
    return (
        f"fund request {view['id']}: activity {len(view['activities'])} added "
        f"({CATEGORY_LABELS[added['category']]}, {_money(added['amount'])}); "
        f"total {_money(view['total'])}"
    )


def request_text(view: dict[str, Any]) -> str:
    serves = ", ".join(str(b) for b in view["serves"]) or "-"
    lines = [
        f"Fund request {view['id']}: agreement {view['agreement']} ({view['district']} "
        f"{view['district_name']}), fiscal year {view['year']}",
        f"  stage          {STATE_LABELS[view['state']]}",
        f"  total          {_money(view['total'])}",
        f"  rationale      {view['rationale'] or '-'}",
        f"  serves         benchmarks {serves}",
        f"  priorities     {_priorities(view['priorities'])}",
    ]
    if view["funded_on"]:
        lines.append(f"  funded on      {view['funded_on']}")
    if view["effectiveness"]:
        lines.append(f"  effectiveness  {view['effectiveness']} ({view['reported_on']})")
    lines.append("  activities" if view["activities"] else "  activities     none yet")
    for number, activity in enumerate(view["activities"], start=1):
        lines.append(f"    {number}  {CATEGORY_LABELS[activity['category']]:<56} "
                     f"{_money(activity['amount']):>14}")  # fmt: skip
        lines.append(f"       metrics: {activity['metrics'] or '-'}")
    if view["deadlines"]:
        lines.append("  deadlines")
        lines.extend(f"    {d['label']:<56} {d['due']}  {countdown(d['days_left'])}"
                     for d in view["deadlines"])  # fmt: skip
    lines.append("  history")
    lines.extend(_history_line(entry) for entry in view["history"])
    return "\n".join(lines)


def _priorities(names: list[str]) -> str:
    return ", ".join(PRIORITY_LABELS.get(name, name) for name in names) or "-"


def _history_line(entry: dict[str, Any]) -> str:
    moved = f" (now {STATE_LABELS[entry['to']]})" if entry["from"] != entry["to"] else ""
    line = f"    {entry['on']}  {_event(entry['event'])}{moved}, by {entry['by']}"
    data = entry["data"] or {}
    said = [CATEGORY_LABELS[data["category"]]] if "category" in data else []
    said += [_money(data[key]) for key in ("amount", "total") if key in data]
    if said:
        line += f"  [{', '.join(said)}]"
    return line + (f"  ({entry['note']})" if entry["note"] else "")


def request_row(view: dict[str, Any]) -> str:
    stage = STATE_LABELS[view["state"]]
    return (f"{view['id']:>5}  agreement {view['agreement']:<5} {view['district']:<10} "
            f"{view['year']}  {stage:<24} {_money(view['total']):>15}")  # fmt: skip


def request_list(views: list[dict[str, Any]]) -> str:
    return "\n".join(request_row(view) for view in views) or "no fund requests"


def budget_text(view: dict[str, Any]) -> str:
    return "\n".join([
        f"Section 21(h) funds, fiscal year {view['year']}",
        f"  appropriation  {_money(view['appropriation']):>15}",
        f"  approved       {_money(view['approved']):>15}",
        f"  funded         {_money(view['funded']):>15}",
        f"  remaining      {_money(view['remaining']):>15}",
    ])  # fmt: skip
