"""Opening a promise withdraws, in the same transaction, the reminders not yet sent that demand
only what it covers."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command

from dunwell.cases.models import PromiseToPay
from dunwell.dunning.models import Decision, ItemStep, Message, MessageStatus
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Activity, ActivityKind, ContactRole
from dunwell.workflows.promises import open_promise
from tests import factories as f

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def world(days_overdue=10):
    company = f.company()
    ensure_default_policy(company, AT)
    customer = f.customer(company, "C001", "Bauer KG")
    f.contact(customer, "ap@bauer.example")
    f.contact(customer, "max@bauer.example", name="Max Weber", role=ContactRole.AP_MANAGER)
    due = MONDAY - timedelta(days=days_overdue)
    one = f.invoice(company, customer, "INV-1", 1_200_00, due - timedelta(days=30), due_on=due)
    two = f.invoice(company, customer, "INV-2", 400_00, due - timedelta(days=30), due_on=due)
    run_dunning(company=company, on=MONDAY, at=AT)
    return company, customer, one, two


def promised(company, customer, items, amount=1_600_00):
    return open_promise(company=company, customer=customer, amount_minor=amount, currency="EUR",
                        promised_on=date(2026, 12, 4), promised_by="Petra Bauer",
                        channel="phone", items=items, actor=None, on=MONDAY,
                        at=AT + timedelta(hours=1))  # fmt: skip


def test_a_promise_for_everything_a_pending_reminder_demands_withdraws_it():
    company, customer, one, two = world()
    [email] = Message.objects.filter(status=MessageStatus.PENDING)
    promise = promised(company, customer, [one, two])
    email.refresh_from_db()
    assert (email.status, email.error) == (
        "withdrawn",
        f"withdrawn: promise {promise.pk}: EUR 1600.00 by 2026-12-04",
    )
    note = Activity.objects.get(kind=ActivityKind.REMINDER_WITHDRAWN)
    assert note.summary == (f"email of 2026-11-23 (step 2) withdrawn: promise {promise.pk}: "
                            "EUR 1600.00 by 2026-12-04")  # fmt: skip


def test_a_reminder_that_also_demands_an_invoice_not_promised_stays():
    company, customer, one, _ = world()
    promised(company, customer, [one], amount=1_200_00)
    assert Message.objects.get().status == MessageStatus.PENDING
    assert not Activity.objects.filter(kind=ActivityKind.REMINDER_WITHDRAWN).exists()


def test_a_step_awaiting_approval_is_rejected_and_its_invoices_go_back_a_step():
    company, customer, *_ = world(days_overdue=40)  # the final demand, awaiting approval
    decision = Decision.objects.get()
    assert decision.outcome == "approval" and ItemStep.objects.count() == 2
    promise = promised(company, customer, [])
    decision.refresh_from_db()
    assert decision.outcome == "rejected"
    assert decision.reason.endswith(f"withdrawn: promise {promise.pk}: EUR 1600.00 by 2026-12-04")
    assert set(Message.objects.values_list("status", flat=True)) == {"cancelled"}
    assert not ItemStep.objects.exists()


def test_a_failed_withdrawal_leaves_no_promise(monkeypatch):
    company, customer, one, two = world()

    def fails(**_):
        raise RuntimeError("outbox locked")

    monkeypatch.setattr("dunwell.workflows.promises.withdraw_pending", fails)
    with pytest.raises(RuntimeError):
        promised(company, customer, [one, two])
    assert not PromiseToPay.objects.exists()
    assert not Activity.objects.filter(kind=ActivityKind.PROMISE_MADE).exists()
    assert Message.objects.get().status == MessageStatus.PENDING


def test_the_case_command_records_a_promise_through_the_workflow_and_withdraws_the_reminder(
    capsys,
):
    world()
    [email] = Message.objects.filter(status=MessageStatus.PENDING)
    call_command("case", "promise", "--customer", "C001", "--amount", "1600.00", "--date",
                 "2099-01-15", "--promised-by", "Petra Bauer", "--channel", "phone",
                 "--invoice", "INV-1", "--invoice", "INV-2", "--format", "json")  # fmt: skip
    made = json.loads(capsys.readouterr().out)
    email.refresh_from_db()
    assert email.status == "withdrawn"
    assert email.error == f"withdrawn: promise {made['id']}: EUR 1600.00 by 2099-01-15"
