"""Does an amount pay these open items, and how exactly? (DOMAIN.md 2.3, 4.5)

`fit` answers for a set of items (the ones a reference, an invoice number or the payer pointed
at), in this order:

1. **exact**: the amount equals what the items owe; open credit notes among them are netted
   (invoice 10,000.00 less credit note 2,000.00 is paid by 8,000.00);
2. **overpaid**: more than they owe; every item is settled and the rest is unapplied cash;
3. **discount**: the amount equals what they owe less the early-payment discounts still
   available on the value date (a payer may also take less than the whole discount);
4. **charges**: short by no more than the bank-charges tolerance (`Settings.charges_tolerance`:
   the smaller of an absolute amount and a percentage), which is written off as charges;
5. **discount and charges**: the discounted amount, short within the tolerance;
6. **partial**: less than that; credit notes are used up first, then the cash goes to the
   oldest due item first (`ledger.rules.allocation_order`), and the rest stays open. A discount
   is never granted on a partial payment; where the amount equals the discounted total after
   the window closed, the reason says so (the discount was taken late).

Worked examples (DOMAIN.md 4.5): 10,000.00 on 2/10 net 30 dated 1 Mar, so the discount of 200.00
runs until 11 Mar: 9,800.00 with value date 9 Mar -> discount, 9,800.00 cash + 200.00 discount
settle it; 9,800.00 on 25 Mar -> partial, 200.00 stays open (discount taken late); 9,985.00 ->
charges of 15.00 (tolerance: the smaller of 25.00 and 0.5 % = 50.00).

`subsets` is the bounded subset-sum behind "a combination of the customer's open items adds up
to the payment": at most `max_size` items, a depth-first search over the amounts sorted largest
first that cuts a branch as soon as it overshoots or cannot reach the target any more, and a
budget of visited nodes so that a pathological account costs a bounded time (the result then
says it is not exhaustive and the matcher treats it as ambiguous).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from dunwell.cash.rules.values import Allocation, Candidate, Document, Settings, show_amount
from dunwell.ledger.rules.allocation_order import OpenPart, plan_oldest_first

EXACT, OVERPAID, DISCOUNT, CHARGES, PARTIAL = "exact", "overpaid", "discount", "charges", "partial"
SEARCH_BUDGET = 4_000  # nodes visited by one subset search


@dataclass(frozen=True, slots=True)
class Fit:
    """How an amount applies to a set of items: allocations, the rest, and what to say."""

    kind: str  # exact, overpaid, discount, charges, partial
    allocations: tuple[Allocation, ...]
    unapplied_minor: int
    note: str  # the amount half of the reason


def oldest_first(item: Candidate) -> tuple[date, date, int]:
    return item.due_on, item.issued_on, item.item_id


def fit(  # noqa: PLR0911 - one return per case of the list in the module docstring
    amount: int, items: Sequence[Candidate], value_on: date, settings: Settings
) -> Fit | None:
    """How `amount` (> 0) applies to `items` (one currency); None when they owe nothing."""
    items = sorted(items, key=oldest_first)
    due = sum(item.open_minor for item in items)
    if due <= 0 or not any(item.open_minor > 0 for item in items):
        return None
    available = {item.item_id: item.discount_on(value_on) for item in items}
    net = due - sum(available.values())
    tolerance = settings.charges_tolerance(due)
    if amount == due:
        return Fit(EXACT, _settle(items), 0, f"{_cur(amount, items)} equals {_owed(items)}")
    if amount > due:
        extra = _cur(amount - due, items)
        note = f"{_cur(amount, items)} is {extra} more than {_owed(items)}: {extra} left unapplied"
        return Fit(OVERPAID, _settle(items), amount - due, note)
    if net < due and amount >= net and (amount == net or due - amount > tolerance):
        return _discount_fit(amount, items, due - amount, value_on)
    if due - amount <= tolerance:
        return _charges_fit(amount, items, {}, due - amount, tolerance)
    if net < due and net - amount <= settings.charges_tolerance(net):
        return _charges_fit(amount, items, available, net - amount, settings.charges_tolerance(net))
    return _partial_fit(amount, items, due, value_on)


def fit_remitted(
    amount: int, pairs: Sequence[tuple[Candidate, Document]], value_on: date
) -> Fit | None:
    """Apply `amount` as the remittance says, document by document; None when the remittance
    gives no amount for one of them or names more than was paid."""
    allocations: list[Allocation] = []
    still_open = 0
    for item, document in pairs:
        if document.amount_minor is None or document.amount_minor == 0:
            return None
        if item.open_minor < 0:  # a credit note the payer deducted, whatever sign it wrote
            allocations.append(
                Allocation(item.item_id, -min(abs(document.amount_minor), -item.open_minor))
            )
            continue
        cash = min(document.amount_minor, item.open_minor)
        if cash <= 0:
            return None
        discount = min(
            document.discount_minor or 0, item.discount_on(value_on), item.open_minor - cash
        )
        allocations.append(Allocation(item.item_id, cash, max(discount, 0)))
        still_open += item.open_minor - cash - max(discount, 0)
    paid = sum(a.amount_minor for a in allocations)
    if not 0 < paid <= amount:
        return None
    items = [item for item, _ in pairs]
    kind = OVERPAID if paid < amount else PARTIAL if still_open else EXACT
    note = f"{_cur(paid, items)} applied as the remittance says"
    if still_open:
        note += f", {_cur(still_open, items)} stays open"
    if paid < amount:
        note += f", {_cur(amount - paid, items)} left unapplied"
    return Fit(kind, tuple(allocations), amount - paid, note)


def subsets(
    amounts: Sequence[int], low: int, high: int, max_size: int, limit: int = 3
) -> tuple[list[tuple[int, ...]], bool]:
    """Index tuples of up to `max_size` positive `amounts` whose sum lies in [low, high]: at most
    `limit` of them, and whether the search was exhaustive (within its budget)."""
    order = sorted(range(len(amounts)), key=lambda i: -amounts[i])
    values = [amounts[i] for i in order]
    best = [0]  # best[k]: sum of the k largest from a position, via prefix sums
    for value in values:
        best.append(best[-1] + value)
    found: list[tuple[int, ...]] = []
    visits = 0

    def search(start: int, slots: int, total: int, chosen: tuple[int, ...]) -> bool:
        nonlocal visits
        for j in range(start, len(values)):
            if total + best[min(len(values), j + slots)] - best[j] < low:
                return True  # even the largest remaining cannot reach it: smaller ones neither
            visits += 1
            if visits > SEARCH_BUDGET:
                return False
            reached = total + values[j]
            if reached > high:
                continue
            if reached >= low:
                found.append(tuple(sorted(order[i] for i in (*chosen, j))))
                if len(found) >= limit:
                    return False
            elif slots > 1 and not search(j + 1, slots - 1, reached, (*chosen, j)):
                return False
        return True

    exhaustive = search(0, max_size, 0, ()) if amounts else True
    return found, exhaustive and len(found) < limit


def _settle(items: Sequence[Candidate]) -> tuple[Allocation, ...]:
    return tuple(Allocation(item.item_id, item.open_minor) for item in items)


def _discount_fit(amount: int, items: Sequence[Candidate], discount: int, value_on: date) -> Fit:
    allocations, left = [], discount
    for item in items:
        granted = min(left, item.discount_on(value_on))
        left -= granted
        allocations.append(Allocation(item.item_id, item.open_minor - granted, granted))
    until = min(i.discount_until for i in items if i.discount_until and i.discount_on(value_on))
    note = (
        f"{_cur(amount, items)} is {_owed(items)} less the early-payment discount of "
        f"{_cur(discount, items)}, available until {until.isoformat()} "
        f"(value date {value_on.isoformat()})"
    )
    return Fit(DISCOUNT, tuple(allocations), 0, note)


def _charges_fit(
    amount: int, items: Sequence[Candidate], discounts: dict[int, int], charges: int, tolerance: int
) -> Fit:
    """Settle every item (less its discount) and write `charges` off, newest item first."""
    cash = {item.item_id: item.open_minor - discounts.get(item.item_id, 0) for item in items}
    written = dict.fromkeys(cash, 0)
    left = charges
    for item in reversed(items):
        if item.open_minor > 0 and left:
            written[item.item_id] = min(left, cash[item.item_id])
            cash[item.item_id] -= written[item.item_id]
            left -= written[item.item_id]
    allocations = tuple(
        Allocation(i.item_id, cash[i.item_id], discounts.get(i.item_id, 0), written[i.item_id])
        for i in items
    )
    owed = _owed(items)
    if any(discounts.values()):
        owed += f" less the early-payment discount of {_cur(sum(discounts.values()), items)}"
    note = (
        f"{_cur(amount, items)} is {_cur(charges, items)} short of {owed}: within the "
        f"bank-charges tolerance of {_cur(tolerance, items)}, written off as bank charges"
    )
    return Fit(CHARGES, allocations, 0, note)


def _partial_fit(amount: int, items: Sequence[Candidate], due: int, value_on: date) -> Fit:
    credits = [item for item in items if item.open_minor < 0]
    pool = amount - sum(item.open_minor for item in credits)
    parts = [OpenPart(i.item_id, i.due_on, i.issued_on, i.open_minor) for i in items]
    planned, _ = plan_oldest_first(pool, parts)
    allocations = _settle(credits) + tuple(Allocation(p.item_id, p.amount_minor) for p in planned)
    note = (
        f"partial payment: {_cur(amount, items)} of {_cur(due, items)} owed, oldest due first; "
        f"{_cur(due - amount, items)} stays open"
    )
    late = [i.discount_until for i in items if i.discount_until and i.discount_until < value_on]
    missed = sum(min(i.discount_minor, i.open_minor) for i in items if i.discount_until in late)
    if late and missed and amount == due - missed:
        note += (
            f" (the early-payment discount of {_cur(missed, items)} was available until "
            f"{max(late).isoformat()}; value date {value_on.isoformat()} is after it)"
        )
    return Fit(PARTIAL, allocations, 0, note)


def _cur(minor: int, items: Sequence[Candidate]) -> str:
    return show_amount(minor, items[0].currency)


def _owed(items: Sequence[Candidate]) -> str:
    """What the items owe, in words: "the open amount of INV-17 (1,250.00)", or a sum."""
    if len(items) == 1:
        item = items[0]
        return f"the open amount of {item.number} ({_cur(item.open_minor, items)})"
    debits = [i for i in items if i.open_minor > 0]
    credits = [i for i in items if i.open_minor < 0]
    said = " + ".join(f"{i.number} ({_cur(i.open_minor, items)})" for i in debits)
    for credit in credits:
        said += f" less credit note {credit.number} ({_cur(-credit.open_minor, items)})"
    return f"the open amounts of {said}"
