"""The open items and payers of a batch of bank lines, prepared once for fast look-ups.

Scoring a line must cost well under a millisecond over some fifty candidates, so everything that
does not depend on the line is done here, once per batch: candidate numbers and references are
normalised into dictionaries, payer names into a list rapidfuzz scans in C, IBANs into a map, and
each customer's items are sorted oldest due first. A line then costs a few regular expressions and
dictionary look-ups; only rapidfuzz and the bounded subset search scan lists.

Parent companies: a `Payer` with a `parent_id` is a branch whose invoices its parent may pay, so
the parent's *group* is the parent and its branches; a branch's group is itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from rapidfuzz import process
from rapidfuzz.distance import OSA

from dunwell.cash.rules import confidence as c
from dunwell.cash.rules.amounts import oldest_first
from dunwell.cash.rules.names import normalise_name, similar_names
from dunwell.cash.rules.numbers import NumberKey, Token, number_key
from dunwell.cash.rules.references import Reference, normalise_reference
from dunwell.cash.rules.values import Candidate, Line, Payer, Settings, show_iban

LONG = 6  # a number with this many characters after its prefix is specific enough on its own
SHORTEST = 3  # a bare number shorter than this is never taken for an invoice number
STRONG, OF_PAYER, LABELLED = "strong", "of-payer", "labelled"


@dataclass(frozen=True, slots=True)
class PayerHit:
    """A customer the line may come from, how sure, and the words for it."""

    customer_id: int
    strength: int
    by_iban: bool
    phrase: str


@dataclass(frozen=True, slots=True)
class NumberHit:
    item: Candidate
    kind: str  # strong, of-payer, labelled
    ambiguous: bool  # the token fits more than one item equally well


class Index:
    """Candidates and payers of a batch, normalised once. Build with `prepare`."""

    def __init__(self, candidates: Iterable[Candidate], payers: Iterable[Payer] = ()) -> None:
        items = sorted((i for i in candidates if i.open_minor != 0), key=oldest_first)
        self.items = tuple(items)
        self.by_id = {item.item_id: item for item in items}
        self.payers = {p.customer_id: p for p in payers}
        self._parent = {p.customer_id: p.parent_id for p in self.payers.values() if p.parent_id}
        branches: dict[int, set[int]] = defaultdict(set)
        for branch, parent in self._parent.items():
            branches[parent].add(branch)
        self._branches = {parent: frozenset(ids) for parent, ids in branches.items()}
        self._by_reference: dict[str, list[Candidate]] = defaultdict(list)
        self._by_core: dict[str, list[tuple[Candidate, NumberKey]]] = defaultdict(list)
        self._by_customer: dict[int, list[Candidate]] = defaultdict(list)
        self._by_amount: dict[tuple[str, int], list[Candidate]] = defaultdict(list)
        for item in items:
            self._add(item)
        self.rf_references = [r for r in self._by_reference if r.startswith("RF")]
        self.other_references = [r for r in self._by_reference if not r.startswith("RF")]
        self._by_iban: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for payer in self.payers.values():
            for iban, confirmations in payer.known_ibans:
                self._by_iban[iban].append((payer.customer_id, confirmations))

    @cached_property
    def _names(self) -> Names:
        """The payers' names, normalised on first use (a batch scored with the payer hits found
        by the company's index never needs its own)."""
        return Names(self.payers.values())

    def _add(self, item: Candidate) -> None:
        for reference in (item.payment_reference, item.national_reference):
            compact = normalise_reference(reference)
            if compact and item not in self._by_reference[compact]:
                self._by_reference[compact].append(item)
        key = number_key(item.number)
        self._by_core[key.core or key.prefix].append((item, key))
        self._by_customer[item.customer_id].append(item)
        self._by_amount[item.currency, item.open_minor].append(item)
        if item.discount_minor and item.discount_until:
            net = item.open_minor - min(item.discount_minor, item.open_minor)
            self._by_amount[item.currency, net].append(item)

    # -- references -------------------------------------------------------------------------
    def issued(self, compact: str) -> list[Candidate]:
        return self._by_reference.get(compact, [])

    def near_references(self, reference: Reference) -> list[str]:
        """Issued references one edit (substitution, insertion, deletion, swap) away."""
        pool = self.rf_references if reference.scheme == "rf" else self.other_references
        if len(reference.compact) < 8 or not pool:
            return []
        near = process.extract(reference.compact, pool, scorer=OSA.distance, score_cutoff=1)
        return [issued for issued, distance, _ in near if distance == 1]

    # -- invoice numbers --------------------------------------------------------------------
    def number_hits(self, token: Token, payer_ids: frozenset[int]) -> list[NumberHit]:
        hits = self._classify(token.key, token.labelled, payer_ids)
        if hits or not token.parts:
            return hits
        return [
            hit for part in token.parts for hit in self._classify(part, token.labelled, payer_ids)
        ]

    def _classify(
        self, key: NumberKey, labelled: bool, payer_ids: frozenset[int]
    ) -> list[NumberHit]:
        found: list[tuple[Candidate, str, bool]] = []
        for item, own in self._by_core.get(key.core or key.prefix, ()):
            prefixed = bool(key.prefix) and key.prefix == own.prefix
            if not key.core:
                kind = STRONG if key.prefix == own.prefix and not own.core else ""
            elif (
                prefixed
                or len(key.core) >= LONG
                or (len(key.written) >= LONG and key.written == own.written)
            ):
                kind = STRONG
            elif len(key.core) < SHORTEST:
                kind = ""
            elif item.customer_id in payer_ids:
                kind = OF_PAYER
            else:
                kind = LABELLED if labelled else ""
            if kind:
                found.append((item, kind, prefixed))
        if len(found) > 1 and any(prefixed for _, _, prefixed in found):
            found = [hit for hit in found if hit[2]]  # "INV-123" over "CN-123" for INV 123
        return [NumberHit(item, kind, len(found) > 1) for item, kind, _ in found]

    # -- payers ---------------------------------------------------------------------------
    def payers_of(self, line: Line, settings: Settings) -> list[PayerHit]:
        """Who may have sent the line: by learned IBAN, then by name; strongest first."""
        hits: dict[int, PayerHit] = {}
        owners = self._by_iban.get(line.payer_iban, []) if line.payer_iban else []
        for customer_id, confirmations in owners:
            strength = c.iban_strength(confirmations, shared=len(owners) > 1)
            times = "once" if confirmations == 1 else f"{confirmations} times"
            name = self.name_of(customer_id)
            phrase = f"payer IBAN {show_iban(line.payer_iban)} is {name}'s (confirmed {times})"
            hits[customer_id] = PayerHit(customer_id, strength, True, phrase)
        for customer_id, score, ambiguous in self._by_name(line.payer_name, settings.name_cutoff):
            known = hits.get(customer_id)
            if known is not None:
                strength = min(known.strength + c.NAME_AND_IBAN, c.REFERENCE - 30)
                hits[customer_id] = PayerHit(
                    customer_id, strength, True, known.phrase + " and the payer name agrees"
                )
                continue
            strength = c.name_strength(score) - (c.NAME_AMBIGUOUS if ambiguous else 0)
            phrase = (
                f'payer name "{line.payer_name}" resembles {self.name_of(customer_id)} ({score} %)'
            )
            hits[customer_id] = PayerHit(customer_id, strength, False, phrase)
        return sorted(hits.values(), key=lambda hit: (-hit.strength, hit.customer_id))

    def _by_name(self, name: str, cutoff: int) -> list[tuple[int, int, bool]]:
        """(customer, score, ambiguous) for the names that resemble `name`."""
        if not name or not self.payers:
            return []
        return self._names.resembling(name, cutoff)

    def name_of(self, customer_id: int) -> str:
        payer = self.payers.get(customer_id)
        return payer.display_name if payer else f"customer {customer_id}"

    # -- customers and their items -----------------------------------------------------------
    def group(self, customer_id: int) -> frozenset[int]:
        """The customer and the branches it pays for."""
        return self._branches.get(customer_id, frozenset()) | {customer_id}

    def head(self, customer_id: int) -> int:
        """The customer that pays for this one: its parent, or itself."""
        return self._parent.get(customer_id, customer_id)

    def items_of(self, customer_ids: Iterable[int], currency: str) -> list[Candidate]:
        """Open items of these customers in one currency, oldest due first."""
        items = [
            i
            for cid in customer_ids
            for i in self._by_customer.get(cid, ())
            if i.currency == currency
        ]
        return sorted(items, key=oldest_first)

    def with_amount(self, currency: str, amount: int) -> list[Candidate]:
        """Items whose open amount, or open amount less their discount, equals `amount`."""
        return self._by_amount.get((currency, amount), [])


