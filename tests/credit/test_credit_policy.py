"""Credit limits, exposure and the policy's holds (issue 7 point 2): exposure counts open AR less
unapplied cash plus open orders; the policy holds over the limit or past due (disputed invoices
aside), releases its own holds when paid or the limit is raised, never a person's, and a person's
release keeps it away for the override days; limits on record with why; reviews as tasks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User

from dunwell.cases.models import Task, TaskKind, TaskState
from dunwell.cases.services.disputes import open_dispute
from dunwell.core.errors import DunwellError
from dunwell.core.models import Membership, Role
from dunwell.credit.models import CreditHold, CreditLimitChange, CreditPolicy, OpenOrder
from dunwell.credit.services.exposure import exposures
from dunwell.credit.services.holds import POLICY_SOURCE, place_credit_hold, release_credit_hold
from dunwell.credit.services.limits import schedule_reviews, set_limit
from dunwell.credit.services.policy import check_credit
from dunwell.ledger.models import Activity, ActivityKind, ItemKind
from dunwell.ledger.services.allocations import allocate_payment
from tests import factories as f

pytestmark = pytest.mark.django_db

ON = date(2026, 6, 30)
AT = datetime(2026, 6, 30, 20, 0, tzinfo=UTC)


def order(company, customer, key: str, amount: int, state: str = "open") -> OpenOrder:  # type: ignore[no-untyped-def]
    return OpenOrder.objects.create(company=company, customer=customer, external_id=key,
                                    currency=customer.currency, open_minor=amount, state=state,
                                    ordered_on=ON, reported_at=AT)  # fmt: skip


def test_exposure_is_open_ar_less_unapplied_cash_plus_open_orders_in_the_customers_currency() -> (
    None
):
    company = f.company()
    customer = f.customer(company, "C1", "Kunde C1")
    f.invoice(company, customer, "INV-1", 8_000_00, ON - timedelta(days=40))
    f.invoice(company, customer, "CN-1", 500_00, ON - timedelta(days=10), kind=ItemKind.CREDIT_NOTE)
    f.invoice(company, customer, "USD-1", 9_999_00, ON - timedelta(days=10), currency="USD")
    f.payment(company, customer, "PAY-1", 1_000_00, ON - timedelta(days=2))  # not allocated
    order(company, customer, "SO-1", 2_500_00)
    order(company, customer, "SO-2", 7_000_00, state="closed")
    other = f.customer(f.company("other"), "C1", "Someone else")
    f.invoice(other.company, other, "INV-1", 1_000_000_00, ON - timedelta(days=40))

    (found,) = exposures(company, ON).values()

    assert (found.open_minor, found.unapplied_minor, found.orders_minor) == (
        7_500_00, 1_000_00, 2_500_00)  # fmt: skip
    assert found.total_minor == 9_000_00
    assert found.oldest_days == 10  # INV-1, net 30 from 40 days ago


def test_the_policy_holds_over_the_limit_and_releases_when_the_limit_is_raised() -> None:
    company = f.company()
    customer = f.customer(company, "C1", "Kunde C1")
    f.invoice(company, customer, "INV-1", 8_000_00, ON - timedelta(days=5))
    order(company, customer, "SO-1", 3_000_00)
    credit = User.objects.create_user("cora")

    set_limit(company=company, customer=customer, limit_minor=10_000_00, reason="first order",
              actor=credit, on=ON, at=AT)  # fmt: skip

    hold = CreditHold.objects.get(customer=customer, released_on__isnull=True)
    assert hold.source == POLICY_SOURCE
    assert hold.reason == "exposure EUR 11000.00 is over the limit EUR 10000.00 by EUR 1000.00"
    assert check_credit(company=company, on=ON, at=AT).placed == []  # a re-run changes nothing

    set_limit(company=company, customer=customer, limit_minor=15_000_00, reason="good payer",
              actor=credit, on=ON, at=AT)  # fmt: skip

    hold.refresh_from_db()
    assert hold.released_on == ON and hold.released_by is None
    assert hold.release_reason.startswith("the credit policy no longer holds")
    changes = CreditLimitChange.objects.filter(customer=customer).order_by("pk")
    assert [(c.previous_minor, c.limit_minor, c.reason) for c in changes] == [
        (None, 10_000_00, "first order"), (10_000_00, 15_000_00, "good payer")]  # fmt: skip
    summaries = Activity.objects.filter(customer=customer, kind=ActivityKind.CREDIT_LIMIT_CHANGED)
    assert summaries.order_by("pk").last().summary == (  # type: ignore[union-attr]
        "credit limit EUR 10000.00 -> EUR 15000.00: good payer"
    )


def test_an_invoice_too_long_past_due_holds_unless_disputed_and_paying_releases() -> None:
    company = f.company()
    CreditPolicy.objects.create(company=company, hold_after_days=30)
    customer = f.customer(company, "C1", "Kunde C1")
    late = f.invoice(company, customer, "INV-1", 2_000_00, ON - timedelta(days=80))  # 50 days
    disputed = f.invoice(company, f.customer(company, "C2", "Kunde C2"), "INV-2", 2_000_00,
                         ON - timedelta(days=80))  # fmt: skip
    open_dispute(company=company, customer=disputed.customer, items=[(disputed, None)],
                 reason="price", actor=None, on=ON, at=AT)  # fmt: skip

    report = check_credit(company=company, on=ON, at=AT)

    assert report.placed == [("C1", "an undisputed invoice is 50 days past due (the policy holds "
                                    "after 30)")]  # fmt: skip
    payment = f.payment(company, customer, "PAY-1", 2_000_00, ON)
    allocate_payment(company=company, payment=payment, item=late, amount_minor=2_000_00,
                     actor=None, at=AT)  # fmt: skip
    assert [a for a, _ in check_credit(company=company, on=ON, at=AT).released] == ["C1"]


def test_a_persons_holds_stay_and_a_persons_release_keeps_the_policy_away_for_a_while() -> None:
    company = f.company()
    CreditPolicy.objects.create(company=company, hold_after_days=30, override_days=14)
    by_hand = f.customer(company, "C1", "Kunde C1")
    place_credit_hold(company=company, customer=by_hand, on=ON, at=AT, reason="rumours",
                      source="by hand")  # fmt: skip
    late = f.customer(company, "C2", "Kunde C2")
    f.invoice(company, late, "INV-2", 2_000_00, ON - timedelta(days=80))
    check_credit(company=company, on=ON, at=AT)
    assert CreditHold.objects.filter(customer=by_hand, released_on__isnull=True).exists()

    manager = User.objects.create_user("cora")
    release_credit_hold(company=company, customer=late, on=ON, at=AT, reason="pays Friday",
                        actor=manager)  # fmt: skip

    assert CreditHold.objects.get(customer=late).override_until == ON + timedelta(days=14)
    assert check_credit(company=company, on=ON + timedelta(days=14), at=AT).overridden == ["C2"]
    again = check_credit(company=company, on=ON + timedelta(days=15), at=AT)
    assert [a for a, _ in again.placed] == ["C2"]


def test_a_limit_needs_a_reason_and_cannot_be_negative() -> None:
    company = f.company()
    customer = f.customer(company, "C1", "Kunde C1")
    with pytest.raises(DunwellError, match="needs a reason"):
        set_limit(company=company, customer=customer, limit_minor=1_00, reason=" ", actor=None,
                  on=ON, at=AT)  # fmt: skip
    with pytest.raises(DunwellError, match="cannot be negative"):
        set_limit(company=company, customer=customer, limit_minor=-1, reason="x", actor=None,
                  on=ON, at=AT)  # fmt: skip
    assert not CreditLimitChange.objects.exists()


def test_reviews_come_due_after_the_policys_months_for_the_credit_manager_once() -> None:
    company = f.company()
    manager = User.objects.create_user("cora")
    Membership.objects.create(user=manager, company=company, role=Role.CREDIT_MANAGER)
    old = f.customer(company, "C1", "Kunde C1")
    recent = f.customer(company, "C2", "Kunde C2")
    f.customer(company, "C3", "No limit")
    set_limit(company=company, customer=old, limit_minor=5_000_00, reason="opening",
              actor=None, on=ON - timedelta(days=400), at=AT)  # fmt: skip
    set_limit(company=company, customer=recent, limit_minor=5_000_00, reason="opening",
              actor=None, on=ON - timedelta(days=30), at=AT)  # fmt: skip

    assert schedule_reviews(company=company, on=ON, at=AT) == 1
    assert schedule_reviews(company=company, on=ON, at=AT) == 0

    (task,) = Task.objects.filter(kind=TaskKind.REVIEW)
    assert (task.customer, task.assignee, task.state, task.due_on) == (
        old, manager, TaskState.OPEN, ON)  # fmt: skip
    assert task.title == "Credit review: Kunde C1 (limit EUR 5000.00)"


def test_the_same_limit_set_again_records_nothing() -> None:
    company = f.company()
    customer = f.customer(company, "C1", "Kunde C1")
    first = set_limit(company=company, customer=customer, limit_minor=5_000_00, reason="opening",
                      actor=None, on=ON, at=AT)  # fmt: skip
    again = set_limit(company=company, customer=customer, limit_minor=5_000_00, reason="opening",
                      actor=None, on=ON, at=AT)  # fmt: skip
    assert again.pk == first.pk and CreditLimitChange.objects.count() == 1
    assert Activity.objects.filter(kind=ActivityKind.CREDIT_LIMIT_CHANGED).count() == 1
