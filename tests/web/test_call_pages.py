"""The collector's daily tools: logging a call on the customer page (pre-filled from a step's
call task), notes and tasks by hand, and the case tasks beside the step call tasks at Dunning >
Calls and tasks. Each company sees only its own; viewers look, collectors act."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from dunwell.cases.models import CallLog, Dispute, Task, TaskState
from dunwell.cases.services.tasks import create_task
from dunwell.core import clock
from dunwell.dunning.models import Message
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Activity, ActivityKind, Customer, OpenItem
from tests import factories as f
from tests.web.test_pages import Cast, as_user, cast, page  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

THURSDAY = date(2026, 11, 26)
AT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def desk(cast: Cast, monkeypatch) -> tuple[Cast, Customer, Message]:  # noqa: F811 - the fixture
    monkeypatch.setattr(clock, "now", lambda: AT)
    monkeypatch.setattr(clock, "today", lambda company=None: THURSDAY)
    ensure_default_policy(cast.a, AT)
    customer = Customer.objects.create(
        company=cast.a, account_number="C-300", legal_name="Calla GmbH", currency="EUR",
        country="DE", owner=cast.collector_a,
    )  # fmt: skip
    f.contact(customer, "ap@calla.example", phone="+49 30 1234567", name="Carl Calla")
    OpenItem.objects.create(
        company=cast.a, customer=customer, number="CALL-1", issued_on=THURSDAY - timedelta(55),
        due_on=THURSDAY - timedelta(days=25), currency="EUR", amount_minor=500_00,
        open_minor=500_00,
    )  # fmt: skip
    run_dunning(company=cast.a, on=THURSDAY, at=AT)
    return cast, customer, Message.objects.get(customer=customer, channel="call")


def test_a_step_call_task_is_logged_from_the_customer_page_in_one_go(client: Client, desk):
    world, customer, task = desk
    queue = page(as_user(client, world.collector_a), "/dunning/tasks/")
    assert f'href="/customers/{customer.pk}/?task={task.pk}#calls">Log the call' in queue
    html = page(client, f"/customers/{customer.pk}/?task={task.pk}")
    assert f'<input type="hidden" name="task" value="{task.pk}">' in html
    assert f"Answers call task {task.pk} (step 3)." in html
    assert '<select name="outcome" required autofocus>' in html
    assert ">1 · No answer</option>" in html and "/static/web/calls.js" in html
    contact = customer.contacts.get()
    response = client.post(f"/customers/{customer.pk}/calls", {
        "outcome": "no_answer", "contact": contact.pk, "note": "rang out", "task": task.pk,
    })  # fmt: skip
    assert response.status_code == 302 and response["Location"].endswith("#calls")
    task.refresh_from_db()
    call = CallLog.objects.get()
    assert (task.status, call.message_id, call.follow_up.due_on) == ("sent", task.pk, THURSDAY
                                                                     + timedelta(days=4))  # fmt: skip
    after = page(client, f"/customers/{customer.pk}/")
    assert "Calla GmbH (C-300): call logged (no answer; next action 2026-11-30)" in after
    assert "<td>No answer</td><td>rang out</td>" in after
    assert "Follow-up: Call Carl Calla again (no answer)" in after
    assert (
        "call to Carl Calla (+49 30 1234567): no answer: rang out; next action 2026-11-30" in after
    )
    again = client.post(f"/customers/{customer.pk}/calls", {"outcome": "other", "task": task.pk},
                        follow=True)  # fmt: skip
    assert f"call task {task.pk} was already logged" in again.content.decode()
    assert CallLog.objects.count() == 1


def test_a_dispute_call_needs_the_invoices_and_opens_the_dispute(client: Client, desk):
    world, customer, _ = desk
    as_user(client, world.collector_a)
    refused = client.post(f"/customers/{customer.pk}/calls", {"outcome": "dispute"}, follow=True)
    assert "a dispute needs the invoices it is about and a reason" in refused.content.decode()
    assert not CallLog.objects.exists()
    item = OpenItem.objects.get(number="CALL-1")
    client.post(f"/customers/{customer.pk}/calls", {
        "outcome": "dispute", "items": [item.pk], "reason": "quality", "note": "broken",
    })  # fmt: skip
    dispute = Dispute.objects.get()
    assert CallLog.objects.get().dispute == dispute
    assert "dispute opened (quality): CALL-1 EUR 500.00: broken" in page(
        client, f"/customers/{customer.pk}/"
    )
    other_item = world.invoice_b
    client.post(f"/customers/{customer.pk}/calls", {
        "outcome": "dispute", "items": [other_item.pk], "reason": "price",
    })  # fmt: skip
    assert Dispute.objects.count() == 1  # another company's invoice is not a choice


def test_notes_and_tasks_by_hand_and_the_tasks_page(client: Client, desk):
    world, customer, task = desk
    as_user(client, world.collector_a)
    client.post(f"/customers/{customer.pk}/notes", {"text": "new AP clerk"})
    client.post(f"/customers/{customer.pk}/tasks", {"title": "Ask for the PO", "due_on": "2026-11-27",
                                                    "kind": "review"})  # fmt: skip
    client.post(f"/customers/{customer.pk}/tasks", {"title": "For Manny", "due_on": "2026-11-25",
                                                    "assignee": world.manager_a.pk})  # fmt: skip
    html = page(client, f"/customers/{customer.pk}/")
    assert "note: new AP clerk" in html and "Review: Ask for the PO" in html
    mine = page(client, "/dunning/tasks/")
    assert "Review: Ask for the PO <span" in mine and "For Manny" not in mine
    assert mine.index("Calla GmbH") < mine.index("Review: Ask for the PO")  # step calls first
    everyone = page(client, "/dunning/tasks/?who=all")
    assert everyone.index("For Manny") < everyone.index("Ask for the PO")  # due date order
    assert "No tasks wait." in page(client, "/dunning/tasks/?who=unassigned")
    hand = Task.objects.get(title="Ask for the PO")
    client.post(f"/tasks/{hand.pk}/close", {"action": "done", "note": "got it"})
    manny = Task.objects.get(title="For Manny")
    client.post(f"/tasks/{manny.pk}/close", {"action": "cancel"})
    assert [t.state for t in Task.objects.order_by("pk")] == [
        TaskState.DONE, TaskState.CANCELLED
    ]  # fmt: skip
    closed = Activity.objects.filter(kind=ActivityKind.TASK_CLOSED).order_by("pk")
    assert [a.summary for a in closed] == ["task done: Ask for the PO: got it",
                                           "task cancelled: For Manny"]  # fmt: skip
    assert "No tasks wait for you." in page(client, "/dunning/tasks/")
    assert f"/dunning/messages/{task.pk}/" in page(client, "/dunning/tasks/")  # still to call


def test_viewers_look_and_other_companies_do_not_see(client: Client, desk):
    world, customer, task = desk
    made = create_task(company=world.a, customer=customer, kind="call", title="Ring back",
                       due_on=THURSDAY, actor=None, at=AT, on=THURSDAY)  # fmt: skip
    html = page(as_user(client, world.viewer_a), f"/customers/{customer.pk}/")
    assert "No calls logged." in html and "Log the call" not in html and "Add note" not in html
    assert "Call: Ring back" in page(client, "/dunning/tasks/?who=all")
    for url in (f"/customers/{customer.pk}/calls", f"/customers/{customer.pk}/notes",
                f"/customers/{customer.pk}/tasks", f"/tasks/{made.pk}/close"):  # fmt: skip
        assert client.post(url, {"outcome": "other", "text": "x"}).status_code == 403
    as_user(client, world.user_b)
    page(client, f"/customers/{customer.pk}/?task={task.pk}", status=404)
    for url in (f"/customers/{customer.pk}/calls", f"/customers/{customer.pk}/notes",
                f"/customers/{customer.pk}/tasks", f"/tasks/{made.pk}/close"):  # fmt: skip
        assert client.post(url, {"outcome": "other", "text": "x"}).status_code == 404
    assert "Ring back" not in page(client, "/dunning/tasks/?who=all")
    assert not CallLog.objects.exists() and Task.objects.get().state == TaskState.OPEN