class Names:
    """Payer names, normalised, and by their words (and a word's first letters, for a typo
    further on), so that a payer name is compared with the few names that share a telling word,
    not with every customer's: 100,000 comparisons a line took 40 ms (benchmarks/RESULTS.md)."""

    def __init__(self, payers: Iterable[Payer]) -> None:
        self.names: list[str] = []
        self.owner: list[int] = []
        for payer in payers:
            for name in payer.names:
                self.names.append(normalise_name(name))
                self.owner.append(payer.customer_id)
        self.by_word: dict[str, list[int]] = defaultdict(list)
        for position, normalised in enumerate(self.names):
            for key in _name_keys(normalised):
                self.by_word[key].append(position)

    def resembling(self, name: str, cutoff: int) -> list[tuple[int, int, bool]]:
        normalised = normalise_name(name)
        positions = self._positions(normalised)
        choices = [self.names[p] for p in positions]
        best: dict[int, int] = {}
        for index, score in similar_names(normalised, choices, cutoff):
            owner = self.owner[positions[index]]
            best[owner] = max(best.get(owner, 0), score)
        top = max(best.values(), default=0)
        close = sum(1 for score in best.values() if score >= top - 5)
        return [(owner, score, close > 1) for owner, score in best.items()]

    def _positions(self, normalised: str) -> list[int]:
        """The names worth comparing with `normalised`: those sharing a word that few names
        have; all of them when there are few names (or no telling word)."""
        if len(self.names) <= FEW_NAMES:
            return list(range(len(self.names)))
        postings = [self.by_word.get(key, []) for key in _name_keys(normalised)]
        telling = [found for found in postings if 0 < len(found) <= TELLING_WORD]
        return sorted({p for found in telling for p in found})


FEW_NAMES = 2_000  # up to this many names, every one is compared
TELLING_WORD = 500  # a word in more names than this ("bau", "handel") narrows nothing
PREFIX = 4  # a word's first letters, also a key, for names whose end is misspelt


def _name_keys(normalised: str) -> set[str]:
    words = [w for w in normalised.split() if len(w) >= 3]
    return set(words) | {f"{w[:PREFIX]}…" for w in words if len(w) > PREFIX}


def prepare(candidates: Iterable[Candidate], payers: Iterable[Payer] = ()) -> Index:
    """An index over a batch's candidates and possible payers (see `Index`)."""
    return Index(candidates, payers)
