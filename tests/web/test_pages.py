"""The staff pages, through HTTP: who sees what (a tenant cast of two companies), and what it shows.

Company A has one customer with one overdue invoice of EUR 1,234.56; company B has its own. Every
HTML page is checked for the CSP header and for inline scripts or styles.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from dunwell.cases.services.disputes import open_dispute, resolve
from dunwell.core.models import Company, Membership, Role
from dunwell.credit.models import CreditHold, RiskScore
from dunwell.ledger.models import Customer, OpenItem
from dunwell.terms.rules.limitation import limitation_date
from tests import factories as f

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


@dataclass
class Cast:
    a: Company
    b: Company
    customer_a: Customer
    customer_b: Customer
    invoice_a: OpenItem
    invoice_b: OpenItem
    collector_a: User
    viewer_a: User
    manager_a: User
    user_b: User


def _world(code: str, name: str, account: str, amount: int) -> tuple[Company, Customer, OpenItem]:
    today = timezone.localdate()
    company = Company.objects.create(code=code, legal_name=name, country="DE", base_currency="EUR")
    customer = Customer.objects.create(
        company=company, account_number=account, legal_name=f"{name} Buyer GmbH", currency="EUR",
        country="DE", segment="wholesale",
    )  # fmt: skip
    invoice = OpenItem.objects.create(
        company=company, customer=customer, number=f"{code}-INV-1",
        issued_on=today - timedelta(days=75), due_on=today - timedelta(days=45),
        currency="EUR", amount_minor=amount, open_minor=amount,
    )  # fmt: skip
    return company, customer, invoice


def _member(username: str, company: Company, role: Role) -> User:
    user = User.objects.create_user(username=username)
    Membership.objects.create(user=user, company=company, role=role)
    return user


@pytest.fixture
def cast() -> Cast:
    a, customer_a, invoice_a = _world("acme", "Acme", "C-100", 123456)
    b, customer_b, invoice_b = _world("bolt", "Bolt", "C-200", 99900)
    return Cast(
        a=a, b=b, customer_a=customer_a, customer_b=customer_b,
        invoice_a=invoice_a, invoice_b=invoice_b,
        collector_a=_member("colly", a, Role.COLLECTOR),
        viewer_a=_member("vera", a, Role.VIEWER),
        manager_a=_member("manny", a, Role.CREDIT_MANAGER),
        user_b=_member("bea", b, Role.ADMIN),
    )  # fmt: skip


def as_user(client: Client, user: User) -> Client:
    return f.signed_in(client, user)


def page(client: Client, url: str, status: int = 200, **extra: Any) -> str:
    """GET `url`, assert the status, the CSP header and the absence of inline code; the HTML."""
    response = client.get(url, **extra)
    assert response.status_code == status, response.content[:500]
    html = response.content.decode()
    assert_csp_clean(response, html)
    return html


def assert_csp_clean(response: Any, html: str) -> None:
    assert "Content-Security-Policy" in response.headers
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert not INLINE_SCRIPT.search(html), "inline <script> without src"
    assert " style=" not in html.lower()
    assert "<style" not in html.lower()


# -- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/customers/", "/aging/", "/import/"])
def test_pages_redirect_to_login_when_anonymous(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_login_page_renders_without_inline_code(client: Client) -> None:
    html = page(client, "/login/")
    assert 'id="id_username"' in html
    assert 'id="id_password"' in html


def test_home_is_the_overview_of_the_members_company(client: Client, cast: Cast) -> None:
    html = page(as_user(client, cast.viewer_a), "/")
    assert "<h1>Overview</h1>" in html
    assert "Overdue in EUR" in html and "€1,234.56" in html  # Acme's invoice, in Acme's page
    assert "€999.00" not in html  # Bolt's stays Bolt's
    assert 'aria-label="Aging buckets EUR"' in html
    assert "Your accounts to work" in html  # a viewer's own; a credit manager sees everyone's
    assert "Accounts to work, everyone" in page(as_user(client, cast.manager_a), "/")


def test_the_overview_lists_the_riskiest_customers_of_its_company_only(
    client: Client, cast: Cast
) -> None:
    now = timezone.now()
    for customer, value in ((cast.customer_a, 31), (cast.customer_b, 5)):
        RiskScore.objects.create(company=customer.company, customer=customer, as_of=now.date(),
                                 scored_at=now, value=value, band="high", experiences=3,
                                 explanation=f"{value} (high risk): payment index {value}.0")  # fmt: skip
    CreditHold.objects.create(company=cast.a, customer=cast.customer_a, placed_on=now.date(),
                              placed_at=now, reason="limit", source="credit policy")  # fmt: skip
    html = page(as_user(client, cast.viewer_a), "/")
    assert "Highest credit risk" in html and "31 (high risk): payment index 31.0" in html
    assert "payment index 5.0" not in html  # Bolt's
    assert "On credit hold" in html and ">on hold<" in html


def test_home_welcomes_a_user_without_company(client: Client, db: None) -> None:
    html = page(as_user(client, User.objects.create_user(username="loner")), "/")
    assert "not a member of any company" in html


def test_user_of_b_gets_404_for_a_customer_and_item(client: Client, cast: Cast) -> None:
    as_user(client, cast.user_b)
    page(client, f"/customers/{cast.customer_a.pk}/", status=404)
    page(client, f"/items/{cast.invoice_a.pk}/", status=404)


def test_user_of_b_does_not_see_a_in_lists(client: Client, cast: Cast) -> None:
    as_user(client, cast.user_b)
    assert "Acme Buyer GmbH" not in page(client, "/customers/")
    assert "Acme Buyer GmbH" not in page(client, "/aging/")
    assert "Bolt Buyer GmbH" in page(client, "/customers/")


def test_user_of_b_gets_404_when_asking_for_company_a(client: Client, cast: Cast) -> None:
    page(as_user(client, cast.user_b), f"/customers/?company={cast.a.pk}", status=404)


def test_superuser_switches_company(client: Client, cast: Cast) -> None:
    root = User.objects.create_superuser(username="root")
    as_user(client, root)
    assert "Bolt Buyer GmbH" in page(client, f"/customers/?company={cast.b.pk}")
    html = page(client, "/customers/")  # remembered in the session
    assert "Bolt Buyer GmbH" in html
    assert 'name="company"' in html  # several companies: the switcher is shown


@pytest.mark.parametrize("role", ["collector_a", "viewer_a"])
def test_import_is_forbidden_below_credit_manager(client: Client, cast: Cast, role: str) -> None:
    page(as_user(client, getattr(cast, role)), "/import/", status=403)


# -- pages ----------------------------------------------------------------------------------------


def test_customer_list_shows_balance_and_overdue(client: Client, cast: Cast) -> None:
    html = page(as_user(client, cast.collector_a), "/customers/")
    assert "Acme Buyer GmbH" in html
    assert "C-100" in html
    assert html.count("€1,234.56") == 2  # open balance and overdue amount
    assert "Bolt Buyer GmbH" not in html


def test_customer_list_formats_amounts_in_german(client: Client, cast: Cast) -> None:
    html = page(as_user(client, cast.viewer_a), "/customers/", HTTP_ACCEPT_LANGUAGE="de")
    assert "1.234,56\xa0€" in html


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("q=acme", True),
        ("q=C-100", True),
        ("q=nobody", False),
        ("segment=wholesale", True),
        ("status=closed", False),
        ("overdue=on", True),
        ("sort=-overdue", True),
        ("sort=bogus", True),
    ],
)
def test_customer_list_filters(client: Client, cast: Cast, query: str, shown: bool) -> None:
    html = page(as_user(client, cast.viewer_a), f"/customers/?{query}")
    assert ("Acme Buyer GmbH" in html) is shown


def test_customer_list_pages_by_fifty(client: Client, cast: Cast) -> None:
    Customer.objects.bulk_create(
        Customer(company=cast.a, account_number=f"X-{n:03}", legal_name=f"Extra {n:03}", currency="EUR")
        for n in range(60)
    )  # fmt: skip
    as_user(client, cast.viewer_a)
    first = page(client, "/customers/")
    assert "Extra 048" in first
    assert "Extra 049" not in first  # Acme sorts first: 1 + 49 extras on page 1
    assert "Page 1 of 2" in first
    assert "Extra 059" in page(client, "/customers/?page=2")


def test_customer_list_runs_a_fixed_number_of_queries(
    client: Client, cast: Cast, django_assert_max_num_queries: Any
) -> None:
    Customer.objects.bulk_create(
        Customer(company=cast.a, account_number=f"X-{n:03}", legal_name=f"Extra {n:03}", currency="EUR")
        for n in range(20)
    )  # fmt: skip
    as_user(client, cast.viewer_a)
    with django_assert_max_num_queries(10):
        page(client, "/customers/")


def test_customer_page_shows_details_and_open_items(client: Client, cast: Cast) -> None:
    html = page(as_user(client, cast.collector_a), f"/customers/{cast.customer_a.pk}/")
    assert "Acme Buyer GmbH" in html
    assert "acme-INV-1" in html
    assert f"/items/{cast.invoice_a.pk}/" in html
    assert "€1,234.56" in html
    assert ">45<" in html  # days past due


def test_customer_page_as_of_before_issue_shows_nothing_open(client: Client, cast: Cast) -> None:
    before = (timezone.localdate() - timedelta(days=100)).isoformat()
    html = page(as_user(client, cast.viewer_a), f"/customers/{cast.customer_a.pk}/?as_of={before}")
    assert "Nothing open." in html


def test_item_page_shows_the_invoice(client: Client, cast: Cast) -> None:
    html = page(as_user(client, cast.viewer_a), f"/items/{cast.invoice_a.pk}/")
    assert "Invoice acme-INV-1" in html
    assert "€1,234.56" in html
    assert "Nothing allocated yet." in html


def test_item_page_warns_before_an_invoice_becomes_time_barred(client: Client, cast: Cast) -> None:
    cast.a.governing_law = "UK"  # six years from the due date
    cast.a.save()
    today = timezone.localdate()
    six_years_ago = today.replace(year=today.year - 6, day=min(today.day, 28))
    item = cast.invoice_a
    due = six_years_ago + timedelta(days=30)
    OpenItem.objects.filter(pk=item.pk).update(issued_on=due - timedelta(days=30), due_on=due)
    limit = limitation_date("UK", due_on=due)
    assert limit is not None
    html = page(as_user(client, cast.viewer_a), f"/items/{item.pk}/")
    assert f"<dt>Time-barred after</dt><dd>{limit:%Y-%m-%d}</dd>" in html
    days = (limit - today).days
    assert f"{days} days left to take legal action: this invoice is time-barred after" in html
    barred = six_years_ago - timedelta(days=10)
    OpenItem.objects.filter(pk=item.pk).update(issued_on=barred - timedelta(days=30), due_on=barred)
    html = page(client, f"/items/{item.pk}/", HTTP_ACCEPT_LANGUAGE="de")
    assert "verjährt" in html and "days left" not in html
    cast.a.governing_law = "EU"  # no limitation period of its own: nothing shown
    cast.a.save()
    assert "Time-barred" not in page(client, f"/items/{item.pk}/")


def test_aging_shows_labels_totals_and_chart(client: Client, cast: Cast) -> None:
    html = page(as_user(client, cast.viewer_a), "/aging/")
    for label in ("Current", "1-30", "31-60", "61-90", "91-120", "&gt;120"):
        assert f">{label}<" in html
    assert html.count("€1,234.56") >= 4  # bucket, total and balance in totals and per customer
    assert '<rect class="bucket bucket-2"' in html  # 45 days past due: the 31-60 bucket


def test_aging_in_german_names_the_first_bucket_in_german(client: Client, cast: Cast) -> None:
    html = page(as_user(client, cast.viewer_a), "/aging/", HTTP_ACCEPT_LANGUAGE="de")
    assert ">Nicht fällig<" in html and ">Current<" not in html
    assert ">1-30<" in html


def test_aging_accepts_custom_buckets(client: Client, cast: Cast) -> None:
    html = page(as_user(client, cast.viewer_a), "/aging/?buckets=15,50")
    assert ">16-50<" in html
    assert ">&gt;50<" in html


def test_aging_reports_bad_buckets(client: Client, cast: Cast) -> None:
    html = page(as_user(client, cast.viewer_a), "/aging/?buckets=60,30")
    assert "increasing whole days" in html
    assert ">91-120<" in html  # falls back to the default buckets


def test_aging_csv_download(client: Client, cast: Cast) -> None:
    response = as_user(client, cast.viewer_a).get("/aging/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    lines = response.content.decode().splitlines()
    assert lines[0] == (
        "account,customer,currency,Current,1-30,31-60,61-90,91-120,>120,total,unapplied,balance"
    )
    assert lines[1:] == [
        "C-100,Acme Buyer GmbH,EUR,0.00,0.00,1234.56,0.00,0.00,0.00,1234.56,0.00,1234.56"
    ]


def test_aging_xlsx_download(client: Client, cast: Cast) -> None:
    response = as_user(client, cast.viewer_a).get("/aging/?format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("account", "customer", "currency", "Current")
    assert rows[1][:3] == ("C-100", "Acme Buyer GmbH", "EUR")
    assert len(rows) == 2


def test_import_page_renders_for_credit_manager(client: Client, cast: Cast) -> None:
    html = page(as_user(client, cast.manager_a), "/import/")
    assert 'name="kind"' in html
    assert 'type="file"' in html


def _upload(client: Client, csv: str, **fields: str) -> str:
    upload = io.BytesIO(csv.encode())
    upload.name = "invoices.csv"
    data = {
        "kind": "invoices",
        "date_format": "iso",
        "decimal_sep": ".",
        "upload": upload,
        **fields,
    }
    response = client.post("/import/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert_csp_clean(response, html)
    return html


def test_import_of_invoices_creates_them(client: Client, cast: Cast) -> None:
    csv = (
        "number,customer,issue_date,due_date,amount,currency\n"
        "A-2001,C-100,2026-01-05,2026-02-04,250.00,EUR\n"
    )
    html = _upload(as_user(client, cast.manager_a), csv)
    assert "1 created" in html
    assert OpenItem.objects.filter(company=cast.a, number="A-2001").exists()
    assert not OpenItem.objects.filter(company=cast.b, number="A-2001").exists()


def test_import_lists_rejected_rows_and_stores_nothing(client: Client, cast: Cast) -> None:
    csv = (
        "number,customer,issue_date,due_date,amount,currency\n"
        "A-2001,C-100,2026-01-05,2026-02-04,250.00,EUR\n"
        "A-2002,C-999,2026-01-05,2026-02-04,250.00,EUR\n"
    )
    html = _upload(as_user(client, cast.manager_a), csv)
    assert "1 rejected" in html
    assert "Nothing was stored" in html
    assert not OpenItem.objects.filter(number="A-2001").exists()


def test_import_cannot_reach_another_companys_customer(client: Client, cast: Cast) -> None:
    csv = "number,customer,issue_date,due_date,amount,currency\nX-1,C-200,2026-01-05,2026-02-04,1.00,EUR\n"
    html = _upload(as_user(client, cast.manager_a), csv)
    assert "1 rejected" in html
    assert not OpenItem.objects.filter(number="X-1").exists()


def test_import_dry_run_stores_nothing(client: Client, cast: Cast) -> None:
    csv = "number,customer,issue_date,due_date,amount,currency\nA-3,C-100,2026-01-05,2026-02-04,1.00,EUR\n"
    html = _upload(as_user(client, cast.manager_a), csv, dry_run="on")
    assert "Dry run" in html
    assert "1 created" in html
    assert not OpenItem.objects.filter(number="A-3").exists()


def test_a_credit_manager_puts_a_customer_on_credit_hold_and_takes_it_off(
    client: Client, cast: Cast
) -> None:
    url = f"/customers/{cast.customer_a.pk}/"
    as_user(client, cast.collector_a)
    assert "Put on credit hold" not in page(client, url)
    assert client.post(f"{url}credit-hold", {"reason": "x"}).status_code == 403
    as_user(client, cast.manager_a)
    assert "Put on credit hold" in page(client, url)
    client.post(f"{url}credit-hold", {"action": "hold", "reason": "cheque bounced"})
    html = page(client, url)
    assert "cheque bounced (manny)" in html and "Release credit hold" in html
    refused = client.post(f"{url}credit-hold", {"action": "release", "reason": ""}, follow=True)
    assert "releasing a credit hold needs a reason" in refused.content.decode()
    client.post(f"{url}credit-hold", {"action": "release", "reason": "paid"})
    assert "Put on credit hold" in page(client, url)
    as_user(client, cast.user_b)
    assert client.post(f"{url}credit-hold", {"reason": "x"}).status_code == 404


def test_the_customer_page_lists_open_disputes_with_their_invoices(
    client: Client, cast: Cast
) -> None:
    today = timezone.localdate()
    dispute = open_dispute(company=cast.a, customer=cast.customer_a,
                           items=[(cast.invoice_a, 234_56)], reason="quality",
                           note="two units broken", actor=None, on=today,
                           at=timezone.now())  # fmt: skip
    html = page(as_user(client, cast.viewer_a), f"/customers/{cast.customer_a.pk}/")
    assert "<h2>Disputes</h2>" in html and "two units broken" in html
    assert f'/items/{cast.invoice_a.pk}/">acme-INV-1</a> <span class="num">€234.56</span>' in html
    resolve(dispute=dispute, resolution="adjusted", note="price reduced", actor=None, on=today,
            at=timezone.now())  # fmt: skip
    assert "<h2>Disputes</h2>" not in page(client, f"/customers/{cast.customer_a.pk}/")
