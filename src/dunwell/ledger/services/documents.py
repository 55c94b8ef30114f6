"""Issuing open items: invoices, credit notes, fee and interest charges.

An item's due date comes from the file when it has one, else from its payment terms (the
invoice's, else the customer's, else the company's default). Its payment reference is an ISO 11649
RF creditor reference built from the document number, and an early-payment discount is computed
once, here, and stored with the item (DOMAIN.md 2.3: a later change of terms changes nothing).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.core.money import MoneyError, check_currency
from dunwell.core.references import rf_reference
from dunwell.ledger.models import (
    ActivityKind,
    Customer,
    Instalment,
    ItemKind,
    OpenItem,
    OpenItemLine,
)
from dunwell.ledger.services import activity
from dunwell.terms.models import PaymentTerm
from dunwell.terms.rules import due_dates
from dunwell.terms.services import applicable_term, schedule_for

ISSUED_KIND = {
    ItemKind.INVOICE: ActivityKind.INVOICE_ISSUED,
    ItemKind.CREDIT_NOTE: ActivityKind.CREDIT_NOTE_ISSUED,
    ItemKind.FEE: ActivityKind.FEE_CHARGED,
    ItemKind.INTEREST: ActivityKind.INTEREST_CHARGED,
}


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: Decimal
    unit_price: Decimal
    net_minor: int
    tax_rate: Decimal | None = None


@dataclass(frozen=True)
class ItemInput:
    """What a user, a file or another system says about a document. Amounts are positive."""

    customer: Customer
    number: str
    issued_on: date
    currency: str
    gross_minor: int
    kind: ItemKind = ItemKind.INVOICE
    due_on: date | None = None
    net_minor: int | None = None
    tax_minor: int | None = None
    po_number: str = ""
    payment_reference: str = ""
    payment_term: PaymentTerm | None = None
    related: OpenItem | None = None
    description: str = ""
    source: str = ""
    lines: tuple[LineInput, ...] = field(default_factory=tuple)


def payment_reference_for(number: str) -> str:
    """RF reference from the document number's letters and digits (a hash when it is too long)."""
    base = "".join(c for c in number.upper() if c.isascii() and c.isalnum())
    if not base or len(base) > 21:
        base = str(int(hashlib.sha256(number.encode()).hexdigest(), 16))[:21]
    return rf_reference(base)


@dataclass(frozen=True)
class Planned:
    """An item's computed dates: the due parts (one, or the instalments) and the discount."""

    due_on: date
    parts: tuple[due_dates.DuePart, ...]
    discount: due_dates.DiscountOffer | None
    term: PaymentTerm | None


def plan_dates(company: Company, spec: ItemInput) -> Planned:
    """Due date(s) and discount of a document, or a clear refusal."""
    term = applicable_term(company, spec.payment_term or spec.customer.payment_term)
    if spec.kind is ItemKind.CREDIT_NOTE:
        on = spec.due_on or spec.issued_on
        return Planned(on, (due_dates.DuePart(on, spec.gross_minor),), None, term)
    if term is None and spec.due_on is None:
        raise DunwellError(
            ErrorCode.INVALID,
            f"{spec.number}: no due date given and no payment terms for customer "
            f"{spec.customer.account_number} (nor a company default)",
            field="due_on",
        )
    rule, parts, discount = None, None, None
    if term is not None:
        rule, parts = schedule_for(company, term, spec.issued_on, spec.gross_minor)
        discount = due_dates.discount_offer(rule, spec.issued_on, spec.gross_minor)
    if spec.due_on is not None and (parts is None or len(parts) == 1):
        parts = (due_dates.DuePart(spec.due_on, spec.gross_minor),)
    if parts is None:  # a term or a due date exists, checked above
        raise DunwellError(ErrorCode.INVALID, f"{spec.number}: no due date", field="due_on")
    due_on = max(part.due_on for part in parts)
    if due_on < spec.issued_on:
        raise DunwellError(
            ErrorCode.DUE_BEFORE_ISSUE,
            f"{spec.number}: due date {due_on.isoformat()} is before the issue date "
            f"{spec.issued_on.isoformat()}",
            field="due_on",
        )
    return Planned(due_on, parts, discount, term)


