"""The cash forecast's arithmetic: expected receipts per week from each open invoice's predicted
payment date, with an interval (issue 7 point 4).

Each invoice's payment date is known as three quantiles from the prediction (`credit.prediction`):
paid by `low` one time in ten, by `mid` half the time, by `high` nine times in ten. Between them
the distribution function is a straight line; below `low` it rises from 0 as far before `low` as
`mid` is after it, and above `high` it reaches 1 as far after `high` as `high` is after `mid`
(tails as wide as the halves next to them), never before the forecast's first day (no receipt
is expected in the past). An invoice past all its dates is expected in the first week.

The expected receipts of a week are Σ amount x P(paid in the week). Treating invoices as paid
independently (one customer's invoices are not, so the interval is, if anything, too narrow; the
backtest in `dunwell predict backtest` is what to trust), the week's variance is
Σ amount² x p x (1 - p), and the interval is the expectation ± 1.2816 standard deviations: the
central 80 %, as the 10th and 90th percentiles of each invoice. Amounts are minor units; a week's
figures are rounded half up to the minor unit at the end, never the invoices' shares. The shares
are probabilities, reckoned in binary floating point (an expectation is an estimate, not an
amount booked: a float's error, 10^-16 of the amount, is far below the cent it is rounded to), which
keeps a forecast of 100,000 open invoices to a fraction of a second.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

Z_80 = 1.2816  # the standard normal's 90th percentile
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Expected:
    """One open invoice: its amount and its payment date's 10th, 50th and 90th percentiles."""

    amount_minor: int
    low: date
    mid: date
    high: date


def knots(expected: Expected, start: date) -> tuple[tuple[int, float], ...]:
    """The distribution function's corners as (day ordinal, probability), from 0 to 1."""
    low, mid, high = (max(d, start) for d in (expected.low, expected.mid, expected.high))
    mid, high = max(mid, low), max(high, mid, low)
    tail_end = high + max(high - mid, timedelta(days=1))
    tail_start = max(start, low - max(mid - low, timedelta(days=1)))
    return ((tail_start.toordinal(), 0.0), (low.toordinal(), 0.1), (mid.toordinal(), 0.5),
            (high.toordinal(), 0.9), (tail_end.toordinal(), 1.0))  # fmt: skip


def _at(corners: tuple[tuple[int, float], ...], day: int) -> float:
    if day <= corners[0][0]:
        return 0.0
    for (d0, p0), (d1, p1) in pairwise(corners):
        if day <= d1:
            return p1 if d1 == d0 else p0 + (p1 - p0) * (day - d0) / (d1 - d0)
    return 1.0


def cdf(expected: Expected, day: date, start: date) -> float:
    """P(paid before `day`), i.e. by the end of the day before; nothing before `start`."""
    if day <= start:
        return 0.0
    return _at(knots(expected, start), day.toordinal())


@dataclass(frozen=True)
class Week:
    starts: date
    expected_minor: int
    low_minor: int
    high_minor: int


def _minor(value: float) -> int:
    return int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def weekly(invoices: Iterable[Expected], start: date, weeks: int) -> tuple[list[Week], int]:
    """Expected receipts for `weeks` weeks from `start` (a Monday, as the caller chooses), with
    the 80 % interval; and what is expected after the last week."""
    if weeks < 1:
        raise ValueError("a forecast needs at least one week")
    bounds = [start + WEEK * n for n in range(weeks + 1)]
    ordinals = [day.toordinal() for day in bounds]
    means = [0.0] * weeks
    variances = [0.0] * weeks
    later = 0.0
    for invoice in invoices:
        amount = float(invoice.amount_minor)
        corners = knots(invoice, start)
        shares = [_at(corners, day) for day in ordinals]
        for n in range(weeks):
            p = shares[n + 1] - shares[n]
            means[n] += amount * p
            variances[n] += amount * amount * p * (1 - p)
        later += amount * (1 - shares[-1])
    out = []
    for n in range(weeks):
        spread = Z_80 * math.sqrt(variances[n])
        out.append(Week(bounds[n], _minor(means[n]), max(_minor(means[n] - spread), 0),
                        _minor(means[n] + spread)))  # fmt: skip
    return out, _minor(later)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def total(weeks: Sequence[Week]) -> int:
    return sum(w.expected_minor for w in weeks)
