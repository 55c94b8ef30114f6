"""The webhooks pages, for a company's administrators only: the subscriptions with their latest
delivery, adding one (its secret shown once), deactivating and reactivating, the delivery log
(paged, failed ones only) with a replay per delivery; collectors are refused, another company's
administrator gets 404 for this company's webhooks and deliveries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from dunwell.core.models import Membership, Role
from dunwell.ledger.services.overdue import record_overdue
from dunwell.webhooks import services
from dunwell.webhooks.models import Delivery, DeliveryStatus, Subscription
from tests import factories as f
from tests.web.test_pages import Cast, as_user, cast, page  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
AT = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)
NOWHERE = "http://127.0.0.1:9/hooks"  # nothing listens on the discard port


@pytest.fixture
def ada(cast: Cast) -> User:  # noqa: F811
    admin = User.objects.create_user("ada")
    Membership.objects.create(user=admin, company=cast.a, role=Role.ADMIN)
    return admin


def queued(cast: Cast, invoices: int = 1) -> Subscription:  # noqa: F811
    """A webhook of company A for invoice.overdue, and one delivery queued per overdue invoice."""
    sub = services.subscribe(company=cast.a, url=NOWHERE, events=["invoice.overdue"], actor=None,
                             at=AT)  # fmt: skip
    issued, due = cast.invoice_a.issued_on, cast.invoice_a.due_on
    for n in range(2, invoices + 1):
        f.invoice(cast.a, cast.customer_a, f"acme-INV-{n}", 100_00, issued, due)
    record_overdue(company=cast.a, on=due + timedelta(days=1), at=AT)
    assert services.enqueue(company=cast.a, at=AT) == invoices
    return sub


def test_an_admin_adds_a_webhook_and_sees_its_secret_only_once(client: Client, cast: Cast,  # noqa: F811
                                                                ada: User) -> None:  # fmt: skip
    html = page(as_user(client, ada), "/webhooks/")
    assert "No webhook yet." in html and 'href="/webhooks/"' in html  # the page and its link
    assert "invoice.overdue · Invoice overdue" in html
    response = client.post("/webhooks/new", {"url": "https://erp.example/dunwell",
                                             "events": ["payment.applied", "invoice.overdue"]})  # fmt: skip
    made = Subscription.objects.get()
    html = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert "Webhook added" in html and made.secret in html
    assert "From now on the events chosen are sent to https://erp.example/dunwell" in html
    assert (made.company, made.events, made.created_by) == (cast.a, ["invoice.overdue",
                                                                     "payment.applied"], ada)  # fmt: skip
    html = page(client, "/webhooks/")
    assert "https://erp.example/dunwell" in html and "Nothing sent yet" in html
    assert made.secret not in html
    assert '<span class="tag tag-ok">active</span>' in html


def test_adding_refuses_a_bad_address_or_no_event(client: Client, cast: Cast, ada: User) -> None:  # noqa: F811
    as_user(client, ada)
    response = client.post("/webhooks/new", {"url": "ftp://erp.example/h",
                                             "events": ["reminder.sent"]})  # fmt: skip
    assert response.status_code == 400
    assert "&#x27;ftp://erp.example/h&#x27; is not an http(s) address" in response.content.decode()
    response = client.post("/webhooks/new", {"url": "https://erp.example/h"})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    assert not Subscription.objects.exists()


def test_an_admin_deactivates_and_reactivates_a_webhook(client: Client, cast: Cast,  # noqa: F811
                                                        ada: User) -> None:  # fmt: skip
    sub = queued(cast)
    as_user(client, ada)
    response = client.post(f"/webhooks/{sub.pk}/deactivate", follow=True)
    html = response.content.decode()
    assert (f"Webhook to {NOWHERE} deactivated: nothing is sent to it until it is reactivated."
            in html)  # fmt: skip
    assert '<span class="tag">inactive</span>' in html and "by ada" in html
    sub.refresh_from_db()
    assert (sub.active, sub.changed_by) == (False, ada)
    assert services.deliver(at=AT).sent + services.deliver(at=AT).retrying == 0  # nothing sent
    html = page(client, f"/webhooks/{sub.pk}/deliveries/")
    assert "This webhook is inactive: nothing is sent to it until it is reactivated." in html
    response = client.post(f"/webhooks/{sub.pk}/deactivate", follow=True)
    assert f"webhook {sub.pk} is inactive already" in response.content.decode()
    response = client.post(f"/webhooks/{sub.pk}/reactivate", follow=True)
    assert "reactivated: the events recorded while it was inactive are sent too." in (
        response.content.decode())  # fmt: skip
    sub.refresh_from_db()
    assert sub.active


def test_the_delivery_log_pages_filters_and_replays(client: Client, cast: Cast,  # noqa: F811
                                                   ada: User) -> None:  # fmt: skip
    sub = queued(cast, invoices=55)
    services.deliver(at=AT, limit=3)  # three tried, refused: the rest wait
    html = page(as_user(client, ada), "/webhooks/")
    assert "Pending" in html  # the latest event has not been tried
    html = page(client, f"/webhooks/{sub.pk}/deliveries/")
    assert "Page 1 of 2 · 55 deliveries" in html and html.count(">Replay</button>") == 50
    assert "Retrying after 1 attempt" not in html  # the oldest three are on page 2
    html = page(client, f"/webhooks/{sub.pk}/deliveries/?page=2")
    assert html.count(">Replay</button>") == 5
    assert html.count("Retrying after 1 attempt") == 3 and "not reached:" in html
    html = page(client, f"/webhooks/{sub.pk}/deliveries/?failed=1")
    assert html.count(">Replay</button>") == 3 and "Page 1 of" not in html
    tried = Delivery.objects.filter(attempts=1).order_by("pk").first()
    assert tried is not None and tried.payload["id"] in html
    assert (tried.next_attempt_at - AT) == timedelta(minutes=1)
    here = f"/webhooks/{sub.pk}/deliveries/?failed=1"
    response = client.post(f"/webhooks/deliveries/{tried.pk}/replay", {"next": here})
    assert response.status_code == 302 and response["Location"] == here
    html = page(client, here)
    assert (f"Delivery {tried.payload['id']} queued again: it goes out on the next delivery "
            "round.") in html  # fmt: skip
    tried.refresh_from_db()
    assert tried.status == DeliveryStatus.PENDING
    assert tried.next_attempt_at != AT + timedelta(minutes=1)  # due now, not after its backoff


def test_collectors_are_refused_and_another_company_gets_404(client: Client, cast: Cast) -> None:  # noqa: F811
    sub = queued(cast)
    delivery = Delivery.objects.get()
    as_user(client, cast.collector_a)
    assert 'href="/webhooks/"' not in page(client, "/")  # no link either
    for url in ("/webhooks/", f"/webhooks/{sub.pk}/deliveries/"):
        page(client, url, status=403)
    for url in ("/webhooks/new", f"/webhooks/{sub.pk}/deactivate",
                f"/webhooks/deliveries/{delivery.pk}/replay"):  # fmt: skip
        assert client.post(url, {"url": "https://x.example", "events": ["reminder.sent"]}
                           ).status_code == 403  # fmt: skip
    as_user(client, cast.user_b)  # Bolt's administrator
    assert NOWHERE not in page(client, "/webhooks/")
    page(client, f"/webhooks/{sub.pk}/deliveries/", status=404)
    for url in (f"/webhooks/{sub.pk}/deactivate", f"/webhooks/deliveries/{delivery.pk}/replay"):
        assert client.post(url).status_code == 404
    sub.refresh_from_db()
    assert sub.active and not Subscription.objects.filter(company=cast.b).exists()


def test_the_webhooks_page_speaks_german(client: Client, cast: Cast, ada: User) -> None:  # noqa: F811
    sub = queued(cast)
    services.deliver(at=AT)
    html = page(as_user(client, ada), "/webhooks/", HTTP_ACCEPT_LANGUAGE="de")
    assert "Andere Systeme (ein ERP, ein CRM, ein Chat) erfahren" in html
    assert "invoice.overdue · Rechnung überfällig" in html and "Webhook hinzufügen" in html
    assert "Neuer Versuch nach 1 Versuch" in html and "Deaktivieren" in html
    html = page(client, f"/webhooks/{sub.pk}/deliveries/", HTTP_ACCEPT_LANGUAGE="de")
    assert "Zustellprotokoll" in html and "Nur fehlgeschlagene" in html and "Erneut senden" in html
