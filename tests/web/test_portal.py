"""The customer portal (issue 6): a reminder's link opens the customer's account for its contact;
changed, expired and withdrawn links open nothing; the AP clerk disputes, promises, asks for a
plan, reports a payment and corrects the contact, each in the history with a task for the
owner; nothing of another customer is reachable; pages in the customer's language.

Acme GmbH (IBAN DE89 3704 0044 0532 0130 00) reminds Kunde C001 of INV-C001, EUR 1,234.56, due
eight days before Monday 23 November 2026; Petra Bauer is its AP contact.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dunwell.cases.models import Dispute, PortalLink, PromiseToPay, Task
from dunwell.cases.services import portal
from dunwell.dunning.models import Message, MessageStatus
from dunwell.dunning.services.delivery import deliver_emails
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Activity, ActivityKind, Contact, ContactRole, Customer
from tests import factories as f
from tests.smtp import text_of
from tests.web.test_pages import assert_csp_clean

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
LINK = re.compile(r"http://127\.0\.0\.1:8000(/portal/[^/\s]+/)")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def world(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    company = f.company()
    company.iban, company.bic = "DE89370400440532013000", "COBADEFFXXX"
    company.save()
    ensure_default_policy(company, AT)
    owner = User.objects.create_user("jonas")
    customer = f.customer(company, "C001", "Kunde C001")
    Customer.objects.filter(pk=customer.pk).update(owner=owner)
    customer.refresh_from_db()
    contact = f.contact(customer, "ap@c001.example", name="Petra Bauer")
    due = MONDAY - timedelta(days=8)
    invoice = f.invoice(company, customer, "INV-C001", 1_234_56, due - timedelta(days=30),
                        due_on=due)  # fmt: skip
    return company, customer, contact, invoice, owner


@pytest.fixture
def now(monkeypatch):
    """The portal's clock: Monday morning, the day the reminder went out."""
    from dunwell.core import clock

    monkeypatch.setattr(clock, "now", lambda: AT + timedelta(hours=2))
    monkeypatch.setattr(clock, "today", lambda company=None: MONDAY)
    return AT + timedelta(hours=2)


def a_link(world, now, **extra) -> tuple[PortalLink, str]:
    company, customer, contact, _, _ = world
    link = portal.issue(company=company, customer=customer, contact=contact, at=now, **extra)
    return link, f"/portal/{portal.token(link)}/"


