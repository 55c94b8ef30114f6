"""Two collectors working one account at the same moment lose nothing (issue 4, reliability).

Meaningful on PostgreSQL only, where two transactions really run side by side (SQLite serialises
writers, and `select_for_update` is a no-op there): two payments applied at once to different
invoices of one promise and of one plan are both counted, and a call, a dispute and a note
logged at once on one account are all kept, each with its history entry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, connections

from dunwell.cases.models import PromiseState, PromiseToPay
from dunwell.cases.services import disputes
from dunwell.cases.services.calls import add_note
from dunwell.cases.services.plans import agree_plan
from dunwell.cases.services.promises import make_promise
from dunwell.ledger.models import Activity, ActivityKind
from dunwell.workflows import calls
from dunwell.workflows.payments import apply_payment
from tests import factories as f

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers"),
]

ON = date(2026, 11, 26)
AT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def at_once(*work: Callable[[], object]) -> None:
    """Run each piece of work in its own thread and connection, started together."""
    start, errors = threading.Barrier(len(work)), []

    def run(job: Callable[[], object]) -> None:
        try:
            start.wait()
            job()
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


@pytest.fixture
def account():
    company = f.company()
    customer = f.customer(company, "C001", "Bauer KG")
    due = ON - timedelta(days=20)
    one = f.invoice(company, customer, "INV-1", 600_00, due - timedelta(days=30), due_on=due)
    two = f.invoice(company, customer, "INV-2", 400_00, due - timedelta(days=30), due_on=due)
    return company, customer, one, two


def pay(company, customer, item, key, amount):
    def job() -> None:
        payment = f.payment(company, customer, key, amount, ON)
        apply_payment(company=company, payment=payment, item=item, amount_minor=amount, on=ON,
                      actor=None, at=AT)  # fmt: skip

    return job


def test_two_payments_at_once_on_one_promise_both_count_and_keep_it(account):
    company, customer, one, two = account
    promise = make_promise(company=company, customer=customer, amount_minor=1_000_00,
                           currency="EUR", promised_on=ON + timedelta(days=3),
                           promised_by="Petra Bauer", channel="phone", items=(one, two),
                           actor=None, on=ON, at=AT)  # fmt: skip
    at_once(pay(company, customer, one, "BANK-1", 600_00),
            pay(company, customer, two, "BANK-2", 400_00))  # fmt: skip
    promise = PromiseToPay.objects.get(pk=promise.pk)
    assert (promise.paid_minor, promise.state) == (1_000_00, PromiseState.KEPT)


def test_two_payments_at_once_on_one_plan_both_reach_its_instalments(account):
    company, customer, one, two = account
    plan = agree_plan(company=company, customer=customer, items=[one, two], instalments=2,
                      first_due_on=ON + timedelta(days=5), actor=None, on=ON, at=AT)  # fmt: skip
    at_once(pay(company, customer, one, "BANK-1", 500_00),
            pay(company, customer, two, "BANK-2", 400_00))  # fmt: skip
    paid = list(plan.instalments.order_by("sequence").values_list("paid_minor", "state"))
    assert paid == [(500_00, "paid"), (400_00, "partly_paid")]


def test_a_call_a_dispute_and_a_note_at_once_on_one_account_are_all_kept(account):
    company, customer, _one, two = account

    def call() -> None:
        calls.log_call(company=company, customer=customer, outcome="will_pay",
                       note="in Friday's run", actor=None, on=ON, at=AT)  # fmt: skip

    def dispute() -> None:
        disputes.open_dispute(company=company, customer=customer, items=[(two, None)],
                              reason="price", actor=None, on=ON, at=AT)  # fmt: skip

    def note() -> None:
        add_note(company=company, customer=customer, text="asked for the PO", actor=None,
                 on=ON, at=AT)  # fmt: skip

    at_once(call, dispute, note)
    kinds = set(Activity.objects.filter(customer=customer).values_list("kind", flat=True))
    assert {ActivityKind.CALL_LOGGED, ActivityKind.DISPUTE_OPENED, ActivityKind.NOTE_ADDED} <= kinds
    assert customer.disputes.count() == 1 and customer.calls.count() == 1
