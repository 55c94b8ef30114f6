"""Insolvency proceedings in the staff UI: a credit manager opens them on the customer page (the
workflow: claim, credit hold, unsent reminders withdrawn), the banner and badges say dunning
stopped, the proceedings page shows the claim to the cent and records the filing and the
closing; collectors and viewers only look; another company's user gets 404; bad input is
refused with a message naming the field, and nothing is written."""

from __future__ import annotations

import html as entities
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.test import Client

from dunwell.cases.models import Insolvency, InsolvencyState
from dunwell.core import clock
from dunwell.credit.models import CreditHold
from dunwell.dunning.models import Message, MessageStatus
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Activity, ActivityKind, Customer, ItemKind
from dunwell.ledger.services.allocations import allocate_payment
from dunwell.terms.models import ReferenceRate
from dunwell.terms.rules.interest import RateKind
from dunwell.terms.services import add_reference_rate
from dunwell.workflows import insolvency as workflow
from tests import factories as f
from tests.web.test_pages import Cast, as_user, cast, page  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

OPENED = date(2026, 11, 2)
TODAY = date(2026, 11, 9)
AT = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)
DETAILS = {
    "kind": "administration", "opened_on": "2026-11-02", "case_reference": "72 IN 123/26",
    "court": "Amtsgericht Köln", "administrator_name": "Dr. Weiss",
    "administrator_contact": "weiss@kanzlei.example", "claims_deadline": "2026-11-20",
    "note": "notice in the Insolvenzbekanntmachungen",
}  # fmt: skip


def bauer(cast: Cast, *, rates: bool = True) -> Customer:  # noqa: F811 - the fixture
    """Company A under German law; Bauer KG owes what tests/cases/test_insolvency.py describes:
    INV-1 EUR 10,000.00 due 14 Sep (2,000.00 paid 1 Oct), INV-2 EUR 500.00 due 20 Oct (100.00
    paid 4 Nov, after the opening), a late fee of EUR 40.00 and EUR 50.00 interest booked."""
    company = cast.a
    company.governing_law = "DE"
    company.save(update_fields=["governing_law"])
    if rates:
        for half in (date(2026, 1, 1), date(2026, 7, 1)):
            add_reference_rate(kind=RateKind.DE_BASE, valid_from=half, percent=Decimal("1.27"),
                               checked_on=date(2026, 12, 31))  # fmt: skip
    customer = f.customer(company, "C001", "Bauer KG")
    f.contact(customer, "ap@bauer.example")
    one = f.invoice(company, customer, "INV-1", 10_000_00, date(2026, 8, 15),
                    due_on=date(2026, 9, 14))  # fmt: skip
    two = f.invoice(company, customer, "INV-2", 500_00, date(2026, 9, 20),
                    due_on=date(2026, 10, 20))  # fmt: skip
    for key, amount, on, item in (("P1", 2_000_00, date(2026, 10, 1), one),
                                  ("P2", 100_00, date(2026, 11, 4), two)):  # fmt: skip
        paid = f.payment(company, customer, key, amount, on)
        allocate_payment(company=company, payment=paid, item=item, amount_minor=amount,
                         actor=None, at=AT)  # fmt: skip
    f.invoice(company, customer, "FEE-1", 40_00, date(2026, 10, 5), due_on=date(2026, 10, 19),
              kind=ItemKind.FEE, related=one)  # fmt: skip
    f.invoice(company, customer, "INT-1", 50_00, date(2026, 10, 5), due_on=date(2026, 10, 19),
              kind=ItemKind.INTEREST, related=one)  # fmt: skip
    return customer


@pytest.fixture
def world(cast: Cast, monkeypatch) -> tuple[Cast, Customer]:  # noqa: F811 - the fixture
    monkeypatch.setattr(clock, "now", lambda: AT)
    monkeypatch.setattr(clock, "today", lambda company=None: TODAY)
    return cast, bauer(cast)


