"""The human output of `pal meeting` and `pal action`, in the program's words."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any


def meeting_done(meeting: int, words: str) -> str:
    return f"meeting {meeting} {words}"


def action_done(item: int, words: str) -> str:
    return f"action item {item} {words}"


def high_need_marked(code: str, on: date, high_need: bool) -> str:
    return f"district {code} is {'' if high_need else 'no longer '}high-need from {on}"


def meetings_text(found: Sequence[dict[str, Any]]) -> str:
    if not found:
        return "no meetings"
    return "\n".join(meeting_line(m) for m in found)


def meeting_line(m: dict[str, Any]) -> str:
    place = f", {m['place']}" if m["place"] else ""
    return (f"{m['id']:>4}  {m['district']:<8} {m['at']}  {m['kind_label']}{place}  "
            f"({m['state_label'].lower()})")  # fmt: skip


def actions_text(found: Sequence[dict[str, Any]]) -> str:
    if not found:
        return "no action items"
    return "\n".join(action_line(a) for a in found)


def action_line(a: dict[str, Any]) -> str:
    late = ", overdue" if a["overdue"] else f" {a['closed_on']}, late" if a["late"] else ""
    return (f"{a['id']:>4}  {a['district']:<8} due {a['due_on']}  {a['owner']:<28} "
            f"{a['text']}  ({a['state_label'].lower()}{late})")  # fmt: skip
