"""The references and the payment code a company's documents carry: which national scheme the
company issues, the reference a document gets, what a reference given in a file is taken for,
and how each scheme is labelled on paper. The rules themselves are `core.references` (pure);
this module ties them to the company and to the translated labels.

A reference given with a document (an import, another system) is read in this order:

1. a valid RF reference: kept as the document's RF reference (compacted);
2. a valid reference of the company's national scheme (either KID check in Norway): kept as its
   national reference, and the RF reference is made from the number as usual;
3. something that claims to be one of those but fails its check digits (``RF`` and two digits;
   an OGM's ``+++``/``***`` marks or 12 digits in Belgium; 27 digits with a Swiss QR-IBAN;
   digits alone in Norway and Finland): refused, with the field and what was expected. The
   payer's bank would refuse it too, so it is corrected at the source;
4. anything else ("Payref1", "PO 4711/2025"): kept as the document's payment reference, as
   before, since the customer quotes what the invoice said.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from dunwell.core.epc_qr import EpcTransfer, epc_transfer
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.core.references import (
    COUNTRY_SCHEMES,
    KidCheck,
    Scheme,
    format_reference,
    national_reference,
    national_scheme,
    parse_reference,
)

LABELS: Final[dict[Scheme, Promise]] = {
    Scheme.RF: _("Payment reference"),
    Scheme.BE_OGM: _("Structured communication"),
    Scheme.CH_QRR: _("QR reference"),
    Scheme.NO_KID: _("KID"),
    Scheme.FI_VIITE: _("Viitenumero"),
}
# What each scheme's reference looks like, for a message that names what was expected.
EXAMPLES: Final = {
    Scheme.RF: "RF18 5390 0754 7034",
    Scheme.BE_OGM: "+++010/8068/17183+++",
    Scheme.CH_QRR: "21 00000 00003 13947 14300 09017",
    Scheme.NO_KID: "1234566",
    Scheme.FI_VIITE: "12 34561",
}
_NAMES: Final = {
    Scheme.RF: "RF creditor reference",
    Scheme.BE_OGM: "Belgian structured communication (OGM/VCS)",
    Scheme.CH_QRR: "Swiss QR reference",
    Scheme.NO_KID: "Norwegian KID",
    Scheme.FI_VIITE: "Finnish reference (viite)",
}
_CLAIMS: Final = {
    Scheme.RF: re.compile(r"RF\d\d[A-Z0-9]{1,21}"),
    Scheme.BE_OGM: re.compile(r"([+*]{3}).*\1|[\d/]{12,14}"),
    Scheme.CH_QRR: re.compile(r"\d{27}"),
    Scheme.NO_KID: re.compile(r"\d+-?"),
    Scheme.FI_VIITE: re.compile(r"\d+"),
}


def company_scheme(company: Company) -> Scheme | None:
    """The national scheme `company` issues, or None (the RF reference alone)."""
    return national_scheme(company.country, company.iban)


def printed_scheme(country: str) -> Scheme | None:
    """The scheme a stored national reference of a company in `country` is printed in."""
    return COUNTRY_SCHEMES.get(country.upper())


def national_label(country: str) -> str:
    scheme = printed_scheme(country)
    return str(LABELS[scheme]) if scheme else ""


def printed_national(reference: str, country: str) -> str:
    scheme = printed_scheme(country)
    return format_reference(reference, scheme) if reference and scheme else reference


def issued_national(company: Company, number: str) -> str:
    """The national reference Dunwell issues for a document number ("" outside the four)."""
    scheme = company_scheme(company)
    if scheme is None:
        return ""
    return national_reference(number, scheme, KidCheck(company.kid_check or KidCheck.MOD10))


def given_reference(company: Company, text: str, number: str) -> tuple[str, str]:
    """(RF or free reference, national reference) a reference given with a document stands
    for; either may be "" (the caller then issues its own). Refuses an invalid structured one."""
    given = text.strip()
    if not given:
        return "", ""
    scheme = company_scheme(company)
    schemes = (Scheme.RF, scheme) if scheme else (Scheme.RF,)
    parsed = parse_reference(given, schemes)
    if parsed is not None:
        found, compact = parsed
        return (compact, "") if found is Scheme.RF else ("", compact)
    squeezed = "".join(given.split()).upper()
    for claimed in schemes:
        if _CLAIMS[claimed].fullmatch(squeezed):
            raise DunwellError(
                ErrorCode.INVALID,
                f"{number}: the payment reference {given!r} is not a valid {_NAMES[claimed]} "
                f"(its check digits do not match): expected e.g. {EXAMPLES[claimed]}, "
                "or none for Dunwell to issue one",
                field="payment_reference",
            )
    return given, ""


def company_transfer(
    company: Company, *, currency: str, amount_minor: int, references: Sequence[str], text: str
) -> EpcTransfer | None:
    """The SEPA transfer an EPC QR code on a document of `company` offers, or None."""
    return epc_transfer(
        name=company.legal_name,
        iban=company.iban,
        bic=company.bic,
        currency=currency,
        amount_minor=amount_minor,
        references=references,
        text=text,
    )
