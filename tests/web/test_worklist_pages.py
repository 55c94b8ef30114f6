"""The worklist page through HTTP: whose accounts, who may see others', paging, and the bulk
actions (assign with its history entry, a dunning hold the run respects, a statement queued once
and delivered with its PDF).

The cast's company A has one customer, unassigned, with EUR 1,234.56 overdue for 45 days.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from dunwell.core import clock
from dunwell.dunning.models import Hold, Message
from dunwell.dunning.services.delivery import deliver_emails
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Activity, ActivityKind, Customer, OpenItem
from dunwell.reports.models import WorklistRow
from dunwell.reports.worklist import refresh_worklist
from tests import factories as f
from tests.web.test_pages import Cast, as_user, cast, page  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

WHY = "EUR 1,234.56 overdue, oldest 45 days"


@pytest.fixture
def world(cast: Cast) -> Cast:  # noqa: F811 - the fixture of test_pages
    return cast


def refresh(company):
    refresh_worklist(company=company, on=clock.today(company), at=clock.now())


def owned(world: Cast, user: User) -> Customer:
    customer = world.customer_a
    customer.owner = user
    customer.save(update_fields=["owner"])
    refresh(world.a)
    return customer


def post(client: Client, data: dict[str, object]) -> list[str]:
    response = client.post("/worklist/actions", data, follow=True)
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def test_a_collector_sees_their_accounts_with_why_and_what_next(client, world):
    owned(world, world.collector_a)
    html = page(as_user(client, world.collector_a), "/worklist/")
    assert "Acme Buyer GmbH" in html and WHY in html and "send statement" in html
    assert 'href="/worklist/"' in html  # the top navigation
    assert "No accounts need attention." in page(client, "/worklist/?q=nobody")
    assert "Acme Buyer GmbH" not in page(as_user(client, world.manager_a), "/worklist/")


def test_a_credit_manager_sees_any_collectors_and_the_unassigned_accounts(client, world):
    refresh(world.a)
    client = as_user(client, world.manager_a)
    assert WHY in page(client, "/worklist/?collector=unassigned")
    assert WHY in page(client, "/worklist/?collector=all")
    assert WHY not in page(client, f"/worklist/?collector={world.collector_a.pk}")


def test_a_list_longer_than_is_counted_says_more_than(client, world, monkeypatch):
    from dunwell.reports import worklist

    refresh(world.a)
    monkeypatch.setattr(worklist, "COUNTED", 0)
    html = page(as_user(client, world.manager_a), "/worklist/?collector=all")
    assert "More than 0 accounts as of" in html and WHY in html


def test_others_accounts_are_refused_below_credit_manager_and_other_companies_see_none(
    client, world
):
    refresh(world.a)
    page(as_user(client, world.collector_a), "/worklist/?collector=all", status=403)
    page(as_user(client, world.viewer_a), "/worklist/?collector=unassigned", status=403)
    page(as_user(client, world.user_b), f"/worklist/?company={world.a.pk}", status=404)
    assert WHY not in page(as_user(client, world.user_b), "/worklist/?collector=all")
    response = as_user(client, world.collector_a).post(
        "/worklist/actions", {"action": "statement", "customer": [world.customer_b.pk]}
    )
    assert response.status_code == 404
    response = as_user(client, world.viewer_a).post(
        "/worklist/actions", {"action": "statement", "customer": [world.customer_a.pk]}
    )
    assert response.status_code == 403


def test_pages_of_50_follow_on_by_keyset(client, world):
    today = clock.today(world.a)
    for n in range(51):
        customer = Customer.objects.create(company=world.a, account_number=f"K{n:03}",
                                           legal_name=f"Kunde {n:03}", currency="EUR")  # fmt: skip
        OpenItem.objects.create(
            company=world.a, customer=customer, number=f"K-{n}", issued_on=today - timedelta(40),
            due_on=today - timedelta(10), currency="EUR", amount_minor=100_00 + n,
            open_minor=100_00 + n,
        )  # fmt: skip
    refresh(world.a)
    client = as_user(client, world.manager_a)
    first = client.get("/worklist/?collector=all")
    rows = first.context["page"].rows
    assert len(rows) == 50 and rows[0].account_number == "C-100"
    assert rows[1].account_number == "K050"  # EUR 100.50 before EUR 100.49
    after = first.context["next_query"]
    second = client.get(f"/worklist/?{after}").context["page"]
    assert len(second.rows) == 2 and second.number == 2 and not second.has_next
    assert [r.account_number for r in second.rows] == ["K001", "K000"]


def test_the_columns_sort_the_list_and_its_pages_keep_the_order(client, world):
    today = clock.today(world.a)
    for n in range(51):  # older and smaller the higher n: sorting by age turns the order round
        customer = Customer.objects.create(company=world.a, account_number=f"K{n:03}",
                                           legal_name=f"Kunde {n:03}", currency="EUR")  # fmt: skip
        OpenItem.objects.create(
            company=world.a, customer=customer, number=f"K-{n}", issued_on=today - timedelta(60),
            due_on=today - timedelta(10 + n), currency="EUR", amount_minor=900_00 - n,
            open_minor=900_00 - n,
        )  # fmt: skip
    refresh(world.a)
    client = as_user(client, world.manager_a)
    html = page(client, "/worklist/?collector=all&sort=oldest")
    assert (
        '<th class="num" aria-sort="descending"><a href="?collector=all&amp;sort=oldest">' in html
    )
    first = client.get("/worklist/?collector=all&sort=oldest")
    rows = first.context["page"].rows
    assert [r.account_number for r in rows[:2]] == ["K050", "K049"]  # 60 and 59 days
    second = client.get(f"/worklist/?{first.context['next_query']}").context["page"]
    assert [r.account_number for r in second.rows][-1] == "K000"  # the youngest, last
    assert "sort=oldest" in first.context["next_query"]
    by_amount = client.get("/worklist/?collector=all&sort=overdue").context["page"].rows
    assert [r.account_number for r in by_amount[:2]] == ["C-100", "K000"]  # 1,234.56, 900.00


def test_a_credit_manager_assigns_accounts_through_the_customer_history(client, world):
    refresh(world.a)
    messages = post(as_user(client, world.manager_a), {
        "action": "assign", "assignee": world.collector_a.pk, "customer": [world.customer_a.pk],
    })  # fmt: skip
    assert messages == ["C-100: assigned to colly"]
    world.customer_a.refresh_from_db()
    assert world.customer_a.owner == world.collector_a
    entry = Activity.objects.get(kind=ActivityKind.CUSTOMER_UPDATED)
    assert entry.summary == "Customer updated: owner"
    assert WorklistRow.objects.get(customer=world.customer_a).owner == world.collector_a
    response = as_user(client, world.collector_a).post("/worklist/actions", {
        "action": "assign", "assignee": world.collector_a.pk, "customer": [world.customer_a.pk],
    })  # fmt: skip
    assert response.status_code == 403


def test_a_hold_from_the_worklist_pauses_the_dunning_run(client, world):
    ensure_default_policy(world.a, clock.now())
    f.contact(world.customer_a, "ap@buyer.example")
    owned(world, world.collector_a)
    today = clock.today(world.a)
    until = today + timedelta(days=14)
    messages = post(as_user(client, world.collector_a), {
        "action": "hold", "until": until.isoformat(), "reason": "new owner",
        "customer": [world.customer_a.pk],
    })  # fmt: skip
    assert messages == [f"C-100: dunning on hold until {until.isoformat()}"]
    assert Hold.objects.get().reason == "new owner"
    row = WorklistRow.objects.get(customer=world.customer_a)
    assert row.action_text == f"nothing: paused until {until.isoformat()}"
    report = run_dunning(company=world.a, on=today, at=clock.now())
    [group] = report.groups
    assert (group.outcome, group.reason) == ("skipped", f"on hold until {until}: new owner")
    assert post(client, {"action": "hold", "until": "soon", "customer": [world.customer_a.pk]}) == [
        "hold until 'soon': expected a date like 2026-12-31"
    ]


def test_a_statement_is_queued_once_a_day_and_delivered_with_its_pdf(client, world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ensure_default_policy(world.a, clock.now())
    f.contact(world.customer_a, "ap@buyer.example")
    owned(world, world.collector_a)
    client = as_user(client, world.collector_a)
    single = {"single": f"statement:{world.customer_a.pk}"}
    assert post(client, single) == ["C-100: statement queued to ap@buyer.example"]
    assert post(client, single) == ["C-100: statement already queued today"]
    assert Message.objects.filter(template="statement").count() == 1
    morning = datetime.combine(clock.today(world.a), time(8, 0), UTC)  # not in quiet hours
    deliver_emails(at=morning, company=world.a)
    [email] = mail.outbox
    assert email.subject == "Statement of account: Acme Buyer GmbH, €1,234.56 open"
    assert email.to == ["ap@buyer.example"]
    assert [(name, kind) for name, _, kind in email.attachments] == [
        (Message.objects.get().statement.filename, "application/pdf")
    ]