def check_item(spec: ItemInput) -> None:
    try:
        check_currency(spec.currency)
    except MoneyError as exc:
        raise DunwellError(ErrorCode.UNKNOWN_CURRENCY, str(exc), field="currency") from None
    if spec.gross_minor <= 0:
        raise DunwellError(
            ErrorCode.INVALID,
            f"{spec.number}: the amount must be more than zero (a credit note is its own kind)",
            field="amount",
        )
    if not spec.number.strip():
        raise DunwellError(ErrorCode.INVALID, "a document needs a number", field="number")
    if spec.related is not None and spec.related.customer_id != spec.customer.pk:
        raise DunwellError(
            ErrorCode.INVALID, f"{spec.number}: linked to another customer's document"
        )


def build_item(company: Company, spec: ItemInput, actor: User | None) -> OpenItem:
    """An unsaved item with its computed fields (the bulk import path saves many at once)."""
    check_item(spec)
    planned = plan_dates(company, spec)
    sign = -1 if spec.kind is ItemKind.CREDIT_NOTE else 1
    amount = sign * spec.gross_minor
    return OpenItem(
        company=company,
        customer=spec.customer,
        kind=spec.kind,
        number=spec.number.strip(),
        issued_on=spec.issued_on,
        due_on=planned.due_on,
        currency=spec.currency.upper(),
        amount_minor=amount,
        net_minor=None if spec.net_minor is None else sign * spec.net_minor,
        tax_minor=None if spec.tax_minor is None else sign * spec.tax_minor,
        po_number=spec.po_number,
        payment_reference=spec.payment_reference or payment_reference_for(spec.number),
        payment_term=planned.term,
        discount_until=planned.discount.until if planned.discount else None,
        discount_minor=planned.discount.amount_minor if planned.discount else None,
        related=spec.related,
        has_instalments=len(planned.parts) > 1,
        description=spec.description,
        source=spec.source,
        open_minor=amount,
        created_by=activity.stored_actor(actor),
    )


def instalments_of(item: OpenItem, company: Company, spec: ItemInput) -> list[Instalment]:
    if not item.has_instalments:
        return []
    parts = plan_dates(company, spec).parts
    return [
        Instalment(
            company=company, item=item, sequence=i, due_on=p.due_on, amount_minor=p.amount_minor
        )
        for i, p in enumerate(parts, start=1)
    ]


@transaction.atomic
def issue_item(*, company: Company, spec: ItemInput, actor: User | None, at: datetime) -> OpenItem:
    """Create one document with its lines, instalments and history entry."""
    if OpenItem.objects.filter(
        company=company, kind=spec.kind, number=spec.number.strip()
    ).exists():
        raise DunwellError(
            ErrorCode.DUPLICATE,
            f"{ItemKind(spec.kind).label} {spec.number} already exists",
            field="number",
        )
    item = build_item(company, spec, actor)
    item.save()
    Instalment.objects.bulk_create(instalments_of(item, company, spec))
    OpenItemLine.objects.bulk_create(
        OpenItemLine(
            company=company,
            item=item,
            sequence=i,
            description=line.description[:300],
            quantity=line.quantity,
            unit_price=line.unit_price,
            net_minor=line.net_minor,
            tax_rate=line.tax_rate,
        )
        for i, line in enumerate(spec.lines, start=1)
    )
    activity.record(
        company=company,
        kind=ISSUED_KIND[ItemKind(spec.kind)],
        on=item.issued_on,
        at=at,
        actor=actor,
        customer=spec.customer,
        item=item,
        amount_minor=item.amount_minor,
        currency=item.currency,
        summary=f"{item.get_kind_display()} {item.number} issued, due {item.due_on.isoformat()}",
        data={"source": spec.source} if spec.source else None,
    )
    return item
