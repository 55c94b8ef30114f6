"""The internal risk score of a customer, 0-100, from its payment behaviour (../shared/DOMAIN.md §6.3).

**Payment index.** Each payment experience of the last 24 months (an invoice paid, or an invoice
still open and past due, counted at its days past due so far, so that a slow payer with nothing
paid yet is not flattered) maps its days beyond terms `d` to points by straight lines between
the anchors of D&B's PAYDEX value chart: 30 days early = 100, 20 early = 90, on time = 80,
15 late = 70, 22 = 60, 30 = 50, 60 = 40, 90 = 30, 120 = 20, 180 or more = 1. The index is the
average of the points weighted by amount (PAYDEX's "dollar weighted"): DOMAIN.md's example of
10,000 paid 5 days late, 5,000 20 days late and 2,000 3 days early scores 73.2.

**The score** is the index, less points for what the index does not see:
- each promise to pay broken in the last 12 months: 5 points, at most 15;
- each dispute opened in the last 12 months: 2 points, at most 6 (a dispute is often the
  seller's doing, so it weighs little);
- a worsening trend, the index of the last 3 months below that of the 6 before by more than
  5 points: the difference beyond 5, at most 10.
It is rounded half up to a whole number and kept within 0-100. Bands as PAYDEX's: 80-100 low risk,
50-79 medium, 0-49 high. Fewer than 3 experiences: no score (PAYDEX asks for 3 too), and the
explanation says so. "Score" here is "the higher, the better payer"; it is named Dunwell's risk
score, not PAYDEX (a D&B trademark).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from itertools import pairwise

# (days beyond terms, points) from early to late; beyond the last, the last's points.
ANCHORS: tuple[tuple[int, int], ...] = (
    (-30, 100), (-20, 90), (0, 80), (15, 70), (22, 60), (30, 50), (60, 40), (90, 30),
    (120, 20), (180, 1),
)  # fmt: skip
MIN_EXPERIENCES = 3
WINDOW_MONTHS = 24
BROKEN_POINTS, BROKEN_CAP = 5, 15
DISPUTE_POINTS, DISPUTE_CAP = 2, 6
TREND_SLACK, TREND_CAP = 5, 10
RECENT_MONTHS, PRIOR_MONTHS = 3, 6


class Band(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


def points(days_beyond: int) -> Decimal:
    """The points of one payment experience `days_beyond` terms (negative: early)."""
    if days_beyond <= ANCHORS[0][0]:
        return Decimal(ANCHORS[0][1])
    for (d0, p0), (d1, p1) in pairwise(ANCHORS):
        if days_beyond <= d1:
            return Decimal(p0) + Decimal(p1 - p0) * Decimal(days_beyond - d0) / Decimal(d1 - d0)
    return Decimal(ANCHORS[-1][1])


@dataclass(frozen=True)
class Experience:
    """An invoice paid on `settled_on` or, when that is None, still open on the as-of date."""

    amount_minor: int
    due_on: date
    settled_on: date | None = None

    def days_beyond(self, as_of: date) -> int:
        return ((self.settled_on or as_of) - self.due_on).days

    def counts(self, as_of: date) -> bool:
        """Paid, or open and already past due (an open invoice not yet due says nothing)."""
        return self.amount_minor > 0 and (self.settled_on is not None or as_of > self.due_on)


def payment_index(experiences: Sequence[Experience], as_of: date) -> Decimal | None:
    """The amount-weighted average of the points (None without an experience that counts)."""
    counted = [e for e in experiences if e.counts(as_of)]
    weight = sum(e.amount_minor for e in counted)
    if not weight:
        return None
    total = sum(
        (Decimal(e.amount_minor) * points(e.days_beyond(as_of)) for e in counted), Decimal(0)
    )
    return total / weight


def days_beyond_terms(experiences: Sequence[Experience], as_of: date) -> Decimal | None:
    """DBT: Σ(amount x days beyond terms) / Σ amount over the experiences that count."""
    counted = [e for e in experiences if e.counts(as_of)]
    weight = sum(e.amount_minor for e in counted)
    if not weight:
        return None
    return Decimal(sum(e.amount_minor * e.days_beyond(as_of) for e in counted)) / weight


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier (the month's last day when it is shorter)."""
    month0 = day.year * 12 + day.month - 1 - months
    year, month = divmod(month0, 12)
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")


