"""The bad-debt reserve by aging bucket (allowance for credit losses; ../shared/DOMAIN.md §3).

A provision matrix: each bucket of days past due (current, 1-30, 31-60, 61-90, 91-120, > 120, the
aging's default buckets) carries a loss rate in percent, and the reserve of a bucket is its
receivables times its rate. The rates are the company's own (historical loss experience and a
forward-looking adjustment, as CECL and IFRS 9's simplified approach ask); the demo's defaults
below are illustrative, never presented as prescribed by any standard.

- The base of a bucket is what customers owe in it: a customer whose credit notes exceed its
  invoices in a bucket owes nothing there (the credit is a liability, not a smaller loss on
  somebody else's invoice), so each customer's bucket counts from zero up. Unapplied cash is
  shown by the aging beside the buckets and is not netted here either.
- A reserve is rounded once per bucket total (currency and rate group), half up to the minor
  unit, so the lines add up to the total shown.
- The roll-forward of a period: opening reserve + charge - amounts written off = closing
  reserve, so the charge to the income statement is closing - opening + written off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

BUCKETS = ("current", "1-30", "31-60", "61-90", "91-120", ">120")
HUNDRED = Decimal(100)


class RatesError(ValueError):
    """Loss rates that cannot be used; the message names the bucket and what was expected."""


@dataclass(frozen=True)
class Rates:
    """A loss rate in percent per bucket, in the order of `BUCKETS`."""

    percents: tuple[Decimal, ...]

    def __post_init__(self) -> None:
        if len(self.percents) != len(BUCKETS):
            raise RatesError(
                f"expected {len(BUCKETS)} rates ({', '.join(BUCKETS)}), got {len(self.percents)}"
            )
        for bucket, rate in zip(BUCKETS, self.percents, strict=True):
            if not Decimal(0) <= rate <= HUNDRED:
                raise RatesError(f"bucket {bucket}: {rate} % is not between 0 and 100")
            if rate.as_tuple().exponent < -3:  # type: ignore[operator]  # finite here
                raise RatesError(f"bucket {bucket}: {rate} % has more than 3 decimals")

    def text(self) -> str:
        return ",".join(format(rate.normalize(), "f") for rate in self.percents)


# The demo's illustrative matrix (DOMAIN.md §3, "Dunwell demo default"): rising with age.
DEMO_RATES = Rates(tuple(Decimal(r) for r in ("0.5", "2", "5", "15", "35", "75")))


def parse_rates(text: str) -> Rates:
    """Rates typed as six percentages, "0.5,2,5,15,35,75" (a "%" after a number is allowed)."""
    parts = [part.strip().removesuffix("%").strip() for part in text.split(",")]
    percents = []
    for bucket, part in zip(BUCKETS, parts, strict=False):
        try:
            rate = Decimal(part)
        except InvalidOperation:
            raise RatesError(f"bucket {bucket}: {part!r} is not a percentage like 2.5") from None
        if not rate.is_finite():
            raise RatesError(f"bucket {bucket}: {part!r} is not a percentage like 2.5")
        percents.append(rate)
    if len(parts) != len(BUCKETS):
        raise RatesError(f"expected {len(BUCKETS)} rates separated by commas "
                         f"({', '.join(BUCKETS)}), got {len(parts)}")  # fmt: skip
    return Rates(tuple(percents))


def owed(buckets: Sequence[int]) -> list[int]:
    """One customer's buckets as reserve bases: what it owes in each, never below zero."""
    return [max(amount, 0) for amount in buckets]


def provision(base_minor: int, percent: Decimal) -> int:
    """`percent` % of `base_minor`, half up to the minor unit."""
    exact = Decimal(base_minor) * percent / HUNDRED
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def reserve_of(bases: Sequence[int], rates: Rates) -> list[int]:
    """The reserve of each bucket for bucket bases (sums of `owed`) in one currency."""
    if len(bases) != len(BUCKETS):
        raise RatesError(f"expected {len(BUCKETS)} buckets, got {len(bases)}")
    return [provision(base, rate) for base, rate in zip(bases, rates.percents, strict=True)]


def share(part_minor: int, whole_minor: int) -> Decimal | None:
    """`part` as a percentage of `whole`, to two decimals (None when there is no whole)."""
    if not whole_minor:
        return None
    return (Decimal(part_minor) * HUNDRED / whole_minor).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(frozen=True)
class RollForward:
    """A period's reserve movement in one currency, in minor units."""

    opening_minor: int
    charge_minor: int
    written_off_minor: int
    closing_minor: int


def roll_forward(opening_minor: int, closing_minor: int, written_off_minor: int) -> RollForward:
    """The charge that takes the opening reserve to the closing one after the write-offs."""
    charge = closing_minor - opening_minor + written_off_minor
    return RollForward(opening_minor, charge, written_off_minor, closing_minor)
