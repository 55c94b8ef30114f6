"""Aging: open amounts as of a date, by customer and currency, in buckets of days past due.

This is the reference oracle for the set-based SQL aging in `reports`: a hypothesis test builds
ledgers, runs both, and asserts they agree. It is written for clarity, not speed.

Buckets come from upper bounds in days past due. Bounds (30, 60, 90, 120) give six buckets:
"Current" (not yet past due: due today or later), "1-30", "31-60", "61-90", "91-120" and ">120".
An item is aged by its due date; one issued after the as-of date did not exist yet and is left out;
its open amount is its amount less the allocations effective on or before the as-of date. Amounts
are signed, so an unapplied credit note reduces its bucket. Totals are per currency and never
summed across currencies (DESIGN invariant 1).

Worked example, as of 2025-04-30 with the default bounds: customer 7 has an EUR invoice of
1,000.00 due 2025-03-31, of which 400.00 was paid on 2025-04-10 (60000 minor units open, 30 days
past due: "1-30"), and an EUR invoice of 250.00 due 2025-05-15 (25000 open, "Current"). Its row is
EUR (25000, 60000, 0, 0, 0, 0), and the EUR total is the same. As of 2025-05-20, after the second
payment of 600.00 that day, the first invoice contributes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from types import MappingProxyType

from dunwell.ledger.rules.open_items import open_amount_as_of

DEFAULT_BOUNDS: tuple[int, ...] = (30, 60, 90, 120)


@dataclass(frozen=True, slots=True)
class Bucket:
    """Days past due from `low` to `high` inclusive; None is open-ended (Current has no `low`)."""

    label: str
    low: int | None
    high: int | None


@dataclass(frozen=True, slots=True)
class AgingItem:
    customer_id: int
    currency: str
    due_on: date
    issued_on: date
    amount_minor: int
    allocations: tuple[tuple[date, int], ...] = ()  # (effective_on, amount_minor)


@dataclass(frozen=True, slots=True)
class AgingReport:
    """Bucket totals in minor units, per (customer_id, currency) and per currency."""

    as_of: date
    buckets: tuple[Bucket, ...]
    by_customer: Mapping[tuple[int, str], tuple[int, ...]]
    by_currency: Mapping[str, tuple[int, ...]]


def check_bounds(bounds: Sequence[int]) -> tuple[int, ...]:
    """The bounds as a tuple, or ValueError naming them unless strictly increasing positive ints."""
    values: tuple[object, ...] = tuple(bounds)
    if (
        not values
        or any(not isinstance(b, int) or isinstance(b, bool) or b <= 0 for b in values)
        or any(a >= b for a, b in pairwise(bounds))
    ):
        raise ValueError(
            f"aging bounds must be strictly increasing positive whole days, got {values!r}"
        )
    return tuple(bounds)


def buckets(bounds: Sequence[int] = DEFAULT_BOUNDS) -> tuple[Bucket, ...]:
    """Current, one bucket per bound, then an open-ended one: (30, 60) -> Current, 1-30, 31-60, >60."""
    checked = check_bounds(bounds)
    result = [Bucket("Current", None, 0)]
    low = 1
    for high in checked:
        result.append(Bucket(f"{low}-{high}", low, high))
        low = high + 1
    result.append(Bucket(f">{checked[-1]}", low, None))
    return tuple(result)


def bucket_index(days_past_due: int, bounds: Sequence[int] = DEFAULT_BOUNDS) -> int:
    """0 for Current (days_past_due <= 0), then 1 for the first bound's bucket, and so on."""
    checked = check_bounds(bounds)
    if days_past_due <= 0:
        return 0
    for index, high in enumerate(checked, start=1):
        if days_past_due <= high:
            return index
    return len(checked) + 1


def age(
    items: Iterable[AgingItem], as_of: date, bounds: Sequence[int] = DEFAULT_BOUNDS
) -> AgingReport:
    """Bucket the items' open amounts as of a date (see the module docstring)."""
    checked = check_bounds(bounds)
    width = len(checked) + 2
    by_customer: dict[tuple[int, str], list[int]] = {}
    for item in items:
        if item.issued_on > as_of:
            continue
        open_minor = open_amount_as_of(item.amount_minor, item.allocations, as_of)
        if open_minor == 0:
            continue
        row = by_customer.setdefault((item.customer_id, item.currency), [0] * width)
        row[bucket_index((as_of - item.due_on).days, checked)] += open_minor
    by_currency: dict[str, list[int]] = {}
    for (_, currency), row in by_customer.items():
        totals = by_currency.setdefault(currency, [0] * width)
        for index, amount in enumerate(row):
            totals[index] += amount
    return AgingReport(
        as_of=as_of,
        buckets=buckets(checked),
        by_customer=MappingProxyType({key: tuple(by_customer[key]) for key in sorted(by_customer)}),
        by_currency=MappingProxyType({key: tuple(by_currency[key]) for key in sorted(by_currency)}),
    )
