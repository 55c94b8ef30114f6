"""Which open items a payment settles first when the customer did not say: oldest due first.

A customer's own designation (a remittance advice, a structured reference, an invoice number in
the payment's text) always binds first. When there is none, the laws Dunwell's users live under
converge on the oldest debt: German law (BGB § 366(2)) applies a payment first to the debt that is
due, then to the one with less security, then the more burdensome, then the older one; the French
Code civil (art. 1342-10) gives due debts first, then the one the debtor had most interest to pay,
then the oldest; English law leaves it to the debtor, then the creditor, and on a running account
discharges the earliest debit first (Clayton's Case). Security and burden are rarely known to a
ledger, so Dunwell's default is the rule they all end in, and the one customers expect: the
earliest due date first (DOMAIN.md 4.5). Ties go to the earlier issue date, then the lower item id,
so that the plan is the same on every run.

Worked example: a payment of 1,500.00 (150000 minor units) and three open items,
A due 2025-02-28 open 800.00, B due 2025-01-31 open 500.00, C due 2025-03-31 open 400.00:
B takes 500.00, A takes 800.00, C takes the last 200.00 and keeps 200.00 open; nothing is left
unapplied. A payment of 2,000.00 settles all three and leaves 300.00 unapplied (on-account credit,
never written off silently).

Within one item with instalments, `split_over_instalments` applies the same rule to the parts: the
earliest unpaid instalment first, so that the allocation rows carry the instalment's due date.

Costs and interest before principal: where the law says so, a debt's late fees and booked interest
(items of their own, linked to the invoice they arose on) are settled before the invoice itself,
in the order the law gives, and the debt keeps the place of its invoice among the others
(`APPLICATION_ORDER`). Germany, BGB § 367(1): costs, then interest, then principal; the
Netherlands, BW 6:44(1): the same; France, Code civil art. 1343-1: interest before principal (a
fee there is ordered as a debt of its own). Under the EU directive and English law no statute
orders them: each fee and interest item takes its place by its own due date.

Worked example (DOMAIN.md 4.5), Germany: A due 1 Feb, 5,000.00, with interest of 80.00 and costs
of 40.00 booked on it, and B due 1 Mar, 5,000.00; a payment of 3,000.00 without designation goes
to A (the older debt): costs 40.00, interest 80.00, principal 2,880.00; A keeps 2,120.00 open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

# The order a governing law gives a debt's costs ("fee"), interest and principal ("invoice").
APPLICATION_ORDER: dict[str, tuple[str, ...]] = {
    "DE": ("fee", "interest", "invoice"),
    "NL": ("fee", "interest", "invoice"),
    "FR": ("interest", "invoice"),
}


@dataclass(frozen=True, slots=True)
class OpenPart:
    """An open item (or one instalment of it) that a payment could settle; a fee or interest
    item names the invoice it arose on (`debt`)."""

    item_id: int
    due_on: date
    issued_on: date
    open_minor: int
    kind: str = "invoice"
    debt: int | None = None


@dataclass(frozen=True, slots=True)
class Planned:
    """One planned allocation: this much of the payment goes to this item (part due on due_on)."""

    item_id: int
    due_on: date
    amount_minor: int


def _check_amount(amount_minor: int) -> None:
    if amount_minor < 0:
        raise ValueError(f"a payment to allocate cannot be negative, got {amount_minor}")


def plan_oldest_first(
    amount_minor: int, items: Sequence[OpenPart], charges_first: Sequence[str] = ()
) -> tuple[list[Planned], int]:
    """Allocate an amount to the items' positive open amounts, oldest due first.

    Returns the planned allocations in the order they were made and the remainder left
    unapplied; the planned amounts and the remainder add up to `amount_minor`. Items with nothing
    owed (zero or negative open amounts: credit notes, overpaid invoices) are not eligible.
    `charges_first` (an `APPLICATION_ORDER` entry) settles each debt's charges before its
    principal, the debt in its invoice's place.
    """
    _check_amount(amount_minor)
    by_id = {item.item_id: item for item in items}

    def place(item: OpenPart) -> tuple[date, date, int, int]:
        if item.kind not in charges_first:
            return item.due_on, item.issued_on, item.item_id, 0
        debt = by_id.get(item.debt) if item.debt is not None else None
        anchor = debt if debt is not None and debt.kind == "invoice" else item
        return anchor.due_on, anchor.issued_on, anchor.item_id, charges_first.index(item.kind)

    eligible = sorted((item for item in items if item.open_minor > 0), key=place)
    planned: list[Planned] = []
    remaining = amount_minor
    for item in eligible:
        if remaining == 0:
            break
        applied = min(remaining, item.open_minor)
        planned.append(Planned(item.item_id, item.due_on, applied))
        remaining -= applied
    return planned, remaining


def split_over_instalments(
    amount_minor: int, instalments: Sequence[tuple[date, int]]
) -> list[tuple[date, int]]:
    """Apply an amount to one item's still-open instalments, earliest due first.

    `instalments` holds each instalment's `(due_on, open_minor)`; the result holds
    `(due_on, amount_minor)` for each instalment that receives something, in due-date order. The
    amount may not exceed what the instalments still owe: an excess is unapplied cash, which
    `plan_oldest_first` leaves over, not an overpayment of this item.
    """
    _check_amount(amount_minor)
    owed = sum(open_minor for _, open_minor in instalments if open_minor > 0)
    if amount_minor > owed:
        raise ValueError(f"cannot apply {amount_minor} to instalments that owe {owed} in all")
    result: list[tuple[date, int]] = []
    remaining = amount_minor
    for due_on, open_minor in sorted(instalments, key=lambda part: part[0]):
        if remaining == 0:
            break
        if open_minor > 0:
            applied = min(remaining, open_minor)
            result.append((due_on, applied))
            remaining -= applied
    return result
