"""Payment matching: which open items a received payment pays, how sure, and why (DOMAIN.md 4.4).

The service reads a bank line (`Line`), the open items that could explain it (`Candidate`) and
the customers that could have sent it (`Payer`), set-based; `prepare` indexes the candidates and
payers of a batch once; `score` returns the ways to apply one line, best first (`Proposal`), and
`decide` picks the one to apply without a person, or None (the line waits in the review queue).

Evidence is gathered in tiers, strongest first; the numbers are in `confidence`:

1. **Structured references** we issued (RF, OGM, QRR, KID, viite), in the reference field or
   written in the text, compared in compact form; an RF reference must pass its check digit.
   One that fails is compared with the ones we issued and, one edit away, becomes a
   *reference-typo* hint that never auto-applies on its own (`references`).
2. **End-to-end ids** equal to a reference we issued (payment links, our direct debits).
3. **Invoice numbers**: in structured remittance (`documents`, with the amount per document),
   and in the free text in any common spelling (`numbers`); a short bare number counts only
   among the identified payer's items, or after a word like "invoice".
4. **Payer identity** (a learned IBAN, then the name, `names`) **and the amount**: one open item
   of the payer equal to it, else a unique combination of up to `max_subset_size` of the
   payer's oldest `max_subset_candidates` items (subset-sum, bounded; `amounts.subsets`).
5. **Nothing else**: one open item anywhere with exactly the amount, as a low suggestion.

For each set of items the evidence points at, `amounts.fit` says how the amount applies: exact,
net of an early-payment discount in its window, short by bank charges within the tolerance,
partial (oldest due first), or overpaid (the rest unapplied); credit notes are netted. Evidence
that points at customers who are not one group (a parent and its branches) is split by customer
and counts less.

`decide` applies the best proposal only when its confidence reaches the company's threshold and
no *different* proposal comes within `unique_margin` of it: two equal explanations always go to
a person (DOMAIN.md 4.4: "auto-apply only when confidence >= threshold and the allocation is
unique").

Worked example (DOMAIN.md 4.5): 7,250.00 with the text "INV-1001 INV-1004 INV-1007", open
2,500.00 + 3,000.00 + 1,750.00: three invoice numbers with their prefix (950 each), the amount
equals their sum: one proposal, rule "invoice-number", confidence 950, allocations 2,500.00,
3,000.00 and 1,750.00, nothing unapplied; `decide` applies it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from dunwell.cash.rules import confidence as c
from dunwell.cash.rules.amounts import Fit, fit, fit_remitted, oldest_first, subsets
from dunwell.cash.rules.by_payer import from_amount, from_payers
from dunwell.cash.rules.evidence import DESIGNATING_RULES, Evidence, Gathered, describe, named
from dunwell.cash.rules.index import Index, PayerHit, prepare
from dunwell.cash.rules.proposing import SETTLING, Proposer, misfit, ranked, what
from dunwell.cash.rules.values import (
    Allocation,
    Candidate,
    Document,
    Line,
    Payer,
    Proposal,
    Settings,
    show_amount,
)

__all__ = [
    "Allocation",
    "Candidate",
    "Document",
    "Index",
    "Line",
    "Payer",
    "Proposal",
    "Settings",
    "decide",
    "match",
    "prepare",
    "score",
]

DEFAULT_SETTINGS = Settings()
MAX_NAMED_FOR_SUBSETS = 12  # more items named than this: no search for the ones that add up


def score(
    line: Line,
    index: Index,
    settings: Settings = DEFAULT_SETTINGS,
    payers: list[PayerHit] | None = None,
) -> list[Proposal]:
    """The ways to apply `line`, best first (empty: nothing points anywhere). `payers`: who may
    have sent it, when the caller found that already (`Index.payers_of` of the company's index,
    which retrieved the candidates); else the batch's index finds them."""
    if line.amount_minor <= 0:
        return []
    if payers is None:
        payers = index.payers_of(line, settings)
    propose = Proposer(line, index, payers, settings)
    proposals = _from_evidence(Gathered(line, index, payers), propose)
    if not any(p.confidence >= settings.auto_apply_threshold for p in proposals):
        # what the line names already settles it otherwise; the payer's search costs the most
        proposals += from_payers(line, index, payers, propose)
    if not proposals:
        proposals = from_amount(line, index, propose)
    return ranked(proposals)


def match(
    line: Line,
    candidates: Iterable[Candidate],
    payers: Iterable[Payer] = (),
    settings: Settings = DEFAULT_SETTINGS,
) -> list[Proposal]:
    """`score` for a single line (a batch should `prepare` once and `score` each line)."""
    return score(line, prepare(candidates, payers), settings)


def decide(proposals: Sequence[Proposal], settings: Settings = DEFAULT_SETTINGS) -> Proposal | None:
    """The proposal to apply without a person: confident enough and clearly ahead, else None."""
    ranking = sorted(proposals, key=lambda p: -p.confidence)
    if not ranking or ranking[0].confidence < settings.auto_apply_threshold:
        return None
    best = ranking[0]
    for other in ranking[1:]:
        if other.confidence < best.confidence - settings.unique_margin:
            break
        if what(other) != what(best):
            return None
    return best


