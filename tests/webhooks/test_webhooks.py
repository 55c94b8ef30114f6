"""Webhooks out (issue 6): events from the account history POSTed to a real HTTP receiver on
loopback, signed (HMAC-SHA256 over "<timestamp>.<body>"), retried with backoff when refused,
logged, replayed; each event queued once per subscription."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from dunwell.cases.services.disputes import open_dispute
from dunwell.core.errors import DunwellError
from dunwell.ledger.services.allocations import allocate_payment
from dunwell.ledger.services.overdue import record_overdue
from dunwell.webhooks import services
from dunwell.webhooks.models import Delivery, DeliveryStatus
from tests import factories as f

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Receiver(BaseHTTPRequestHandler):
    got: list[tuple[dict[str, str], bytes]] = []
    answers: list[int] = []  # the status codes to answer with, in turn (then 200)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.got.append((dict(self.headers.items()), body))
        self.send_response(Receiver.answers.pop(0) if Receiver.answers else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.got, Receiver.answers = [], []
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    server.shutdown()


@pytest.fixture
def acme():
    company = f.company()
    customer = f.customer(company, "C001", "Bauer KG")
    item = f.invoice(company, customer, "INV-1", 600_00, date(2026, 10, 1))
    return company, customer, item


def pay(company, customer, item, key="BANK-1", amount_minor=600_00) -> None:
    payment = f.payment(company, customer, key, amount_minor, date(2026, 10, 20))
    allocate_payment(company=company, payment=payment, item=item, amount_minor=amount_minor,
                     actor=None, at=AT)  # fmt: skip


def test_a_subscribed_event_reaches_the_receiver_signed_and_once(acme, receiver) -> None:
    company, customer, item = acme
    sub = services.subscribe(company=company, url=receiver, events=["payment.applied"],
                             actor=None, at=AT)  # fmt: skip
    pay(company, customer, item)
    open_dispute(company=company, customer=customer, items=[(f.invoice(
        company, customer, "INV-2", 100_00, date(2026, 10, 2)), None)], reason="price",
        actor=None, on=AT.date(), at=AT)  # not subscribed  # fmt: skip
    assert services.enqueue(company=company, at=AT) == 1
    assert services.enqueue(company=company, at=AT) == 0  # queued once
    assert services.deliver(at=AT).sent == 1
    [(headers, body)] = Receiver.got
    event = json.loads(body)
    assert (event["event"], event["company"], event["data"]["customer"], event["data"]["item"],
            event["data"]["payment"], event["data"]["amount_minor"]) == (
        "payment.applied", "acme", "C001", "INV-1", "BANK-1", 600_00)  # fmt: skip
    assert (
        headers["Dunwell-Event"] == "payment.applied" and headers["Dunwell-Delivery"] == event["id"]
    )
    t, v1 = (part.split("=", 1)[1] for part in headers["Dunwell-Signature"].split(","))
    assert int(t) == int(AT.timestamp())
    expected = hmac.new(sub.secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(v1, expected)
    assert services.deliver(at=AT + timedelta(minutes=5)).sent == 0  # nothing twice


def test_a_refused_delivery_is_retried_with_backoff_logged_and_replayed(acme, receiver) -> None:
    company, customer, item = acme
    services.subscribe(company=company, url=receiver, events=["payment.applied"], actor=None,
                       at=AT)  # fmt: skip
    pay(company, customer, item)
    services.enqueue(company=company, at=AT)
    Receiver.answers = [500, 503]
    assert services.deliver(at=AT).retrying == 1
    delivery = Delivery.objects.get()
    assert (delivery.attempts, delivery.last_status, delivery.next_attempt_at) == (
        1, 500, AT + timedelta(minutes=1))  # fmt: skip
    assert services.deliver(at=AT + timedelta(seconds=30)).sent == 0  # not due yet
    services.deliver(at=AT + timedelta(minutes=1))
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.next_attempt_at) == (2, AT + timedelta(minutes=3))
    assert services.deliver(at=AT + timedelta(minutes=3)).sent == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 3)
    out = io.StringIO()
    call_command("webhooks", "replay", str(delivery.pk), stdout=out)
    assert f"delivery {delivery.pk} queued again" in out.getvalue()
    call_command("webhooks", "deliver", stdout=out)
    assert len(Receiver.got) == 4  # 500, 503, 200 and the replay


def test_an_unreachable_receiver_fails_after_the_last_attempt(acme, receiver) -> None:
    company, customer, item = acme
    services.subscribe(company=company, url="http://127.0.0.1:9/nothing-listens",
                       events=["payment.applied"], actor=None, at=AT)  # fmt: skip
    pay(company, customer, item)
    services.enqueue(company=company, at=AT)
    at = AT
    for _ in range(services.MAX_ATTEMPTS):
        services.deliver(at=at)
        at += timedelta(days=1)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == services.MAX_ATTEMPTS
    assert delivery.last_error.startswith("not reached")
    out = io.StringIO()
    call_command("webhooks", "log", "--failed", "--format", "json", stdout=out)
    assert json.loads(out.getvalue())[0]["status"] == "failed"


def test_subscribing_checks_the_events_and_the_address(acme) -> None:
    company, _, _ = acme
    with pytest.raises(DunwellError, match=r"events: invoice\.paid: expected some of"):
        services.subscribe(company=company, url="https://erp.example/h", events=["invoice.paid"],
                           actor=None, at=AT)  # fmt: skip
    with pytest.raises(DunwellError, match="is not an http"):
        services.subscribe(company=company, url="ftp://erp.example/h", events=["reminder.sent"],
                           actor=None, at=AT)  # fmt: skip


def test_the_history_before_the_subscription_is_not_sent(acme, receiver) -> None:
    company, customer, item = acme
    pay(company, customer, item)
    services.subscribe(company=company, url=receiver, events=["payment.applied"], actor=None,
                       at=AT)  # fmt: skip
    assert services.enqueue(company=company, at=AT) == 0


def test_an_invoice_becoming_overdue_reaches_the_receiver(acme, receiver) -> None:
    company, customer, item = acme  # INV-1, EUR 600.00, due 31 October (net 30)
    services.subscribe(company=company, url=receiver, events=["invoice.overdue"], actor=None,
                       at=AT)  # fmt: skip
    pay(company, customer, item, amount_minor=150_00)
    assert record_overdue(company=company, on=date(2026, 10, 31), at=AT) == 0  # due that day
    assert record_overdue(company=company, on=date(2026, 11, 1), at=AT) == 1
    assert services.enqueue(company=company, at=AT) == 1
    assert services.deliver(at=AT).sent == 1
    [(headers, body)] = Receiver.got
    event = json.loads(body)
    assert headers["Dunwell-Event"] == event["event"] == "invoice.overdue"
    assert event["data"] == {
        "summary": "Invoice INV-1 is overdue: due on 2026-10-31, open EUR 450.00",
        "on": "2026-11-01", "recorded_at": AT.isoformat(), "customer": "C001", "item": "INV-1",
        "payment": None, "amount_minor": 450_00, "currency": "EUR", "due_on": "2026-10-31",
        "total_minor": 600_00, "open_minor": 450_00,
    }  # fmt: skip
    assert record_overdue(company=company, on=date(2026, 11, 2), at=AT) == 0
    assert services.enqueue(company=company, at=AT) == 0  # once


def test_a_deactivated_webhook_waits_and_catches_up_when_reactivated(acme, receiver) -> None:
    company, customer, item = acme
    sub = services.subscribe(company=company, url=receiver, events=["payment.applied"],
                             actor=None, at=AT)  # fmt: skip
    out = io.StringIO()
    call_command("webhooks", "deactivate", str(sub.pk), stdout=out)
    assert f"webhook {sub.pk} inactive" in out.getvalue()
    pay(company, customer, item)
    assert services.enqueue(company=company, at=AT) == 0 and services.deliver(at=AT).sent == 0
    with pytest.raises(CommandError, match=f"webhook {sub.pk} is inactive already"):
        call_command("webhooks", "deactivate", str(sub.pk), stdout=out)
    sub.refresh_from_db()
    assert (sub.active, sub.changed_by, sub.changed_at is not None) == (False, None, True)
    call_command("webhooks", "reactivate", str(sub.pk), stdout=out)
    assert services.enqueue(company=company, at=AT) == 1  # what happened meanwhile
    assert services.deliver(at=AT).sent == 1 and len(Receiver.got) == 1
