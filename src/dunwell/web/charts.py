"""Server-rendered SVG geometry for the charts: no JavaScript, colours come from CSS classes.

- The aging: one horizontal stacked bar per currency; each segment's width is its bucket's share
  of the currency's positive total (credit balances, i.e. negative buckets, are left out).
- The KPIs' trends: lines of monthly values on a shared axis from zero (or the lowest value, if
  negative) to a round top; a month without a value (no sales, no AR) is a gap, not a zero.
- The forecast: bars with their interval as a whisker.

Floats here are pixel positions only: the values drawn are days and percentages, or amounts
scaled to the axis; every amount a reader sees as text (a tooltip, a table) is formatted from the
exact integer minor units.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 640
HEIGHT = 28


@dataclass(frozen=True)
class Segment:
    index: int
    label: str
    minor: int
    x: int
    width: int


@dataclass(frozen=True)
class Bar:
    currency: str
    segments: tuple[Segment, ...]
    width: int = WIDTH
    height: int = HEIGHT


def stacked_bar(currency: str, labels: Sequence[str], buckets: Sequence[int]) -> Bar:
    positive = [max(minor, 0) for minor in buckets]
    whole = sum(positive)
    segments: list[Segment] = []
    x = 0
    for index, (label, minor) in enumerate(zip(labels, positive, strict=True)):
        if not minor:
            continue
        # The last drawn segment takes the rounding remainder so the bar always fills the width.
        end = WIDTH if sum(positive[index + 1 :]) == 0 else x + round(WIDTH * minor / whole)
        segments.append(Segment(index, label, buckets[index], x, end - x))
        x = end
    return Bar(currency, tuple(segments))


# -- line charts: a KPI's months -----------------------------------------------------------------

LINE_WIDTH, LINE_HEIGHT = 640, 200
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 12, 10, 24


@dataclass(frozen=True)
class Line:
    index: int  # the CSS class line-{index} gives its colour
    name: str
    points: str  # "x,y x,y ...", the months that have a value (a gap: a new polyline)
    parts: tuple[str, ...]
    dots: tuple[tuple[int, int, str, str], ...]  # x, y, month, value as text


@dataclass(frozen=True)
class Tick:
    y: int
    label: str


@dataclass(frozen=True)
class LineChart:
    title: str
    unit: str
    lines: tuple[Line, ...]
    ticks: tuple[Tick, ...]
    months: tuple[tuple[int, str], ...]  # x, label (every label, the template thins them)
    width: int = LINE_WIDTH
    height: int = LINE_HEIGHT
    left: int = PAD_LEFT
    bottom: int = LINE_HEIGHT - PAD_BOTTOM


def _nice_top(value: float) -> float:
    """A round number at or above `value` for the axis's top: 1, 2, 2.5, 5 x 10^n."""
    if value <= 0:
        return 1.0
    scale = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * scale:
            return float(step * scale)
    return 10.0 * scale


def line_chart(
    title: str,
    unit: str,
    months: Sequence[str],
    series: Sequence[tuple[str, Sequence[Decimal | None]]],
) -> LineChart:
    """Lines of monthly values (None: not defined that month, a gap) from zero up to a round top."""
    values = [float(v) for _, vs in series for v in vs if v is not None]
    low = min([0.0, *values])
    top = _nice_top(max([*values, 0.0]))
    span = (top - low) or 1.0
    plot_w = LINE_WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = LINE_HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / max(len(months) - 1, 1)

    def x(n: int) -> int:
        return round(PAD_LEFT + n * step)

    def y(v: float) -> int:
        return round(PAD_TOP + plot_h * (top - v) / span)

    lines = []
    for index, (name, vs) in enumerate(series):
        parts: list[list[str]] = [[]]
        dots = []
        for n, v in enumerate(vs):
            if v is None:
                if parts[-1]:
                    parts.append([])
                continue
            parts[-1].append(f"{x(n)},{y(float(v))}")
            dots.append((x(n), y(float(v)), months[n], f"{v:.2f}"))
        drawn = tuple(" ".join(p) for p in parts if p)
        lines.append(Line(index, name, " ".join(drawn), drawn, tuple(dots)))
    ticks = tuple(Tick(y(low + span * k / 4), f"{low + span * k / 4:g}") for k in range(5))
    return LineChart(title, unit, tuple(lines), ticks,
                     tuple((x(n), m) for n, m in enumerate(months)))  # fmt: skip


# -- bar charts with an interval: the cash forecast's weeks --------------------------------------


@dataclass(frozen=True)
class IntervalBar:
    x: int
    width: int
    y: int  # the bar's top (the expectation)
    low_y: int
    high_y: int
    label: str
    title: str  # what a pointer shows
    height: int = 0  # from the top to the axis
    mid_x: int = 0  # where the whisker stands


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: tuple[IntervalBar, ...]
    ticks: tuple[Tick, ...]
    width: int = LINE_WIDTH
    height: int = LINE_HEIGHT
    left: int = PAD_LEFT
    bottom: int = LINE_HEIGHT - PAD_BOTTOM


def compact(value: float) -> str:
    """An axis label short enough for its margin: 2.5k, 100k, 1.5M."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:g}"


def interval_bars(
    title: str, bars: Sequence[tuple[str, int, int, int, str]], scale_minor: int = 100
) -> BarChart:
    """Bars of (label, expected, low, high, title) in minor units, drawn in major units from zero
    to a round top, each with its interval as a whisker."""
    top = _nice_top(max([high / scale_minor for _, _, _, high, _ in bars] or [0.0]))
    plot_w = LINE_WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = LINE_HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / max(len(bars), 1)

    def y(minor: int) -> int:
        return round(PAD_TOP + plot_h * (top - minor / scale_minor) / top)

    bottom = LINE_HEIGHT - PAD_BOTTOM
    drawn = []
    for n, (label, expected, low, high, text) in enumerate(bars):
        x, width = round(PAD_LEFT + n * slot + slot * 0.15), max(round(slot * 0.7), 1)
        drawn.append(IntervalBar(x, width, y(expected), y(low), y(high), label, text,
                                 bottom - y(expected), x + width // 2))  # fmt: skip
    ticks = tuple(Tick(y(round(top * scale_minor * k / 4)), compact(top * k / 4))
                  for k in range(5))  # fmt: skip
    return BarChart(title, tuple(drawn), ticks)
