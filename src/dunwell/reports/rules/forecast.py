"""The cash forecast's arithmetic: expected receipts per week from each open invoice's predicted
payment date, with an interval (issue 7 point 4).

Each invoice's payment date is known as three quantiles from the prediction (`credit.prediction`):
paid by `low` one time in ten, by `mid` half the time, by `high` nine times in ten. Between them
the distribution function is a straight line; below `low` it rises from 0 as far before `low` as
`mid` is after it, and above `high` it reaches 1 as far after `high` as `high` is after `mid`
(tails as wide as the halves next to them), never before the forecast's first day (no receipt
is expected in the past). An invoice past all its dates is expected in the first week.

Not every invoice is paid. The predictions learn from paid invoices, so they say when an invoice
is paid if it is; that it is paid at all comes from the company's loss rates (the bad-debt
reserve's, by bucket of days past due: `reports.reserve`). An invoice with a loss rate of q is
paid with probability 1 - q, at the dates its prediction gives; q of it is *doubtful*, forecast
in no week and said apart. So a year-old invoice is not forecast as cash next month because the
model, which never saw one that old paid, puts its date there.

The expected receipts of a week are Σ amount x P(paid in the week). Treating invoices as paid
independently (one customer's invoices are not, so the interval is, if anything, too narrow; the
backtest in `dunwell predict backtest` is what to trust), the week's variance is
Σ amount² x p x (1 - p), and the interval is the expectation ± 1.2816 standard deviations: the
central 80 %, as the 10th and 90th percentiles of each invoice. Amounts are minor units; a week's
figures are rounded half up to the minor unit at the end, never the invoices' shares. All of it
is integer arithmetic: a probability is a whole number of billionths (`ONE`, the distribution
function rounded down to one), so a week's expectation is Σ amount x p billionths of a minor
unit, exact, and the same on every machine; its interval takes the integer square root.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from math import isqrt
from typing import NamedTuple

ONE = 10**9  # a probability of 1, in billionths
Z_80 = (12816, 10000)  # 1.2816, the standard normal's 90th percentile, as a ratio
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Expected:
    """One open invoice: its amount, its payment date's 10th, 50th and 90th percentiles if it is
    paid, and the chance that it is never paid, in billionths (`never_paid`)."""

    amount_minor: int
    low: date
    mid: date
    high: date
    doubtful: int = 0


def never_paid(loss_percent: Decimal) -> int:
    """A loss rate in percent as a probability in billionths, exactly (a percentage to seven
    decimals is whole billionths; `reports.rules.reserve.Rates` holds three)."""
    billionths = loss_percent * ONE / 100
    if billionths != billionths.to_integral_value() or not 0 <= billionths <= ONE:
        raise ValueError(
            f"a loss rate between 0 and 100 % to at most 7 decimals, got {loss_percent}"
        )
    return int(billionths)


def knots(expected: Expected, start: date) -> tuple[tuple[int, int], ...]:
    """The distribution function's corners as (day ordinal, billionths), from 0 to `ONE`."""
    low, mid, high = (max(d, start) for d in (expected.low, expected.mid, expected.high))
    mid, high = max(mid, low), max(high, mid, low)
    tail_end = high + max(high - mid, timedelta(days=1))
    tail_start = max(start, low - max(mid - low, timedelta(days=1)))
    return ((tail_start.toordinal(), 0), (low.toordinal(), ONE // 10),
            (mid.toordinal(), ONE // 2), (high.toordinal(), ONE * 9 // 10),
            (tail_end.toordinal(), ONE))  # fmt: skip


def _at(corners: tuple[tuple[int, int], ...], day: int) -> int:
    if day <= corners[0][0]:
        return 0
    for (d0, p0), (d1, p1) in pairwise(corners):
        if day <= d1:
            return p1 if d1 == d0 else p0 + (p1 - p0) * (day - d0) // (d1 - d0)
    return ONE


def cdf(expected: Expected, day: date, start: date) -> Decimal:
    """P(paid before `day`), i.e. by the end of the day before; nothing before `start`."""
    if day <= start:
        return Decimal(0)
    return Decimal(_at(knots(expected, start), day.toordinal())) / ONE


@dataclass(frozen=True)
class Week:
    starts: date
    expected_minor: int
    low_minor: int
    high_minor: int


def _minor(billionths: int) -> int:
    """Billionths of a minor unit, rounded half up to the minor unit (negative: half away)."""
    sign = -1 if billionths < 0 else 1
    return sign * ((abs(billionths) * 2 + ONE) // (2 * ONE))


class Receipts(NamedTuple):
    """A forecast's weeks, what is expected after the last of them, and what is doubtful (never
    expected, at the loss rates); the three add up to the invoices' amounts, give or take the
    rounding of each figure to the minor unit."""

    weeks: list[Week]
    later_minor: int
    doubtful_minor: int


def weekly(invoices: Iterable[Expected], start: date, weeks: int) -> Receipts:
    """Expected receipts for `weeks` weeks from `start` (a Monday, as the caller chooses), with
    the 80 % interval; what is expected after the last week; what is doubtful."""
    if weeks < 1:
        raise ValueError("a forecast needs at least one week")
    bounds = [start + WEEK * n for n in range(weeks + 1)]
    ordinals = [day.toordinal() for day in bounds]
    means = [0] * weeks  # billionths of a minor unit
    variances = [0] * weeks  # (billionths of a minor unit)²
    later = doubtful = 0
    for invoice in invoices:
        amount, paid = invoice.amount_minor, ONE - invoice.doubtful
        corners = knots(invoice, start)
        shares = [_at(corners, day) * paid // ONE for day in ordinals]
        for n in range(weeks):
            p = shares[n + 1] - shares[n]
            if p:
                means[n] += amount * p
                variances[n] += amount * amount * p * (ONE - p)
        later += amount * (paid - shares[-1])
        doubtful += amount * invoice.doubtful
    out = []
    for n in range(weeks):
        spread = isqrt(variances[n]) * Z_80[0] // Z_80[1]
        out.append(Week(bounds[n], _minor(means[n]), max(_minor(means[n] - spread), 0),
                        _minor(means[n] + spread)))  # fmt: skip
    return Receipts(out, _minor(later), _minor(doubtful))


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def total(weeks: Sequence[Week]) -> int:
    return sum(w.expected_minor for w in weeks)
