"""Dates, numbers, countries and payment references as the active language writes them.

The active language is the request's, or the one a `{% language %}` block or
`translation.override` switched to (a statement is printed in the customer's language).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import template
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext_lazy as _
from stdnum import iban as stdnum_iban

from dunwell.core import formatting
from dunwell.core.epc_qr import EpcTransfer, epc_qr_data_url
from dunwell.core.payments import national_label as label_of
from dunwell.core.payments import printed_national
from dunwell.core.references import format_rf, is_valid_rf

register = template.Library()

# What a customer reads for each kind of document (the models' labels are for staff).
KIND_LABELS = {
    "invoice": _("Invoice"),
    "credit_note": _("Credit note"),
    "fee": _("Fee"),
    "interest": _("Interest charge"),
    "payment": _("Payment received"),
}


def active_locale() -> str:
    return to_locale(get_language() or "en")


@register.filter
def day(value: date | None) -> str:
    """`{{ item.due_on|day }}`: "23.11.2026" in German, "Nov 23, 2026" in English."""
    return "" if value is None else formatting.format_date(value, active_locale())


@register.filter
def number(value: Decimal | None) -> str:
    return "" if value is None else formatting.format_number(Decimal(value), active_locale())


@register.filter
def price(value: Decimal | None, currency: str) -> str:
    """A unit price: the currency's decimals, and up to six when the price has them."""
    if value is None or not currency:
        return ""
    return formatting.format_amount(Decimal(value), currency, active_locale(), max_decimals=6)


@register.filter
def country(code: str) -> str:
    return formatting.country_name(code or "", active_locale())


@register.filter
def payment_reference(reference: str) -> str:
    """An RF creditor reference in groups of four (RF18 5390 0754 7034); anything else as is."""
    return format_rf(reference) if reference and is_valid_rf(reference) else reference or ""


@register.filter
def national_reference(reference: str, country: str) -> str:
    """`{{ item.national_reference|national_reference:"BE" }}`: +++010/8068/17183+++."""
    return printed_national(reference or "", country or "")


@register.filter
def national_label(country: str) -> str:
    """What the national reference of a company in `country` is called on paper: "KID"."""
    return label_of(country or "")


@register.filter
def epc_qr(transfer: EpcTransfer | None) -> str:
    """The EPC QR code of a SEPA transfer as an SVG `data:` URL ("" for none)."""
    return epc_qr_data_url(transfer) if transfer is not None else ""


@register.filter
def iban(value: str) -> str:
    """An IBAN in groups of four, as printed on paper: DE89 3704 0044 0532 0130 00."""
    return str(stdnum_iban.format(value)) if value else ""


@register.filter
def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))
