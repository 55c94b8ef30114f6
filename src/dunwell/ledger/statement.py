"""A customer's statement of account as of a date: the read model behind the HTML and PDF.

The open amounts are reconstructed as of the date from the allocations effective by then (the
same `ledger.queries.open_items` the customer page shows), so a back-dated statement is exact: a
payment applied after the date does not reduce it. An item paid in instalments is listed per open
instalment, each aged by its own due date, as the aging report does. Cash on account is each
payment received by the date, not voided by it, less what had been applied from it by then.

The arithmetic (running balances, aging, totals per currency) is `reports.rules.statement`; this
module only reads, in a fixed handful of queries whatever the number of items.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from dunwell.core.epc_qr import EpcTransfer
from dunwell.core.models import Company
from dunwell.core.payments import company_transfer
from dunwell.ledger.models import Allocation, Customer, Instalment, OpenItem, Payment
from dunwell.ledger.parties import CompanyHeader, Party, billing_party, company_header
from dunwell.ledger.queries import ItemAsOf, open_items
from dunwell.ledger.rules.aging import DEFAULT_BOUNDS, buckets
from dunwell.ledger.rules.statement import PAYMENT, Entry, Section, sections


@dataclass(frozen=True)
class CustomerHeader:
    account_number: str
    party: Party  # the billing address: the parent's when a branch is billed to it
    currency: str


@dataclass(frozen=True)
class Statement:
    as_of: date
    company: CompanyHeader
    customer: CustomerHeader
    bucket_labels: tuple[str, ...]
    sections: tuple[Section, ...]
    # The SEPA transfer of the euro balance, for the EPC QR code (None: no euros owed, or no IBAN)
    transfer: EpcTransfer | None = None

    @property
    def country(self) -> str:
        """The company's country: which national reference scheme the lines are printed in."""
        return self.company.party.country


@dataclass
class _Part:
    sequence: int = 0  # 0: allocated to a due date that has no instalment (never expected)
    original_minor: int = 0
    paid_minor: int = 0


def _instalments(item_ids: list[int], as_of: date) -> dict[int, dict[date, _Part]]:
    """Each instalment's amount and what was allocated to its due date by `as_of`, per item."""
    parts: dict[int, dict[date, _Part]] = defaultdict(dict)
    if not item_ids:
        return parts
    rows = Instalment.objects.filter(item_id__in=item_ids).values_list(
        "item_id", "sequence", "due_on", "amount_minor"
    )
    for item_id, sequence, due_on, amount in rows:
        part = parts[item_id].setdefault(due_on, _Part(sequence))
        part.original_minor += amount
    paid = (
        Allocation.objects.filter(target_id__in=item_ids, effective_on__lte=as_of)
        .values("target_id", "target_due_on")
        .annotate(total=Sum("amount_minor"))
        .values_list("target_id", "target_due_on", "total")
    )
    for item_id, due_on, total in paid:
        parts[item_id].setdefault(due_on, _Part()).paid_minor += total
    return parts


def _entry(
    item: OpenItem, due_on: date, original: int, open_minor: int, instalment: int | None = None
) -> Entry:
    return Entry(item.kind, item.number, item.currency, item.issued_on, due_on, original,
                 open_minor, item.pk, instalment, item.payment_reference,
                 item.national_reference)  # fmt: skip


def _item_entries(rows: list[ItemAsOf], as_of: date) -> list[Entry]:
    """One entry per open item, or per open instalment of an item paid in instalments."""
    parts = _instalments([row.item.pk for row in rows if row.item.has_instalments], as_of)
    entries = []
    for row in rows:
        item = row.item
        if not item.has_instalments:
            entries.append(_entry(item, item.due_on, item.amount_minor, row.open_minor))
            continue
        for due_on, part in parts[item.pk].items():
            open_minor = part.original_minor - part.paid_minor
            entries.append(
                _entry(item, due_on, part.original_minor, open_minor, part.sequence or None)
            )
    return entries


def _cash_entries(company: Company, customer: Customer, as_of: date) -> list[Entry]:
    """Each payment received by `as_of` with something not yet applied on that day."""
    applied = Coalesce(
        Sum("allocations__payment_amount_minor", filter=Q(allocations__effective_on__lte=as_of)),
        0,
    )
    payments = (
        Payment.objects.filter(company=company, customer=customer, value_on__lte=as_of)
        .exclude(settled_on__lte=as_of)  # fully applied by then: nothing on account
        .exclude(voided_on__lte=as_of)
        .annotate(applied=applied)
        .values_list("external_id", "reference", "currency", "value_on", "amount_minor", "applied")
    )
    return [
        Entry(
            PAYMENT,
            external_id,
            currency,
            value_on,
            None,
            -amount,
            -(amount - paid),
            reference=reference,
        )
        for external_id, reference, currency, value_on, amount, paid in payments
        if amount != paid
    ]


def customer_statement(
    customer: Customer, as_of: date, bounds: tuple[int, ...] = DEFAULT_BOUNDS
) -> Statement:
    """What `customer` owed on `as_of`, per currency, with the aging report's buckets."""
    company = customer.company
    entries = _item_entries(open_items(company, customer, as_of), as_of)
    entries += _cash_entries(company, customer, as_of)
    found = sections(entries, as_of, bounds, lead_currency=customer.currency)
    return Statement(
        as_of=as_of,
        company=company_header(company),
        customer=CustomerHeader(
            customer.account_number, billing_party(customer), customer.currency
        ),
        bucket_labels=tuple(b.label for b in buckets(bounds)),
        sections=found,
        transfer=_euro_transfer(company, customer, found),
    )


def _euro_transfer(
    company: Company, customer: Customer, found: tuple[Section, ...]
) -> EpcTransfer | None:
    """The euro balance as a SEPA transfer: the RF reference of each item with something open
    (one item: in the structured field), else the customer number as the text."""
    for section in found:
        if section.currency != "EUR":
            continue
        references = [
            line.entry.reference
            for line in section.lines
            if not line.entry.is_cash and line.entry.open_minor > 0
        ]
        return company_transfer(
            company,
            currency="EUR",
            amount_minor=section.balance_minor,
            references=references,
            text=customer.account_number,
        )
    return None
