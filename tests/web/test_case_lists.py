"""The write-offs and the agencies lists (issue 6), and the customer list on the shared listing:
searched, filtered, sorted and paged in SQL, their links keeping the filters, an unknown sort
falling back, another company's rows never shown, and the labels in German.

Acme's write-off requests: #1 EUR 900.00 on INV-A (Acme Buyer GmbH) asked 1 March, waiting;
#2 USD 700.00 (EUR 650.00) on INV-U of Huber AG asked 3 March, waiting; #3 EUR 120.00 on INV-A
asked 2 March, written off within the threshold. Bolt has a waiting one of its own.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from dunwell.cases.models import Agency, WriteOffRequest, WriteOffState
from dunwell.cases.services.placements import create_agency
from dunwell.ledger.models import Customer, OpenItem
from tests.web.test_pages import Cast, as_user, cast, page  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
AT = datetime(2025, 3, 20, 8, 0, tzinfo=UTC)
WRITE_OFF = re.compile(r"<tr>\s*<td>(\d+)</td>\s*<td class=\"date\">([\d-]+)</td>")
AGENCY = re.compile(r"<tr>\s*<td>([^<]*)</td>")
CUSTOMER = re.compile(r'<td><a href="/customers/\d+/">([^<]*)</a>')


def write_off(item: OpenItem, amount_minor: int, base_minor: int, on: date, state: str,
              currency: str = "EUR") -> WriteOffRequest:  # fmt: skip
    at = datetime(on.year, on.month, on.day, 9, tzinfo=UTC)
    return WriteOffRequest.objects.create(
        company=item.company, item=item, amount_minor=amount_minor, currency=currency,
        base_minor=base_minor, reason="customer gone", state=state, requested_on=on,
        requested_at=at,
    )  # fmt: skip


@pytest.fixture
def asked(cast: Cast) -> dict[str, WriteOffRequest]:  # noqa: F811
    huber = Customer.objects.create(company=cast.a, account_number="C-101", legal_name="Huber AG",
                                    currency="USD", country="AT")  # fmt: skip
    usd = OpenItem.objects.create(company=cast.a, customer=huber, number="INV-U", currency="USD",
                                  issued_on=date(2025, 1, 2), due_on=date(2025, 2, 1),
                                  amount_minor=900_00, open_minor=900_00)  # fmt: skip
    item = cast.invoice_a
    made = {
        "big": write_off(item, 900_00, 900_00, date(2025, 3, 1), WriteOffState.PENDING),
        "usd": write_off(usd, 700_00, 650_00, date(2025, 3, 3), WriteOffState.PENDING, "USD"),
        "small": write_off(item, 120_00, 120_00, date(2025, 3, 2), WriteOffState.EXECUTED),
    }
    write_off(cast.invoice_b, 500_00, 500_00, date(2025, 3, 1), WriteOffState.PENDING)
    return made


def listed(client: Client, query: str = "") -> list[int]:
    return [int(pk) for pk, _ in WRITE_OFF.findall(page(client, f"/write-offs/?{query}"))]


@pytest.mark.parametrize(("query", "shown"), [
    ("", ["big", "usd"]),  # waiting ones, oldest first
    ("sort=-date", ["usd", "big"]),
    ("sort=amount", ["usd", "big"]),  # by the amount in the base currency: EUR 650 < EUR 900
    ("sort=-amount", ["big", "usd"]),
    ("sort=bogus", ["big", "usd"]),
    ("state=executed", ["small"]),
    ("state=any", ["big", "small", "usd"]),
    ("state=any&sort=-amount", ["big", "usd", "small"]),
    ("state=any&q=huber", ["usd"]),
    ("state=any&q=C-100", ["big", "small"]),  # the account number
    ("state=any&q=inv-u", ["usd"]),  # the item number
    ("q=nobody", []),
])  # fmt: skip
def test_write_offs_filter_by_state_search_and_sort(client, cast, asked, query, shown):  # noqa: F811
    expected = [asked[name].pk for name in shown]
    assert listed(as_user(client, cast.manager_a), query) == expected


def test_write_offs_page_keeping_the_filters_and_a_decision_returns_to_them(
    client,
    cast,  # noqa: F811
    asked,
):
    for n in range(52):
        write_off(cast.invoice_a, 10_00 + n, 10_00 + n, date(2024, 1, 1) + timedelta(days=n),
                  WriteOffState.REJECTED)  # fmt: skip
    as_user(client, cast.manager_a)
    html = page(client, "/write-offs/?state=rejected&q=acme&sort=-amount")
    assert "Page 1 of 2 · 52 write-offs" in html and len(WRITE_OFF.findall(html)) == 50
    assert 'href="?state=rejected&amp;q=acme&amp;sort=-amount&amp;page=2"' in html
    assert len(listed(client, "state=rejected&q=acme&sort=-amount&page=2")) == 2
    response = client.post(f"/write-offs/{asked['usd'].pk}/decide",
                           {"action": "reject", "note": "no", "back": "sort=-date"})  # fmt: skip
    assert response["Location"] == "/write-offs/?sort=-date"
    assert listed(client, "sort=-date") == [asked["big"].pk]


def test_another_company_s_write_offs_never_appear(client, cast, asked):  # noqa: F811
    as_user(client, cast.user_b)
    own = WriteOffRequest.objects.get(company=cast.b).pk
    assert listed(client, "state=any") == [own]
    assert listed(client, "state=any&q=acme") == []


# -- agencies ---------------------------------------------------------------------------------


@pytest.fixture
def agencies(cast: Cast) -> Cast:  # noqa: F811
    create_agency(company=cast.a, name="Inkasso Nord", commission_percent="15", at=AT)
    create_agency(company=cast.a, name="Kanzlei Roth", commission_percent="20", kind="lawyer",
                  at=AT, email="roth@kanzlei.example")  # fmt: skip
    old = create_agency(company=cast.a, name="Alt Inkasso", commission_percent="9.75", at=AT)
    Agency.objects.filter(pk=old.pk).update(active=False)
    create_agency(company=cast.b, name="Bolt Inkasso", commission_percent="10", at=AT)
    return cast


@pytest.mark.parametrize(("query", "shown"), [
    ("", ["Inkasso Nord", "Kanzlei Roth", "Alt Inkasso"]),  # active first, by name
    ("sort=-name", ["Kanzlei Roth", "Inkasso Nord", "Alt Inkasso"]),
    ("sort=commission", ["Alt Inkasso", "Inkasso Nord", "Kanzlei Roth"]),
    ("sort=-commission", ["Kanzlei Roth", "Inkasso Nord", "Alt Inkasso"]),
    ("sort=bogus", ["Inkasso Nord", "Kanzlei Roth", "Alt Inkasso"]),
    ("q=inkasso", ["Inkasso Nord", "Alt Inkasso"]),
    ("q=kanzlei.example", ["Kanzlei Roth"]),
    ("kind=lawyer", ["Kanzlei Roth"]),
    ("active=no", ["Alt Inkasso"]),
    ("active=yes&sort=-commission", ["Kanzlei Roth", "Inkasso Nord"]),
])  # fmt: skip
def test_agencies_filter_and_sort(client, agencies, query, shown):
    html = page(as_user(client, agencies.collector_a), f"/agencies/?{query}")
    assert AGENCY.findall(html.split("<tbody>")[1].split("</tbody>")[0]) == shown
    assert "Bolt Inkasso" not in html


# -- the customer list and German labels ------------------------------------------------------


def test_the_customer_list_keeps_its_filters_when_the_sort_is_unknown(client, cast):  # noqa: F811
    Customer.objects.create(company=cast.a, account_number="C-102", legal_name="Zorn OHG",
                            currency="EUR", segment="retail")  # fmt: skip
    as_user(client, cast.viewer_a)
    # the sort was a form field: an unknown one made the whole form invalid, the search too
    assert CUSTOMER.findall(page(client, "/customers/?q=zorn&sort=bogus")) == ["Zorn OHG"]
    html = page(client, "/customers/?segment=wholesale&sort=-name")
    assert CUSTOMER.findall(html) == ["Acme Buyer GmbH"]
    assert (
        '<th scope="col" aria-sort="descending"><a href="?segment=wholesale&amp;sort=name">' in html
    )
    assert CUSTOMER.findall(page(client, "/customers/?sort=-name")) == [
        "Zorn OHG", "Acme Buyer GmbH",
    ]  # fmt: skip


@pytest.mark.parametrize(("url", "labels"), [
    ("/write-offs/?state=any", ["Kunde, Kundennummer oder Belegnummer", "Filtern", "In Hauswährung"]),
    ("/agencies/", ["Name oder E-Mail", "Provision", "Offene Übergaben"]),
    ("/dunning/", ["Kunde oder Kundennummer", "Geschäftstag", "Kanal"]),
    ("/dunning/tasks/?who=all", ["Fällig ab", "bis", "Stand der Aufgaben", "Zugewiesen an"]),
    ("/dunning/approvals/", ["Wartet auf Freigabe", "Abgelehnt"]),
    ("/dunning/runs/", ["Geschäftstag"]),
    ("/bank/", ["Valuta von", "Zahler oder Empfänger", "Suche", "Umsätze"]),
    ("/customers/", ["Name oder Kundennummer", "Überfällig"]),
])  # fmt: skip
def test_the_lists_speak_german(client, cast, url, labels):  # noqa: F811
    html = page(as_user(client, cast.manager_a), url, HTTP_ACCEPT_LANGUAGE="de")
    for label in labels:
        assert label in html, label


def test_the_pager_counts_in_german(client, cast):  # noqa: F811
    Customer.objects.bulk_create(
        Customer(company=cast.a, account_number=f"X-{n:03}", legal_name=f"Extra {n:03}",
                 currency="EUR")
        for n in range(60)
    )  # fmt: skip
    html = page(as_user(client, cast.viewer_a), "/customers/", HTTP_ACCEPT_LANGUAGE="de")
    assert "Seite 1 von 2 · 61 Kunden" in html and "Weiter" in html


def test_an_amount_in_the_base_currency_sorts_across_currencies(client, cast, asked):  # noqa: F811
    html = page(as_user(client, cast.manager_a), "/write-offs/?sort=amount")
    # USD 700.00 is EUR 650.00: it sorts before EUR 900.00, though 700 > 900 is false either way
    assert html.index("$700.00") < html.index("€900.00")
    assert html.index("€650.00") < html.index("€900.00")
