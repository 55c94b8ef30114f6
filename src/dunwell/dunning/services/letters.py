"""The day's letters as one print batch: a PDF a mail house can take, one letter a page or more,
the address where the window of a DL/C5 envelope shows it (DIN 5008 form B), and a manifest.

Each letter is claimed (``sending``), rendered with the same templates as the emails, laid out,
and recorded ``sent`` with its exact text and in the history once the batch file is written; a
letter left ``sending`` by a process that died is ``uncertain`` for the next batch, never printed
twice by itself. A letter in euros to a company with an IBAN carries an EPC QR code for the
amount it demands (the listed items and this step's fee), which a bank app scans.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from dunwell.core.epc_qr import epc_qr_data_url
from dunwell.core.formatting import country_name, format_date, format_money
from dunwell.core.models import Company
from dunwell.core.payments import company_transfer
from dunwell.core.pdf import pdf_pages
from dunwell.dunning.models import Channel, Message, MessageStatus
from dunwell.dunning.rendering import Renderer, RenderError
from dunwell.dunning.services.delivery import CLAIM_TIMEOUT
from dunwell.ledger.models import ActivityKind
from dunwell.ledger.parties import billing_party, company_header
from dunwell.ledger.services import activity


@dataclass
class PrintBatch:
    pdf: bytes
    pages: int
    letters: int
    manifest: str  # CSV: message, customer, name, step, subject
    errors: list[str]
    html: str = ""  # what was laid out


def _payment_code(company: Company, message: Message, renderer: Renderer) -> dict[str, str]:
    """The letter's EPC QR code and its caption in the letter's language; nothing when none."""
    amount, references = renderer.demand(message)
    transfer = company_transfer(
        company, currency=message.currency, amount_minor=amount, references=references,
        text=message.customer.account_number,
    )  # fmt: skip
    qr = epc_qr_data_url(transfer) if transfer is not None else ""
    if not qr:
        return {}
    with translation.override(message.language):
        total = format_money(amount, message.currency, message.language)
        return {
            "qr": qr,
            "qr_alt": gettext("EPC QR code for a SEPA credit transfer"),
            "qr_caption": gettext("Scan with your banking app to pay %(total)s") % {"total": total},
        }


def print_batch(*, company: Company, on: date, at: datetime, name: str) -> PrintBatch | None:
    """Every pending letter of `company` up to business date `on`; None when there is none."""
    scope = Message.objects.filter(company=company, channel=Channel.LETTER)
    scope.filter(status=MessageStatus.SENDING, claimed_at__lt=at - CLAIM_TIMEOUT).update(
        status=MessageStatus.UNCERTAIN, error="laid out for printing, batch not confirmed"
    )
    token = uuid.uuid4().hex
    scope.filter(status=MessageStatus.PENDING, business_date__lte=on).update(
        status=MessageStatus.SENDING, claimed_at=at, claimed_by=token, attempts=F("attempts") + 1
    )
    claimed = list(
        scope.filter(status=MessageStatus.SENDING, claimed_by=token)
        .select_related("company", "customer", "customer__parent", "decision")
        .order_by("customer__account_number", "pk")
    )
    if not claimed:
        return None
    renderer, letters, done, errors = Renderer(links_at=at), [], [], []
    for message in claimed:
        try:
            subject, body = renderer.render(message)
        except RenderError as error:
            Message.objects.filter(pk=message.pk).update(status=MessageStatus.FAILED,
                                                         error=str(error)[:500])  # fmt: skip
            errors.append(f"message {message.pk}: {error}")
            continue
        party = billing_party(message.customer)
        letters.append(
            {
                "recipient": {"name": party.name, "lines": party.address_lines,
                              "country": country_name(party.country, message.language)
                              if party.country != company.country else ""},
                "account": message.customer.account_number,
                "date": format_date(message.business_date, message.language),
                "subject": subject,
                "body": body,
                **_payment_code(company, message, renderer),
            }
        )  # fmt: skip
        done.append((message, subject, body))
    if not done:
        return PrintBatch(b"", 0, 0, "", errors)
    header = company_header(company)
    html = render_to_string("dunning/letters.html", {
        "title": name,
        "company": {"name": header.party.name, "lines": header.party.address_lines, "iban": header.iban,
                    "bic": header.bic, "vat_id": header.party.vat_id},
        "letters": letters,
    })  # fmt: skip
    pdf, pages = pdf_pages(html)
    manifest = io.StringIO()
    out = csv.writer(manifest)
    out.writerow(["message", "customer", "name", "step", "subject"])
    with transaction.atomic():
        for message, subject, body in done:
            Message.objects.filter(pk=message.pk).update(
                status=MessageStatus.SENT, subject=subject[:300], body=body, sent_at=at, error="",
                message_id=f"{name}#{message.pk}"[:200],
            )  # fmt: skip
            activity.record(
                company=company,
                kind=ActivityKind.REMINDER_SENT,
                on=message.business_date,
                at=at,
                customer=message.customer,
                summary=f"{subject} (letter, print batch {name})"[:300],
                data={"message": message.pk, "batch": name, "subject": subject, "body": body},
            )
            out.writerow([message.pk, message.customer.account_number,
                          message.customer.legal_name, message.step, subject])  # fmt: skip
    return PrintBatch(pdf, pages, len(done), manifest.getvalue(), errors, html)
