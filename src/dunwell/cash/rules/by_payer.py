"""Tiers 4 and 5 of DOMAIN.md 4.4: the payer is known (or not), and the amount must say the rest.

For each customer the line may come from (by learned IBAN, then by name), strongest first:

1. one open item the amount settles alone (exactly, net of a discount in its window, or short
   by bank charges): "iban+amount" / "name+amount"; two or more such items are a tie;
2. else a combination of the customer's items: subset-sum over its oldest
   `max_subset_candidates` open items, at most `max_subset_size` of them, also with the
   discounts taken or with one open credit note netted: "subset", always for review;
3. else the amount applied oldest due first, as a suggestion: "payer".

Nobody identified, nothing named: an open item anywhere with exactly the amount is a low
suggestion ("amount"), never more.

Worked example: Bauer KG's IBAN (confirmed 3 times, 935) pays 4,250.00; its open items are
2,500.00, 3,000.00 and 1,750.00; no single one is 4,250.00, but 2,500.00 + 1,750.00 is, and no
other combination: one "subset" proposal at 935 - 60 = 875, for a person to confirm.
"""

from __future__ import annotations

from dunwell.cash.rules import confidence as c
from dunwell.cash.rules.amounts import CHARGES, Fit, fit, oldest_first, subsets
from dunwell.cash.rules.index import Index, PayerHit
from dunwell.cash.rules.proposing import SETTLING, Proposer
from dunwell.cash.rules.values import Allocation, Candidate, Line, Proposal, Settings

MAX_PAYERS = 3  # a name that resembles more customers than this identifies nobody
MAX_CREDIT_NOTES = 3  # credit notes tried for netting, oldest first


def from_payers(
    line: Line, index: Index, payers: list[PayerHit], propose: Proposer
) -> list[Proposal]:
    proposals: list[Proposal] = []
    for hit in payers[:MAX_PAYERS]:
        items = index.items_of(index.group(hit.customer_id), line.currency)
        if items:
            proposals += _for_payer(line, hit, items, propose)
    return proposals


def _for_payer(
    line: Line, hit: PayerHit, items: list[Candidate], propose: Proposer
) -> list[Proposal]:
    rule = "iban+amount" if hit.by_iban else "name+amount"
    singles = [f for i in items if (f := alone(line, i, propose.settings)) is not None]
    if singles:
        tie = c.TIE if len(singles) > 1 else 0
        return [
            propose(single, hit.strength - tie - (c.CHARGES if single.kind == CHARGES else 0),
                    rule, hit.phrase)
            for single in singles[:3]
        ]  # fmt: skip
    combos, complete = combinations(line, items, propose.settings)
    if combos:
        tie = c.TIE if len(combos) > 1 or not complete else 0
        return [
            propose(combo, hit.strength - c.SUBSET - tie, "subset",
                    f"{hit.phrase}; a combination of {len(combo.allocations)} of its open items")
            for combo in combos
        ]  # fmt: skip
    rest = fit(line.amount_minor, items, line.value_on, propose.settings)
    if rest is None:
        return []
    note = f"{hit.phrase}; the amount fits no open item or combination, so oldest due first"
    return [propose(rest, hit.strength - c.PAYER_OLDEST, "payer", note)]


def from_amount(line: Line, index: Index, propose: Proposer) -> list[Proposal]:
    """Tier 5: nothing identifies the payment, but an open item has exactly its amount."""
    fits = [
        found
        for item in index.with_amount(line.currency, line.amount_minor)
        if (found := alone(line, item, propose.settings)) is not None
    ]
    strength = c.AMOUNT_ONLY if len(fits) == 1 else c.AMOUNT_ONLY_TIED
    return [propose(f, strength, "amount", "nothing else identifies the payment") for f in fits[:3]]


def alone(line: Line, item: Candidate, settings: Settings) -> Fit | None:
    """The fit of `item` alone when the amount settles it (a cheap test first)."""
    amount, owed = line.amount_minor, item.open_minor
    if owed <= 0 or amount > owed:
        return None
    if amount < owed - item.discount_on(line.value_on) - settings.charges_tolerance(owed):
        return None
    found = fit(amount, [item], line.value_on, settings)
    return found if found is not None and found.kind in SETTLING else None


def combinations(line: Line, items: list[Candidate], settings: Settings) -> tuple[list[Fit], bool]:
    """Up to three combinations of two or more of `items` that the amount settles, oldest
    first, and whether the search was exhaustive (see `amounts.subsets`)."""
    amount, on, size = line.amount_minor, line.value_on, settings.max_subset_size
    debits = [i for i in items if i.open_minor > 0][: settings.max_subset_candidates]
    full = [i.open_minor for i in debits]
    searches: list[tuple[list[int], int, int, int, list[Candidate]]] = [
        (full, amount, amount + settings.charges_tolerance(amount), size, [])
    ]
    if any(i.discount_on(on) for i in debits):
        net = [i.open_minor - i.discount_on(on) for i in debits]
        searches.append((net, amount, amount, size, []))
    for credit in [i for i in items if i.open_minor < 0][:MAX_CREDIT_NOTES]:
        target = amount - credit.open_minor
        searches.append((full, target, target, size - 1, [credit]))
    fits: dict[tuple[Allocation, ...], Fit] = {}
    complete = True
    for amounts, low, high, most, extra in searches:
        if most < 1 or len(fits) >= 3 or not complete:
            continue  # already a tie: more combinations would not change the verdict
        combos, exhaustive = subsets(amounts, low, high, most)
        complete = exhaustive  # an earlier incomplete search skips the rest
        for combo in combos:
            found = fit(amount, [*(debits[k] for k in combo), *extra], on, settings)
            if found is not None and found.kind in SETTLING and len(found.allocations) > 1:
                fits.setdefault(found.allocations, found)
    by_id = {item.item_id: item for item in items}

    def age(found: Fit) -> list[tuple[object, ...]]:
        return sorted(oldest_first(by_id[a.item_id]) for a in found.allocations)

    return sorted(fits.values(), key=age)[:3], complete
