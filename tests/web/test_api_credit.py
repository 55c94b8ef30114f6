"""The API's credit routes: an order system reports a sales order, the exposure and the policy's
hold answer at once; the order closed (invoiced) releases it; the credit standing by customer."""

from __future__ import annotations

import pytest

from dunwell.credit.models import CreditHold, OpenOrder
from dunwell.credit.services.limits import set_limit
from dunwell.ledger.models import Customer
from tests import factories as f
from tests.web.test_api import auth, post
from tests.web.test_api import world as world  # noqa: PLC0414 - the fixture, used by name

pytestmark = pytest.mark.django_db

ORDER = {"external_id": "SO-4711", "customer": "C001", "open_minor": 900_00,
         "ordered_on": "2026-11-20"}  # fmt: skip


def test_an_order_over_the_limit_holds_the_customer_and_its_invoicing_releases(
    world, client
) -> None:
    acme, _, text, _ = world
    bauer = Customer.objects.get(account_number="C001")  # owes INV-1, EUR 600.00
    set_limit(company=acme, customer=bauer, limit_minor=1_000_00, reason="opening", actor=None,
              on=f.AT.date(), at=f.AT)  # fmt: skip

    made = post(client, "/api/orders", ORDER, text, key="so-1")

    assert made.status_code == 201
    body = made.json()
    assert (body["external_id"], body["open_minor"], body["state"]) == ("SO-4711", 900_00, "open")
    credit = body["credit"]
    assert (credit["open_minor"], credit["orders_minor"], credit["exposure_minor"],
            credit["limit_minor"], credit["over_limit_minor"]) == (
        600_00, 900_00, 1_500_00, 1_000_00, 500_00)  # fmt: skip
    assert credit["on_hold"] and credit["hold_source"] == "credit policy"
    assert credit["hold_reason"] == (
        "exposure EUR 1500.00 is over the limit EUR 1000.00 by EUR 500.00"
    )
    replay = post(client, "/api/orders", ORDER, text, key="so-1")
    assert replay["Idempotent-Replayed"] == "true" and OpenOrder.objects.count() == 1

    closed = post(client, "/api/orders", {**ORDER, "open_minor": 0, "state": "closed"}, text,
                  key="so-2")  # fmt: skip

    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert not closed.json()["credit"]["on_hold"]
    assert CreditHold.objects.get(customer=bauer).released_on is not None
    standing = client.get("/api/credit/C001", **auth(text)).json()
    assert (standing["exposure_minor"], standing["on_hold"]) == (600_00, False)
    listed = client.get("/api/orders?state=closed", **auth(text)).json()["items"]
    assert [o["external_id"] for o in listed] == ["SO-4711"]


def test_an_order_is_refused_in_another_currency_or_for_another_customer(world, client) -> None:
    acme, _, text, _ = world
    f.customer(acme, "C002", "Weber GmbH")
    wrong = post(client, "/api/orders", {**ORDER, "currency": "USD"}, text, key="a")
    assert (wrong.status_code, wrong.json()["field"]) == (400, "currency")
    assert wrong.json()["detail"] == "an order is in the customer's currency (EUR), not USD"
    post(client, "/api/orders", ORDER, text, key="b")
    moved = post(client, "/api/orders", {**ORDER, "customer": "C002"}, text, key="c")
    assert (moved.status_code, moved.json()["detail"]) == (409, "order 'SO-4711' is C001's")
    negative = post(client, "/api/orders", {**ORDER, "open_minor": -1}, text, key="d")
    assert negative.status_code == 422
