"""Documents for customers: statements and invoices, in the customer's language, as HTML and PDF.

The templates (``documents/…`` in this app) carry their own print stylesheet: they are never
served to a browser, so the strict content security policy of the pages does not apply to them.
The staff pages download them and the dunning delivery attaches them to reminders; both go
through here, so a statement reads the same wherever it is seen.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from dunwell.core.models import Company
from dunwell.core.payments import company_transfer
from dunwell.core.pdf import write_pdf
from dunwell.ledger.models import Customer, ItemKind, OpenItem
from dunwell.ledger.parties import billing_party, company_header
from dunwell.ledger.statement import customer_statement


def document_language(customer: Customer, company: Company) -> str:
    """The customer's language if Dunwell speaks it, else the company's default, else English."""
    for code in (customer.language, company.default_language, settings.LANGUAGE_CODE):
        try:
            return translation.get_supported_language_variant(
                (code or "").replace("_", "-").lower()
            )
        except LookupError:
            continue
    return "en"


def filename_part(text: str) -> str:
    """Letters, digits, dots and dashes only, so that a name is safe on every file system."""
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip(".-") or "x"


def render_document(template: str, context: dict[str, Any], language: str) -> str:
    """The HTML of a document, every string and number in `language`."""
    with translation.override(language):
        return render_to_string(template, {**context, "language": language})


def invoice_context(item: OpenItem, company: Company) -> dict[str, Any]:
    """What an invoice or credit note prints: amounts as written on it (a credit note's positive)."""
    is_credit = item.kind == ItemKind.CREDIT_NOTE

    def printed(minor: int | None) -> int | None:
        return None if minor is None else abs(minor) if is_credit else minor

    return {
        "item": item,
        "company": company_header(company),
        "recipient": billing_party(item.customer),
        "lines": list(item.lines.all()),
        "instalments": list(item.instalments.all()) if item.has_instalments else [],
        "is_credit": is_credit,
        "net": printed(item.net_minor),
        "tax": printed(item.tax_minor),
        "gross": printed(item.amount_minor),
        "transfer": None
        if is_credit or item.voided_on
        else company_transfer(
            company,
            currency=item.currency,
            amount_minor=item.amount_minor,
            references=[item.payment_reference],
            text=item.payment_reference or item.number,
        ),
    }


def statement_filename(customer: Customer, as_of: date) -> str:
    return f"statement-{filename_part(customer.account_number)}-{as_of.isoformat()}.pdf"


def statement_html(customer: Customer, as_of: date) -> str:
    """The statement of account as of a date, in the customer's language, ready to print."""
    report = customer_statement(customer, as_of)
    language = document_language(customer, customer.company)
    return render_document("documents/statement.html", {"statement": report}, language)


def statement_pdf(customer: Customer, as_of: date) -> bytes:
    return write_pdf(statement_html(customer, as_of))
