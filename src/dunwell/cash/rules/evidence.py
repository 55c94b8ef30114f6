"""What a bank line itself says about the items it pays: tiers 1 to 3 of DOMAIN.md 4.4.

`gather` reads, in this order, the structured reference field, the end-to-end id, references
written in the text, the structured remittance (referred documents) and the invoice numbers in
the text, and keeps for each open item the strongest `Evidence` that points at it, with its
strength from `confidence` and the words for the reason. What the reference field or the
end-to-end id hold that is not a reference we issued is read for invoice numbers too (payers put
invoice numbers there). Items in another currency than the line's are never kept.

Worked example: references ("RF18 5390 0754 7034",) and the text "also INV-17": the reference
names 2024-0815 (990, "reference"), the text names INV-17 (950, "invoice-number").
"""

from __future__ import annotations

from dataclasses import dataclass

from dunwell.cash.rules import confidence as c
from dunwell.cash.rules.index import OF_PAYER, STRONG, Index, NumberHit, PayerHit
from dunwell.cash.rules.numbers import Token, blank, number_key, numbers_in_text
from dunwell.cash.rules.references import Reference, parse_reference, references_in_text
from dunwell.cash.rules.values import Candidate, Document, Line
from dunwell.core.references import format_rf

KIND_WORDS = {
    "invoice": "invoice",
    "credit_note": "credit note",
    "fee": "fee",
    "interest": "interest charge",
}
DESIGNATING_RULES = frozenset({"reference", "end-to-end", "remittance"})  # the payer said which
IN_TEXT = "text"
# How a reason names a scheme; core.references' parser may add schemes ("ogm", "kid", ...).
LABELS = {
    "rf": "RF reference",
    "ogm": "OGM reference",
    "qrr": "QR reference",
    "kid": "KID",
}  # Evidence.source of an invoice number read in the payment text


@dataclass(frozen=True, slots=True)
class Evidence:
    item: Candidate
    strength: int
    rule: str  # the proposal rule this evidence makes: "reference", "invoice-number", ...
    phrase: str  # a clause of the reason; for a number in the text, how it was written
    source: str = ""  # IN_TEXT for invoice numbers in the text (their phrases are listed)
    of_payer: bool = False  # a short number taken because the item is the payer's
    ocr: bool = False


def named(item: Candidate) -> str:
    return f"{KIND_WORDS[item.kind]} {item.number}"


def describe(found: list[Evidence], gathered: Gathered) -> str:
    """The evidence half of a reason: each reference, then the invoice numbers as one list, and
    who the payer is where a short number counted because the item is the payer's."""
    clauses = [e.phrase for e in found if e.source != IN_TEXT]
    numbers = [e for e in found if e.source == IN_TEXT]
    if numbers:
        clause = f"the payment text names {_listing([e.phrase for e in numbers])}"
        if any(e.ocr for e in numbers):
            clause += " (read with O as 0 and I or l as 1)"
        owners = {e.item.customer_id for e in numbers if e.of_payer}
        clauses += [
            h.phrase for h in gathered.payers if owners & gathered.index.group(h.customer_id)
        ]
        clauses.append(clause)
    return "; ".join(clauses)


