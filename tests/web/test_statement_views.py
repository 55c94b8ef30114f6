"""Statements (HTML and PDF) and invoice PDFs through HTTP: scoping, language, what they show.

Acme GmbH (company A) bills Bauer KG, a German-speaking customer, and Smith Ltd, an English one;
Bolt GmbH (company B) has a user who must see none of it. The statement date is fixed by `as_of`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from dunwell.core.models import Company, Membership, Role
from dunwell.ledger.models import Customer, ItemKind, OpenItem
from dunwell.ledger.services.allocations import allocate_payment, void_item
from dunwell.ledger.services.documents import LineInput
from dunwell.web import documents
from tests import factories as f
from tests.factories import AT
from tests.web.test_pages import as_user, page

pytestmark = pytest.mark.django_db

AS_OF = "2026-12-01"


@dataclass
class World:
    acme: Company
    bauer: Customer
    smith: Customer
    invoice: OpenItem
    viewer: User
    outsider: User


def _member(username: str, company: Company, role: Role = Role.VIEWER) -> User:
    user = User.objects.create_user(username=username)
    Membership.objects.create(user=user, company=company, role=role)
    return user


@pytest.fixture
def world() -> World:
    acme = f.company()
    Company.objects.filter(pk=acme.pk).update(
        address="Hauptstraße 1\n10115 Berlin", vat_id="DE123456789",
        iban="DE89370400440532013000", bic="COBADEFFXXX", time_zone="Europe/Berlin",
    )  # fmt: skip
    acme.refresh_from_db()
    bauer = f.customer(acme, "C-100", "Bauer KG", language="de", street="Marktplatz 5",
                       postal_code="80331", city="München", country="DE")  # fmt: skip
    smith = f.customer(acme, "C-200", "Smith Ltd", language="en", country="GB")
    invoice = f.invoice(
        acme, bauer, "INV-2026-17", 1234_56, date(2026, 10, 24), date(2026, 11, 23),
        net_minor=1037_44, tax_minor=197_12, po_number="PO-4711",
        lines=(LineInput("Beratung, Projekt Nord", Decimal("8.5"), Decimal("122.0517"), 1037_44,
                         Decimal("19")),),
    )  # fmt: skip
    f.invoice(acme, smith, "INV-2026-18", 1234_56, date(2026, 10, 24), date(2026, 11, 23))
    bolt = f.company("bolt")
    return World(
        acme, bauer, smith, invoice, _member("vera", acme), _member("bea", bolt, Role.ADMIN)
    )


def urls(w: World) -> list[str]:
    return [
        f"/customers/{w.bauer.pk}/statement/",
        f"/customers/{w.bauer.pk}/statement.pdf",
        f"/items/{w.invoice.pk}/invoice.pdf",
    ]


@pytest.fixture
def sent_to_weasyprint(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The HTML each PDF was made from (the PDF itself is still made, by the real WeasyPrint)."""
    sent: list[str] = []
    real = documents.write_pdf

    def spy(html: str) -> bytes:
        sent.append(html)
        return real(html)

    monkeypatch.setattr(documents, "write_pdf", spy)
    return sent


# -- access ------------------------------------------------------------------------------------


