"""A small SVG writer for the annual report's charts: bars and a line against a target.

Pure text out (no browser, no plotting library); every value drawn is also a row of the CSV.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

_W, _H, _PAD = 320, 160, 28


def _svg(body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" role="img" '
            f'width="100%" style="max-width:{_W}px"><title>{escape(title)}</title>'
            + "".join(body) + "</svg>")  # fmt: skip


def bars(title: str, items: Sequence[tuple[str, float]]) -> str:
    """A bar per (label, value), labelled with its value."""
    top = max([value for _, value in items] + [1.0])
    width = (_W - 2 * _PAD) / max(len(items), 1)
    body = []
    for n, (label, value) in enumerate(items):
        height = (_H - 2 * _PAD) * value / top
        x, y = _PAD + n * width, _H - _PAD - height
        body.append(f'<rect x="{x + 4:.1f}" y="{y:.1f}" width="{width - 8:.1f}" '
                    f'height="{height:.1f}" fill="#1f5f99"/>'
                    f'<text x="{x + width / 2:.1f}" y="{y - 4:.1f}" font-size="11" '
                    f'text-anchor="middle">{value:g}</text>'
                    f'<text x="{x + width / 2:.1f}" y="{_H - 10}" font-size="9" '
                    f'text-anchor="middle">{escape(label)}</text>')  # fmt: skip
    return _svg(body, title)


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
