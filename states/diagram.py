"""Render a process definition as a Mermaid stateDiagram-v2, generated from its Machine."""

from __future__ import annotations

from states.process import Process


def mermaid(process: Process) -> str:
    create = process.create
    lines = ["stateDiagram-v2", f"    [*] --> {create.dest} : {create.name}"]
    events = process.machine.events
    for name in process.event_names:
        if name == create.name:
            continue
        for source, transitions in events[name].transitions.items():
            for transition in transitions:
                lines.append(f"    {source} --> {transition.dest or source} : {name}")
    lines.extend(f"    {state} --> [*]" for state in sorted(process.terminal))
    return "\n".join(lines) + "\n"
