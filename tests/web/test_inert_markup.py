"""Markup in what customers and imports type stays text everywhere (issue 6): pages, PDFs,
emails and letters show `<script>` as the characters it is, never as code or formatting."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pypdf import PdfReader

from dunwell.core.models import Membership, Role
from dunwell.dunning.services.delivery import deliver_emails
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Customer
from dunwell.ledger.printing import statement_pdf
from dunwell.reports.worklist import refresh_worklist
from tests import factories as f
from tests.smtp import text_of

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
NAME = '<script>alert("x")</script> Bauer & <b>Söhne</b>'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Bauer &amp; &lt;b&gt;Söhne&lt;/b&gt;"


def pdf_text(pdf: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())  # lines wrapped where the layout broke them


@pytest.fixture
def world():
    company = f.company()
    company.iban = "DE89370400440532013000"
    company.save()
    ensure_default_policy(company, AT)
    customer = f.customer(company, "C001", NAME)
    f.contact(customer, "ap@c001.example", name="<i>Petra</i>")
    due = MONDAY - timedelta(days=8)
    item = f.invoice(company, customer, "INV-1", 1_234_56, due - timedelta(days=30), due_on=due,
                     po_number="<img src=x onerror=alert(1)>")  # fmt: skip
    viewer = User.objects.create_user("manny")  # a credit manager: every worklist
    Membership.objects.create(user=viewer, company=company, role=Role.CREDIT_MANAGER)
    return company, customer, item, viewer


def test_pages_show_names_and_fields_as_text(world, client: Client) -> None:
    company, customer, item, viewer = world
    Customer.objects.filter(pk=customer.pk).update(owner=viewer)  # in their own worklist
    refresh_worklist(company=company, on=MONDAY, at=AT)
    f.signed_in(client, viewer)
    for url in ("/customers/", f"/customers/{customer.pk}/", f"/items/{item.pk}/",
                f"/customers/{customer.pk}/statement/", f"/customers/{customer.pk}/history/",
                "/worklist/", f"/items/{item.pk}/history/"):  # fmt: skip
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "<b>Söhne</b>" not in html, url
        assert "onerror=alert(1)>" not in html.replace("onerror=alert(1)&gt;", ""), url
        assert ESCAPED in html, url


def test_pdfs_emails_and_letters_print_the_characters(world, smtp) -> None:
    company, customer, _, _ = world
    assert NAME in pdf_text(statement_pdf(customer, MONDAY))
    run_dunning(company=company, on=MONDAY, at=AT)
    deliver_emails(at=AT)
    [(_, email)] = smtp.received
    assert email.get_body(("html",)) is None  # plain text only: nothing for a client to run
    # written as typed: not escaped for a browser either ("Bauer &amp;" was a bug of session 7)
    assert NAME in str(email["Subject"]) and "Dear <i>Petra</i>," in text_of(email)
