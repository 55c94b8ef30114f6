"""Turning a fit and its evidence into a `Proposal`: confidence, customer, reason; ranking.

The confidence is the evidence's strength less what the amount leaves unexplained (`misfit`),
clamped to 0..1000; a rule in `confidence.REVIEW_ONLY` is capped one below the company's
threshold, so it never auto-applies on its own. The customer is the identified payer when the
items are its own or its branches', else their owner. Proposals that apply the payment the same
way are one proposal (the most confident), and the list is ranked by confidence, then by the
tier of the rule, then by item ids, so that the order is the same on every run.
"""

from __future__ import annotations

from dunwell.cash.rules import confidence as c
from dunwell.cash.rules.amounts import CHARGES, DISCOUNT, EXACT, Fit
from dunwell.cash.rules.index import Index, PayerHit
from dunwell.cash.rules.values import Allocation, Line, Proposal, Settings

SETTLING = frozenset({EXACT, DISCOUNT, CHARGES})
RULE_ORDER = {
    rule: rank
    for rank, rule in enumerate(
        ("reference", "end-to-end", "remittance", "invoice-number", "iban+amount",
         "reference-typo", "invoice-number-ocr", "name+amount", "subset", "payer", "amount")
    )
}  # fmt: skip


class Proposer:
    """Builds the proposals of one line."""

    def __init__(
        self, line: Line, index: Index, payers: list[PayerHit], settings: Settings
    ) -> None:
        self.line, self.index, self.payers, self.settings = line, index, payers, settings

    def __call__(self, found: Fit, strength: int, rule: str, said: str) -> Proposal:
        confidence = max(0, min(strength, 1000))
        if rule in c.REVIEW_ONLY:
            confidence = min(confidence, self.settings.auto_apply_threshold - 1)
        owners = {self.index.by_id[a.item_id].customer_id for a in found.allocations}
        return Proposal(
            customer_id=self.customer(owners),
            allocations=found.allocations,
            unapplied_minor=found.unapplied_minor,
            confidence=confidence,
            rule=rule,
            reason=f"{said}; {found.note}" if said else found.note,
        )

    def customer(self, owners: set[int]) -> int:
        """The payer when the items are its own or its branches', else the items' owner (their
        parent when they belong to several branches)."""
        for hit in self.payers:
            if owners <= self.index.group(hit.customer_id):
                return hit.customer_id
        return next(iter(owners)) if len(owners) == 1 else self.index.head(min(owners))

    def payer_agrees(self, customer_ids: set[int]) -> int:
        """The bonus when an IBAN-identified payer owns all these items."""
        for hit in self.payers:
            if hit.by_iban and customer_ids <= self.index.group(hit.customer_id):
                return c.PAYER_AGREES
        return 0


def misfit(found: Fit, designated: bool) -> int:
    """What an amount that does not settle the items costs in confidence."""
    if found.kind in (EXACT, DISCOUNT):
        return 0
    if found.kind == CHARGES:
        return c.CHARGES
    return c.DESIGNATED_MISFIT if designated else c.MISFIT


def what(proposal: Proposal) -> tuple[int, tuple[Allocation, ...], int]:
    """What a proposal does to the ledger: two proposals with the same are the same."""
    return proposal.customer_id, proposal.allocations, proposal.unapplied_minor


def ranked(proposals: list[Proposal]) -> list[Proposal]:
    best: dict[tuple[int, tuple[Allocation, ...], int], Proposal] = {}
    for proposal in proposals:
        key = what(proposal)
        if key not in best or proposal.confidence > best[key].confidence:
            best[key] = proposal
    return sorted(
        best.values(),
        key=lambda p: (-p.confidence, RULE_ORDER.get(p.rule, len(RULE_ORDER)), sorted(p.item_ids)),
    )
