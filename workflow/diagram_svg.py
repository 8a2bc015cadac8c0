"""A process's state machine drawn as an inline SVG, in the words a district reads.

Drawn by pal from the `Process` definition (no script, nothing fetched when a page is opened):
boxes for its stages, a dot where a case starts, a double border on final stages, and an arrow
per way from one stage to another, labelled with what is done. The steps that keep a stage
are summed up on a loop at its right; `transitions` lists every one of them, for the table
beside the picture and the drawing's own description.
"""

from __future__ import annotations

from html import escape

from states.process import EventSpec, Process
from workflow.diagram_layout import (
    LABEL_FONT,
    STATE_FONT,
    Box,
    Edge,
    Graph,
    Label,
    Layout,
    Point,
    layout,
)

_INK, _LINE, _FILL, _FINAL = "#1b1b1b", "#4a5a6a", "#eef3f8", "#e6f0e6"
_START = "(start)"
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"


def transitions(process: Process) -> list[tuple[str, str, str]]:
    """(stage before, what is done, stage after) for each way an event moves or keeps a case,
    in the definition's order; the stage before its start is "(start)"."""
    words = process.state_labels
    rows = []
    for spec in process.events:
        if spec.creates:
            assert spec.dest is not None
            rows.append((_START, spec.label, words[spec.dest]))
            continue
        rows += [(words[s], spec.label, words[_after(spec, s)]) for s in spec.sources]
    return rows


def _after(spec: EventSpec, source: str) -> str:
    """Where `spec` leaves a case it fires on in `source` (where it is, if it records only)."""
    return source if spec.dest is None or source in spec.stays_in else spec.dest


def graph(process: Process) -> Graph:
    """What `process_svg` draws, in words: its stages and the arrows between them."""
    words = process.state_labels
    states = tuple((state, words[state]) for state in process.states)
    arrows: list[tuple[str | None, str, str]] = []
    for spec in process.events:
        if spec.creates:
            assert spec.dest is not None
            arrows.append((None, spec.dest, spec.label))
            continue
        arrows += [(source, _after(spec, source), spec.label) for source in spec.sources]
    return Graph(states, frozenset(process.terminal), tuple(arrows))


def process_layout(process: Process) -> Layout:
    return layout(graph(process))


def process_svg(process: Process) -> str:
    """An inline `<svg>` of `process`'s state machine; the same process gives the same bytes."""
    drawn = process_layout(process)
    marker = "pal-arrow-" + "-".join(process.name.split("_"))
    body = [_defs(marker)]
    body += [_edge(edge, marker) for edge in drawn.edges]
    body += [_box(box) for box in drawn.boxes]
    body += [_label(edge.label) for edge in drawn.edges if edge.label is not None]
    title = f"The stages of {process.label}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {drawn.width:g} {drawn.height:g}" '
        f'role="img" width="100%" style="max-width:{drawn.width:g}px;height:auto" '
        f'font-family="{_FONT}">'
        f"<title>{escape(title)}</title><desc>{escape(_description(process))}</desc>"
        + "".join(body) + "</svg>\n"
    )  # fmt: skip


def _description(process: Process) -> str:
    sentences = [f"It starts when people {action}, at {after}." if before == _START
                 else f"From {before}: {action}, to {after}." if before != after
                 else f"At {before}: {action}, staying there."
                 for before, action, after in transitions(process)]  # fmt: skip
    finals = ", ".join(process.state_labels[s] for s in process.states if s in process.terminal)
    return " ".join([*sentences, f"Final stages: {finals}."])


def _defs(marker: str) -> str:
    return (f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" '
            f'markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{_LINE}"/>'
            f"</marker></defs>")  # fmt: skip


def _edge(edge: Edge, marker: str) -> str:
    dash = ' stroke-dasharray="5 3"' if edge.back else ""
    return (f'<path d="{_path(edge.points, loop=edge.source == edge.dest)}" fill="none" '
            f'stroke="{_LINE}" stroke-width="1.4"{dash} marker-end="url(#{marker})"/>')


def _path(points: tuple[Point, ...], loop: bool) -> str:
    """Straight runs down a rank, and a smooth S between ranks (where the x changes)."""
    (x0, y0), rest = points[0], points[1:]
    parts = [f"M{x0:g},{y0:g}"]
    last = points[0]
    for x, y in rest:
        if loop or x == last[0]:
            parts.append(f"L{x:g},{y:g}")
        else:
            middle = round((last[1] + y) / 2, 1)
            parts.append(f"C{last[0]:g},{middle:g} {x:g},{middle:g} {x:g},{y:g}")
        last = (x, y)
    return " ".join(parts)


def _box(box: Box) -> str:
    r = box.rect
    if box.key is None:
        return (f'<circle cx="{r.x + r.w / 2:g}" cy="{r.y + r.h / 2:g}" r="{r.w / 2:g}" '
                f'fill="{_INK}"/>')
    fill = _FINAL if box.final else _FILL
    shape = (f'<rect x="{r.x:g}" y="{r.y:g}" width="{r.w:g}" height="{r.h:g}" rx="9" '
             f'fill="{fill}" stroke="{_INK}" stroke-width="1.3"/>')  # fmt: skip
    if box.final:
        shape += (f'<rect x="{r.x + 3.5:g}" y="{r.y + 3.5:g}" width="{r.w - 7:g}" '
                  f'height="{r.h - 7:g}" rx="6" fill="none" stroke="{_INK}" stroke-width="1"/>')
    return shape + _text(box.lines, r.x + r.w / 2, r.y + r.h / 2, STATE_FONT, "middle")


def _label(label: Label) -> str:
    r = label.rect
    return _text(label.lines, r.x, r.y + r.h / 2, LABEL_FONT, "start", halo=True)


def _text(lines: tuple[str, ...], x: float, middle: float, size: float, anchor: str,
          halo: bool = False) -> str:
    """Lines centred on `middle`, each a tspan; a white halo keeps a label legible over a line."""
    step = size * 1.3
    first = middle - step * (len(lines) - 1) / 2 + size * 0.35
    spans = "".join(f'<tspan x="{x:g}" y="{first + n * step:.1f}">{escape(line)}</tspan>'
                    for n, line in enumerate(lines))  # fmt: skip
    extra = ' stroke="#fff" stroke-width="3" paint-order="stroke"' if halo else ""
    return (f'<text font-size="{size:g}" text-anchor="{anchor}" fill="{_INK}"{extra}>'
            f"{spans}</text>")
