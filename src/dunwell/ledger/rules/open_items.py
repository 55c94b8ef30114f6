"""An open item's open amount, status and settlement date as of a business date.

An open item (invoice, credit note, fee or interest charge) has a signed gross amount; every
reduction is a dated allocation (payment, credit note applied, discount, write-off), and undoing one
is a new allocation with the opposite sign. Nothing is kept in counters: the open amount on any day
is the amount less the allocations effective on or before that day, so a back-dated question
("what was open at the end of April?") has an exact answer (DESIGN invariant 2).

Worked example: an invoice of 1,000.00 (100000 minor units) due 2025-03-31, paid 400.00 on
2025-04-10 and 600.00 on 2025-05-20.

- As of 2025-04-30 the open amount is 100000 - 40000 = 60000: the item is OVERDUE, 30 days past
  due, and partly paid.
- As of 2025-05-20 it is 0: PAID, and `settled_on` is 2025-05-20.
- A reversal of the second payment on 2025-06-01 (an allocation of -60000) reopens it: its open
  amount is 60000 again from that day, and `settled_on` is None - it is not settled for good.

An item due today is not overdue: it becomes overdue the day after its due date, and
`days_past_due` counts from there (as of the day after the due date it is 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from enum import StrEnum


class ItemStatus(StrEnum):
    """One status for every kind of item; PAID means settled (a credit note fully applied too)."""

    OPEN = "open"
    OVERDUE = "overdue"
    PAID = "paid"
    VOID = "void"


def item_status(*, open_minor: int, due_on: date, as_of: date, voided: bool = False) -> ItemStatus:
    """The status as of a date, from the item's open amount on that date.

    Only an amount the customer owes can be overdue: an unapplied credit note or an overpaid
    invoice (a negative open amount) stays OPEN whatever its date.
    """
    if voided:
        return ItemStatus.VOID
    if open_minor == 0:
        return ItemStatus.PAID
    if open_minor > 0 and as_of > due_on:
        return ItemStatus.OVERDUE
    return ItemStatus.OPEN


def is_partly_paid(amount_minor: int, open_minor: int) -> bool:
    """Something, but not all, of the item has been settled (an overpaid item is not partly paid)."""
    if amount_minor > 0:
        return 0 < open_minor < amount_minor
    return amount_minor < open_minor < 0


def days_past_due(due_on: date, as_of: date) -> int:
    """Calendar days since the due date; 0 on the due date and before it."""
    return max(0, (as_of - due_on).days)


def open_amount_as_of(
    amount_minor: int, allocations: Iterable[tuple[date, int]], as_of: date
) -> int:
    """The amount less the allocations `(effective_on, amount_minor)` effective on or before as_of."""
    return amount_minor - sum(amount for on, amount in allocations if on <= as_of)


def settled_on(amount_minor: int, allocations: Sequence[tuple[date, int]]) -> date | None:
    """The day from which the open amount is zero for good, or None if it is open at the end.

    Allocations on one day count together. A reversal that reopens the item moves the answer to the
    day it was settled again, or to None if it was not. An item that was never open (zero amount,
    nothing allocated, or allocations that cancel out on the same day) has nothing to settle: None.
    """
    by_day: dict[date, int] = {}
    for on, amount in allocations:
        by_day[on] = by_day.get(on, 0) + amount
    open_minor = amount_minor
    settled: date | None = None
    for on in sorted(by_day):
        was_open = open_minor != 0
        open_minor -= by_day[on]
        if open_minor != 0:
            settled = None
        elif was_open:
            settled = on
    return settled if open_minor == 0 else None
