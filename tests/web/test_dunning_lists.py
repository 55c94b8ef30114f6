"""The dunning lists (issue 6): the outbox, the calls and tasks, the approvals and the runs are
searched, filtered, sorted and paged in SQL, their links keep the filters, an unknown sort falls
back, and another company's rows never appear.

Acme's world, one run a day: Anker GmbH (C-1, owned by colly) gets an email on 2 March and a call
on 4 March; Zander AG (C-2, no owner) a letter on 3 March, awaiting approval; Mitte KG (C-3,
owned by manny) an email on 5 March, sent. Bolt has an email to Anker Bolt GmbH on 3 March.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dunwell.cases.models import Task, TaskKind, TaskState
from dunwell.core.models import Company
from dunwell.dunning.models import Decision, Message, Outcome, Run
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.ledger.models import Customer
from tests.web.test_pages import Cast, as_user, cast, page  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
AT = datetime(2025, 3, 20, 8, 0, tzinfo=UTC)
OUTBOX_ROW = re.compile(r'<td class="mono"><a href="/dunning/messages/\d+/">([\d-]+)</a></td>\s*'
                        r'<td><a href="/customers/\d+/">([^<]*)</a>')  # fmt: skip
TASK_ROW = re.compile(r'<td class="mono(?: overdue)?">([\d-]+)</td>\s*'
                      r'<td><a href="/customers/\d+/#calls">([^<]*)</a>')  # fmt: skip
APPROVAL_ROW = re.compile(
    r'<td class="mono">([\d-]+)</td>\s*<td><a href="/customers/\d+/">([^<]*)<'
)
RUN_ROW = re.compile(r'<a href="/dunning/runs/\d+/">([\d-]+)</a>')


def customer(company: Company, number: str, name: str, owner: User | None = None) -> Customer:
    return Customer.objects.create(company=company, account_number=number, legal_name=name,
                                   currency="EUR", country="DE", owner=owner)  # fmt: skip


def run_on(company: Company, on: date) -> Run:
    run, _ = Run.objects.get_or_create(company=company, business_date=on, defaults={
        "status": "done", "lease_until": AT, "owner": "test", "started_at": AT,
        "counts": {"queued": 1}})  # fmt: skip
    return run


def message(to: Customer, on: date, channel: str, status: str, *, step: int = 1,
            outcome: str = Outcome.SENT, assignee: User | None = None) -> Message:  # fmt: skip
    policy = ensure_default_policy(to.company, AT)
    decision = Decision.objects.create(
        company=to.company, run=run_on(to.company, on), customer=to, currency="EUR",
        policy=policy, step=step, outcome=outcome, reason="due",
        items=[{"number": f"{to.account_number}-INV", "open_minor": 100_00}],
    )  # fmt: skip
    return Message.objects.create(
        company=to.company, decision=decision, customer=to, currency="EUR", policy=policy,
        step=step, business_date=on, channel=channel, template="reminder", language="en",
        recipients=[{"name": "AP", "email": f"ap@{to.account_number.lower()}.example"}],
        status=status, created_at=AT, assignee=assignee,
    )  # fmt: skip


@pytest.fixture
def desk(cast: Cast) -> Cast:  # noqa: F811
    anker = customer(cast.a, "C-1", "Anker GmbH", owner=cast.collector_a)
    zander = customer(cast.a, "C-2", "Zander AG")
    mitte = customer(cast.a, "C-3", "Mitte KG", owner=cast.manager_a)
    message(anker, date(2025, 3, 2), "email", "pending")
    message(anker, date(2025, 3, 4), "call", "pending", step=3, assignee=cast.collector_a)
    message(zander, date(2025, 3, 3), "letter", "approval", step=4, outcome=Outcome.APPROVAL)
    message(mitte, date(2025, 3, 5), "email", "sent", step=2)
    message(customer(cast.b, "B-1", "Anker Bolt GmbH"), date(2025, 3, 3), "email", "pending")
    return cast


def outbox(client: Client, query: str = "") -> list[tuple[str, str]]:
    return OUTBOX_ROW.findall(page(client, f"/dunning/?{query}"))


@pytest.mark.parametrize(("query", "shown"), [
    ("", ["Mitte KG", "Anker GmbH", "Zander AG", "Anker GmbH"]),  # newest first
    ("sort=date", ["Anker GmbH", "Zander AG", "Anker GmbH", "Mitte KG"]),
    ("sort=customer", ["Anker GmbH", "Anker GmbH", "Mitte KG", "Zander AG"]),
    ("sort=-customer", ["Zander AG", "Mitte KG", "Anker GmbH", "Anker GmbH"]),
    ("sort=channel", ["Anker GmbH", "Mitte KG", "Anker GmbH", "Zander AG"]),  # call, email, letter
    ("sort=status", ["Zander AG", "Anker GmbH", "Anker GmbH", "Mitte KG"]),  # approval, pending, sent
    ("sort=bogus", ["Mitte KG", "Anker GmbH", "Zander AG", "Anker GmbH"]),
    ("q=anker", ["Anker GmbH", "Anker GmbH"]),
    ("q=C-2", ["Zander AG"]),
    ("channel=email", ["Mitte KG", "Anker GmbH"]),
    ("status=pending&channel=email", ["Anker GmbH"]),
    ("date=2025-03-03", ["Zander AG"]),
])  # fmt: skip
def test_the_outbox_searches_filters_and_sorts(client, desk, query, shown):
    assert [name for _, name in outbox(as_user(client, desk.collector_a), query)] == shown


def test_the_outbox_pages_keep_its_filters_and_another_company_never_shows(client, desk):
    anker = Customer.objects.get(account_number="C-1")
    for n in range(55):
        message(anker, date(2024, 1, 1) + timedelta(days=n), "letter", "sent")
    as_user(client, desk.collector_a)
    html = page(client, "/dunning/?q=anker&channel=letter&sort=date")
    assert [d for d, _ in OUTBOX_ROW.findall(html)][:2] == ["2024-01-01", "2024-01-02"]
    assert "Page 1 of 2 · 55 messages" in html
    assert 'href="?q=anker&amp;channel=letter&amp;sort=date&amp;page=2"' in html
    assert 'href="?q=anker&amp;channel=letter&amp;sort=-date"' in html  # the date column
    assert len(outbox(client, "q=anker&channel=letter&sort=date&page=2")) == 5
    assert "Anker Bolt GmbH" not in page(client, "/dunning/?q=bolt")
    assert "No messages match." in page(client, "/dunning/?q=bolt")
    html = page(client, "/dunning/?date=2025-02-30")
    assert "Business date: Enter a date as YYYY-MM-DD, e.g. 2026-01-31." in html


def test_the_outbox_runs_as_many_queries_for_fifty_messages_as_for_four(client, desk):
    as_user(client, desk.collector_a)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page(client, "/dunning/?sort=customer&channel=letter")
        return len(captured)

    few = queries()
    zander = Customer.objects.get(account_number="C-2")
    for n in range(50):
        message(zander, date(2024, 6, 1) + timedelta(days=n), "letter", "sent")
    assert queries() == few


# -- calls and tasks --------------------------------------------------------------------------


def task(on: Customer, title: str, due_on: date, assignee: User | None = None,
         state: str = TaskState.OPEN) -> Task:  # fmt: skip
    return Task.objects.create(company=on.company, customer=on, kind=TaskKind.FOLLOW_UP,
                               title=title, due_on=due_on, assignee=assignee, state=state,
                               created_at=AT)  # fmt: skip


@pytest.fixture
def tasks(desk: Cast) -> Cast:
    anker, zander, mitte = (Customer.objects.get(account_number=n) for n in ("C-1", "C-2", "C-3"))
    task(anker, "Ask for the PO", date(2025, 3, 10), desk.collector_a)
    task(zander, "Check the address", date(2025, 3, 8))
    task(mitte, "Call the CFO", date(2025, 3, 12), desk.manager_a)
    task(anker, "Old one", date(2025, 2, 1), desk.collector_a, state=TaskState.DONE)
    task(Customer.objects.get(account_number="B-1"), "Bolt's own", date(2025, 3, 9))
    return desk


def case_tasks(client: Client, query: str) -> list[tuple[str, str]]:
    return TASK_ROW.findall(page(client, f"/dunning/tasks/?{query}"))


@pytest.mark.parametrize(("query", "shown"), [
    ("who=all", [("2025-03-08", "Zander AG"), ("2025-03-10", "Anker GmbH"),
                 ("2025-03-12", "Mitte KG")]),
    ("who=all&tsort=-due", [("2025-03-12", "Mitte KG"), ("2025-03-10", "Anker GmbH"),
                            ("2025-03-08", "Zander AG")]),
    ("who=all&tsort=customer", [("2025-03-10", "Anker GmbH"), ("2025-03-12", "Mitte KG"),
                                ("2025-03-08", "Zander AG")]),
    # by whom: colly, manny, then no one's (last either way)
    ("who=all&tsort=assignee", [("2025-03-10", "Anker GmbH"), ("2025-03-12", "Mitte KG"),
                                ("2025-03-08", "Zander AG")]),
    ("who=all&tsort=-assignee", [("2025-03-12", "Mitte KG"), ("2025-03-10", "Anker GmbH"),
                                 ("2025-03-08", "Zander AG")]),
    ("who=all&tsort=bogus", [("2025-03-08", "Zander AG"), ("2025-03-10", "Anker GmbH"),
                             ("2025-03-12", "Mitte KG")]),
    ("", [("2025-03-10", "Anker GmbH")]),  # the user's own
    ("who=unassigned", [("2025-03-08", "Zander AG")]),
    ("who=all&due_from=2025-03-09&due_to=2025-03-11", [("2025-03-10", "Anker GmbH")]),
    ("who=all&q=mitte", [("2025-03-12", "Mitte KG")]),
    ("who=all&state=done", [("2025-02-01", "Anker GmbH")]),
    ("who=all&state=any&tsort=due", [("2025-02-01", "Anker GmbH"), ("2025-03-08", "Zander AG"),
                                     ("2025-03-10", "Anker GmbH"), ("2025-03-12", "Mitte KG")]),
])  # fmt: skip
def test_the_case_tasks_filter_by_whose_due_customer_and_state_and_sort(client, tasks, query,
                                                                         shown):  # fmt: skip
    assert case_tasks(as_user(client, tasks.collector_a), query) == shown


def test_a_credit_manager_sees_one_collector_s_tasks_and_both_lists_sort_on_their_own(
    client, tasks
):
    as_user(client, tasks.manager_a)
    colly = tasks.collector_a.pk
    html = page(client, f"/dunning/tasks/?who={colly}&sort=-date&tsort=-due")
    assert TASK_ROW.findall(html) == [("2025-03-10", "Anker GmbH")]
    assert f'<option value="{colly}" selected>colly</option>' in html
    assert OUTBOX_ROW.findall(html) == [("2025-03-04", "Anker GmbH")]  # colly's call
    # each list's headers keep the other's sort
    assert f'href="?who={colly}&amp;tsort=-due&amp;sort=date"' in html
    assert f'href="?who={colly}&amp;sort=-date&amp;tsort=due"' in html


def test_the_task_pages_keep_the_filters_and_a_done_task_returns_to_them(client, tasks):
    zander = Customer.objects.get(account_number="C-2")
    for n in range(52):
        task(zander, f"Chase {n:02}", date(2025, 4, 1) + timedelta(days=n))
    as_user(client, tasks.collector_a)
    query = "who=unassigned&q=zander&tsort=due"
    html = page(client, f"/dunning/tasks/?{query}")
    assert len(TASK_ROW.findall(html)) == 50 and "Page 1 of 2 · 53 tasks" in html
    assert f'href="?{query.replace("&", "&amp;")}&amp;tpage=2"' in html
    assert len(case_tasks(client, f"{query}&tpage=2")) == 3
    first = Task.objects.get(title="Check the address")
    response = client.post(f"/tasks/{first.pk}/close",
                           {"action": "done", "note": "ok", "query": f"{query}&tpage=2"})  # fmt: skip
    assert response["Location"] == f"/dunning/tasks/?{query}&tpage=2"
    assert "Bolt&#x27;s own" not in page(client, "/dunning/tasks/?who=all&q=bolt")


# -- approvals and runs -----------------------------------------------------------------------


@pytest.fixture
def approvals(desk: Cast) -> Cast:
    anker, mitte = (Customer.objects.get(account_number=n) for n in ("C-1", "C-3"))
    message(anker, date(2025, 3, 6), "letter", "approval", step=4, outcome=Outcome.APPROVAL)
    rejected = message(mitte, date(2025, 3, 1), "letter", "cancelled", step=4,
                       outcome=Outcome.REJECTED).decision  # fmt: skip
    Decision.objects.filter(pk=rejected.pk).update(decided_by=desk.manager_a, decided_at=AT,
                                                   reason="rejected: paid by cheque")  # fmt: skip
    return desk


def approval_rows(client: Client, query: str = "") -> list[tuple[str, str]]:
    return APPROVAL_ROW.findall(page(client, f"/dunning/approvals/?{query}"))


@pytest.mark.parametrize(("query", "shown"), [
    ("", [("2025-03-03", "Zander AG"), ("2025-03-06", "Anker GmbH")]),
    ("sort=-date", [("2025-03-06", "Anker GmbH"), ("2025-03-03", "Zander AG")]),
    ("sort=customer", [("2025-03-06", "Anker GmbH"), ("2025-03-03", "Zander AG")]),
    ("sort=bogus", [("2025-03-03", "Zander AG"), ("2025-03-06", "Anker GmbH")]),
    ("q=zander", [("2025-03-03", "Zander AG")]),
    ("state=rejected", [("2025-03-01", "Mitte KG")]),
    ("state=approved", []),
])  # fmt: skip
def test_the_approvals_filter_by_state_and_customer_and_sort(client, approvals, query, shown):
    assert approval_rows(as_user(client, approvals.manager_a), query) == shown


def test_an_approval_returns_to_the_same_filtered_list(client, approvals):
    as_user(client, approvals.manager_a)
    zander = Decision.objects.get(customer__account_number="C-2")
    response = client.post(f"/dunning/decisions/{zander.pk}/decide",
                           {"action": "approve", "back": "q=a&sort=-date"})  # fmt: skip
    assert response["Location"] == "/dunning/approvals/?q=a&sort=-date"
    assert approval_rows(client, "state=approved") == [("2025-03-03", "Zander AG")]
    html = page(client, "/dunning/approvals/?state=rejected")
    assert "rejected: paid by cheque" in html and "manny" in html
    as_user(client, approvals.user_b)
    assert approval_rows(client, "state=approved") == []
    assert "Nothing waits for approval." in page(client, "/dunning/approvals/")


def test_the_runs_sort_by_date_and_page(client, desk):
    for n in range(50):
        run_on(desk.a, date(2024, 1, 1) + timedelta(days=n))
    as_user(client, desk.viewer_a)
    newest = RUN_ROW.findall(page(client, "/dunning/runs/"))
    assert newest[:2] == ["2025-03-05", "2025-03-04"] and len(newest) == 50
    assert RUN_ROW.findall(page(client, "/dunning/runs/?sort=date"))[:2] == [
        "2024-01-01", "2024-01-02",
    ]  # fmt: skip
    second = page(client, "/dunning/runs/?sort=date&page=2")
    assert RUN_ROW.findall(second) == ["2025-03-02", "2025-03-03", "2025-03-04", "2025-03-05"]
    assert "Page 2 of 2 · 54 runs" in second
    run = Run.objects.get(company=desk.a, business_date=date(2025, 3, 3))
    assert "Zander AG" in page(client, f"/dunning/runs/{run.pk}/?q=zander&sort=-step")
    assert "No decisions." in page(client, f"/dunning/runs/{run.pk}/?q=anker")
