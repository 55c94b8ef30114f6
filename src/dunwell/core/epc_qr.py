"""The EPC QR code ("GiroCode", EPC069-12 version 002) a bank app scans to fill in a SEPA credit
transfer: who is paid, into which IBAN, how much, and with which reference.

The payload is twelve lines at most, joined by line feeds (EPC069-12 section 3):

======  =================================  ==================================================
line    content                            here
======  =================================  ==================================================
1       service tag                        ``BCD``
2       version                            ``002`` (the BIC may be left out inside the EEA)
3       character set                      ``1`` (UTF-8)
4       identification                     ``SCT`` (SEPA credit transfer)
5       BIC of the payee's bank            the company's, or empty
6       payee's name                       the company's legal name, at most 70 characters
7       payee's IBAN                       the company's
8       amount                             ``EUR`` + 0.01 to 999999999.99, e.g. ``EUR12.34``
                                           (trailing zeros dropped: ``EUR12.3``, ``EUR12``)
9       purpose code                       empty
10      structured remittance (ISO 11649)  the RF reference when one document is paid
11      unstructured remittance            otherwise: the documents' RF references, or a
                                           text naming the account (at most 140 characters)
======  =================================  ==================================================

Example: Acme GmbH, DE89370400440532013000, COBADEFFXXX, EUR 12.34 for RF712348231 gives
``BCD\\n002\\n1\\nSCT\\nCOBADEFFXXX\\nAcme GmbH\\nDE89370400440532013000\\nEUR12.34\\n\\nRF712348231``.

SEPA is in euros only: for another currency, or without an IBAN, there is no code. The image is
segno's (`segno.helpers.make_epc_qr`, error correction M as the standard requires), as an SVG
``data:`` URL: the PDF renderer fetches nothing else (`core.pdf`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from segno import helpers

from dunwell.core.references import is_valid_rf

MAX_AMOUNT_MINOR = 999_999_999_99
MAX_TEXT = 140
MAX_NAME = 70


@dataclass(frozen=True)
class EpcTransfer:
    """A SEPA credit transfer to offer: exactly one of `reference` and `text` is set."""

    name: str
    iban: str
    bic: str
    amount_minor: int  # euro cents
    reference: str = ""
    text: str = ""

    @property
    def amount(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-2)


def epc_transfer(
    *,
    name: str,
    iban: str,
    bic: str,
    currency: str,
    amount_minor: int,
    references: Sequence[str],
    text: str,
) -> EpcTransfer | None:
    """The transfer for paying `amount_minor` against the documents with these RF `references`,
    or None when no EPC code can say it (not euros, no IBAN, nothing or too much to pay).

    One valid RF reference goes in the structured field; several go, space-separated, in the
    unstructured one while they fit in 140 characters, else `text` does (e.g. "Customer 10001").
    """
    compact_iban = "".join(iban.split()).upper()
    if currency != "EUR" or not compact_iban or not 1 <= amount_minor <= MAX_AMOUNT_MINOR:
        return None
    valid = list(dict.fromkeys(r for r in references if r and is_valid_rf(r)))
    reference, remittance = "", ""
    if len(valid) == 1:
        reference = valid[0]
    elif valid and len(" ".join(valid)) <= MAX_TEXT:
        remittance = " ".join(valid)
    else:
        remittance = text.strip()[:MAX_TEXT]
    if not reference and not remittance:
        return None
    bic = bic.strip().upper()
    return EpcTransfer(
        name=name.strip()[:MAX_NAME],
        iban=compact_iban,
        bic=bic if len(bic) in (8, 11) else "",
        amount_minor=amount_minor,
        reference=reference,
        text=remittance,
    )


def _amount(transfer: EpcTransfer) -> str:
    return f"EUR{transfer.amount:.2f}".rstrip("0").rstrip(".")


def epc_payload(transfer: EpcTransfer) -> str:
    """The text the code holds (EPC069-12 version 002, UTF-8)."""
    lines = ["BCD", "002", "1", "SCT", transfer.bic, transfer.name, transfer.iban,
             _amount(transfer), "", transfer.reference]  # fmt: skip
    if transfer.text:
        lines.append(transfer.text)
    return "\n".join(lines)


def epc_qr_data_url(transfer: EpcTransfer) -> str:
    """The code as an SVG ``data:`` URL; "" when segno refuses it (a payload over 331 bytes)."""
    try:
        code = helpers.make_epc_qr(
            name=transfer.name,
            iban=transfer.iban,
            amount=transfer.amount,
            text=transfer.text or None,
            reference=transfer.reference or None,
            bic=transfer.bic or None,
            encoding="utf-8",
        )
    except ValueError:
        return ""
    return str(code.svg_data_uri(scale=4, border=2))
