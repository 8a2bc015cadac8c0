"""A process's page: its diagram (drawn by workflow/diagram_svg.py), its stages, and the steps
between them as a table, the same in words."""

from __future__ import annotations

import re
from typing import Any

from states.process import Process
from workflow.dashboard.words import process_title
from workflow.diagram_svg import process_svg, transitions

# Below this width a drawing's words get too small to read: its region scrolls sideways instead.
READABLE_WIDTH = 640


def process_context(definition: Process) -> dict[str, Any]:
    drawn = process_svg(definition)
    width = re.search(r'viewBox="0 0 ([\d.]+)', drawn)
    return {
        "title": f"{process_title(definition.label)}: its stages and steps",
        "process": definition,
        "transitions": transitions(definition),
        "diagram": drawn,
        "diagram_width": min(float(width.group(1)) if width else 0, READABLE_WIDTH),
    }