def opened(world: tuple[Cast, Customer], **extra: object) -> Insolvency:
    cast, customer = world  # noqa: F811 - not the fixture
    details = {"kind": "administration", "opened_on": OPENED, "court": "Amtsgericht Köln",
               "case_reference": "72 IN 123/26", "administrator_name": "Dr. Weiss",
               "claims_deadline": date(2026, 12, 15), **extra}  # fmt: skip
    made, _ = workflow.open_insolvency(company=cast.a, customer=customer, actor=None, on=TODAY,
                                       at=AT, **details)  # fmt: skip
    return made


def text(response) -> str:
    return entities.unescape(response.content.decode())


def test_a_credit_manager_opens_proceedings_and_dunning_stops(client: Client, world):
    cast, customer = world  # noqa: F811 - not the fixture
    ensure_default_policy(cast.a, AT)
    run_dunning(company=cast.a, on=date(2026, 10, 30), at=AT)
    queued = Message.objects.filter(customer=customer)
    assert queued.count() == 1 and queued.get().status == MessageStatus.AWAITING_APPROVAL
    url = f"/customers/{customer.pk}/"
    before = page(as_user(client, cast.manager_a), url)
    assert "Open insolvency proceedings" in before and 'value="2026-11-09"' in before
    assert 'class="banner"' not in before
    response = client.post(f"{url}insolvency", DETAILS, follow=True)
    made = Insolvency.objects.get(customer=customer)
    assert response.redirect_chain[-1][0] == f"/insolvencies/{made.pk}/"
    assert (
        "In administration since 2026-11-02 — dunning stopped; credit hold placed, 1 unsent "
        "message withdrawn; claim EUR 8661.69 (principal EUR 8500.00, interest EUR 121.69, "
        "costs EUR 40.00)" in text(response)
    )
    assert (made.state, made.administrator_contact, made.created_by) == (
        InsolvencyState.OPEN, "weiss@kanzlei.example", cast.manager_a)  # fmt: skip
    assert queued.get().status == MessageStatus.WITHDRAWN
    hold = CreditHold.objects.get(customer=customer, released_on__isnull=True)
    assert (hold.source, hold.reason) == ("insolvency",
                                          f"administration {made.pk} opened 2026-11-02")  # fmt: skip
    entry = Activity.objects.get(kind=ActivityKind.INSOLVENCY_OPENED)
    assert entry.actor == cast.manager_a
    html = entities.unescape(page(client, url))
    assert "In administration since 2026-11-02 — dunning stopped" in html
    assert f'<a href="/insolvencies/{made.pk}/">Proceedings {made.pk}</a>' in html
    assert "72 IN 123/26" in html and "Amtsgericht Köln" in html and "Dr. Weiss" in html
    assert "weiss@kanzlei.example" in html and "2026-11-20" in html
    assert "The claims deadline is in 11 days (2026-11-20) and the claim is not filed." in html
    assert '</span> <span class="tag">Insolvency</span></h1>' in html
    assert (
        "administration opened on 2026-11-02 (Amtsgericht Köln, 72 IN 123/26): claim EUR 8661.69"
        in html
    )  # the history
    assert "Open insolvency proceedings" not in html  # one at a time
    listing = page(client, "/customers/")
    assert 'Bauer KG</a> <span class="tag">Insolvency</span>' in listing
    assert "Acme Buyer GmbH</a></td>" in listing  # the other customer: no badge


def test_a_deadline_passed_without_filing_is_flagged_until_the_claim_is_filed(client, world):
    proceedings = opened(world, claims_deadline=date(2026, 11, 5))
    cast, customer = world  # noqa: F811 - not the fixture
    warning = "The claims deadline of 2026-11-05 has passed and the claim is not filed."
    as_user(client, cast.viewer_a)
    assert warning in page(client, f"/customers/{customer.pk}/")
    assert warning in page(client, f"/insolvencies/{proceedings.pk}/")
    as_user(client, cast.manager_a).post(f"/insolvencies/{proceedings.pk}/file",
                                         {"on": "2026-11-09"})  # fmt: skip
    html = page(client, f"/customers/{customer.pk}/")
    assert "has passed" not in html and "claim filed on 2026-11-09" in html


