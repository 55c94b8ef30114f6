"""The customer page's invoice pickers in Debian's Chromium, under the strict CSP: opening "Open a
dispute" fetches its invoices (htmx), typing in the search box narrows them on the server without
losing what is ticked or the amount typed on it, and Enter in the box searches rather than opening
the dispute. The note's picker chooses one invoice. No CSP violation, no uncaught error (the page
fixture fails the test on either).

Bauer KG owes INV-001 … INV-260, EUR 10.00 × n each, due a day apart.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect
from tests import factories as f

from dunwell.cases.models import Dispute
from dunwell.core import clock
from dunwell.core.models import Membership, Role
from dunwell.ledger.models import Activity, ActivityKind, Customer, OpenItem

PASSWORD = "ledger-and-quill-42"


@pytest.fixture
def bauer() -> Customer:
    company = f.company()
    collector = User.objects.create_user("colin", password=PASSWORD)
    Membership.objects.create(user=collector, company=company, role=Role.COLLECTOR)
    customer = f.customer(company, "C001", "Bauer KG")
    today = clock.today(company)
    OpenItem.objects.bulk_create(
        OpenItem(company=company, customer=customer, number=f"INV-{n:03}", currency="EUR",
                 issued_on=today - timedelta(days=400), due_on=today - timedelta(days=300 - n),
                 amount_minor=n * 10_00, open_minor=n * 10_00)
        for n in range(1, 261)
    )  # fmt: skip
    return customer


def signed_in(page: Page, live_server: Any, customer: Customer) -> None:
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.fill("#id_username", "colin")
    page.fill("#id_password", PASSWORD)
    page.locator("form:has(#id_password) [type=submit]").click()
    page.wait_for_url(f"{live_server.url}/customers/{customer.pk}/")


def test_a_dispute_s_invoices_load_when_opened_and_a_search_keeps_what_is_ticked(
    live_server: Any, page: Page, bauer: Customer
) -> None:
    signed_in(page, live_server, bauer)
    fold = page.locator("details.case-form", has_text="Open a dispute")
    with page.expect_response(re.compile(r"/disputes/invoices$")):
        fold.locator("summary").click()
    rows = fold.locator("#dispute-rows")
    expect(rows).to_contain_text("260 open items. Listed: the 200 oldest due")
    expect(rows.locator("input[type=checkbox]")).to_have_count(200)

    fold.get_by_label("INV-002", exact=True).check()
    fold.get_by_label("Amount disputed of INV-002 in EUR").fill("5.50")
    with page.expect_response(re.compile(r"/disputes/invoices\?.*q=25")):
        fold.get_by_label("Number contains").press_sequentially("25")
    expect(rows).to_contain_text("13 of the 260 open items match “25”. 1 ticked, listed first.")
    expect(rows.locator("input[type=checkbox]")).to_have_count(14)  # 002; 025, 125, 225, 250-259
    expect(fold.get_by_label("INV-002", exact=True)).to_be_checked()
    expect(fold.get_by_label("Amount disputed of INV-002 in EUR")).to_have_value("5.50")

    with page.expect_response(re.compile(r"/disputes/invoices\?.*q=250")):
        fold.get_by_label("Number contains").press("0")
    expect(rows).to_contain_text("1 of the 260 open items matches “250”. 1 ticked, listed first.")
    fold.get_by_label("INV-250", exact=True).check()
    with page.expect_response(re.compile(r"/disputes/invoices\?")):
        fold.get_by_label("Number contains").press("Enter")  # a search, not the dispute
    expect(page).to_have_url(f"{live_server.url}/customers/{bauer.pk}/")
    assert not Dispute.objects.exists()

    fold.locator("select[name=reason]").select_option("price")
    fold.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("opened")
    dispute = Dispute.objects.get()
    parts = dispute.items.order_by("item__number")
    assert [(p.item.number, p.amount_minor) for p in parts] == [
        ("INV-002", 5_50), ("INV-250", 2_500_00)
    ]  # fmt: skip


def test_a_note_is_added_on_the_invoice_chosen_in_its_picker(
    live_server: Any, page: Page, bauer: Customer
) -> None:
    signed_in(page, live_server, bauer)
    form = page.locator("form:has(input[name=text])")
    with page.expect_response(re.compile(r"/notes/invoices$")):
        form.locator("summary").click()
    with page.expect_response(re.compile(r"/notes/invoices\?.*q=INV-07")):
        form.get_by_label("Number contains").fill("INV-07")
    form.get_by_label("INV-077", exact=True).check()
    form.locator("input[name=text]").fill("credit note promised")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("note added")
    note = Activity.objects.get(kind=ActivityKind.NOTE_ADDED)
    assert (note.item.number, note.summary) == ("INV-077",
                                                "note on INV-077: credit note promised")  # fmt: skip
