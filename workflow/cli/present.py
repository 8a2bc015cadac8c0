"""Human-readable text for the CLI; JSON output uses the views unchanged."""

from __future__ import annotations

from typing import Any


def agreement_text(view: dict[str, Any]) -> str:
    lines = [
        f"Agreement {view['id']}: {view['district']} {view['district_name'] or ''}".rstrip(),
        f"  state          {view['state']}",
        f"  cohort         {view['cohort'] or '-'}",
        f"  identified on  {view['identified_on']}   (rules {view['rules_version']})",
        f"  signed on      {view['signed_on'] or '-'}",
        f"  liaison        {view['liaison'] or '-'}",
        f"  consequences   {', '.join(view['consequences'])}",
    ]
    if view["escalation_option"]:
        lines.append(f"  escalated to   {view['escalation_option']}")
    upcoming = [d for d in view["deadlines"] if d["status"] == "open"]
    lines.append(
        f"  next deadline  {upcoming[0]['kind']} due {upcoming[0]['due']}"
        if upcoming
        else "  next deadline  -"
    )
    signed = view["signatures"]
    lines.append(
        "  signatures     "
        + (", ".join(f"{party} {day}" for party, day in signed.items()) if signed else "-")
    )
    if view["deadlines"]:
        lines.append("  deadlines")
        lines.extend(
            f"    {d['kind']:<14} due {d['due']}  {d['status']}"
            + (f" ({d['closed_on']})" if d.get("closed_on") else "")
            for d in view["deadlines"]
        )
    if "history" in view:
        lines.append("  history")
        for h in view["history"]:
            move = f"{h['from'] or '-'} -> {h['to']}" if h["from"] != h["to"] else h["to"]
            extra = ", ".join(f"{k}={v}" for k, v in (h["data"] or {}).items() if v is not None)
            line = f"    {h['on']}  {h['event']:<18} {move:<36} by {h['by']}"
            if extra and h["event"] != "identify":
                line += f"  [{extra}]"
            if h["note"]:
                line += f"  ({h['note']})"
            lines.append(line)
    return "\n".join(lines)


def agreement_row(view: dict[str, Any]) -> str:
    upcoming = [d for d in view["deadlines"] if d["status"] == "open"]
    nxt = f"{upcoming[0]['kind']} {upcoming[0]['due']}" if upcoming else "-"
    return f"{view['id']:>5}  {view['district']:<10} {view['state']:<26} {nxt}"


def deadline_row(row: dict[str, Any]) -> str:
    left = row["days_left"]
    when = f"in {left} days" if left >= 0 else f"{-left} days overdue"
    return (
        f"{row['due']}  {row['kind']:<14} agreement {row['agreement']:<5} "
        f"{row['district']:<10} {when}"
    )
