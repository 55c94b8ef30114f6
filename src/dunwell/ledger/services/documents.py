"""Issuing open items: invoices, credit notes, fee and interest charges.

An item's due date comes from the file when it has one, else from its payment terms (the
invoice's, else the customer's, else the company's default). Its payment reference is an ISO 11649
RF creditor reference built from the document number; a company in Belgium, Switzerland (with a
QR-IBAN), Norway or Finland also gives every item but a credit note its national structured
reference, built from the number too (`core.references`), so the ORM path and a bulk import give
the same document the same references. A reference given with the document is kept when it is
valid, and refused when it claims a scheme and fails its check (`core.payments.given_reference`).
An early-payment discount is computed once, here, and stored with the item (DOMAIN.md 2.3: a
later change of terms changes nothing).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.core.document_numbers import lookup_key
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.i18n import english
from dunwell.core.models import Company
from dunwell.core.money import MoneyError, check_currency
from dunwell.core.payments import given_reference, issued_national
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
from dunwell.terms.services import Scheduler

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


class ItemInput(NamedTuple):
    """What a user, a file or another system says about a document. Amounts are positive.

    A named tuple rather than a frozen dataclass: an import builds a million of them, and a
    tuple is made several times faster.
    """

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
    lines: tuple[LineInput, ...] = ()


_NOT_ASCII_ALNUM = re.compile(r"[^0-9A-Z]+")


def payment_reference_for(number: str) -> str:
    """RF reference from the document number's letters and digits (a hash when it is too long)."""
    base = number.upper()
    if not (base.isascii() and base.isalnum()):  # most numbers are: "INV0815" is used as it is
        base = _NOT_ASCII_ALNUM.sub("", base)
    if not base or len(base) > 21:
        base = str(int(hashlib.sha256(number.encode()).hexdigest(), 16))[:21]
    return rf_reference(base)


def references_of(company: Company, spec: ItemInput) -> tuple[str, str]:
    """(payment reference as given or "", national reference): a given reference kept if valid,
    the national one issued from the number when none is given (never for a credit note)."""
    payment_reference, national = "", ""
    if spec.payment_reference:
        payment_reference, national = given_reference(company, spec.payment_reference, spec.number)
    if not national and spec.kind is not ItemKind.CREDIT_NOTE:
        national = issued_national(company, spec.number.strip())
    return payment_reference, national


class Planned(NamedTuple):
    """An item's computed dates: the due parts (one, or the instalments) and the discount."""

    due_on: date
    parts: tuple[due_dates.DuePart, ...]
    discount: due_dates.DiscountOffer | None
    term: PaymentTerm | None