def test_a_reminders_link_opens_the_customers_account(world, smtp, now, client: Client) -> None:
    company, customer, contact, invoice, _ = world
    run_dunning(company=company, on=MONDAY, at=AT)
    deliver_emails(at=AT)
    [(_, email)] = smtp.received
    body = text_of(email)
    found = LINK.search(body)
    assert found, body
    assert f"Your account and every invoice: http://127.0.0.1:8000{found[1]}" in body
    link = PortalLink.objects.get()
    assert (link.customer, link.contact, link.source) == (customer, contact,
                                                          f"message {Message.objects.get().pk}")  # fmt: skip
    assert link.expires_at == AT + timedelta(days=45)

    page = client.get(found[1])
    html = page.content.decode()
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store" and page["X-Robots-Tag"] == "noindex, nofollow"
    assert_csp_clean(page, html)
    assert "Account of Kunde C001" in html
    assert "INV-C001" in html and "€1,234.56" in html
    assert " ".join(re.findall(".{1,4}", invoice.payment_reference)) in html  # RF in groups
    assert "DE89 3704 0044 0532 0130 00" in html  # where to pay
    assert 'src="data:image/svg+xml' in html  # the EPC QR code for the banking app
    assert f"/portal/{portal.token(link)}/invoices/{invoice.pk}.pdf" in html
    pdf = client.get(f"{found[1]}invoices/{invoice.pk}.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    link.refresh_from_db()
    assert link.uses == 2 and link.last_used_at == now


def test_delivering_a_message_again_prints_the_same_link(world, now) -> None:
    company, customer, contact, _, _ = world
    first = portal.issue(company=company, customer=customer, contact=contact, at=now,
                         source="message 7")  # fmt: skip
    again = portal.issue(company=company, customer=customer, contact=contact,
                         at=now + timedelta(hours=1), source="message 7")  # fmt: skip
    assert first == again and portal.token(first) == portal.token(again)


def test_changed_expired_and_withdrawn_links_open_nothing(world, now, client: Client) -> None:
    link, url = a_link(world, now)
    token = portal.token(link)
    for changed in (token[:-1] + ("A" if token[-1] != "A" else "B"),
                    f"{link.pk + 1}.{link.nonce}:{token.rsplit(':', 1)[1]}",
                    "nonsense"):  # fmt: skip
        refused = client.get(f"/portal/{changed}/")
        assert refused.status_code == 404 and "This link is not valid" in refused.content.decode()
        assert "Kunde C001" not in refused.content.decode()
    PortalLink.objects.filter(pk=link.pk).update(expires_at=now - timedelta(seconds=1))
    expired = client.get(url)
    assert expired.status_code == 410 and "This link has expired" in expired.content.decode()
    assert "Send me a fresh link" in expired.content.decode()
    assert client.post(f"{url}do/promise", {}).status_code == 410  # no action either
    count = portal.revoke_customer(customer=world[1], reason="placed with an agency",
                                   actor=None, on=MONDAY, at=now)  # fmt: skip
    assert count == 0  # the expired one is not live
    _fresh, fresh_url = a_link(world, now)
    assert portal.revoke_customer(customer=world[1], reason="placed with an agency", actor=None,
                                  on=MONDAY, at=now) == 1  # fmt: skip
    withdrawn = client.get(fresh_url)
    assert withdrawn.status_code == 410 and "withdrawn" in withdrawn.content.decode()
    assert Activity.objects.get(kind=ActivityKind.PORTAL_LINK_REVOKED).summary == (
        "1 portal link(s) withdrawn: placed with an agency")  # fmt: skip


def test_an_expired_link_sends_a_fresh_one_to_the_address_on_record_once_an_hour(
    world, smtp, now, client: Client
) -> None:
    link, url = a_link(world, now)
    PortalLink.objects.filter(pk=link.pk).update(expires_at=now - timedelta(days=1))
    sent = client.post(f"{url}renew")
    assert sent.status_code == 200 and "a•••@c001.example" in sent.content.decode()
    [(recipients, email)] = smtp.received
    assert recipients == ["ap@c001.example"]
    fresh = LINK.search(text_of(email))[1]
    assert client.get(fresh).status_code == 200
    again = client.post(f"{url}renew")
    assert "sent already" in again.content.decode() and len(smtp.received) == 1
    assert Activity.objects.filter(kind=ActivityKind.PORTAL_LINK_RENEWED).count() == 1


def test_a_dispute_with_a_document_reaches_the_history_and_the_owners_queue(
    world, now, client: Client
) -> None:
    _, customer, _, invoice, owner = world
    _, url = a_link(world, now)
    response = client.post(f"{url}do/dispute", {
        "dispute-item": invoice.pk, "dispute-reason": "quantity", "dispute-amount": "234.56",
        "dispute-comment": "only 8 of 10 bearings arrived",
        "dispute-attachment": SimpleUploadedFile("delivery-note.pdf", PDF, "application/pdf"),
    }, follow=True)  # fmt: skip
    assert "your dispute of INV-C001 is with us" in response.content.decode()
    dispute = Dispute.objects.get()
    assert dispute.items.get().amount_minor == 234_56
    assert dispute.note == ("in the portal by Petra Bauer <ap@c001.example>: only 8 of 10 "
                            "bearings arrived")  # fmt: skip
    assert dispute.attachments.get().name == "delivery-note.pdf"
    task = Task.objects.get()
    assert (task.assignee, task.due_on, task.title) == (
        owner, MONDAY, "Portal: INV-C001 disputed (Quantity) by Petra Bauer <ap@c001.example>")  # fmt: skip
    assert Activity.objects.filter(customer=customer, kind=ActivityKind.DISPUTE_OPENED).exists()


def test_a_promise_withdraws_the_reminder_not_yet_sent(world, now, client: Client) -> None:
    company, _, _, invoice, _ = world
    run_dunning(company=company, on=MONDAY, at=AT)  # a reminder waits in the outbox
    _, url = a_link(world, now)
    client.post(f"{url}do/promise", {"promise-items": [invoice.pk],
                                     "promise-promised_on": "2026-11-30"})  # fmt: skip
    promise = PromiseToPay.objects.get()
    assert (promise.amount_minor, promise.promised_on, promise.channel, promise.promised_by) == (
        1_234_56, date(2026, 11, 30), "portal", "Petra Bauer <ap@c001.example>")  # fmt: skip
    assert Message.objects.get().status == MessageStatus.WITHDRAWN
    assert Task.objects.get().title == "Portal: EUR 1234.56 promised by 2026-11-30 for INV-C001"


def test_a_plan_request_a_payment_report_and_a_contact_correction(
    world, now, client: Client
) -> None:
    _, customer, contact, invoice, _ = world
    _, url = a_link(world, now)
    client.post(f"{url}do/plan", {"plan-instalments": "3", "plan-first_on": "2026-12-15",
                                  "plan-note": "seasonal business"})  # fmt: skip
    client.post(f"{url}do/paid", {"paid-items": [invoice.pk], "paid-paid_on": "2026-11-20",
                                  "paid-reference": "BANK-REF-0815"})  # fmt: skip
    client.post(f"{url}do/contact", {"contact-name": "Petra Bauer-Lang",
                                     "contact-email": "AP@c001.example ",
                                     "contact-phone": "+49 89 123456"})  # fmt: skip
    summaries = list(
        Activity.objects.filter(customer=customer, kind__gte=900).order_by("pk")
        .values_list("summary", flat=True)
    )  # fmt: skip
    assert summaries == [
        "Petra Bauer <ap@c001.example> asks for a payment plan: 3 instalments from 2026-12-15: "
        "seasonal business",
        "Petra Bauer <ap@c001.example> reports INV-C001 paid on 2026-11-20, reference "
        "BANK-REF-0815",
        "AP contact corrected in the portal: name Petra Bauer -> Petra Bauer-Lang; phone - -> "
        "+49 89 123456",
    ]
    contact.refresh_from_db()
    assert (contact.name, contact.email, contact.phone) == ("Petra Bauer-Lang", "ap@c001.example",
                                                            "+49 89 123456")  # fmt: skip
    assert Task.objects.count() == 3


def test_bad_input_is_refused_with_the_field_named(world, now, client: Client) -> None:
    _, _, _, invoice, _ = world
    _, url = a_link(world, now)
    past = client.post(f"{url}do/promise", {"promise-items": [invoice.pk],
                                            "promise-promised_on": "2026-11-01"})  # fmt: skip
    assert past.status_code == 400 and "The date is in the past." in past.content.decode()
    too_much = client.post(f"{url}do/dispute", {"dispute-item": invoice.pk,
                                                "dispute-reason": "price",
                                                "dispute-amount": "5000.00"})  # fmt: skip
    assert (
        too_much.status_code == 400 and "at most the EUR 1234.56 open" in too_much.content.decode()
    )
    exe = client.post(f"{url}do/dispute", {
        "dispute-item": invoice.pk, "dispute-reason": "price",
        "dispute-attachment": SimpleUploadedFile("invoice.exe", b"MZ\x90", "application/pdf"),
    })  # fmt: skip
    assert exe.status_code == 400 and "invoice.exe: expected one of" in exe.content.decode()
    assert not Dispute.objects.exists() and not PromiseToPay.objects.exists()


def test_nothing_of_another_customer_is_reachable(world, now, client: Client) -> None:
    company, _, _, _, _ = world
    other = f.customer(company, "C002", "Other AG")
    theirs = f.invoice(company, other, "INV-OTHER", 99_00, date(2026, 10, 1))
    _, url = a_link(world, now)
    assert "INV-OTHER" not in client.get(url).content.decode()
    assert client.get(f"{url}invoices/{theirs.pk}.pdf").status_code == 404
    refused = client.post(f"{url}do/dispute", {"dispute-item": theirs.pk,
                                               "dispute-reason": "price"})  # fmt: skip
    assert refused.status_code == 400 and not Dispute.objects.exists()
    paid = client.post(f"{url}do/paid", {"paid-items": [theirs.pk], "paid-paid_on": "2026-11-20"})
    assert paid.status_code == 400
    assert not Activity.objects.filter(kind=ActivityKind.PORTAL_PAYMENT_REPORTED).exists()


def test_the_page_speaks_the_customers_language_and_shows_names_inert(
    world, now, client: Client
) -> None:
    _company, customer, _, _, _ = world
    customer.legal_name = '<script>alert("x")</script> Kunde'
    customer.language = "de"
    customer.save()
    _, url = a_link(world, now)
    html = client.get(url).content.decode()
    assert "Offene Rechnungen" in html and "1.234,56" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(&quot;x&quot;)" in html
    english = client.get(f"{url}?lang=en").content.decode()
    assert "Open invoices" in english


def test_the_contact_of_a_reminder_is_the_one_its_link_is_for(world, smtp, now) -> None:
    company, customer, _, _, _ = world
    boss = f.contact(customer, "boss@c001.example", name="Max Weber", role=ContactRole.AP_MANAGER)
    Contact.objects.filter(pk=boss.pk).update(receives_reminders=False)
    run_dunning(company=company, on=MONDAY, at=AT)
    deliver_emails(at=AT)
    assert PortalLink.objects.get().contact.email == "ap@c001.example"
