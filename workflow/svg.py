"""A small SVG writer for the annual report's charts: bars, stacked bars per year and a line
against its targets.

Pure text out (no browser, no plotting library); every value drawn is also a row of the CSV.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import date
from html import escape

_W, _H, _PAD = 320, 160, 28


def _svg(body: list[str], title: str, height: float = _H, width: float = _W,
         desc: str = "") -> str:  # fmt: skip
    described = f"<desc>{escape(desc)}</desc>" if desc else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
            f'role="img" width="100%" style="max-width:{width:g}px">'
            f"<title>{escape(title)}</title>{described}" + "".join(body) + "</svg>")  # fmt: skip


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


# Stacked bars: a fill and a pattern per part, so the parts tell apart without colour too.
_FILLS = (("#2e7d32", ""), ("#f0b429", "hatch"), ("#c62828", "cross"), ("#bdbdbd", "dots"),
          ("#5e35b1", "hatch"), ("#00838f", "cross"))  # fmt: skip
_PATTERNS = {
    "hatch": '<path d="M0 8 L8 0" stroke="#111" stroke-width="1.2"/>',
    "cross": '<path d="M0 0 L8 8 M0 8 L8 0" stroke="#fff" stroke-width="1.2"/>',
    "dots": '<circle cx="4" cy="4" r="1.4" fill="#111"/>',
}
_YEAR_W, _STACK_W = 64, 480


def stacked(title: str, bars_: Sequence[tuple[str, Sequence[tuple[str, float]]]],
            parts: Sequence[str]) -> str:  # fmt: skip
    """A bar across per (label, [(part, value)]), its parts side by side in the order of
    `parts` (each its own fill and pattern), its total after it; a legend of the parts below."""
    key = f"s{zlib.crc32(title.encode()):08x}"  # pattern ids are the page's: one set per chart
    look = {part: _FILLS[n % len(_FILLS)] for n, part in enumerate(parts)}
    top = max([sum(v for _, v in items) for _, items in bars_] + [1.0])
    room = _STACK_W - _YEAR_W - 40
    body = [_defs(key)]
    for n, (label, items) in enumerate(bars_):
        y, x = 6 + n * _ROW, float(_YEAR_W)
        body.append(f'<text x="{_YEAR_W - 6}" y="{y + 15}" font-size="12" '
                    f'text-anchor="end">{escape(label)}</text>')  # fmt: skip
        values = dict(items)
        for part in (p for p in parts if values.get(p)):
            width = room * values[part] / top
            body.append(_segment(key, look[part], x, y, width, f"{label}, {part}", values[part]))
            x += width
        body.append(f'<text x="{x + 4:.1f}" y="{y + 15}" font-size="12">'
                    f"{sum(values.values()):g}</text>")  # fmt: skip
    legend_top = 12 + len(bars_) * _ROW
    for n, part in enumerate(parts):
        y = legend_top + n * 20
        body.append(_swatch(key, look[part], y) + f'<text x="{_YEAR_W + 24}" y="{y + 13}" '
                    f'font-size="12">{escape(part)}</text>')  # fmt: skip
    return _svg(body, title, height=legend_top + len(parts) * 20 + 4, width=_STACK_W)


def _defs(key: str) -> str:
    return (
        "<defs>"
        + "".join(
            f'<pattern id="{key}-{name}" width="8" height="8" patternUnits="userSpaceOnUse">'
            f"{drawn}</pattern>"
            for name, drawn in _PATTERNS.items()
        )
        + "</defs>"
    )


def _fill(key: str, look: tuple[str, str], x: float, y: float, width: float) -> str:
    colour, pattern = look
    rect = f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{_ROW - 8}" '
    over = f'{rect}fill="url(#{key}-{pattern})"/>' if pattern else ""
    return f'{rect}fill="{colour}" stroke="#fff"/>{over}'


def _segment(key: str, look: tuple[str, str], x: float, y: float, width: float, name: str,
             value: float) -> str:  # fmt: skip
    """One part of a bar, its count on a white tag (to read on any fill) when there is room."""
    text, middle = f"{value:g}", x + width / 2
    box = 7 * len(text) + 4
    count = (f'<rect x="{middle - box / 2:.1f}" y="{y + 5}" width="{box}" height="14" rx="2" '
             f'fill="#fff"/><text x="{middle:.1f}" y="{y + 16}" font-size="11" '
             f'text-anchor="middle" fill="#111">{text}</text>'
             if width >= box + 2 else "")  # fmt: skip
    return (
        f"<g><title>{escape(name)}: {value:g}</title>{_fill(key, look, x, y + 3, width)}{count}</g>"
    )


def _swatch(key: str, look: tuple[str, str], y: float) -> str:
    return _fill(key, look, _YEAR_W, y, 18)


# The line chart: room on the left for the value axis, below for the dates, on the right for
# the targets' labels.
_LW, _LH, _LEFT, _RIGHT, _TOP, _BOTTOM = 480, 230, 44, 130, 18, 44


def trajectory(title: str, points: Sequence[float], target: float | None = None, *,
               dates: Sequence[str] | None = None, targets: Sequence[tuple[str, float]] = (),
               baseline: bool = False, unit: str = "") -> str:  # fmt: skip
    """The values in order as a line, each labelled, against its targets as labelled dashed
    lines. With `baseline` the first value is the baseline, marked with a square at the left
    edge; with `dates` (ISO, one per other value) the values stand at their dates, the years
    marked below; `target` alone is drawn as a line labelled "target"."""
    lines = list(targets) or ([("target", target)] if target is not None else [])
    values = [*points, *(v for _, v in lines)] or [0.0]
    # The values' own range, a tenth wider each way: a rate from 87 to 92 is not a flat line.
    pad = (max(values) - min(values)) / 10 or 1.0
    low, high = min(values) - pad, max(values) + pad
    scale = _Scale(low, high, list(dates or []), len(points) - baseline, baseline)
    body = _axes(scale, unit) + _target_lines(scale, lines)
    xy = [(scale.x(n), scale.y(v)) for n, v in enumerate(points)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    body.append(f'<polyline points="{line}" fill="none" stroke="#1f5f99" stroke-width="2"/>')
    for n, ((x, y), value) in enumerate(zip(xy, points, strict=True)):
        first = baseline and n == 0
        mark = (f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="#fff" '
                f'stroke="#1f5f99" stroke-width="2"/>' if first else
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#1f5f99"/>')  # fmt: skip
        body.append(f'{mark}<text x="{x:.1f}" y="{y - 8:.1f}" font-size="11" text-anchor="middle" '
                    f'{_HALO}>{value:g}</text>')  # fmt: skip
    body += _date_labels(scale, dates or [])
    return _svg(body, title, height=_LH, width=_LW, desc=_describe(points, dates, lines, baseline))


_HALO = 'paint-order="stroke" stroke="#fff" stroke-width="3" fill="#111"'


class _Scale:
    """Where a value (y) and the n-th point (x) go: at its date when dated, else evenly."""

    def __init__(self, low: float, high: float, dates: list[str], dated: int,
                 baseline: bool) -> None:  # fmt: skip
        self.low, self.span = low, (high - low) or 1.0
        self.days = [date.fromisoformat(d).toordinal() for d in dates[:dated]]
        self.baseline = baseline
        self.count = dated + baseline
        # A baseline has no date: it stands alone at the left edge, the dates after a gap wide
        # enough that its label and the first date's do not run together.
        self.start = _LEFT + 16 + (64 if baseline and self.days else 0)

    def y(self, value: float) -> float:
        return _LH - _BOTTOM - (_LH - _TOP - _BOTTOM) * (value - self.low) / self.span

    def x(self, n: int) -> float:
        width = _LW - _RIGHT - self.start
        if self.baseline and n == 0:
            return _LEFT + 16.0
        if self.days:
            first, last = self.days[0], self.days[-1]
            return self.start + width * (self.days[n - self.baseline] - first) / (
                (last - first) or 1
            )
        return _LEFT + 16 + (_LW - _RIGHT - _LEFT - 16) * n / max(self.count - 1, 1)


def _axes(scale: _Scale, unit: str) -> list[str]:
    bottom, high = _LH - _BOTTOM, scale.low + scale.span
    body = [
        f'<line x1="{_LEFT}" x2="{_LEFT}" y1="{_TOP}" y2="{bottom}" stroke="#444"/>'
        f'<line x1="{_LEFT}" x2="{_LW - _RIGHT}" y1="{bottom}" y2="{bottom}" stroke="#444"/>'
    ]
    for value in (scale.low, (scale.low + high) / 2, high):
        body.append(f'<text x="{_LEFT - 4}" y="{scale.y(value) + 4:.1f}" font-size="10" '
                    f'text-anchor="end">{value:.4g}</text>')  # fmt: skip
    if unit:
        body.append(f'<text x="4" y="{_TOP - 6}" font-size="10">{escape(unit)}</text>')
    return body


def _target_lines(scale: _Scale, lines: Sequence[tuple[str, float]]) -> list[str]:
    body: list[str] = []
    placed: list[float] = []
    for (label, value), dash in zip(lines, ("6 3", "2 3", "8 2 2 2"), strict=False):
        y = scale.y(value)
        text_y = y + 4
        # Labels of targets close together are pushed apart, away from the one placed.
        for other in placed:
            if abs(text_y - other) < 12:
                text_y = other + (12 if text_y >= other else -12)
        placed.append(text_y)
        body.append(f'<line x1="{_LEFT}" x2="{_LW - _RIGHT + 4}" y1="{y:.1f}" y2="{y:.1f}" '
                    f'stroke="#8a1c1c" stroke-width="1.5" stroke-dasharray="{dash}"/>'
                    f'<text x="{_LW - _RIGHT + 8}" y="{text_y:.1f}" font-size="11" fill="#8a1c1c">'
                    f"{escape(label)} {value:g}</text>")  # fmt: skip
    return body


def _date_labels(scale: _Scale, dates: Sequence[str]) -> list[str]:
    """Each measurement's month below the axis, every other one a line lower so close dates
    do not run into each other."""
    body = []
    if scale.baseline:
        body.append(f'<text x="{scale.x(0):.1f}" y="{_LH - _BOTTOM + 14}" font-size="10" '
                    f'text-anchor="middle">baseline</text>')  # fmt: skip
    for n, on in enumerate(dates[: len(scale.days)]):
        y = _LH - _BOTTOM + 14 + 12 * (n % 2)
        body.append(f'<text x="{scale.x(n + scale.baseline):.1f}" y="{y}" font-size="10" '
                    f'text-anchor="middle">{escape(on[:7])}</text>')  # fmt: skip
    return body


def _describe(points: Sequence[float], dates: Sequence[str] | None,
              lines: Sequence[tuple[str, float]], baseline: bool) -> str:  # fmt: skip
    named = ["baseline"] if baseline else []
    named += list(dates or []) or [f"value {n + 1}" for n in range(len(points) - baseline)]
    said = [f"{name}: {value:g}" for name, value in zip(named, points, strict=False)]
    return "; ".join(said + [f"{label}: {value:g}" for label, value in lines])