def _from_evidence(gathered: Gathered, propose: Proposer) -> list[Proposal]:
    """Tiers 1 to 3: the items the line names, per customer group."""
    index = gathered.index
    groups: dict[int, list[Evidence]] = defaultdict(list)
    for evidence in gathered.evidence.values():
        groups[index.head(evidence.item.customer_id)].append(evidence)
    split = c.SPLIT_CUSTOMERS if len(groups) > 1 else 0
    proposals: list[Proposal] = []
    for head, found in groups.items():
        found.sort(key=lambda e: oldest_first(e.item))
        pairs = [(i, d) for i, d in gathered.remitted if index.head(i.customer_id) == head]
        remitted = _remitted(gathered, pairs, found, split, propose) if pairs else None
        proposals += [remitted] if remitted else []
        proposals += _named_items(found, gathered, split, propose, remitted)
    return proposals


def _remitted(
    gathered: Gathered,
    pairs: list[tuple[Candidate, Document]],
    found: list[Evidence],
    split: int,
    propose: Proposer,
) -> Proposal | None:
    """The remittance's own allocation, document by document, where it gives the amounts."""
    line = gathered.line
    remitted = fit_remitted(line.amount_minor, pairs, line.value_on)
    if remitted is None:
        return None
    ids = {item.item_id for item, _ in pairs}
    base = min(e.strength for e in found if e.item.item_id in ids) - split
    listed = ", ".join(
        f"{named(item)} ({_shown(document.amount_minor or 0, item)})" for item, document in pairs
    )
    return propose(
        remitted, base - misfit(remitted, True), "remittance", f"the remittance lists {listed}"
    )


def _named_items(
    found: list[Evidence],
    gathered: Gathered,
    split: int,
    propose: Proposer,
    remitted: Proposal | None,
) -> list[Proposal]:
    """Proposals for the items the evidence names: all of them, with an open credit note of
    theirs, or the ones among them that add up to the payment."""
    line = gathered.line
    items = [e.item for e in found]
    weakest = min(found, key=lambda e: e.strength)
    designated = all(e.rule in DESIGNATING_RULES for e in found)
    agrees = 0 if designated else propose.payer_agrees({i.customer_id for i in items})
    base = weakest.strength - split + agrees
    said = describe(found, gathered)
    whole = fit(line.amount_minor, items, line.value_on, propose.settings)
    proposals: list[Proposal] = []
    if whole is not None and (remitted is None or whole.allocations == remitted.allocations):
        proposals.append(propose(whole, base - misfit(whole, designated), weakest.rule, said))
    if whole is None or whole.kind in SETTLING:
        return proposals
    for credit, netted in _with_credit_notes(items, gathered, propose):
        note = f"{said}; less open {named(credit)}, not named in the payment"
        proposals.append(propose(netted, base - c.DESIGNATED_MISFIT, weakest.rule, note))
    proposals += _adding_up(found, gathered, split, propose)
    return proposals


def _with_credit_notes(
    items: list[Candidate], gathered: Gathered, propose: Proposer
) -> list[tuple[Candidate, Fit]]:
    """Fits that settle the items once an open credit note of their customer is netted."""
    line, named_ids = gathered.line, {item.item_id for item in items}
    owners = {item.customer_id for item in items}
    credits = [
        i for i in gathered.index.items_of(owners, line.currency)
        if i.open_minor < 0 and i.item_id not in named_ids
    ]  # fmt: skip
    fits = []
    for credit in credits[:3]:
        netted = fit(line.amount_minor, [*items, credit], line.value_on, propose.settings)
        if netted is not None and netted.kind in SETTLING:
            fits.append((credit, netted))
    return fits


def _adding_up(
    found: list[Evidence], gathered: Gathered, split: int, propose: Proposer
) -> list[Proposal]:
    """Some of the named items add up to the payment (the rest were named but not paid)."""
    line, settings = gathered.line, propose.settings
    debits = [e for e in found if e.item.open_minor > 0]
    if not 1 < len(debits) <= MAX_NAMED_FOR_SUBSETS:
        return []
    high = line.amount_minor + settings.charges_tolerance(line.amount_minor)
    amounts = [e.item.open_minor for e in debits]
    combos, complete = subsets(amounts, line.amount_minor, high, settings.max_subset_size)
    tie = c.TIE if len(combos) > 1 or not complete else 0
    proposals = []
    for combo in combos:
        chosen = [debits[k] for k in combo]
        part = fit(line.amount_minor, [e.item for e in chosen], line.value_on, settings)
        if part is None or part.kind not in SETTLING:
            continue
        weakest = min(chosen, key=lambda e: e.strength)
        strength = weakest.strength - split - c.SOME_OF_NAMED - tie
        said = (
            f"{describe(chosen, gathered)}; {len(chosen)} of the {len(debits)} items named add up"
        )
        proposals.append(propose(part, strength, weakest.rule, said))
    return proposals


def _shown(minor: int, item: Candidate) -> str:
    return show_amount(minor, item.currency)