def test_a_collector_sees_the_banner_but_no_forms_and_may_not_act(client: Client, world):
    cast, customer = world  # noqa: F811 - not the fixture
    as_user(client, cast.collector_a)
    html = page(client, f"/customers/{customer.pk}/")
    assert "Open insolvency proceedings" not in html and 'id="insolvency"' not in html
    response = client.post(f"/customers/{customer.pk}/insolvency", DETAILS)
    assert response.status_code == 403
    assert not Insolvency.objects.exists() and not CreditHold.objects.exists()
    proceedings = opened(world)
    html = page(client, f"/insolvencies/{proceedings.pk}/")
    assert "In administration since 2026-11-02" in html
    assert "Claim filed</button>" not in html and "Close proceedings" not in html
    assert client.post(f"/insolvencies/{proceedings.pk}/file", {"on": "2026-11-09"}
                       ).status_code == 403  # fmt: skip
    assert client.post(f"/insolvencies/{proceedings.pk}/close", {"on": "2026-11-09"}
                       ).status_code == 403  # fmt: skip
    proceedings.refresh_from_db()
    assert proceedings.state == InsolvencyState.OPEN


def test_the_proceedings_page_lists_the_claim_lines_to_the_cent(client: Client, world):
    cast, _ = world  # noqa: F811 - not the fixture
    proceedings = opened(world)
    html = page(as_user(client, cast.viewer_a), f"/insolvencies/{proceedings.pk}/")
    rows = {
        number: html.split(f">{number}</a>", 1)[1].split("</tr>", 1)[0]
        for number in ("INV-1", "INV-2", "FEE-1", "INT-1")
    }
    cells = {n: [c.split(">", 1)[1] for c in r.split("</td>") if 'class="num"' in c]
             for n, r in rows.items()}  # fmt: skip
    # principal, interest (to the opening date), costs, total
    assert cells["INV-1"] == ["€8,000.00", "€69.86", "€0.00", "€8,069.86"]
    assert cells["INV-2"] == ["€500.00", "€1.83", "€0.00", "€501.83"]
    assert cells["FEE-1"] == ["€0.00", "€0.00", "€40.00", "€40.00"]
    assert cells["INT-1"] == ["€0.00", "€50.00", "€0.00", "€50.00"]
    assert "Germany, BGB § 288, to 2026-11-02" in html
    assert f'href="/items/{proceedings.lines.get(item__number="INV-1").item_id}/"' in html
    total = html.split("Total EUR</td>", 1)[1].split("</tr>", 1)[0]
    assert [c.split(">", 1)[1] for c in total.split("</td>") if 'class="num"' in c] == [
        "€8,500.00", "€121.69", "€40.00", "€8,661.69"
    ]  # fmt: skip
    assert "Claim filed</button>" not in html  # a viewer looks only
    response = client.get(f"/insolvencies/{proceedings.pk}/claim.csv")
    assert response.status_code == 200 and "TOTAL,,,,EUR,8500.00,121.69,40.00,8661.69" in (
        response.content.decode()
    )


def test_a_line_whose_interest_could_not_be_computed_says_why(client: Client, cast: Cast,  # noqa: F811
                                                              monkeypatch):  # fmt: skip
    monkeypatch.setattr(clock, "today", lambda company=None: TODAY)
    ReferenceRate.objects.filter(kind=RateKind.DE_BASE).delete()  # the Basiszinssatz unknown
    customer = bauer(cast, rates=False)
    made, _ = workflow.open_insolvency(company=cast.a, customer=customer, actor=None, on=TODAY,
                                       at=AT, kind="insolvency", opened_on=OPENED)  # fmt: skip
    html = entities.unescape(page(as_user(client, cast.viewer_a), f"/insolvencies/{made.pk}/"))
    assert '<td class="overdue">interest not computed: ' in html
    assert "In insolvency since 2026-11-02 — dunning stopped" in html


