"""The write-off and reply pages: a request from the item page, approvals by a second credit
manager, a reply pasted on the customer page and turned into a dispute; each company sees only
its own, and each action needs its role."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client

from dunwell.cases.models import CustomerReply, WriteOffRequest, WriteOffState
from dunwell.cases.services.replies import log_reply
from dunwell.cases.services.writeoffs import request_write_off
from dunwell.core.models import Membership, Role
from tests.web.test_pages import Cast, as_user, cast, page  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
AT = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)


def asked(cast: Cast, amount: int = 900_00) -> WriteOffRequest:  # noqa: F811
    return request_write_off(company=cast.a, item=cast.invoice_a, amount_minor=amount,
                             reason="customer gone", actor=cast.collector_a, on=AT.date(), at=AT)  # fmt: skip


def test_a_collector_asks_for_a_write_off_on_the_item_page(client: Client, cast: Cast):  # noqa: F811
    html = page(as_user(client, cast.collector_a), f"/items/{cast.invoice_a.pk}/")
    assert "Above €500.00 a write-off waits for a second person" in html
    response = client.post(f"/items/{cast.invoice_a.pk}/write-off",
                           {"amount": "600.00", "reason": "goodwill"}, follow=True)  # fmt: skip
    assert (
        "write-off of EUR 600.00 awaits a second person&#x27;s approval"
        in response.content.decode()
    )
    assert WriteOffRequest.objects.get().state == WriteOffState.PENDING
    html = page(as_user(client, cast.viewer_a), f"/items/{cast.invoice_a.pk}/")
    assert "Above €500.00" not in html
    assert client.post(f"/items/{cast.invoice_a.pk}/write-off", {"reason": "x"}).status_code == 403
    as_user(client, cast.user_b)
    assert client.post(f"/items/{cast.invoice_a.pk}/write-off", {"reason": "x"}).status_code == 404


def test_a_credit_manager_approves_and_the_requester_is_refused(client: Client, cast: Cast):  # noqa: F811
    request = asked(cast)
    html = page(as_user(client, cast.manager_a), "/write-offs/")
    assert "customer gone" in html and "€900.00" in html and "Acme Buyer GmbH" in html
    response = client.post(f"/write-offs/{request.pk}/decide", {"action": "approve"}, follow=True)
    assert f"write-off request {request.pk} approved and written off" in response.content.decode()
    cast.invoice_a.refresh_from_db()
    assert cast.invoice_a.open_minor == 1234_56 - 900_00
    again = asked(cast, 200_01)  # EUR 334.56 open: below the threshold, written off at once
    assert again.state == WriteOffState.EXECUTED
    manager_b = User.objects.create_user("mia")
    Membership.objects.create(user=manager_b, company=cast.a, role=Role.CREDIT_MANAGER)
    own = request_write_off(company=cast.a, item=cast.invoice_a, amount_minor=None,
                            reason="rest", actor=manager_b, on=AT.date(), at=AT)  # fmt: skip
    assert own.state == WriteOffState.EXECUTED  # EUR 134.55: within the threshold


def test_the_same_person_cannot_approve_on_the_page(client: Client, cast: Cast):  # noqa: F811
    request = request_write_off(company=cast.a, item=cast.invoice_a, amount_minor=900_00,
                                reason="mine", actor=cast.manager_a, on=AT.date(), at=AT)  # fmt: skip
    as_user(client, cast.manager_a)
    response = client.post(f"/write-offs/{request.pk}/decide", {"action": "approve"}, follow=True)
    assert "needs a second person&#x27;s approval" in response.content.decode()
    assert WriteOffRequest.objects.get().state == WriteOffState.PENDING


def test_write_off_approvals_are_scoped_and_need_a_credit_manager(client: Client, cast: Cast):  # noqa: F811
    request = asked(cast)
    page(as_user(client, cast.collector_a), "/write-offs/", status=403)
    assert client.post(f"/write-offs/{request.pk}/decide", {"action": "approve"}).status_code == 403
    html = page(as_user(client, cast.user_b), "/write-offs/")
    assert "customer gone" not in html
    assert client.post(f"/write-offs/{request.pk}/decide", {"action": "approve"}).status_code == 404


def test_a_reply_is_pasted_on_the_customer_page_and_turned_into_a_dispute(
    client: Client,
    cast: Cast,  # noqa: F811
):
    url = f"/customers/{cast.customer_a.pk}/"
    as_user(client, cast.collector_a)
    raw = ("From: Petra <petra@acme-buyer.example>\nSubject: Re: reminder\n"
           "Message-ID: <r1@acme-buyer.example>\n\nThe price on the invoice is wrong.\n")  # fmt: skip
    client.post(f"/customers/{cast.customer_a.pk}/replies", {"raw": raw})
    html = page(client, url)
    assert "Replies from the customer" in html and "The price on the invoice is wrong." in html
    reply = CustomerReply.objects.get()
    response = client.post(f"/replies/{reply.pk}/dispute",
                           {"item": [str(cast.invoice_a.pk)], "reason": "price"}, follow=True)  # fmt: skip
    reply.refresh_from_db()
    assert reply.dispute is not None
    assert f"dispute {reply.dispute_id} opened" in response.content.decode()
    html = page(as_user(client, cast.viewer_a), url)
    assert "Log reply" not in html and "The price on the invoice is wrong." in html
    assert client.post(f"/customers/{cast.customer_a.pk}/replies", {"raw": raw}).status_code == 403


def test_replies_are_scoped_to_the_company(client: Client, cast: Cast):  # noqa: F811
    reply = log_reply(company=cast.a, raw="We will pay on Friday.", customer=cast.customer_a,
                      actor=None, on=AT.date(), at=AT)  # fmt: skip
    as_user(client, cast.user_b)
    assert client.post(f"/replies/{reply.pk}/dispute", {"item": [str(cast.invoice_a.pk)],
                                                       "reason": "price"}).status_code == 404  # fmt: skip
    assert client.post(f"/customers/{cast.customer_a.pk}/replies",
                       {"raw": "x"}).status_code == 404  # fmt: skip
    assert "We will pay on Friday." not in page(client, f"/customers/{cast.customer_b.pk}/")
