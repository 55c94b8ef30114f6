"""A customer statement's arithmetic: open items with a running balance and an aging summary.

A statement lists what was open on its date, one section per currency (amounts in different
currencies are never added, DESIGN invariant 1). Within a section the items come oldest due first
(then by number, then by instalment), each with its days overdue and the running balance after it;
cash received but not yet applied follows as credit lines, so that the last running balance is
what the customer owes in that currency. The aging summary buckets the items' open amounts by
days past due with the aging report's buckets (`ledger.rules.aging`); cash on account is shown
beside it, never netted into a bucket, exactly as the aging report does.

Worked example, as of 2026-03-31, EUR: invoice A 1,000.00 due 2026-01-31 with 400.00 paid
(600.00 open, 59 days overdue, "31-60"), credit note B -150.00 due 2026-03-10 (open -150.00, not
overdue, but aged "1-30" like any item, as in the aging report), invoice C 250.00 due 2026-04-15,
and 50.00 of a payment not yet applied. The lines' running balances are 600.00, 450.00, 700.00
and, after the cash line, 650.00; the aging is (250.00, -150.00, 600.00, 0, 0, 0), the items total
700.00, cash on account 50.00 and the balance 650.00.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from dunwell.ledger.rules.aging import DEFAULT_BOUNDS, bucket_index, check_bounds
from dunwell.ledger.rules.open_items import days_past_due

PAYMENT = "payment"  # the kind of a cash-on-account entry


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing open on the statement's date: an item (or one instalment of it), or cash.

    `original_minor` and `open_minor` are signed like the ledger: positive when the customer owes
    it, negative for a credit note or for cash on account (whose `original_minor` is the whole
    payment and `issued_on` the day it was received). `due_on` is None for cash on account.
    """

    kind: str
    number: str
    currency: str
    issued_on: date
    due_on: date | None
    original_minor: int
    open_minor: int
    item_id: int | None = None
    instalment: int | None = None
    reference: str = ""
    national_reference: str = ""  # the national structured reference, compact ("" when none)

    @property
    def is_cash(self) -> bool:
        return self.due_on is None


@dataclass(frozen=True, slots=True)
class Line:
    entry: Entry
    days_overdue: int
    balance_minor: int


@dataclass(frozen=True, slots=True)
class Section:
    """Everything in one currency: the lines, the aging of the items, and the totals."""

    currency: str
    lines: tuple[Line, ...]
    aging: tuple[int, ...]
    unapplied_minor: int  # cash on account, as a positive amount

    @property
    def items_minor(self) -> int:
        return sum(self.aging)

    @property
    def overdue_minor(self) -> int:
        return sum(self.aging[1:])

    @property
    def balance_minor(self) -> int:
        return self.items_minor - self.unapplied_minor


def _order(entry: Entry) -> tuple[int, date, str, int]:
    if entry.due_on is None:
        return (1, entry.issued_on, entry.number, 0)
    return (0, entry.due_on, entry.number, entry.instalment or 0)


def _section(currency: str, entries: list[Entry], as_of: date, bounds: tuple[int, ...]) -> Section:
    aging = [0] * (len(bounds) + 2)
    lines: list[Line] = []
    balance = unapplied = 0
    for entry in sorted(entries, key=_order):
        balance += entry.open_minor
        if entry.due_on is None:
            unapplied -= entry.open_minor
            lines.append(Line(entry, 0, balance))
            continue
        aging[bucket_index((as_of - entry.due_on).days, bounds)] += entry.open_minor
        # Only what the customer owes can be overdue (an unapplied credit note is not late).
        overdue = days_past_due(entry.due_on, as_of) if entry.open_minor > 0 else 0
        lines.append(Line(entry, overdue, balance))
    return Section(currency, tuple(lines), tuple(aging), unapplied)


def sections(
    entries: Iterable[Entry],
    as_of: date,
    bounds: Sequence[int] = DEFAULT_BOUNDS,
    *,
    lead_currency: str = "",
) -> tuple[Section, ...]:
    """One section per currency with something open, `lead_currency` first, then by code.

    Entries with nothing open and entries dated after `as_of` are left out: an item issued later
    did not exist yet, and cash received later had not arrived.
    """
    checked = check_bounds(bounds)
    by_currency: dict[str, list[Entry]] = {}
    for entry in entries:
        if entry.open_minor != 0 and entry.issued_on <= as_of:
            by_currency.setdefault(entry.currency, []).append(entry)
    order = sorted(by_currency, key=lambda code: (code != lead_currency, code))
    return tuple(_section(code, by_currency[code], as_of, checked) for code in order)
