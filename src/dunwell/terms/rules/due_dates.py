"""Due dates, instalments and early-payment discounts from structured payment terms.

Terms are a list of lines, each a share of the gross amount with its own due-date rule, and an
optional early-payment discount. A line's basis is one of (DOMAIN.md 2.1, 2.2):

- ``after_invoice``: the invoice date + N days ("Net 30": 31 Jan 2025 -> 2 Mar 2025). The issue
  date is day 0, the ERP convention: 15 Apr + 60 = 14 Jun.
- ``after_end_of_month``: end of the invoice month + N days ("30 days EOM" as ERPNext and Odoo
  read it: 31 Jan 2025 -> 2 Mar 2025); N = 0 is plain "EOM".
- ``end_of_month_after_months``: the last day of the month M months after the invoice month
  (M = 1: "net monthly account", the UK reading of "30 days end of month": 30 Apr -> 31 May),
  plus N days (Odoo's "days after end of next month"; N = 0 in the UK reading).
- ``day_of_month``: day D of the month M months after the month of the invoice date + N days
  ("21 MFI", "10th prox": D = 21, M = 1, N = 0: 31 Jan -> 21 Feb; Odoo's "30 days, end of month
  on the 10th": D = 10, M = 1, N = 30: 31 Jan + 30 = 2 Mar -> 10 Apr), clamped to the month's
  length.
- ``after_invoice_then_end_of_month``: invoice date + N days, then the end of that month (the
  second French reading of "45 jours fin de mois": 2 Jan + 45 = 16 Feb -> 28 Feb).

A date on a weekend or holiday moves by the terms' business-day adjustment (none by default;
German law moves it to the next working day, BGB § 193). A due date is never before the issue date:
a rule that would give one (the 10th of the invoice month for an invoice of the 20th) gives the
issue date, as ERPNext does, and an adjustment that would move it back past the issue date (EOM
terms, invoice of Saturday 31 May 2025, modified following -> Friday 30 May) moves it forward.

Shares are percentages; a line with no share takes the balance, so the parts always add up to the
gross (rounding by `core.money.split_minor`). "2/10 net 30" is one line ``after_invoice`` 30 with
a discount of 2 % for 10 days: issued 31 Jan 2025, 2 % off until 10 Feb, net due 2 Mar. The
discount date and amount are computed once, at issue, and stored with the invoice: a later change
of terms never changes an issued invoice's discount.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from dunwell.core.dates import Adjustment, add_months, adjust, day_of_month, end_of_month
from dunwell.core.money import round_half_up_integer, split_minor


class Basis(StrEnum):
    AFTER_INVOICE = "after_invoice"
    AFTER_END_OF_MONTH = "after_end_of_month"
    END_OF_MONTH_AFTER_MONTHS = "end_of_month_after_months"
    DAY_OF_MONTH = "day_of_month"
    AFTER_INVOICE_THEN_END_OF_MONTH = "after_invoice_then_end_of_month"


class TermsError(ValueError):
    """Terms that cannot give a due date (a share over 100 %, no line, a day of month of 0)."""


@dataclass(frozen=True, slots=True)
class DueRule:
    basis: Basis
    days: int = 0
    months: int = 0
    day_of_month: int | None = None

    def __post_init__(self) -> None:
        if self.basis is Basis.DAY_OF_MONTH and not 1 <= (self.day_of_month or 0) <= 31:
            raise TermsError("a day-of-month rule needs a day from 1 to 31")
        if self.days < 0 or self.months < 0:
            raise TermsError("days and months after the invoice cannot be negative")

    def due_on(self, issued_on: date) -> date:
        """The unadjusted due date for an invoice issued on `issued_on`."""
        match self.basis:
            case Basis.AFTER_INVOICE:
                return issued_on + timedelta(days=self.days)
            case Basis.AFTER_END_OF_MONTH:
                return end_of_month(issued_on) + timedelta(days=self.days)
            case Basis.END_OF_MONTH_AFTER_MONTHS:
                month_end = end_of_month(add_months(issued_on.replace(day=1), self.months))
                return month_end + timedelta(days=self.days)
            case Basis.DAY_OF_MONTH:
                start = issued_on + timedelta(days=self.days)
                first = add_months(start.replace(day=1), self.months)
                return day_of_month(first.year, first.month, self.day_of_month or 1)
            case Basis.AFTER_INVOICE_THEN_END_OF_MONTH:
                return end_of_month(issued_on + timedelta(days=self.days))


@dataclass(frozen=True, slots=True)
class TermLine:
    rule: DueRule
    share: Decimal | None = None  # percent of the gross; None takes the balance


@dataclass(frozen=True, slots=True)
class Discount:
    percent: Decimal
    days: int

    def __post_init__(self) -> None:
        if not Decimal(0) < self.percent < Decimal(100) or self.days < 0:
            raise TermsError("a discount is a percentage between 0 and 100 for 0 or more days")


@dataclass(frozen=True, slots=True)
class Terms:
    lines: tuple[TermLine, ...]
    discount: Discount | None = None
    adjustment: Adjustment = Adjustment.NONE

    def __post_init__(self) -> None:
        if not self.lines:
            raise TermsError("payment terms need at least one line")
        balance_lines = [line for line in self.lines if line.share is None]
        shares = sum((line.share for line in self.lines if line.share is not None), Decimal(0))
        if len(balance_lines) > 1:
            raise TermsError("only one line may take the balance")
        if shares > 100 or (not balance_lines and shares != 100):
            raise TermsError(f"the shares add up to {shares} %, not 100 %")
        if any(line.share is not None and line.share <= 0 for line in self.lines):
            raise TermsError("every share must be more than 0 %")
        if self.discount and len(self.lines) > 1:
            raise TermsError("an early-payment discount needs terms with a single due date")

    @classmethod
    def net(cls, days: int, adjustment: Adjustment = Adjustment.NONE) -> Terms:
        return cls((TermLine(DueRule(Basis.AFTER_INVOICE, days=days)),), adjustment=adjustment)


class DuePart(NamedTuple):
    due_on: date
    amount_minor: int


@dataclass(frozen=True, slots=True)
class DiscountOffer:
    until: date
    amount_minor: int  # what the customer may deduct when paying by `until`


def schedule(
    terms: Terms, issued_on: date, gross_minor: int, holidays: Container[date] = frozenset()
) -> tuple[DuePart, ...]:
    """Due dates and amounts of an invoice; the amounts add up to `gross_minor` exactly.

    Parts are returned in due-date order (a stable sort keeps the terms' order on equal dates).
    """
    weights = [line.share for line in terms.lines if line.share is not None]
    balance = Decimal(100) - sum(weights, Decimal(0))
    ordered_weights = [line.share if line.share is not None else balance for line in terms.lines]
    amounts = split_minor(gross_minor, ordered_weights)
    parts = [
        DuePart(_line_due_on(line.rule, issued_on, holidays, terms.adjustment), amount)
        for line, amount in zip(terms.lines, amounts, strict=True)
        if amount != 0 or len(terms.lines) == 1
    ]
    return tuple(sorted(parts, key=lambda part: part.due_on))


def due_on(terms: Terms, issued_on: date, holidays: Container[date] = frozenset()) -> date:
    """The final due date (the last instalment's, or the only one)."""
    return max(
        _line_due_on(line.rule, issued_on, holidays, terms.adjustment) for line in terms.lines
    )


def _line_due_on(
    rule: DueRule, issued_on: date, holidays: Container[date], adjustment: Adjustment
) -> date:
    """A line's adjusted due date, never before the issue date (see the module docstring)."""
    unadjusted = max(rule.due_on(issued_on), issued_on)
    adjusted = adjust(unadjusted, holidays, adjustment)
    if adjusted < issued_on:
        return adjust(unadjusted, holidays, Adjustment.FOLLOWING)
    return adjusted


def discount_offer(terms: Terms, issued_on: date, gross_minor: int) -> DiscountOffer | None:
    """The early-payment discount, frozen at issue: the last day to pay and the amount off."""
    if terms.discount is None or gross_minor <= 0:
        return None
    amount = round_half_up_integer(Decimal(gross_minor) * terms.discount.percent / 100)
    return DiscountOffer(issued_on + timedelta(days=terms.discount.days), amount)


def discount_earned(
    offer: DiscountOffer | None, *, paid_on: date, open_after_minor: int, granted_minor: int = 0
) -> int:
    """What of an early-payment discount a payment earns: the rest it leaves open, when the
    money came by the discount's last day and that rest is no more than the discount not yet
    granted; else nothing.

    2/10 net 30 on 10,000.00 issued 1 Mar (2 % off until 11 Mar): 9,800.00 with value date 9 Mar
    leaves 200.00 open, the discount is earned and the invoice settled; the same paid 25 Mar
    earns nothing and 200.00 stays open (a late discount is a case or a waiver, DOMAIN.md 4.5).
    A customer who pays 4,900.00 on 5 Mar and 4,900.00 on 9 Mar earns the 200.00 with the
    second payment.
    """
    if offer is None or paid_on > offer.until or open_after_minor <= 0:
        return 0
    return open_after_minor if open_after_minor <= offer.amount_minor - granted_minor else 0


def annual_cost_of_skipping(discount: Discount, net_days: int) -> tuple[Decimal, Decimal]:
    """What a customer pays, per year, for not taking the discount: (simple, compound).

    2/10 net 30: 0.02 / 0.98 x 365 / 20 = 37.24 % simple, 44.6 % compound (DOMAIN.md 2.3).
    """
    if net_days <= discount.days:
        raise TermsError("the net period must be longer than the discount period")
    d = discount.percent / 100
    rate = d / (1 - d)
    periods = Decimal(365) / (net_days - discount.days)
    simple = rate * periods
    compound = (1 + rate) ** periods - 1
    return simple, compound
