"""The aging page at 1280 px: its wide tables scroll inside their own box, never the whole page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from playwright.sync_api import Page, expect
from tests import factories

from dunwell.core.models import Membership, Role

# CHF 1,443,459.29 in every bucket: the widest amounts a mid-sized ledger shows.
WIDE_AMOUNT = 144_345_929


def test_aging_tables_stay_inside_the_page_at_1280_px(
    live_server: Any, page: Page, django_user_model: Any
) -> None:
    company = factories.company()
    user = django_user_model.objects.create_user(username="ada", password="ledger-and-quill-42")
    Membership.objects.create(user=user, company=company, role=Role.COLLECTOR)
    today = timezone.localdate()
    for n, overdue_days in enumerate((-5, 10, 40, 70, 100, 200)):
        due_on = today - timedelta(days=overdue_days)
        customer = factories.customer(company, f"C{n}", f"Kunde {n} GmbH", currency="CHF")
        factories.invoice(company, customer, f"INV-{n}", WIDE_AMOUNT, due_on - timedelta(days=30),
                          due_on=due_on)  # fmt: skip

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "ledger-and-quill-42")
    page.locator("form:has(#id_password) [type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")  # a member lands on the overview
    page.goto(f"{live_server.url}/aging/")
    expect(page.locator("table.data").first).to_contain_text("CHF")

    page_overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    main = page.locator("main").bounding_box()
    assert page_overflow == 0
    assert main is not None
    for table in page.locator("table.data").all():
        box = table.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= main["x"] + main["width"] + 0.5
