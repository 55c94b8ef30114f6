"""Server-rendered SVG geometry for the aging chart: no JavaScript, colours come from CSS classes.

One horizontal stacked bar per currency; each segment's width is its bucket's share of the
currency's positive total (credit balances, i.e. negative buckets, are left out of the bar).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