def plan_dates(company: Company, spec: ItemInput, scheduler: Scheduler | None = None) -> Planned:
    """Due date(s) and discount of a document, or a clear refusal.

    Pass one `Scheduler` when planning many documents: it reads the terms and holidays once.
    """
    scheduler = scheduler or Scheduler(company)
    # Runs once per row of a million-row import: the spec's fields are read once, into locals.
    number, issued_on, gross_minor, given_due_on, term_given = (
        spec.number,
        spec.issued_on,
        spec.gross_minor,
        spec.due_on,
        spec.payment_term,
    )
    term = scheduler.applicable(term_given.id if term_given else spec.customer.payment_term_id)
    if spec.kind is ItemKind.CREDIT_NOTE:
        on = given_due_on or issued_on
        return Planned(on, (due_dates.DuePart(on, gross_minor),), None, term)
    if term is None and given_due_on is None:
        raise DunwellError(
            ErrorCode.INVALID,
            f"{number}: no due date given and no payment terms for customer "
            f"{spec.customer.account_number} (nor a company default)",
            field="due_on",
        )
    parts: tuple[due_dates.DuePart, ...] | None = None
    discount = None
    if term is not None:
        rule, parts = scheduler.schedule(term, issued_on, gross_minor)
        discount = due_dates.discount_offer(rule, issued_on, gross_minor)
    if given_due_on is not None and (parts is None or len(parts) == 1):
        parts = (due_dates.DuePart(given_due_on, gross_minor),)
    if parts is None:  # a term or a due date exists, checked above
        raise DunwellError(ErrorCode.INVALID, f"{number}: no due date", field="due_on")
    due_on = parts[0].due_on if len(parts) == 1 else max(part.due_on for part in parts)
    if due_on < issued_on:
        raise DunwellError(
            ErrorCode.DUE_BEFORE_ISSUE,
            f"{number}: due date {due_on.isoformat()} is before the issue date "
            f"{issued_on.isoformat()}",
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


# The columns an item is written with, in the order `item_row` gives them.
ITEM_COLUMNS = (
    "company_id",
    "customer_id",
    "kind",
    "number",
    "issued_on",
    "due_on",
    "currency",
    "amount_minor",
    "net_minor",
    "tax_minor",
    "po_number",
    "payment_reference",
    "national_reference",
    "number_key",
    "payment_term_id",
    "discount_until",
    "discount_minor",
    "related_id",
    "has_instalments",
    "description",
    "source",
    "open_minor",
    "created_at",
    "updated_at",
    "created_by_id",
)


def item_row(
    company: Company,
    spec: ItemInput,
    *,
    created_by_id: int | None,
    at: datetime,
    scheduler: Scheduler,
) -> tuple[tuple[Any, ...], Planned]:
    """An item's stored values in `ITEM_COLUMNS` order, and its planned dates.

    The one place an item's computed fields are decided: `build_item` makes a model instance of
    them, and the bulk import writes them as they are.

    Runs once per row of a million-row import: hence `.id` rather than the `.pk` property.
    """
    check_item(spec)
    planned = plan_dates(company, spec, scheduler)
    payment_reference, national = references_of(company, spec)
    sign = -1 if spec.kind is ItemKind.CREDIT_NOTE else 1
    amount = sign * spec.gross_minor
    discount = planned.discount
    row = (
        company.id,
        spec.customer.id,
        spec.kind.value,
        spec.number.strip(),
        spec.issued_on,
        planned.due_on,
        spec.currency.upper(),
        amount,
        None if spec.net_minor is None else sign * spec.net_minor,
        None if spec.tax_minor is None else sign * spec.tax_minor,
        spec.po_number,
        payment_reference or payment_reference_for(spec.number),
        national,
        lookup_key(spec.number.strip()),
        planned.term.id if planned.term else None,
        discount.until if discount else None,
        discount.amount_minor if discount else None,
        spec.related.id if spec.related else None,
        len(planned.parts) > 1,
        spec.description,
        spec.source,
        amount,
        at,
        at,
        created_by_id,
    )
    return row, planned


def build_item(
    company: Company,
    spec: ItemInput,
    actor: User | None,
    at: datetime,
    scheduler: Scheduler | None = None,
) -> tuple[OpenItem, Planned]:
    """An unsaved item with its computed fields, and its planned dates (for its instalments)."""
    stored = activity.stored_actor(actor)
    row, planned = item_row(
        company,
        spec,
        created_by_id=stored.pk if stored else None,
        at=at,
        scheduler=scheduler or Scheduler(company),
    )
    item = OpenItem(**dict(zip(ITEM_COLUMNS, row, strict=True)))
    item.customer = spec.customer
    return item, planned


def instalments_of(item: OpenItem, parts: tuple[due_dates.DuePart, ...]) -> list[Instalment]:
    """The item's instalments when its terms split it in more than one due part."""
    if len(parts) < 2:
        return []
    return [
        Instalment(
            company_id=item.company_id,
            item=item,
            sequence=i,
            due_on=p.due_on,
            amount_minor=p.amount_minor,
        )
        for i, p in enumerate(parts, start=1)
    ]


def lines_of(item: OpenItem, lines: tuple[LineInput, ...]) -> list[OpenItemLine]:
    return [
        OpenItemLine(
            company_id=item.company_id,
            item=item,
            sequence=i,
            description=line.description[:300],
            quantity=line.quantity,
            unit_price=line.unit_price,
            net_minor=line.net_minor,
            tax_rate=line.tax_rate,
        )
        for i, line in enumerate(lines, start=1)
    ]


@transaction.atomic
def issue_item(*, company: Company, spec: ItemInput, actor: User | None, at: datetime) -> OpenItem:
    """Create one document with its lines, instalments and history entry."""
    if OpenItem.objects.filter(
        company=company, kind=spec.kind, number=spec.number.strip()
    ).exists():
        raise DunwellError(
            ErrorCode.DUPLICATE,
            f"{english(ItemKind(spec.kind).label)} {spec.number} already exists",
            field="number",
        )
    item, planned = build_item(company, spec, actor, at)
    item.save()
    Instalment.objects.bulk_create(instalments_of(item, planned.parts))
    OpenItemLine.objects.bulk_create(lines_of(item, spec.lines))
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
        summary=f"{english(item.get_kind_display)} {item.number} issued, due {item.due_on.isoformat()}",
        data={"source": spec.source} if spec.source else None,
    )
    return item
