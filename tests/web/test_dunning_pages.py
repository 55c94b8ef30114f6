"""The dunning pages: outbox, message with its text, approvals (credit managers decide), runs,
policies; each company sees only its own."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from dunwell.dunning.models import Decision, Message
from dunwell.dunning.services.delivery import deliver_emails
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Activity, ActivityKind, ContactRole, Customer, OpenItem
from tests import factories as f
from tests.web.test_pages import Cast, as_user, cast, page  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def dunned(cast: Cast) -> Cast:  # noqa: F811 - the fixture of test_pages
    today = timezone.localdate()
    for company, customer in ((cast.a, cast.customer_a), (cast.b, cast.customer_b)):
        ensure_default_policy(company, datetime.now(UTC))
        f.contact(customer, f"ap@{company.code}.example", name="Petra Bauer")
        f.contact(
            customer, f"max@{company.code}.example", name="Max Weber", role=ContactRole.AP_MANAGER
        )
        on = today if today.weekday() < 5 else today - timedelta(days=today.weekday() - 4)
        run_dunning(company=company, on=on, at=datetime.now(UTC))
    return cast


def test_the_outbox_lists_the_companys_messages_and_filters_them(client: Client, dunned: Cast):
    html = page(as_user(client, dunned.collector_a), "/dunning/")
    assert "Acme Buyer GmbH" in html and "Bolt Buyer GmbH" not in html
    assert "Awaiting approval" in html and "max@acme.example" in html
    assert "No messages match." in page(client, "/dunning/?status=sent")


def test_a_message_page_shows_why_and_previews_its_text_in_either_language(
    client: Client, dunned: Cast
):
    email = Message.objects.get(company=dunned.a, channel="email")
    html = page(as_user(client, dunned.viewer_a), f"/dunning/messages/{email.pk}/")
    assert "step 4 (Final demand) due for acme-INV-1" in html
    assert "Subject:</strong> Final demand: €1,234.56, Acme Buyer GmbH" in html
    assert "FINAL DEMAND" in html and "Approve and send" not in html  # a viewer cannot decide
    german = page(client, f"/dunning/messages/{email.pk}/?language=de")
    assert "LETZTE MAHNUNG" in german
    other = Message.objects.filter(company=dunned.b).first()
    page(client, f"/dunning/messages/{other.pk}/", status=404)


def test_a_credit_manager_approves_and_a_collector_may_not(client: Client, dunned: Cast):
    decision = Decision.objects.get(company=dunned.a, outcome="approval")
    url = f"/dunning/decisions/{decision.pk}/decide"
    as_user(client, dunned.collector_a)
    assert client.post(url, {"action": "approve"}).status_code == 403
    html = page(client, "/dunning/approvals/")
    assert "acme-INV-1" in html and "Approve and send" not in html
    as_user(client, dunned.manager_a)
    assert "Approve and send" in page(client, "/dunning/approvals/")
    response = client.post(url, {"action": "approve"}, follow=True)
    assert "step 4 approved, 2 message(s) released" in response.content.decode()
    assert set(decision.messages.values_list("status", flat=True)) == {"pending"}
    assert "Nothing waits for approval." in page(client, "/dunning/approvals/")
    refused = client.post(url, {"action": "reject", "reason": "late"}, follow=True)
    assert "does not await approval" in refused.content.decode()
    foreign = Decision.objects.get(company=dunned.b)
    assert (
        client.post(f"/dunning/decisions/{foreign.pk}/decide", {"action": "approve"}).status_code
        == 404
    )


def test_runs_and_policies_explain_what_was_decided(client: Client, dunned: Cast):
    as_user(client, dunned.viewer_a)
    runs = page(client, "/dunning/runs/")
    assert "approval 1" in runs
    decision = Decision.objects.get(company=dunned.a)
    run = page(client, f"/dunning/runs/{decision.run_id}/")
    assert "Acme Buyer GmbH" in run and "awaiting approval" in run
    policies = page(client, "/dunning/policies/")
    assert "Letter before action" in policies and "+50 days from the due date" in policies


def test_a_sent_message_offers_the_statement_it_carried_to_its_company_only(
    client: Client, dunned: Cast
):
    email = Message.objects.get(company=dunned.a, channel="email")
    Message.objects.filter(pk=email.pk).update(status="pending")
    # in the morning of the run's business day: delivery waits out nights, weekends and holidays
    morning = datetime.combine(email.business_date, time(10), UTC)
    deliver_emails(at=morning, company=dunned.a, backend=LOCMEM)
    email.refresh_from_db()
    assert email.status == "sent" and email.statement is not None
    html = page(as_user(client, dunned.viewer_a), f"/dunning/messages/{email.pk}/")
    assert f"{email.statement.filename}</a>" in html
    response = client.get(f"/dunning/messages/{email.pk}/statement.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content == bytes(email.statement.pdf)
    as_user(client, dunned.user_b)
    assert client.get(f"/dunning/messages/{email.pk}/statement.pdf").status_code == 404


def test_a_call_task_waits_in_its_owner_collectors_queue_until_done(
    client: Client,
    cast: Cast,  # noqa: F811 - the fixture of test_pages
):
    today = timezone.localdate()
    on = today if today.weekday() < 5 else today - timedelta(days=today.weekday() - 4)
    ensure_default_policy(cast.a, datetime.now(UTC))
    customer = Customer.objects.create(
        company=cast.a, account_number="C-300", legal_name="Calla GmbH", currency="EUR",
        country="DE", owner=cast.collector_a,
    )  # fmt: skip
    f.contact(customer, "ap@calla.example", phone="+49 30 1234567", name="Carl Calla")
    OpenItem.objects.create(
        company=cast.a, customer=customer, number="CALL-1", issued_on=on - timedelta(days=55),
        due_on=on - timedelta(days=25), currency="EUR", amount_minor=500_00, open_minor=500_00,
    )  # fmt: skip
    run_dunning(company=cast.a, on=on, at=datetime.now(UTC))
    call = Message.objects.get(customer=customer, channel="call")
    assert call.assignee == cast.collector_a and call.status == "pending"

    html = page(as_user(client, cast.collector_a), "/dunning/tasks/")
    assert "Calla GmbH" in html and "+49 30 1234567" in html and "€500.00" in html
    assert "Acme Buyer GmbH" not in html  # not this collector's customer
    assert "Calla GmbH" not in page(client, "/dunning/tasks/?who=unassigned")
    response = client.post(f"/dunning/tasks/{call.pk}/done", {"note": "promised Friday"})
    assert response.status_code == 302
    call.refresh_from_db()
    assert (call.status, call.body) == ("sent", "promised Friday")
    done = Activity.objects.get(kind=ActivityKind.TASK_DONE, customer=customer)
    assert done.summary == "Call (step 3) done: promised Friday"
    assert done.actor == cast.collector_a
    after = page(client, "/dunning/tasks/")
    assert "Calla GmbH (C-300): call done" in after  # the flash
    assert f"/dunning/messages/{call.pk}/" not in after  # out of the queue
    again = client.post(f"/dunning/tasks/{call.pk}/done", {"note": "twice"}, follow=True)
    assert "not pending" in again.content.decode()
    assert Activity.objects.filter(kind=ActivityKind.TASK_DONE).count() == 1

    as_user(client, cast.viewer_a)
    assert "What was done" not in page(client, "/dunning/tasks/?who=all")
    assert client.post(f"/dunning/tasks/{call.pk}/done").status_code == 403
    as_user(client, cast.user_b)
    assert client.post(f"/dunning/tasks/{call.pk}/done").status_code == 404
