"""The customer page's promises to pay: listed with their state and what was paid; collectors
record one (which withdraws what the outbox still holds for it); viewers only read; each company
sees only its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from dunwell.cases.models import PromiseToPay
from dunwell.cases.services.promises import make_promise
from dunwell.ledger.models import Activity, ActivityKind
from tests.web.test_pages import Cast, as_user, cast, page  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def form(cast: Cast, **extra: object) -> dict[str, object]:  # noqa: F811 - the fixture
    fields = {"amount": "1234.56", "promised_on": (timezone.localdate() + timedelta(days=7)).isoformat(),
              "promised_by": "Petra Bauer", "channel": "phone", "invoice": [cast.invoice_a.pk],
              "grace_days": "2", "note": "after the board meets"}  # fmt: skip
    fields.update(extra)
    return fields


def test_a_collector_records_a_promise_and_the_page_shows_it(client: Client, cast: Cast):  # noqa: F811
    url = f"/customers/{cast.customer_a.pk}/"
    html = page(as_user(client, cast.collector_a), url)
    assert "Promises to pay" in html and "No promises to pay." in html and "Record promise" in html
    response = client.post(f"{url}promises", form(cast), follow=True)
    promise = PromiseToPay.objects.get()
    by = promise.promised_on.isoformat()
    assert f"promise {promise.pk}: EUR 1234.56 by {by}" in response.content.decode()
    assert (promise.customer, promise.grace_days, promise.created_by) == (
        cast.customer_a, 2, cast.collector_a)  # fmt: skip
    assert [p.item for p in promise.promised.all()] == [cast.invoice_a]
    html = page(client, url)
    assert "Phone" in html and "Petra Bauer" in html and "acme-INV-1" in html
    assert Activity.objects.filter(
        kind=ActivityKind.PROMISE_MADE, customer=cast.customer_a
    ).exists()


def test_a_promise_with_bad_input_is_refused_with_the_reason(client: Client, cast: Cast):  # noqa: F811
    as_user(client, cast.collector_a)
    url = f"/customers/{cast.customer_a.pk}/promises"
    response = client.post(url, form(cast, amount="0"), follow=True)
    assert "amount: a promise is for more than zero" in response.content.decode()
    response = client.post(url, form(cast, invoice=[cast.invoice_b.pk]), follow=True)
    assert "invoices: choose among this customer&#x27;s open invoices" in response.content.decode()
    assert not PromiseToPay.objects.exists()


def test_viewers_see_promises_but_cannot_record_one_and_other_companies_get_404(
    client: Client,
    cast: Cast,  # noqa: F811
) -> None:
    make_promise(company=cast.a, customer=cast.customer_a, amount_minor=500_00, currency="EUR",
                 promised_on=timezone.localdate() + timedelta(days=3), promised_by="Max Weber",
                 channel="email", actor=None, on=timezone.localdate(), at=datetime.now(UTC))  # fmt: skip
    url = f"/customers/{cast.customer_a.pk}/"
    html = page(as_user(client, cast.viewer_a), url)
    assert "Max Weber" in html and "EUR 500.00" in html and "the account" in html
    assert "Record promise" not in html
    assert client.post(f"{url}promises", form(cast)).status_code == 403
    as_user(client, cast.user_b)
    page(client, url, status=404)
    assert client.post(f"{url}promises", form(cast)).status_code == 404
    assert PromiseToPay.objects.count() == 1


def test_a_promise_from_a_german_page_is_recorded_in_english_and_shown_in_german(
    client: Client,
    cast: Cast,  # noqa: F811 - the fixture of test_pages
) -> None:
    url = f"/customers/{cast.customer_a.pk}/"
    as_user(client, cast.collector_a)

    client.post(f"{url}promises", form(cast), HTTP_ACCEPT_LANGUAGE="de")

    promise = PromiseToPay.objects.get()
    entry = Activity.objects.get(kind=ActivityKind.PROMISE_MADE, item=None)  # the customer's
    assert entry.summary == (
        f"promise to pay EUR 1234.56 by {promise.promised_on.isoformat()} (Petra Bauer, phone): "
        "acme-INV-1: after the board meets"
    )
    html = page(client, url, HTTP_ACCEPT_LANGUAGE="de")
    assert "<td>Offen" in html and "<td>Telefon</td>" in html  # the promise's state and channel
    assert f"<td>Zahlungszusage</td>\n        <td>{entry.summary}" in html  # the history