class Gathered:
    """The evidence of one line (see the module docstring)."""

    def __init__(self, line: Line, index: Index, payers: list[PayerHit]) -> None:
        self.line, self.index, self.payers = line, index, payers
        self.payer_strength: dict[int, int] = {}
        for hit in payers:
            for customer_id in index.group(hit.customer_id):
                self.payer_strength.setdefault(customer_id, hit.strength)
        self.payer_ids = frozenset(self.payer_strength)
        self.evidence: dict[int, Evidence] = {}
        self.remitted: list[tuple[Candidate, Document]] = []
        leftovers = [r for r in line.references if not self._structured(r)]
        if line.end_to_end_id and not self._end_to_end(line.end_to_end_id):
            leftovers.append(line.end_to_end_id)
        upper = line.text.upper()
        spans = []
        for found in references_in_text(upper):
            spans.append(found.span)
            for reading in found.readings:  # the valid reading, or the cuts, longest first
                if self._reference(reading, "text"):
                    break
        for document in line.documents:
            self._document(document)
        text = " ".join([blank(upper, spans), *(r.upper() for r in leftovers)])
        for token in numbers_in_text(text):
            if len(token.key.written) >= 4 and not token.ocr:  # a KID or viite written as is
                self._reference(Reference(token.key.written, "other", None), "text")
            for number in index.number_hits(token, self.payer_ids):
                self._number(token, number)

    def _add(self, evidence: Evidence) -> None:
        if evidence.item.currency != self.line.currency:
            return  # never allocated across currencies: conversion is the service's, dated
        known = self.evidence.get(evidence.item.item_id)
        if known is None or evidence.strength > known.strength:
            self.evidence[evidence.item.item_id] = evidence

    def _structured(self, raw: str) -> bool:
        reference = parse_reference(raw)
        return reference is not None and self._reference(reference, "structured")

    def _reference(self, reference: Reference, where: str) -> bool:
        """Note the items a reference names; True when it is one we issued, exactly. One that
        fails its check digit, or one in the reference field with no check known here that
        matches nothing, is compared with the issued ones as a possible typo."""
        label = LABELS.get(reference.scheme, "reference")
        broken = reference.valid is False
        items = [] if broken else self.index.issued(reference.compact)
        for item in items:
            phrase = f"{label} {reference.shown()} matches {named(item)}"
            self._add(Evidence(item, c.REFERENCE, "reference", phrase))
        if not items and (broken or (reference.valid is None and where == "structured")):
            self._typo(reference, label)
        return bool(items)

    def _typo(self, reference: Reference, label: str) -> None:
        fails = " fails its check digit and" if reference.valid is False else ""
        for issued in self.index.near_references(reference):
            shown = format_rf(issued) if reference.scheme == "rf" else issued
            for item in self.index.issued(issued):
                phrase = (
                    f"{label} {reference.compact}{fails} is one character off {shown} of "
                    f"{named(item)} ({label} with a typo)"
                )
                self._add(Evidence(item, c.TYPO, "reference-typo", phrase))

    def _end_to_end(self, end_to_end_id: str) -> bool:
        reference = parse_reference(end_to_end_id)
        items = self.index.issued(reference.compact) if reference else []
        for item in items:
            phrase = f"end-to-end id {end_to_end_id} is the one issued for {named(item)}"
            self._add(Evidence(item, c.REFERENCE, "end-to-end", phrase))
        return bool(items)

    def _document(self, document: Document) -> None:
        token = Token(number_key(document.number), document.number, labelled=True)
        hits = self.index.number_hits(token, self.payer_ids)
        if len(hits) != 1 or hits[0].item.currency != self.line.currency:
            return  # a document that fits several items, or none, allocates nothing
        hit = hits[0]
        strength = c.REMITTANCE if hit.kind == STRONG else self._number_strength(hit)
        phrase = f"the remittance lists {named(hit.item)}"
        self._add(Evidence(hit.item, strength, "remittance", phrase))
        if all(item.item_id != hit.item.item_id for item, _ in self.remitted):
            self.remitted.append((hit.item, document))

    def _number(self, token: Token, hit: NumberHit) -> None:
        strength, rule = self._number_strength(hit), "invoice-number"
        written = "".join(token.text.split()) != "".join(hit.item.number.upper().split())
        phrase = named(hit.item) + (f' ("{token.text}")' if written else "")
        if token.ocr:
            strength, rule = min(strength, c.OCR), "invoice-number-ocr"
        self._add(
            Evidence(hit.item, strength, rule, phrase, IN_TEXT, hit.kind == OF_PAYER, token.ocr)
        )

    def _number_strength(self, hit: NumberHit) -> int:
        if hit.kind == STRONG:
            return c.NUMBER_AMBIGUOUS if hit.ambiguous else c.NUMBER
        tie = c.TIE if hit.ambiguous else 0
        if hit.kind == OF_PAYER:
            return min(c.NUMBER_OF_PAYER, self.payer_strength[hit.item.customer_id]) - tie
        return c.NUMBER_LABELLED - tie


def gather(line: Line, index: Index, payers: list[PayerHit]) -> Gathered:
    return Gathered(line, index, payers)


def _listing(words: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