def test_filing_and_closing_are_recorded_and_shown(client: Client, world):
    cast, customer = world  # noqa: F811 - not the fixture
    proceedings = opened(world)
    url = f"/insolvencies/{proceedings.pk}/"
    html = page(as_user(client, cast.manager_a), url)
    assert "Claim filed</button>" in html and "Close proceedings" in html
    response = client.post(f"{url}file", {"on": "2026-11-05", "note": "by registered mail"},
                           follow=True)  # fmt: skip
    html = text(response)
    assert "claim filed on 2026-11-05" in html
    assert "<dt>Claim filed</dt><dd>2026-11-05</dd>" in html
    assert "Claim filed</button>" not in html and "Close proceedings" in html
    entry = Activity.objects.get(kind=ActivityKind.CLAIM_FILED)
    assert (entry.on, entry.actor) == (date(2026, 11, 5), cast.manager_a)
    assert entry.summary.startswith("claim filed with Dr. Weiss: EUR 8661.69")
    assert "by registered mail" in html  # the history on the page
    response = client.post(f"{url}close", {"on": "2026-11-09", "dividend": "1,120.50",
                                           "currency": "eur", "note": "final distribution"},
                           follow=True)  # fmt: skip
    html = text(response)
    proceedings.refresh_from_db()
    assert (proceedings.state, proceedings.closed_on) == (InsolvencyState.CLOSED, TODAY)
    assert (proceedings.dividend_minor, proceedings.dividend_currency) == (1_120_50, "EUR")
    assert "proceedings closed on 2026-11-09" in html
    assert "Closed on 2026-11-09: dividend received €1,120.50." in html
    assert "administration closed: dividend EUR 1120.50: final distribution" in html
    assert "Close proceedings" not in html
    page_of_customer = entities.unescape(page(client, f"/customers/{customer.pk}/"))
    assert 'class="banner"' not in page_of_customer
    assert '<span class="tag">Insolvency</span>' not in page_of_customer
    assert "Open insolvency proceedings" in page_of_customer  # may open new ones
    assert '<td class="num">€1,120.50</td></tr>' in page_of_customer  # the dividend, in the list
    assert '<span class="tag">Insolvency</span>' not in page(client, "/customers/")


def test_another_companys_user_gets_404(client: Client, world):
    cast, customer = world  # noqa: F811 - not the fixture
    proceedings = opened(world)
    url = f"/insolvencies/{proceedings.pk}/"
    as_user(client, cast.user_b)  # an admin of company B
    page(client, url, status=404)
    assert client.get(f"{url}claim.pdf").status_code == 404
    assert client.post(f"{url}file", {"on": "2026-11-09"}).status_code == 404
    assert client.post(f"{url}close", {"on": "2026-11-09"}).status_code == 404
    assert client.post(f"/customers/{customer.pk}/insolvency", DETAILS).status_code == 404
    proceedings.refresh_from_db()
    assert proceedings.state == InsolvencyState.OPEN
    assert Insolvency.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"claims_deadline": "15.12.2026"},
         "Claims deadline: expected a date as YYYY-MM-DD, e.g. 2026-12-15"),
        ({"opened_on": ""}, "Opened on: This field is required."),
        ({"kind": "bankrupt"}, "Kind: Select a valid choice. bankrupt is not one of the"),
        ({"claims_deadline": "2026-10-01"},
         "Claims deadline: the claims deadline is before the opening date"),
        ({"opened_on": "2026-11-10"}, "Opened on: opened on 2026-11-10: after today (2026-11-09)"),
    ],
)  # fmt: skip
def test_bad_input_to_open_is_refused_and_nothing_is_written(client: Client, world, change,
                                                              message):  # fmt: skip
    cast, customer = world  # noqa: F811 - not the fixture
    response = as_user(client, cast.manager_a).post(f"/customers/{customer.pk}/insolvency",
                                                    {**DETAILS, **change}, follow=True)  # fmt: skip
    assert response.redirect_chain[-1][0] == f"/customers/{customer.pk}/"
    assert f"Bauer KG (C001): no proceedings opened: {message}" in text(response)
    assert not Insolvency.objects.exists() and not CreditHold.objects.exists()
    assert not Activity.objects.filter(kind=ActivityKind.INSOLVENCY_OPENED).exists()


