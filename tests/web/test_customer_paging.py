"""The customer page's open items, paged and sorted in SQL: a customer with 120 invoices shows 50
a page, the totals are those of all 120, and the page runs the same queries with 60 as with 120.

Acme's customer Bauer KG has invoices INV-001 … INV-N, issued a day apart from 1 October 2025, due
30 days later, INV-n for EUR 100.00 + n cents; INV-120 is paid EUR 50.05 on 15 February 2026 and
another EUR 10.00 on 15 March. The page is asked as of 1 March 2026, so the second payment is not
yet there.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dunwell.core.models import Company, Membership, Role
from dunwell.ledger.models import Customer, OpenItem
from dunwell.ledger.queries import items_open_on, open_items
from dunwell.ledger.services.allocations import allocate_payment
from tests import factories as f
from tests.web.test_pages import page

pytestmark = pytest.mark.django_db

AS_OF = "2026-03-01"
FIRST_ISSUE = date(2025, 10, 1)
OPEN_ITEMS = re.compile(r'<table class="data" id="open-items">(.*?)</table>', re.DOTALL)
NUMBER = re.compile(r">(INV-\d{3})</a>")


def invoices(company: Company, customer: Customer, numbers: range) -> None:
    OpenItem.objects.bulk_create(
        OpenItem(
            company=company, customer=customer, number=f"INV-{n:03}", currency="EUR",
            issued_on=FIRST_ISSUE + timedelta(days=n), due_on=FIRST_ISSUE + timedelta(days=n + 30),
            amount_minor=100_00 + n, open_minor=100_00 + n,
        )
        for n in numbers
    )  # fmt: skip


def pay(company: Company, customer: Customer, number: str, amount_minor: int, on: date) -> None:
    key = f"P-{number}-{on.isoformat()}"
    payment = f.payment(company, customer, key, amount_minor, on)
    item = OpenItem.objects.get(company=company, number=number)
    allocate_payment(company=company, payment=payment, item=item, amount_minor=amount_minor,
                     on=on, actor=None, at=f.AT)  # fmt: skip


@pytest.fixture
def acme() -> Company:
    return f.company()


@pytest.fixture
def bauer(acme: Company) -> Customer:
    return f.customer(acme)


@pytest.fixture
def collector(client: Client, acme: Company) -> Client:
    user = User.objects.create_user(username="colly")
    Membership.objects.create(user=user, company=acme, role=Role.COLLECTOR)
    return f.signed_in(client, user)


@pytest.fixture
def hundred_twenty(acme: Company, bauer: Customer) -> Customer:
    invoices(acme, bauer, range(1, 121))
    pay(acme, bauer, "INV-120", 50_05, date(2026, 2, 15))
    pay(acme, bauer, "INV-120", 10_00, date(2026, 3, 15))  # after the page's date
    return bauer


def items_table(html: str) -> str:
    found = OPEN_ITEMS.search(html)
    assert found, "no open items table"
    return found.group(1)


def numbers(html: str) -> list[str]:
    return NUMBER.findall(items_table(html).split("<tfoot>")[0])


def customer_page(client: Client, customer: Customer, query: str = "") -> str:
    return page(client, f"/customers/{customer.pk}/?as_of={AS_OF}{query}")


def test_the_first_page_shows_the_fifty_oldest_due(collector: Client, hundred_twenty: Customer):
    html = customer_page(collector, hundred_twenty)
    assert numbers(html) == [f"INV-{n:03}" for n in range(1, 51)]
    assert "Page 1 of 3 · 120 open items" in html
    assert f"?as_of={AS_OF}&amp;page=2" in html  # next keeps the date
    sorted_html = customer_page(collector, hundred_twenty, "&sort=-due")
    assert f"?as_of={AS_OF}&amp;sort=-due&amp;page=2" in sorted_html  # and the sort


def test_page_three_shows_the_last_twenty(collector: Client, hundred_twenty: Customer):
    html = customer_page(collector, hundred_twenty, "&page=3")
    assert numbers(html) == [f"INV-{n:03}" for n in range(101, 121)]
    assert "Page 3 of 3 · 120 open items" in html
    assert "€51.15" in items_table(html)  # INV-120: EUR 101.20 less the 50.05 paid by then


def test_totals_are_those_of_all_items_on_every_page(collector: Client, hundred_twenty: Customer):
    # amounts: 120 × 100.00 + (1 + … + 120) cents = 12,072.60; open: less 50.05 = 12,022.55
    for query in ("", "&page=2", "&page=3", "&sort=-open&page=3"):
        foot = items_table(customer_page(collector, hundred_twenty, query)).split("<tfoot>")[1]
        assert "Total" in foot
        assert "€12,072.60" in foot and "€12,022.55" in foot


def test_a_later_date_counts_the_later_payment_in_the_open_total(
    collector: Client, hundred_twenty: Customer
):
    html = page(collector, f"/customers/{hundred_twenty.pk}/?as_of=2026-03-31")
    assert "€12,012.55" in items_table(html).split("<tfoot>")[1]


def test_items_sort_by_number_due_and_open_amount_descending(
    collector: Client, hundred_twenty: Customer
):
    assert numbers(customer_page(collector, hundred_twenty, "&sort=-due"))[:2] == [
        "INV-120", "INV-119",
    ]  # fmt: skip
    assert numbers(customer_page(collector, hundred_twenty, "&sort=-number"))[0] == "INV-120"
    by_open = numbers(customer_page(collector, hundred_twenty, "&sort=-open"))
    assert by_open[:2] == ["INV-119", "INV-118"]  # INV-120 is partly paid: 51.15 left
    assert "INV-120" not in by_open
    assert numbers(customer_page(collector, hundred_twenty, "&sort=open"))[0] == "INV-120"


def test_an_unknown_sort_or_page_falls_back(collector: Client, hundred_twenty: Customer):
    assert numbers(customer_page(collector, hundred_twenty, "&sort=bogus"))[0] == "INV-001"
    assert numbers(customer_page(collector, hundred_twenty, "&page=99"))[0] == "INV-101"


def test_the_date_form_keeps_the_sort(collector: Client, hundred_twenty: Customer):
    html = customer_page(collector, hundred_twenty, "&sort=-open")
    assert '<input type="hidden" name="sort" value="-open">' in html
    assert f"as_of={AS_OF}&amp;sort=open" in html  # the column link turns the order round


def test_each_currency_has_its_own_total(
    collector: Client, acme: Company, hundred_twenty: Customer
):
    f.invoice(acme, hundred_twenty, "USD-1", 250_00, date(2026, 1, 10), currency="USD")
    foot = items_table(customer_page(collector, hundred_twenty)).split("<tfoot>")[1]
    assert "€12,022.55" in foot and "$250.00" in foot


@pytest.mark.parametrize("as_of", [date(2025, 12, 1), date(2026, 2, 20), date(2026, 3, 31)])
def test_the_paged_query_has_the_items_and_amounts_of_open_items(
    acme: Company, hundred_twenty: Customer, as_of: date
):
    pay(acme, hundred_twenty, "INV-005", 100_05, date(2026, 2, 1))  # settled in full
    expected = [(r.item.number, r.open_minor) for r in open_items(acme, hundred_twenty, as_of)]
    paged = items_open_on(acme, hundred_twenty, as_of).order_by("due_on", "issued_on", "number")
    assert [(i.number, i.open_on) for i in paged] == expected
    assert ("INV-005" in [n for n, _ in expected]) is (as_of < date(2026, 2, 1))


def test_the_promise_form_offers_all_the_open_invoices_not_only_the_pages(
    collector: Client, hundred_twenty: Customer
):
    html = customer_page(collector, hundred_twenty, "&page=3")
    assert f'hx-get="/customers/{hundred_twenty.pk}/promises/invoices"' in html
    assert 'name="invoice"' not in html  # the form's invoices come when it is opened
    picker = page(collector, f"/customers/{hundred_twenty.pk}/promises/invoices",
                  HTTP_HX_REQUEST="true")  # fmt: skip
    shown, elsewhere = (OpenItem.objects.get(number=n) for n in ("INV-101", "INV-001"))
    assert "120 open items." in picker
    assert f'name="invoice" value="{shown.pk}"' in picker
    assert f'name="invoice" value="{elsewhere.pk}"' in picker
    assert "€101.01" in picker and "€100.01" in picker


def test_the_page_runs_as_many_queries_for_120_invoices_as_for_60(
    collector: Client, acme: Company, bauer: Customer
):
    invoices(acme, bauer, range(1, 61))
    customer_page(collector, bauer)  # warm: session, sites, translations
    with CaptureQueriesContext(connection) as sixty:
        customer_page(collector, bauer)
    invoices(acme, bauer, range(61, 121))
    with CaptureQueriesContext(connection) as hundred_twenty:
        html = customer_page(collector, bauer)
    assert "120 open items" in html
    assert len(hundred_twenty) == len(sixty)
    # no statement reads the open items without a LIMIT, but the counts and totals
    # (the calls and plans sections pick their own, see _calls.html and _plans.html)
    paged = [q["sql"] for q in hundred_twenty if '"ledger_openitem"."amount_minor" -' in q["sql"]]
    assert paged, "the as-of items query did not run"
    assert all("LIMIT" in sql or "COUNT(" in sql or "SUM(" in sql for sql in paged), paged
