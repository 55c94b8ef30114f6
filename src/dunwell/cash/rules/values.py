"""The plain values payment matching takes and returns (no database, no Django).

The service reads a bank line and the open items and customers that could explain it, set-based,
and hands them over as these frozen values; `matching.score` returns ranked `Proposal`s.

Confidence is an integer **per mille** (0 ... 1000): exact, sortable, storable in a small integer
column, and printable as a percentage with one decimal. `Settings.auto_apply_threshold` (900 by
default) uses the same scale.

The money identity every proposal keeps (tested with hypothesis on random lines):

    sum(a.amount_minor for a in allocations) + unapplied_minor == line.amount_minor

and, for each allocation, what it settles on its item never passes the item's open amount:

    settled = a.amount_minor + a.discount_minor + a.charges_minor
    0 < settled <= open_minor            (invoices, fees, interest: open_minor > 0)
    open_minor <= a.amount_minor < 0     (a credit note used up: open_minor < 0, no discount)

`amount_minor` is the payment's cash put on the item (negative for a credit note netted against
invoices), `discount_minor` the early-payment discount granted on it and `charges_minor` the short
payment written off as bank charges. The proposal's `discount_minor` and `charges_minor` are the
sums over its allocations. Worked example (DOMAIN.md 4.5): 9,800.00 received on 9 Mar for a
10,000.00 invoice on 2/10 net 30 of 1 Mar: one allocation of 9,800.00 cash + 200.00 discount;
9,800.00 + 0 unapplied == 9,800.00 received, and 10,000.00 settled == the open amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from dunwell.core.money import Money, check_currency, exponent

KINDS = frozenset({"invoice", "credit_note", "fee", "interest"})
_COMPACT_IBAN = re.compile(r"[\s-]+")


class Document(NamedTuple):
    """A document the payer names in structured remittance (camt RfrdDocInf, an advice row)."""

    number: str
    amount_minor: int | None = None  # what the payer says it remitted for it
    discount_minor: int | None = None  # the discount the payer says it took on it


@dataclass(frozen=True, slots=True)
class Line:
    """One received payment from a bank statement (a camt TxDtls, an MT940 :61:/:86: pair ...)."""

    amount_minor: int  # positive for money received
    currency: str
    value_on: date
    references: tuple[str, ...] = ()  # structured creditor references, as the bank sent them
    text: str = ""  # unstructured remittance and the entry's own text
    payer_name: str = ""
    payer_iban: str = ""
    end_to_end_id: str = ""  # "" when not provided
    documents: tuple[Document, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "currency", check_currency(self.currency))
        object.__setattr__(self, "payer_iban", compact_iban(self.payer_iban))


@dataclass(frozen=True, slots=True)
class Candidate:
    """An open item that could receive the payment (the service retrieved it set-based)."""

    item_id: int
    customer_id: int
    number: str
    currency: str
    open_minor: int  # what is still owed; negative for a credit note not yet used
    due_on: date
    issued_on: date
    kind: str = "invoice"  # invoice, credit_note, fee, interest
    payment_reference: str = ""  # the RF reference printed on the item, compact
    national_reference: str = ""  # OGM / QRR / KID / viite printed on it, compact; "" if none
    discount_minor: int = 0  # early-payment discount available on the open amount
    discount_until: date | None = None  # last value date the discount is available on

    def __post_init__(self) -> None:
        object.__setattr__(self, "currency", check_currency(self.currency))
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, got {self.kind!r}")
        if self.discount_minor < 0 or (self.discount_minor and self.discount_until is None):
            raise ValueError(
                f"item {self.item_id}: discount_minor must be >= 0 and needs discount_until"
            )

    def discount_on(self, value_on: date) -> int:
        """The discount a payment with this value date may take (0 when the window has passed)."""
        if self.open_minor <= 0 or self.discount_until is None or value_on > self.discount_until:
            return 0
        return min(self.discount_minor, self.open_minor)


@dataclass(frozen=True, slots=True)
class Payer:
    """A customer that may have sent the payment, with what identifies it."""

    customer_id: int
    names: tuple[str, ...]  # legal name first, then aliases
    known_ibans: tuple[tuple[str, int], ...] = ()  # (IBAN, times a person confirmed it)
    parent_id: int | None = None  # the parent company that pays for this branch

    def __post_init__(self) -> None:
        ibans = tuple((compact_iban(iban), count) for iban, count in self.known_ibans)
        object.__setattr__(self, "known_ibans", ibans)

    @property
    def display_name(self) -> str:
        return self.names[0] if self.names else f"customer {self.customer_id}"


@dataclass(frozen=True, slots=True)
class Settings:
    """A company's matching policy. Confidences and the margin are per mille."""

    auto_apply_threshold: int = 900
    unique_margin: int = 50  # the best must lead the next different proposal by more than this
    charges_tolerance_minor: int | None = 2_500  # at most this short counts as bank charges ...
    charges_tolerance_percent: Decimal | None = Decimal("0.5")  # ... and at most this % of it
    max_subset_size: int = 5
    max_subset_candidates: int = 30
    name_cutoff: int = 86  # rapidfuzz WRatio (0..100) a payer name must reach to count

    def __post_init__(self) -> None:
        if not 0 < self.auto_apply_threshold <= 1000 or not 0 <= self.unique_margin <= 1000:
            raise ValueError("auto_apply_threshold must be 1..1000 and unique_margin 0..1000")
        percent: object = self.charges_tolerance_percent  # callers may pass anything
        if percent is not None and not (isinstance(percent, Decimal) and 0 <= percent <= 100):
            raise ValueError(f"charges_tolerance_percent must be a Decimal 0..100, got {percent!r}")
        if (self.charges_tolerance_minor or 0) < 0:
            raise ValueError("charges_tolerance_minor must not be negative")
        if self.max_subset_size < 1 or self.max_subset_candidates < 1:
            raise ValueError("max_subset_size and max_subset_candidates must be at least 1")

    def charges_tolerance(self, due_minor: int) -> int:
        """The largest short payment on `due_minor` explained as bank charges: the smaller of the
        absolute and the percentage limits that are set (none set: no tolerance)."""
        limits = []
        if self.charges_tolerance_minor is not None:
            limits.append(self.charges_tolerance_minor)
        if self.charges_tolerance_percent is not None:
            share = Decimal(max(due_minor, 0)) * self.charges_tolerance_percent / 100
            limits.append(int(share))  # rounded down: a tolerance never grows by rounding
        return min(limits) if limits else 0


