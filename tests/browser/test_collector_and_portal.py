"""Issue 6's proof in Debian's Chromium: a collector signs in with a password and an authenticator
code, works the worklist and logs a call; a customer's AP clerk opens the portal link from the
reminder the SMTP server received, disputes one invoice and promises to pay the other.

Screenshots of each step are kept in BROWSER_ARTIFACTS (default: .artifacts/browser/), which
CI keeps with the run.
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect
from tests import factories as f
from tests.smtp import text_of

from dunwell.cases.models import CallLog, Dispute, PromiseToPay
from dunwell.core import clock
from dunwell.core.models import Membership, Role
from dunwell.dunning.models import Message, MessageStatus
from dunwell.dunning.services import delivery
from dunwell.dunning.services.delivery import deliver_emails
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Customer
from dunwell.reports.worklist import refresh_worklist

PASSWORD = "ledger-and-quill-42"
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", ".artifacts/browser"))


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def working_morning() -> datetime:
    """The latest 09:00 UTC, today or before, when the outbox may send (not a night, a weekend
    or a holiday where the customer is): the test runs at any hour of any day."""
    pending = Message.objects.filter(status=MessageStatus.PENDING)
    today = clock.now().date()
    for back in range(14):
        moment = datetime.combine(today - timedelta(days=back), dt_time(9), tzinfo=UTC)
        if moment <= clock.now() and delivery._not_now(pending, moment) is None:
            return moment
    raise AssertionError("no working morning in the last two weeks")


def code_of(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


@pytest.fixture
def acme() -> tuple[Any, Customer, User]:
    company = f.company()
    company.iban, company.bic = "DE89370400440532013000", "COBADEFFXXX"
    company.save()
    ensure_default_policy(company, clock.now())
    collector = User.objects.create_user("colin", password=PASSWORD)
    Membership.objects.create(user=collector, company=company, role=Role.COLLECTOR)
    customer = f.customer(company, "C001", "Bauer KG")
    Customer.objects.filter(pk=customer.pk).update(owner=collector)
    f.contact(customer, "ap@bauer.example", name="Petra Bauer", phone="+49 89 1234")
    today = clock.today(company)
    for number, days in (("INV-1001", 10), ("INV-1002", 12)):
        due = today - timedelta(days=days)
        f.invoice(company, customer, number, 1_234_56, due - timedelta(days=30), due_on=due)
    return company, customer, collector


def test_a_collector_signs_in_with_a_second_factor_works_the_worklist_and_logs_a_call(
    live_server: Any, page: Page, acme: tuple[Any, Customer, User]
) -> None:
    company, customer, collector = acme
    device = TOTPDevice.objects.create(user=collector, name="phone", confirmed=True)
    refresh_worklist(company=company, on=clock.today(company), at=clock.now())

    page.goto(f"{live_server.url}/worklist/")
    page.fill("#id_username", "colin")
    page.fill("#id_password", PASSWORD)
    page.locator("form:has(#id_password) [type=submit]").click()
    page.wait_for_url(re.compile(r"/account/two-factor/verify"))
    shot(page, "1-two-factor-code")
    page.fill("#id_code", code_of(device))
    page.locator("form:has(#id_code) [type=submit]").click()
    page.wait_for_url(f"{live_server.url}/worklist/")
    expect(page.locator("table.data")).to_contain_text("Bauer KG")
    shot(page, "2-worklist")

    page.locator("table.data a", has_text="Bauer KG").first.click()
    page.wait_for_url(f"{live_server.url}/customers/{customer.pk}/")
    form = page.locator("form.call-form")
    form.locator("select[name=outcome]").select_option("will_pay")
    form.locator("input[name=note]").fill("pays in Friday's run")
    form.locator("[type=submit]").click()
    expect(page.locator("body")).to_contain_text("pays in Friday's run")
    shot(page, "3-call-logged")
    call = CallLog.objects.get(customer=customer)
    assert (call.outcome, call.note, call.actor) == ("will_pay", "pays in Friday's run",
                                                         collector)  # fmt: skip


def test_a_customer_opens_the_link_from_the_reminder_disputes_one_invoice_and_promises_the_other(
    live_server: Any, page: Page, acme: tuple[Any, Customer, User], smtp: Any, settings: Any
) -> None:
    company, customer, _ = acme
    settings.SITE_URL = live_server.url
    run_dunning(company=company, on=clock.today(company), at=clock.now())
    assert deliver_emails(at=working_morning()).sent == 1
    [(recipients, email)] = smtp.received
    assert recipients == ["ap@bauer.example"]
    link = re.search(rf"{re.escape(live_server.url)}/portal/\S+/", text_of(email))
    assert link, text_of(email)

    page.goto(link[0])
    expect(page.locator("h1").first).to_contain_text("Account of Bauer KG")
    expect(page.locator(".portal-invoices")).to_contain_text("INV-1001")
    shot(page, "4-portal")

    page.locator("summary", has_text="Something is wrong with an invoice").click()
    dispute = page.locator("form[action$='/do/dispute']")
    dispute.locator("select[name=dispute-item]").select_option(label="INV-1001 · €1,234.56")
    dispute.locator("select[name=dispute-reason]").select_option("quantity")
    dispute.locator("textarea[name=dispute-comment]").fill("8 of 10 bearings arrived")
    dispute.locator("[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("your dispute of INV-1001 is with us")
    shot(page, "5-disputed")

    page.locator("summary", has_text="We will pay on a date").click()
    promise = page.locator("form[action$='/do/promise']")
    promise.get_by_label(re.compile("INV-1002")).check()
    pay_by = clock.today(company) + timedelta(days=7)
    promise.locator("input[name=promise-promised_on]").fill(pay_by.isoformat())
    promise.locator("[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("we have noted your payment")
    shot(page, "6-promised")

    disputed = Dispute.objects.get(customer=customer)
    assert [i.item.number for i in disputed.items.all()] == ["INV-1001"]
    promised = PromiseToPay.objects.get(customer=customer)
    assert (promised.promised_on, promised.amount_minor, promised.channel) == (pay_by, 1_234_56,
                                                                               "portal")  # fmt: skip
