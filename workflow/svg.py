"""A small SVG writer for the annual report's charts: bars and a line against a target.

Pure text out (no browser, no plotting library); every value drawn is also a row of the CSV.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

_W, _H, _PAD = 320, 160, 28


def _svg(body: list[str], title: str, height: float = _H, width: float = _W) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
            f'role="img" width="100%" style="max-width:{width:g}px">'
            f"<title>{escape(title)}</title>" + "".join(body) + "</svg>")  # fmt: skip


# Bars are drawn across, a row each, with the label on the left: a label as long as
# "Off-Track with Limited Progress" never runs into its neighbour's, at any width.
_BAR_W, _LABEL_W, _ROW = 480, 200, 24


def bars(title: str, items: Sequence[tuple[str, float]]) -> str:
    """A bar per (label, value), one row each, labelled with its value."""
    top = max([value for _, value in items] + [1.0])
    room = _BAR_W - _LABEL_W - 40  # the value's text goes after the bar
    body = []
    for n, (label, value) in enumerate(items):
        y, length = 6 + n * _ROW, room * value / top
        body.append(f'<text x="{_LABEL_W - 8}" y="{y + 15}" font-size="12" '
                    f'text-anchor="end">{escape(label)}</text>'
                    f'<rect x="{_LABEL_W}" y="{y + 3}" width="{length:.1f}" height="{_ROW - 8}" '
                    f'fill="#1f5f99"/>'
                    f'<text x="{_LABEL_W + length + 4:.1f}" y="{y + 15}" '
                    f'font-size="12">{value:g}</text>')  # fmt: skip
    return _svg(body, title, height=12 + len(items) * _ROW, width=_BAR_W)


def trajectory(title: str, points: Sequence[float], target: float | None) -> str:
    """The values in order as a line, and the target as a dashed line."""
    values = list(points) + ([target] if target is not None else [])
    low, high = min([*values, 0.0]), max([*values, 1.0])
    span = (high - low) or 1.0

    def y(value: float) -> float:
        return _H - _PAD - (_H - 2 * _PAD) * (value - low) / span

    step = (_W - 2 * _PAD) / max(len(points) - 1, 1)
    line = " ".join(f"{_PAD + n * step:.1f},{y(v):.1f}" for n, v in enumerate(points))
    body = [f'<polyline points="{line}" fill="none" stroke="#1f5f99" stroke-width="2"/>']
    if target is not None:
        body.append(f'<line x1="{_PAD}" x2="{_W - _PAD}" y1="{y(target):.1f}" '
                    f'y2="{y(target):.1f}" stroke="#8a1c1c" stroke-dasharray="4 3"/>'
                    f'<text x="{_W - _PAD}" y="{y(target) - 4:.1f}" font-size="10" '
                    f'text-anchor="end">target {target:g}</text>')  # fmt: skip
    return _svg(body, title)
