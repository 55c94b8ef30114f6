"""Contractual late fees charged at a dunning step: fixed, or a share of the overdue amount with a
floor and a cap (DOMAIN.md 1.9; the statutory fixed compensation is in `interest`).

A fee of 2 % with a minimum of EUR 5.00 and a maximum of EUR 50.00: on EUR 100.00 overdue it is
EUR 5.00 (2.00 is under the floor), on EUR 1,000.00 it is EUR 20.00, on EUR 10,000.00 EUR 50.00.
A fixed part and a share add up before the floor and cap apply; shares round half-up to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from dunwell.core.money import round_half_up_integer


class FeeError(ValueError):
    """A fee that cannot be charged as defined (a negative part, a cap under the floor)."""


@dataclass(frozen=True)
class LateFee:
    fixed_minor: int = 0
    percent: Decimal | None = None  # of the overdue amount
    minimum_minor: int = 0
    maximum_minor: int | None = None

    def __post_init__(self) -> None:
        if self.fixed_minor < 0 or self.minimum_minor < 0 or (self.percent or 0) < 0:
            raise FeeError("a late fee's parts cannot be negative")
        if self.maximum_minor is not None and self.maximum_minor < self.minimum_minor:
            raise FeeError("a late fee's maximum cannot be under its minimum")
        if not self.fixed_minor and not self.percent and not self.minimum_minor:
            raise FeeError("a late fee needs a fixed amount, a percentage or a minimum")

    def charge(self, overdue_minor: int) -> int:
        """The fee on `overdue_minor` (nothing when nothing is overdue)."""
        if overdue_minor <= 0:
            return 0
        share = 0
        if self.percent:
            share = round_half_up_integer(Decimal(overdue_minor) * self.percent / 100)
        fee = max(self.fixed_minor + share, self.minimum_minor)
        if self.maximum_minor is not None:
            fee = min(fee, self.maximum_minor)
        return fee