class Allocation(NamedTuple):
    """What a proposal puts on one item (see the module docstring for the identity)."""

    item_id: int
    amount_minor: int  # cash from the payment; negative for a credit note netted
    discount_minor: int = 0
    charges_minor: int = 0

    @property
    def settled_minor(self) -> int:
        return self.amount_minor + self.discount_minor + self.charges_minor


@dataclass(frozen=True, slots=True)
class Proposal:
    """One way to apply a payment, with the evidence for it in words."""

    customer_id: int  # the customer the payment is recorded on
    allocations: tuple[Allocation, ...]
    unapplied_minor: int  # overpayment left as unapplied cash on the customer
    confidence: int  # per mille
    rule: str  # "reference", "invoice-number", "iban+amount", "subset", ...
    reason: str
    discount_minor: int = field(init=False, default=0)  # the allocations' discounts
    charges_minor: int = field(init=False, default=0)  # the allocations' charges

    def __post_init__(self) -> None:
        if not 0 <= self.confidence <= 1000:
            raise ValueError(f"confidence is per mille (0..1000), got {self.confidence}")
        object.__setattr__(self, "discount_minor", sum(a.discount_minor for a in self.allocations))
        object.__setattr__(self, "charges_minor", sum(a.charges_minor for a in self.allocations))

    @property
    def item_ids(self) -> frozenset[int]:
        return frozenset(a.item_id for a in self.allocations)

    @property
    def applied_minor(self) -> int:
        return sum(a.amount_minor for a in self.allocations)


def compact_iban(iban: str) -> str:
    return _COMPACT_IBAN.sub("", iban).upper()


def show_amount(minor: int, currency: str) -> str:
    """An amount for a reason text, English style: 1,250.00 (no symbol; the line says it)."""
    places = exponent(currency)
    return f"{Money.from_minor(minor, currency).amount:,.{places}f}"


def show_iban(iban: str) -> str:
    """An IBAN shortened for a reason text: DE89…3000."""
    return f"{iban[:4]}…{iban[-4:]}" if len(iban) > 8 else iban
