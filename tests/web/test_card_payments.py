"""Card payment in the portal (issue 6): the Stripe implementation of the payment-provider
interface, exercised through the stripe library itself against a stand-in of Stripe's API on
loopback (the one thing that cannot exist here), and webhook events signed as Stripe signs
them (HMAC-SHA256 of "<timestamp>.<body>" with the endpoint's secret).

Bauer KG owes INV-1 (EUR 600.00) and INV-2 (EUR 400.00); Petra Bauer opens her portal link.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from django.test import Client

from dunwell.cases.services import portal
from dunwell.ledger.models import Payment, PaymentMethod
from tests import factories as f

pytestmark = pytest.mark.django_db

SECRET = "whsec_test_dunwell"
AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class FakeStripe(BaseHTTPRequestHandler):
    """POST /v1/checkout/sessions as Stripe answers it (what the stripe library reads)."""

    received: list[dict[str, str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        form = dict(parse_qsl(body))
        FakeStripe.received.append({"path": self.path, "auth": self.headers["Authorization"],
                                    **form})  # fmt: skip
        answer = {"id": "cs_test_a1", "object": "checkout.session",
                  "url": "https://checkout.stripe.com/c/pay/cs_test_a1",
                  "payment_status": "unpaid", "status": "open"}  # fmt: skip
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stripe_api(settings: Any) -> Iterator[type[FakeStripe]]:
    server = HTTPServer(("127.0.0.1", 0), FakeStripe)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeStripe.received = []
    settings.STRIPE_SECRET_KEY = "sk_test_dunwell"
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{server.server_address[1]}"
    yield FakeStripe
    server.shutdown()


@pytest.fixture
def account():
    company = f.company()
    customer = f.customer(company, "C001", "Bauer KG")
    contact = f.contact(customer, "ap@bauer.example", name="Petra Bauer")
    one = f.invoice(
        company, customer, "INV-1", 600_00, date(2026, 10, 1), due_on=date(2026, 10, 31)
    )
    two = f.invoice(company, customer, "INV-2", 400_00, date(2026, 10, 5), due_on=date(2026, 11, 4))
    link = portal.issue(company=company, customer=customer, contact=contact, at=AT)
    return company, customer, link, one, two


def signed(event: dict[str, Any], *, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    body = json.dumps(event)
    timestamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return {"data": body, "content_type": "application/json",
            "HTTP_STRIPE_SIGNATURE": f"t={timestamp},v1={mac}"}  # fmt: skip


def completed(account: Any, amount_minor: int, status: str = "paid") -> dict[str, Any]:
    company, customer, link, one, two = account
    return {
        "id": "evt_1", "object": "event", "type": "checkout.session.completed",
        "created": int(AT.timestamp()), "api_version": "2026-09-30",
        "data": {"object": {
            "id": "cs_test_a1", "object": "checkout.session", "payment_status": status,
            "payment_intent": "pi_3Q1", "amount_total": amount_minor, "currency": "eur",
            "metadata": {"company": str(company.pk), "customer": str(customer.pk),
                         "link": str(link.pk), "items": f"{one.pk},{two.pk}"},
        }},
    }  # fmt: skip


def test_the_portal_sends_the_customer_to_stripes_checkout_for_the_invoices_chosen(
    stripe_api: type[FakeStripe], account: Any, client: Client
) -> None:
    _, _, link, one, two = account
    url = f"/portal/{portal.token(link)}/"
    assert "Pay by card" in client.get(url).content.decode()
    response = client.post(f"{url}do/card", {"card-items": [one.pk, two.pk]})
    assert (response.status_code, response["Location"]) == (
        302, "https://checkout.stripe.com/c/pay/cs_test_a1")  # fmt: skip
    [sent] = stripe_api.received
    assert sent["path"] == "/v1/checkout/sessions" and sent["auth"] == "Bearer sk_test_dunwell"
    assert (sent["mode"], sent["customer_email"]) == ("payment", "ap@bauer.example")
    assert [(sent[f"line_items[{n}][price_data][product_data][name]"],
             sent[f"line_items[{n}][price_data][unit_amount]"],
             sent[f"line_items[{n}][price_data][currency]"]) for n in (0, 1)] == [
        ("Invoice INV-1", "60000", "eur"), ("Invoice INV-2", "40000", "eur")]  # fmt: skip
    assert sent["metadata[items]"] == f"{one.pk},{two.pk}"
    assert sent["success_url"] == f"http://testserver{url}?card=paid"
    back = client.get(f"{url}?card=paid").content.decode()
    assert "your card payment is being confirmed" in back


def test_a_signed_webhook_books_the_payment_once_and_pays_the_invoices(
    stripe_api: type[FakeStripe], account: Any, client: Client
) -> None:
    _, customer, _, one, two = account
    event = completed(account, 1_000_00)
    assert client.post("/payments/stripe/webhook", **signed(event)).status_code == 200
    assert client.post("/payments/stripe/webhook", **signed(event)).status_code == 200  # retried
    payment = Payment.objects.get()
    assert (payment.external_id, payment.method, payment.amount_minor, payment.value_on,
            payment.customer) == ("stripe:pi_3Q1", PaymentMethod.CARD, 1_000_00,
                                  date(2026, 11, 23), customer)  # fmt: skip
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.open_minor, two.open_minor, payment.unapplied_minor) == (0, 0, 0)


def test_a_partial_card_payment_pays_the_oldest_first(
    stripe_api: type[FakeStripe], account: Any, client: Client
) -> None:
    _, _, _, one, two = account
    client.post("/payments/stripe/webhook", **signed(completed(account, 700_00)))
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.open_minor, two.open_minor) == (0, 300_00)


@pytest.mark.parametrize("forged", ["wrong secret", "old", "unsigned", "changed body"])
def test_an_unsigned_forged_or_old_webhook_is_refused_and_books_nothing(
    stripe_api: type[FakeStripe], account: Any, client: Client, forged: str
) -> None:
    event = completed(account, 1_000_00)
    call = {
        "wrong secret": lambda: signed(event, secret="whsec_other"),
        "old": lambda: signed(event, at=int(time.time()) - 600),
        "unsigned": lambda: {"data": json.dumps(event), "content_type": "application/json"},
        "changed body": lambda: {**signed(event), "data": json.dumps(
            {**event, "data": {"object": {**event["data"]["object"], "amount_total": 1}}})},
    }[forged]()  # fmt: skip
    response = client.post("/payments/stripe/webhook", **call)
    assert response.status_code == 400
    assert "Stripe-Signature" in response.content.decode()
    assert not Payment.objects.exists()


def test_an_unpaid_session_and_other_events_move_no_money(
    stripe_api: type[FakeStripe], account: Any, client: Client
) -> None:
    unpaid = completed(account, 1_000_00, status="unpaid")
    other = {**completed(account, 1_000_00), "type": "customer.created"}
    for event in (unpaid, other):
        assert client.post("/payments/stripe/webhook", **signed(event)).status_code == 200
    assert not Payment.objects.exists()


def test_without_stripe_configured_there_is_no_card_payment(account: Any, client: Client) -> None:
    _, _, link, _, _ = account
    assert "Pay by card" not in client.get(f"/portal/{portal.token(link)}/").content.decode()
    assert client.post("/payments/stripe/webhook", data="{}",
                       content_type="application/json").status_code == 404  # fmt: skip
