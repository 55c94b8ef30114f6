"""Documents for customers: statements and invoices, in the customer's language, as PDF.

The PDF templates carry their own print stylesheet (they are never served to a browser, so the
strict content security policy of the pages does not apply to them). WeasyPrint fetches nothing
over the network: its URL fetcher admits `data:` URLs only, so a stray link in a template or in
imported text cannot make a request from the server.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation

from dunwell.core.models import Company
from dunwell.ledger.models import Customer, ItemKind, OpenItem
from dunwell.reports.statement import billing_party, company_header

if TYPE_CHECKING:
    from weasyprint.urls import URLFetcher

ALLOWED_PROTOCOLS = ("data",)


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
    }


def url_fetcher() -> URLFetcher:
    from weasyprint.urls import URLFetcher  # noqa: PLC0415 - loading WeasyPrint takes a second

    return URLFetcher(allowed_protocols=ALLOWED_PROTOCOLS)


def write_pdf(html: str) -> bytes:
    from weasyprint import HTML  # noqa: PLC0415 - only when a PDF is asked for

    return bytes(HTML(string=html, url_fetcher=url_fetcher()).write_pdf())


def pdf_response(html: str, filename: str) -> HttpResponse:
    response = HttpResponse(write_pdf(html), content_type="application/pdf")
    # Callers build `filename` from `filename_part`: nothing in it needs quoting.
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
