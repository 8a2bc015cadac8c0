"""Render the process definition as a Mermaid stateDiagram-v2, generated from the Machine."""

from __future__ import annotations

from states.agreement import CREATE_EVENT, EVENTS, INITIAL, TERMINAL, machine


def mermaid() -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {INITIAL} : {CREATE_EVENT}"]
    events = machine().events
    for name in EVENTS:
        if name == CREATE_EVENT:
            continue
        for source, transitions in events[name].transitions.items():
            for transition in transitions:
                lines.append(f"    {source} --> {transition.dest} : {name}")
    lines.extend(f"    {state} --> [*]" for state in sorted(TERMINAL))
    return "\n".join(lines) + "\n"
