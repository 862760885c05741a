"""Charts as accessible SVG, drawn on the server: stacked bars, lines, horizontal bars.

This module does the geometry (scales, ticks, where each bar goes); the templates in
`templates/charts/` write the SVG. Colours are fill/stroke attributes, not CSS, so the
console's Content Security Policy (no inline styles) allows them and the PDF library
draws the same picture. Every chart has a <title> and <desc>, a legend in text, and a
table of its numbers next to it (see `sections`), so nothing is told by colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.web.templating import render

WIDTH = 720
PLOT_HEIGHT = 200
LEFT, RIGHT, TOP, AXIS = 52, 16, 14, 34
LEGEND_ROW = 20
CHAR_WIDTH = 6.6  # average width of a 12px sans-serif character, for laying out text
INK, MUTED, GRID = "#161b26", "#4f5869", "#d5dae3"


@dataclass(frozen=True, slots=True)
class Series:
    key: str
    label: str
    color: str
    values: Sequence[float | None]


@dataclass(frozen=True, slots=True)
class Chart:
    """What to draw: categories along x (label '' = unlabelled tick) and series on them."""

    key: str
    kind: str  # stacked | lines | hbars
    title: str
    description: str
    categories: Sequence[str]
    series: Sequence[Series]
    unit: str = ""
    y_max: float | None = None  # e.g. 100 for a share in per cent
    bar_colors: dict[int, str] = field(default_factory=dict)  # category index -> colour


def nice_max(value: float) -> float:
    """A round number at or above `value` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return 10.0 * power


def axis_top(value: float) -> float:
    """The top of the y axis: four equal, round steps at or above `value`."""
    return 4 * nice_max(value / 4) if value > 0 else 4.0


def _ticks(top: float) -> list[float]:
    return [top * i / 4 for i in range(5)]


def _label(value: float) -> str:
    return f"{value:g}"


def _legend(series: Sequence[Series], y: float) -> tuple[list[dict[str, object]], float]:
    """Legend entries laid out in rows under the plot; returns them and the rows' height."""
    items: list[dict[str, object]] = []
    x, row = float(LEFT), 0
    for one in series:
        width = 18 + len(one.label) * CHAR_WIDTH + 18
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, row = float(LEFT), row + 1
        items.append({"x": x, "y": y + row * LEGEND_ROW, "color": one.color, "label": one.label})
        x += width
    return items, (row + 1) * LEGEND_ROW if series else 0


def _frame(chart: Chart, top: float) -> dict[str, object]:
    plot_bottom = TOP + PLOT_HEIGHT
    ticks = [{"y": plot_bottom - PLOT_HEIGHT * t / top, "label": _label(t)} for t in _ticks(top)]
    count = max(len(chart.categories), 1)
    step = (WIDTH - LEFT - RIGHT) / count
    labels = [
        {"x": LEFT + step * (i + 0.5), "label": label}
        for i, label in enumerate(chart.categories)
        if label
    ]
    legend, legend_height = _legend(chart.series, plot_bottom + AXIS)
    return {
        "chart": chart,
        "width": WIDTH,
        "height": plot_bottom + AXIS + legend_height + 4,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": plot_bottom,
        "ticks": ticks,
        "labels": labels,
        "legend": legend,
        "step": step,
        "colors": {"ink": INK, "muted": MUTED, "grid": GRID},
    }


def _stacked(chart: Chart) -> dict[str, object]:
    totals = [sum(s.values[i] or 0 for s in chart.series) for i in range(len(chart.categories))]
    top = chart.y_max or axis_top(max(totals, default=0))
    frame = _frame(chart, top)
    step = float(frame["step"])  # type: ignore[arg-type]
    width = max(step * 0.7, 1.0)
    bars = []
    for i, category in enumerate(chart.categories):
        base = 0.0
        for one in chart.series:
            value = one.values[i] or 0
            if not value:
                continue
            height = PLOT_HEIGHT * value / top
            y = TOP + PLOT_HEIGHT - PLOT_HEIGHT * (base + value) / top
            bars.append(
                {
                    "x": LEFT + step * i + (step - width) / 2,
                    "y": y,
                    "width": width,
                    "height": height,
                    "color": chart.bar_colors.get(i, one.color),
                    "tip": f"{one.label}, {category or i + 1}: {_label(value)}",
                }
            )
            base += value
    return {**frame, "bars": bars}


def _lines(chart: Chart) -> dict[str, object]:
    values = [v for s in chart.series for v in s.values if v is not None]
    top = chart.y_max or axis_top(max(values, default=0))
    frame = _frame(chart, top)
    step = float(frame["step"])  # type: ignore[arg-type]
    lines = []
    for index, one in enumerate(chart.series):
        points = [
            (LEFT + step * (i + 0.5), TOP + PLOT_HEIGHT - PLOT_HEIGHT * v / top, i, v)
            for i, v in enumerate(one.values)
            if v is not None
        ]
        path = " ".join(
            f"{'M' if n == 0 else 'L'}{x:.1f} {y:.1f}" for n, (x, y, _i, _v) in enumerate(points)
        )
        dots = [
            {"x": x, "y": y, "tip": f"{one.label}, {chart.categories[i] or i + 1}: {_label(v)}"}
            for x, y, i, v in points
        ]
        dash = "6 3" if index % 2 else ""
        lines.append({"series": one, "path": path, "dots": dots, "dash": dash})
    return {**frame, "lines": lines, "dots": len(chart.categories) <= 40}


HBAR_ROW, HBAR_LABEL = 26, 300


def _hbars(chart: Chart) -> dict[str, object]:
    """One bar per category (a reason), the first series' values."""
    values = [v or 0 for v in chart.series[0].values] if chart.series else []
    top = nice_max(max(values, default=0))
    span = WIDTH - RIGHT - HBAR_LABEL - 40
    rows = []
    for i, (label, value) in enumerate(zip(chart.categories, values, strict=True)):
        short = label if len(label) <= 44 else label[:43] + "…"
        rows.append(
            {
                "y": TOP + i * HBAR_ROW,
                "label": short,
                "full": label,
                "value": _label(value),
                "width": span * value / top,
            }
        )
    return {
        "chart": chart,
        "width": WIDTH,
        "height": TOP + max(len(rows), 1) * HBAR_ROW + 8,
        "rows": rows,
        "x0": HBAR_LABEL,
        "color": chart.series[0].color if chart.series else INK,
        "colors": {"ink": INK, "muted": MUTED, "grid": GRID},
    }


_LAYOUT = {"stacked": _stacked, "lines": _lines, "hbars": _hbars}


def svg(chart: Chart) -> str:
    """The chart as an <svg> element (inline in a page, or given to the PDF library)."""
    return render(f"charts/{chart.kind}.svg", **_LAYOUT[chart.kind](chart))
