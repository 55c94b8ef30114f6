"""What a customer reads to pay: the RF reference and the national one on invoices, statements,
reminder letters and emails, and the EPC QR code a bank app scans (euros and an IBAN only).

Brux SA (Belgium) bills Dupont SPRL in euros; the structured communication of INV-2026-17 is
built on its digits, 202617 -> 0000202617, 202617 mod 97 = 13 -> +++000/0202/61781+++.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from dunwell.core.epc_qr import EpcTransfer, epc_payload, epc_qr_data_url
from dunwell.core.models import Company, Membership, Role
from dunwell.core.pdf import write_pdf
from dunwell.dunning.models import Message
from dunwell.dunning.rendering import render
from dunwell.dunning.services.letters import print_batch
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Customer, OpenItem
from dunwell.ledger.printing import invoice_context, render_document, statement_html
from tests import factories as f
from tests.web.test_pages import as_user, page

pytestmark = pytest.mark.django_db

IBAN = "BE71096123456769"
BIC = "GKCCBEBB"
MONDAY = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def company(country: str = "BE", iban: str = IBAN, code: str = "brux") -> Company:
    made = f.company(code=code, country=country)
    Company.objects.filter(pk=made.pk).update(legal_name="Brux SA", iban=iban, bic=BIC,
                                              address="Rue Haute 1\n1000 Bruxelles")  # fmt: skip
    made.refresh_from_db()
    return made


def customer(of: Company) -> Customer:
    return f.customer(of, "C-100", "Dupont SPRL", language="en", street="Place 5",
                      postal_code="4000", city="Liège", country="BE")  # fmt: skip


def invoice(of: Company, to: Customer, number: str = "INV-2026-17", amount: int = 1234_56,
            currency: str = "EUR") -> OpenItem:  # fmt: skip
    return f.invoice(of, to, number, amount, date(2026, 10, 24), date(2026, 11, 15),
                     currency=currency)  # fmt: skip


def invoice_html(item: OpenItem) -> str:
    return render_document(
        "documents/invoice.html", invoice_context(item, item.customer.company), "en"
    )


def test_an_invoice_shows_both_references_and_the_qr_code_of_its_amount() -> None:
    brux = company()
    item = invoice(brux, customer(brux))
    assert (item.payment_reference, item.national_reference) == ("RF43INV202617", "000020261781")
    html = invoice_html(item)
    assert 'Payment reference: <span class="reference mono nowrap">RF43 INV2 0261 7</span>' in html
    assert (
        'Structured communication: <span class="reference mono nowrap">+++000/0202/61781+++</span>'
        in html
    )
    assert "Please quote one of these references with your payment" in html
    transfer = invoice_context(item, brux)["transfer"]
    assert epc_payload(transfer) == (
        "BCD\n002\n1\nSCT\nGKCCBEBB\nBrux SA\nBE71096123456769\nEUR1234.56\n\nRF43INV202617"
    )
    assert f'<img src="{epc_qr_data_url(transfer)}"' in html
    assert "Scan with your banking app to pay €1,234.56" in html


def test_the_invoice_pdf_draws_the_qr_code_without_a_failed_image(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    brux = company()
    item = invoice(brux, customer(brux))
    user = User.objects.create_user(username="vera")
    Membership.objects.create(user=user, company=brux, role=Role.VIEWER)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        response = as_user(client, user).get(f"/items/{item.pk}/invoice.pdf")
        pdf = write_pdf(invoice_html(item))
    assert response.status_code == 200 and pdf.startswith(b"%PDF")
    assert not [r for r in caplog.records if "image" in r.getMessage().lower()]


def test_the_staff_item_page_shows_the_national_reference(client: Client) -> None:
    brux = company()
    item = invoice(brux, customer(brux))
    user = User.objects.create_user(username="vera")
    Membership.objects.create(user=user, company=brux, role=Role.VIEWER)
    html = page(as_user(client, user), f"/items/{item.pk}/")
    assert '<dt>Structured communication</dt><dd class="mono">+++000/0202/61781+++</dd>' in html


@pytest.mark.parametrize(
    ("country", "iban", "currency"),
    [
        ("BE", IBAN, "USD"),  # SEPA is in euros only
        ("BE", "", "EUR"),  # nowhere to pay to
    ],
)
def test_no_qr_code_and_nothing_broken_without_euros_or_an_iban(country, iban, currency) -> None:
    brux = company(country, iban)
    html = invoice_html(invoice(brux, customer(brux), currency=currency))
    assert "<img" not in html and 'class="epc-qr"' not in html
    assert "+++000/0202/61781+++" in html  # the references are printed all the same


@pytest.mark.parametrize(
    ("country", "label", "printed"),
    [
        ("NO", "KID", "2026177"),  # 202617 and its Luhn check digit
        ("FI", "Viitenumero", "20 26176"),  # 7-3-1 check 6, in groups of five from the right
    ],
)
def test_an_invoice_names_the_national_reference_as_its_country_does(country, label, printed):
    brux = company(country, "")
    html = invoice_html(invoice(brux, customer(brux)))
    assert f'{label}: <span class="reference mono nowrap">{printed}</span>' in html


def test_a_german_invoice_has_the_rf_reference_alone() -> None:
    acme = company("DE", "DE89370400440532013000", code="acme")
    html = invoice_html(invoice(acme, customer(acme)))
    assert "Structured communication" not in html
    assert "Please quote this payment reference with your payment" in html
    assert "<img" in html  # a German company with an IBAN gets the QR code too


def test_a_statement_lists_each_lines_references_and_the_qr_code_of_the_balance(
    client: Client,
) -> None:
    brux = company()
    dupont = customer(brux)
    first, second = invoice(brux, dupont), invoice(brux, dupont, "INV-2026-18", 100_00)
    html = statement_html(dupont, date(2026, 12, 1))
    assert 'Structured communication <span class="mono">+++000/0202/61781+++</span>' in html
    assert '<span class="mono">+++000/0202/61882+++</span>' in html  # 202618 mod 97 = 82
    transfer = EpcTransfer(name="Brux SA", iban=IBAN, bic=BIC, amount_minor=1334_56,
                           text=f"{first.payment_reference} {second.payment_reference}")  # fmt: skip
    assert epc_payload(transfer).endswith("\nEUR1334.56\n\n\nRF43INV202617 RF16INV202618")
    assert f'<img src="{epc_qr_data_url(transfer)}"' in html
    assert "Scan with your banking app to pay €1,334.56" in html
    user = User.objects.create_user(username="vera")
    Membership.objects.create(user=user, company=brux, role=Role.VIEWER)
    on_screen = page(as_user(client, user), f"/customers/{dupont.pk}/statement/?as_of=2026-12-01")
    assert epc_qr_data_url(transfer) in on_screen and "+++000/0202/61882+++" in on_screen


def test_a_statement_in_another_currency_has_no_qr_code() -> None:
    brux = company()
    dupont = customer(brux)
    invoice(brux, dupont, currency="USD")
    html = statement_html(dupont, date(2026, 12, 1))
    assert "+++000/0202/61781+++" in html and "<img" not in html


def reminders(contact: bool) -> Company:
    brux = company()
    ensure_default_policy(brux, AT)
    dupont = customer(brux)
    if contact:
        f.contact(dupont, "ap@dupont.example", name="Marie Dupont")
    f.invoice(brux, dupont, "INV-2026-17", 500_00, MONDAY - timedelta(days=38),
              due_on=MONDAY - timedelta(days=8))  # fmt: skip
    run_dunning(company=brux, on=MONDAY, at=AT)
    return brux


def test_a_reminder_email_gives_both_references_in_its_text() -> None:
    reminders(contact=True)
    _, body = render(Message.objects.get(channel="email"))
    assert "ref. RF43 INV2 0261 7   Structured communication +++000/0202/61781+++" in body


def test_a_reminder_letter_carries_the_qr_code_of_the_amount_it_demands() -> None:
    brux = reminders(contact=False)
    batch = print_batch(company=brux, on=MONDAY, at=AT, name="2026-11-23")
    assert batch is not None and batch.errors == []
    assert "Structured communication +++000/0202/61781+++" in batch.html
    transfer = EpcTransfer(name="Brux SA", iban=IBAN, bic=BIC, amount_minor=500_00,
                           reference="RF43INV202617")  # fmt: skip
    assert f'<img src="{epc_qr_data_url(transfer)}"' in batch.html
    assert "Scan with your banking app to pay €500.00" in batch.html