def test_documents_require_login(client: Client, world: World) -> None:
    for url in urls(world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/")


def test_another_companys_user_gets_404(client: Client, world: World) -> None:
    as_user(client, world.outsider)
    for url in urls(world):
        assert client.get(url).status_code == 404, url


# -- the statement page ----------------------------------------------------------------------


def test_statement_page_is_in_german_for_a_german_customer(client: Client, world: World) -> None:
    html = page(
        as_user(client, world.viewer), f"/customers/{world.bauer.pk}/statement/?as_of={AS_OF}"
    )
    assert "Kontoauszug" in html
    assert "1.234,56\xa0€" in html
    assert "23.11.2026" in html  # due date
    assert "01.12.2026" in html  # statement date
    assert ">8<" in html  # days overdue
    assert "Nicht fällig" in html
    assert "DE89 3704 0044 0532 0130 00" in html
    assert f"/customers/{world.bauer.pk}/statement.pdf?as_of={AS_OF}" in html
    assert 'lang="de"' in html


def test_statement_page_is_in_english_for_an_english_customer(client: Client, world: World) -> None:
    html = page(
        as_user(client, world.viewer), f"/customers/{world.smith.pk}/statement/?as_of={AS_OF}"
    )
    assert "Statement of account" in html
    assert "€1,234.56" in html
    assert "Nov 23, 2026" in html
    assert "Kontoauszug" not in html


def test_statement_falls_back_to_the_companys_language(client: Client, world: World) -> None:
    Customer.objects.filter(pk=world.smith.pk).update(language="fr")  # not one Dunwell speaks
    Company.objects.filter(pk=world.acme.pk).update(default_language="de")
    html = page(
        as_user(client, world.viewer), f"/customers/{world.smith.pk}/statement/?as_of={AS_OF}"
    )
    assert "Kontoauszug" in html
    assert "1.234,56\xa0€" in html


def test_statement_date_defaults_to_today_in_the_companys_time_zone(
    client: Client, world: World
) -> None:
    # A zone whose date differs from the server's (UTC) right now: UTC+14 after noon, else UTC-12.
    zone = "Pacific/Kiritimati" if timezone.now().hour >= 12 else "Etc/GMT+12"
    Company.objects.filter(pk=world.acme.pk).update(time_zone=zone)
    today = timezone.localdate(timezone=ZoneInfo(zone))
    assert today != timezone.localdate()
    html = page(as_user(client, world.viewer), f"/customers/{world.smith.pk}/statement/")
    assert f'name="as_of" value="{today.isoformat()}"' in html


def test_statement_page_before_the_first_invoice_shows_nothing_open(
    client: Client, world: World
) -> None:
    html = page(
        as_user(client, world.viewer), f"/customers/{world.smith.pk}/statement/?as_of=2026-01-01"
    )
    assert "Nothing was open on your account on this date." in html
    assert "INV-2026-18" not in html


def test_statement_page_shows_payments_as_of_the_date(client: Client, world: World) -> None:
    paid = f.payment(world.acme, world.smith, "BANK-77", 234_56, date(2026, 12, 3))
    allocate_payment(company=world.acme, payment=paid, item=OpenItem.objects.get(number="INV-2026-18"),
                     amount_minor=234_56, actor=None, at=AT)  # fmt: skip
    as_user(client, world.viewer)
    before = page(client, f"/customers/{world.smith.pk}/statement/?as_of={AS_OF}")
    after = page(client, f"/customers/{world.smith.pk}/statement/?as_of=2026-12-03")
    assert "€1,234.56" in before
    assert "BANK-77" not in before
    assert "€1,000.00" in after


def test_statement_page_runs_a_fixed_number_of_queries(
    client: Client, world: World, django_assert_max_num_queries
) -> None:
    for n in range(20):
        f.invoice(
            world.acme, world.bauer, f"MORE-{n}", 10_00, date(2026, 11, 1), date(2026, 11, 30)
        )
    as_user(client, world.viewer)
    with django_assert_max_num_queries(10):
        html = page(client, f"/customers/{world.bauer.pk}/statement/?as_of={AS_OF}")
    assert "MORE-19" in html


# -- the statement PDF -------------------------------------------------------------------------


def test_statement_pdf_is_a_german_pdf_with_the_references(
    client: Client, world: World, sent_to_weasyprint: list[str]
) -> None:
    response = as_user(client, world.viewer).get(
        f"/customers/{world.bauer.pk}/statement.pdf?as_of={AS_OF}"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"] == 'attachment; filename="statement-C-100-2026-12-01.pdf"'
    )
    assert response.content.startswith(b"%PDF")
    [html] = sent_to_weasyprint
    assert "Kontoauszug" in html
    assert "1.234,56\xa0€" in html
    assert world.invoice.payment_reference.startswith("RF")
    assert _grouped(world.invoice.payment_reference) in html
    assert "<style>" in html  # the print stylesheet travels with the document


def test_statement_pdf_refuses_a_bad_date(client: Client, world: World) -> None:
    response = as_user(client, world.viewer).get(
        f"/customers/{world.bauer.pk}/statement.pdf?as_of=2026-02-30"
    )
    assert response.status_code == 400


# -- the invoice PDF ---------------------------------------------------------------------------


def _grouped(reference: str) -> str:
    return " ".join(reference[i : i + 4] for i in range(0, len(reference), 4))


def test_invoice_pdf_carries_the_payment_reference_and_the_bank_account(
    client: Client, world: World, sent_to_weasyprint: list[str]
) -> None:
    response = as_user(client, world.viewer).get(f"/items/{world.invoice.pk}/invoice.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="invoice-INV-2026-17.pdf"'
    assert response.content.startswith(b"%PDF")
    [html] = sent_to_weasyprint
    for text in [
        "Rechnung INV-2026-17",
        _grouped(world.invoice.payment_reference),
        "Bitte geben Sie diese Zahlungsreferenz bei Ihrer Zahlung an",
        "DE89 3704 0044 0532 0130 00",
        "COBADEFFXXX",
        "Hauptstraße 1",
        "Marktplatz 5",
        "80331 München",
        "24.10.2026",
        "23.11.2026",
        "PO-4711",
        "Beratung, Projekt Nord",
        "8,5",
        "122,0517\xa0€",
        "19 %",
        "1.037,44\xa0€",
        "197,12\xa0€",
        "1.234,56\xa0€",
    ]:
        assert text in html, text


def test_credit_note_pdf_shows_a_positive_credit_and_no_payment_request(
    client: Client, world: World, sent_to_weasyprint: list[str]
) -> None:
    note = f.invoice(world.acme, world.smith, "CN-9", 100_00, date(2026, 11, 2),
                     kind=ItemKind.CREDIT_NOTE)  # fmt: skip
    response = as_user(client, world.viewer).get(f"/items/{note.pk}/invoice.pdf")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="credit-note-CN-9.pdf"'
    [html] = sent_to_weasyprint
    assert "Credit note CN-9" in html
    assert "€100.00" in html
    assert "-€100.00" not in html
    assert "Please quote this payment reference" not in html


def test_voided_invoice_pdf_says_so_and_asks_for_no_payment(
    client: Client, world: World, sent_to_weasyprint: list[str]
) -> None:
    void_item(company=world.acme, item=world.invoice, on=date(2026, 11, 2), reason="wrong price",
              actor=None, at=AT)  # fmt: skip
    response = as_user(client, world.viewer).get(f"/items/{world.invoice.pk}/invoice.pdf")
    assert response.content.startswith(b"%PDF")
    [html] = sent_to_weasyprint
    assert "Storniert am 02.11.2026" in html
    assert "Bitte überweisen Sie" not in html
    assert "Zahlungsreferenz" not in html


# -- links -------------------------------------------------------------------------------------


def test_customer_page_links_to_the_statement_and_its_pdf(client: Client, world: World) -> None:
    html = page(as_user(client, world.viewer), f"/customers/{world.bauer.pk}/?as_of={AS_OF}")
    assert f'href="/customers/{world.bauer.pk}/statement/?as_of={AS_OF}"' in html
    assert f'href="/customers/{world.bauer.pk}/statement.pdf?as_of={AS_OF}"' in html


def test_item_page_links_to_the_invoice_pdf(client: Client, world: World) -> None:
    html = page(as_user(client, world.viewer), f"/items/{world.invoice.pk}/")
    assert f'href="/items/{world.invoice.pk}/invoice.pdf"' in html


# -- no network --------------------------------------------------------------------------------


def test_weasyprint_fetches_nothing_over_the_network() -> None:
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        html = (f'<link rel="stylesheet" href="{base}/x.css"><p>x</p><img src="{base}/x.png">'
                f'<img src="file:///etc/hostname">')  # fmt: skip
        assert documents.write_pdf(html).startswith(b"%PDF")
    finally:
        server.shutdown()
        server.server_close()
    assert requests == []
    with pytest.raises(ValueError, match="disallowed protocol"):
        documents.url_fetcher()("file:///etc/hostname")
