"""Importing UBL 2.1 / Peppol BIS 3 and CII (Factur-X, ZUGFeRD) invoices and credit notes.

The buyer is found by VAT id, then by exact legal name; an unknown buyer is refused unless the
user asks to create customers from the files. A file without a due date gets one from its payment
terms text when that text is one Dunwell recognises without guessing ("Payment within 30 days"),
else from the customer's or the company's terms; the summary says which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.formats.einvoice import EInvoice, Party, read_einvoice
from dunwell.formats.errors import FileRejected
from dunwell.imports.services.common import Options, Summary
from dunwell.imports.services.invoices import Staged
from dunwell.ledger.models import Customer, ItemKind
from dunwell.ledger.services.customers import CustomerInput, create_customer
from dunwell.ledger.services.documents import ItemInput, LineInput
from dunwell.terms.rules import due_dates
from dunwell.terms.rules.text import terms_from_text


@dataclass(frozen=True)
class Parsed:
    file_name: str
    document: EInvoice


def read_files(files: list[tuple[str, bytes]], summary: Summary) -> list[Parsed]:
    parsed = []
    for name, data in files:
        try:
            parsed.append(Parsed(name, read_einvoice(data, file_name=name)))
        except FileRejected as rejected:
            for error in rejected.errors:
                summary.reject(error, name, error.line, name)
    return parsed


def _account_number(party: Party) -> str:
    for candidate in (party.vat_id, party.registration_id):
        if candidate:
            return re.sub(r"[^A-Za-z0-9]", "", candidate)[:40]
    return re.sub(r"[^A-Za-z0-9]", "", party.name.upper())[:40] or "BUYER"


def find_customer(
    company: Company,
    party: Party,
    currency: str,
    options: Options,
    summary: Summary,
    **clock: object,
) -> Customer:
    by_vat = None
    if party.vat_id:
        compact = re.sub(r"[^A-Za-z0-9]", "", party.vat_id).upper()
        by_vat = Customer.objects.filter(company=company, vat_id__iexact=compact).first()
    found = (
        by_vat
        or Customer.objects.filter(company=company, legal_name__iexact=party.name.strip()).first()
    )
    if found is not None:
        return found
    if not options.create_customers:
        raise DunwellError(
            ErrorCode.UNKNOWN_CUSTOMER,
            f"buyer {party.name!r}"
            + (f" (VAT {party.vat_id})" if party.vat_id else "")
            + " is not a customer: import customers first, or pass --create-customers",
            field="buyer",
        )
    number = base = _account_number(party)
    suffix = 1
    while Customer.objects.filter(company=company, account_number=number).exists():
        suffix += 1
        number = f"{base[:36]}-{suffix}"
    customer = create_customer(
        company=company,
        spec=CustomerInput(
            account_number=number,
            legal_name=party.name,
            currency=currency,
            country=party.country or "",
            street=party.street or "",
            city=party.city or "",
            postal_code=party.postal_code or "",
        ),
        **clock,  # type: ignore[arg-type]
    )
    summary.notes.append(f"customer {customer.account_number} created for buyer {party.name!r}")
    return customer


def stage(
    company: Company, parsed: list[Parsed], options: Options, summary: Summary, **clock: object
) -> dict[ItemKind, list[Staged]]:
    staged: dict[ItemKind, list[Staged]] = {ItemKind.INVOICE: [], ItemKind.CREDIT_NOTE: []}
    for entry in parsed:
        doc = entry.document
        try:
            customer = find_customer(company, doc.buyer, doc.currency, options, summary, **clock)
        except DunwellError as error:
            summary.reject(error, entry.file_name, None, f"{entry.file_name}: {doc.number}")
            continue
        kind = ItemKind.CREDIT_NOTE if doc.kind == "credit_note" else ItemKind.INVOICE
        due_on = doc.due_on
        if due_on is None and doc.terms_text and kind is ItemKind.INVOICE:
            terms = terms_from_text(doc.terms_text)
            if terms is not None:
                due_on = due_dates.due_on(terms, doc.issued_on)
                summary.notes.append(
                    f"{entry.file_name}: due date {due_on.isoformat()} derived from "
                    f"the terms {doc.terms_text!r}"
                )
        spec = ItemInput(
            customer=customer,
            number=doc.number,
            kind=kind,
            issued_on=doc.issued_on,
            currency=doc.currency,
            gross_minor=abs(doc.payable_minor),
            due_on=due_on,
            net_minor=abs(doc.net_minor),
            tax_minor=abs(doc.tax_minor),
            po_number=doc.po_number or "",
            payment_reference=(doc.payment_reference or "")[:35],
            source=entry.file_name,
            lines=tuple(
                LineInput(
                    line.description, line.quantity, line.unit_price, line.net_minor, line.tax_rate
                )
                for line in doc.lines
            ),
        )
        staged[kind].append(Staged(None, spec))
    return staged