@dataclass(frozen=True)
class Behaviour:
    """What the score is computed from, for one customer on `as_of`."""

    as_of: date
    experiences: Sequence[Experience]
    broken_promises: int = 0  # in the last 12 months
    disputes: int = 0  # opened in the last 12 months


@dataclass(frozen=True)
class Score:
    value: int | None
    band: Band | None
    index: Decimal | None
    dbt: Decimal | None
    experiences: int
    components: dict[str, int] = field(default_factory=dict)
    explanation: str = ""


def band_of(value: int) -> Band:
    return Band.LOW if value >= 80 else Band.MEDIUM if value >= 50 else Band.HIGH


def trend_points(behaviour: Behaviour) -> tuple[int, Decimal | None, Decimal | None]:
    """Points off for a worsening trend, with the recent and the prior index."""
    as_of = behaviour.as_of
    recent_start = months_before(as_of, RECENT_MONTHS)
    prior_start = months_before(recent_start, PRIOR_MONTHS)
    paid = [e for e in behaviour.experiences if e.settled_on is not None]
    recent = payment_index([e for e in paid if recent_start < e.settled_on <= as_of], as_of)  # type: ignore[operator]
    prior = payment_index([e for e in paid if prior_start < e.settled_on <= recent_start], as_of)  # type: ignore[operator]
    if recent is None or prior is None:
        return 0, recent, prior
    drop = prior - recent - TREND_SLACK
    off = min(int(drop.to_integral_value(ROUND_HALF_UP)), TREND_CAP) if drop > 0 else 0
    return off, recent, prior


def score(behaviour: Behaviour) -> Score:
    """The customer's score with its components (points) and a one-line explanation."""
    as_of = behaviour.as_of
    since = months_before(as_of, WINDOW_MONTHS)
    window = [e for e in behaviour.experiences
              if e.counts(as_of) and (e.settled_on is None or e.settled_on > since)]  # fmt: skip
    index = payment_index(window, as_of)
    dbt = days_beyond_terms(window, as_of)
    if len(window) < MIN_EXPERIENCES or index is None:
        return Score(None, None, index, dbt, len(window), {},
                     f"no score: {len(window)} payment experience(s) in {WINDOW_MONTHS} months, "
                     f"{MIN_EXPERIENCES} needed")  # fmt: skip
    broken = min(behaviour.broken_promises * BROKEN_POINTS, BROKEN_CAP)
    disputed = min(behaviour.disputes * DISPUTE_POINTS, DISPUTE_CAP)
    trend, recent, prior = trend_points(behaviour)
    base = int(index.to_integral_value(ROUND_HALF_UP))
    value = max(0, min(100, base - broken - disputed - trend))
    components = {"payment_index": base, "broken_promises": -broken, "disputes": -disputed,
                  "trend": -trend}  # fmt: skip
    words = [f"payment index {index:.1f} over {len(window)} invoice(s) (DBT {dbt:.1f} days)"]
    if broken:
        words.append(f"-{broken} for {behaviour.broken_promises} broken promise(s)")
    if disputed:
        words.append(f"-{disputed} for {behaviour.disputes} dispute(s)")
    if trend:
        words.append(f"-{trend} for a worsening trend ({prior:.1f} -> {recent:.1f})")
    band = band_of(value)
    return Score(value, band, index, dbt, len(window), components,
                 f"{value} ({band} risk): " + "; ".join(words))  # fmt: skip