@pytest.mark.parametrize(
    ("action", "form", "message"),
    [
        ("close", {"on": "2026-11-09", "dividend": "lots"},
         "proceedings not closed: Dividend received: 'lots' is not a number in the format "
         "1,234.56"),
        ("close", {"on": "2026-11-09", "dividend": "-5"},
         "proceedings not closed: Dividend received: a dividend cannot be negative"),
        ("close", {"on": "2026-11-09", "dividend": "12.345"},
         "proceedings not closed: Dividend received: 12.345 has more decimals than EUR allows "
         "(2)"),
        ("close", {"on": "2026-11-09", "dividend": "5", "currency": "EU"},
         "proceedings not closed: Currency: unknown currency 'EU'"),
        ("close", {"on": "2026-11-01"},
         "proceedings not closed: Closed on: proceedings close on or after they opened"),
        ("file", {"on": "9.11.2026"},
         "claim not recorded as filed: Filed on: expected a date as YYYY-MM-DD"),
        ("file", {"on": "2026-11-10"},
         "claim not recorded as filed: Filed on: 2026-11-10 is after today (2026-11-09)"),
    ],
)  # fmt: skip
def test_bad_input_to_file_or_close_is_refused_and_nothing_changes(client: Client, world,
                                                                    action, form, message):  # fmt: skip
    cast, _ = world  # noqa: F811 - not the fixture
    proceedings = opened(world)
    url = f"/insolvencies/{proceedings.pk}/"
    response = as_user(client, cast.manager_a).post(f"{url}{action}", form, follow=True)
    assert response.redirect_chain[-1][0] == url
    assert message in text(response)
    proceedings.refresh_from_db()
    assert (proceedings.state, proceedings.filed_on, proceedings.closed_on,
            proceedings.dividend_minor) == (InsolvencyState.OPEN, None, None, None)  # fmt: skip
    assert not Activity.objects.filter(
        kind__in=(ActivityKind.CLAIM_FILED, ActivityKind.INSOLVENCY_CLOSED)
    ).exists()


def test_proceedings_opened_from_a_german_page_are_recorded_in_english(client: Client, world):
    cast, customer = world  # noqa: F811 - not the fixture
    as_user(client, cast.manager_a)

    response = client.post(f"/customers/{customer.pk}/insolvency", DETAILS, follow=True,
                           HTTP_ACCEPT_LANGUAGE="de")  # fmt: skip

    made = Insolvency.objects.get(customer=customer)
    entry = Activity.objects.get(kind=ActivityKind.INSOLVENCY_OPENED)
    assert entry.summary.startswith(
        "administration opened on 2026-11-02 (Amtsgericht Köln, 72 IN 123/26): claim EUR 8661.69"
    )
    hold = CreditHold.objects.get(customer=customer, released_on__isnull=True)
    assert hold.reason == f"administration {made.pk} opened 2026-11-02"
    html = text(response)  # the proceedings' page, in German
    assert f"<h1>Verfahren {made.pk}: Insolvenzverwaltung <span" in html
    assert "<dd>Insolvenzverwaltung</dd>" in html and ">Offen</span></h1>" in html
    assert "Unter Insolvenzverwaltung seit 2026-11-02 — Mahnungen gestoppt" in html
    assert f"<td>Insolvenzverfahren</td>\n        <td>{entry.summary}" in html  # the history
