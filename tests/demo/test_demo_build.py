"""The demo build: a consistent, realistic, reproducible company."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Sum

from dunwell.cases.models import CallLog, PaymentPlan, Placement, PromiseToPay
from dunwell.core.models import Company, Membership
from dunwell.demo.build import COMPANY_CODE, DemoStats, build_demo
from dunwell.dunning.models import Message
from dunwell.ledger.models import (
    Activity,
    ActivityKind,
    Allocation,
    AllocationKind,
    Contact,
    Customer,
    ItemKind,
    OpenItem,
    Payment,
)
from dunwell.ledger.queries import drift
from dunwell.reports.models import WorklistRow

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
# Recorded from a build with seed 1 (change them only when the generator changes on purpose).
EXPECTED_ITEMS = 517  # invoices and credit notes, and the payment plan's interest
EXPECTED_TOTAL = 518_793_977
EXPECTED_PAID = 358_125_706  # the last month through the bank: one payment stays in the queue
EXPECTED_PAYMENT_ALLOCATIONS = 328  # 10 fewer: the invoices of the payment in the queue


def small_demo() -> DemoStats:
    return build_demo(seed=1, customers=12, months=6, as_of=AS_OF, at=AT)


def test_small_demo_has_every_kind_of_record_and_consistent_balances() -> None:  # noqa: PLR0915 - one build, every fact of it
    stats = small_demo()
    company = stats.company
    assert company.code == COMPANY_CODE
    assert stats.customers == Customer.objects.filter(company=company).count() == 12
    assert stats.invoices == OpenItem.objects.filter(company=company, kind="invoice").count() > 0
    # the generated history's payments, and those of the month's case work (promises kept, an
    # instalment, the agency's recovery)
    # (and the last month's, applied from the bank statements: tests/demo/test_demo_bank.py)
    made = stats.cycle.cases.payments
    from_bank = stats.bank.applied
    assert stats.payments + made + from_bank == Payment.objects.filter(company=company).count() > 0
    generated = (
        Allocation.objects.filter(company=company)
        .exclude(payment__external_id__startswith="BANK-CASE-")
        .exclude(payment__external_id__startswith="bank:")
        .exclude(write_off__reason="bank charges")
    )
    assert stats.allocations == generated.count() > 0
    assert stats.credit_notes >= 0
    assert Activity.objects.filter(company=company).count() == stats.activities > 0
    assert drift(company) == []

    # every customer has contacts, and every contact an .example address
    assert not Customer.objects.filter(company=company, contacts__isnull=True).exists()
    assert all(
        e.endswith(".example")
        for e in Contact.objects.filter(company=company).values_list("email", flat=True)
    )

    # a payment never pays out more than it brought in
    over = Payment.objects.filter(company=company).annotate(
        used=Sum("allocations__payment_amount_minor")
    )
    assert not over.filter(used__gt=F("amount_minor")).exists()
    assert not Payment.objects.filter(company=company, unapplied_minor__lt=0).exists()
    # and no item is reduced below zero (invoices) or above zero (credit notes)
    items = OpenItem.objects.filter(company=company)
    assert not items.filter(kind=ItemKind.INVOICE, open_minor__lt=0).exists()
    assert not items.filter(kind=ItemKind.CREDIT_NOTE, open_minor__gt=0).exists()
    # an allocation is recorded at noon of its day (or the build moment), never before its day
    for allocation in Allocation.objects.filter(company=company)[:200]:
        assert allocation.recorded_at.date() == allocation.effective_on
        assert allocation.recorded_at <= AT
    assert not Allocation.objects.filter(company=company, effective_on__gt=AS_OF).exists()

    # a realistic aging: paid items, open current ones and overdue ones
    invoices = items.filter(kind=ItemKind.INVOICE)
    assert invoices.filter(open_minor=0, settled_on__isnull=False).exists()
    assert invoices.filter(open_minor__gt=0, due_on__lt=AS_OF).exists()
    assert invoices.filter(open_minor__gt=0, due_on__gte=AS_OF).exists()
    assert stats.open_invoices == invoices.exclude(open_minor=0).count() > 0
    assert stats.overdue_by_currency
    # German customers pay 19 % VAT: gross = net + tax
    german = invoices.filter(customer__country="DE")
    assert not german.exclude(amount_minor=F("net_minor") + F("tax_minor")).exists()
    assert all(n.startswith("NW-20") for n in invoices.values_list("number", flat=True)[:50])

    # the four users, one role each
    roles = dict(Membership.objects.filter(company=company).values_list("user__username", "role"))
    assert roles == {
        "admin": "admin",
        "credit": "credit_manager",
        "collector": "collector",
        "viewer": "viewer",
    }
    assert Customer.objects.filter(company=company, owner__username="collector").exists()

    # a month of collections: emails sent, the last day's with the statement attached, calls made
    cycle = stats.cycle
    sent = Message.objects.filter(company=company, channel="email", status="sent")
    assert cycle.emails == sent.count() > 0
    last_day = max(sent.values_list("business_date", flat=True))
    attached = sent.filter(statement__isnull=False)
    assert set(attached.values_list("business_date", flat=True)) <= {last_day}
    assert attached.count() == sent.filter(business_date=last_day).count()
    done = Activity.objects.filter(company=company, kind=ActivityKind.TASK_DONE)
    assert done.count() == cycle.calls_made > 0
    assert all(d.summary.startswith("Call (step ") and d.actor for d in done)

    # the case work of the month, through the workflows: every call made is logged with its
    # outcome, a payment plan runs with its first instalment paid, one account is placed
    cases = cycle.cases
    assert CallLog.objects.filter(company=company).count() == cases.calls_logged == cycle.calls_made
    plan = PaymentPlan.objects.get(company=company)
    assert plan.state == "active" and plan.instalments.count() == 6
    assert plan.instalments.get(sequence=1).state == "paid"
    placement = Placement.objects.get(company=company)
    assert placement.agency.name == "Inkasso Nord GmbH" and placement.recoveries.count() == 1
    assert PromiseToPay.objects.filter(company=company).count() == cases.promises > 0
    assert WorklistRow.objects.filter(company=company).exists()


def test_the_same_seed_builds_the_same_demo() -> None:
    stats = small_demo()
    company = stats.company
    totals = OpenItem.objects.filter(company=company).aggregate(
        total=Sum("amount_minor"), count=Count("id")
    )
    paid = Payment.objects.filter(company=company).aggregate(total=Sum("amount_minor"))
    kinds = dict(
        Allocation.objects.filter(company=company)
        .values_list("kind")
        .annotate(n=Count("id"))
        .order_by("kind")
    )
    assert (totals["count"], totals["total"], paid["total"]) == (
        EXPECTED_ITEMS,
        EXPECTED_TOTAL,
        EXPECTED_PAID,
    )
    assert kinds.get(AllocationKind.PAYMENT) == EXPECTED_PAYMENT_ALLOCATIONS


def test_command_builds_a_small_demo_and_refuses_a_second_one() -> None:
    out = StringIO()
    call_command("demo", "build", "--customers", "5", "--months", "3", stdout=out)
    text = out.getvalue()
    company = Company.objects.get(code=COMPANY_CODE)
    assert Customer.objects.filter(company=company).count() == 5
    assert drift(company) == []
    assert "collector / dunwell-demo" in text
    assert "invoices" in text
    assert "build seconds" in text
    with pytest.raises(Exception, match="already exists"):
        call_command("demo", "build", "--customers", "5", "--months", "3", stdout=StringIO())


def test_command_refuses_an_empty_demo() -> None:
    with pytest.raises(Exception, match="at least 1"):
        call_command("demo", "build", "--customers", "0", stdout=StringIO())
    assert not Company.objects.filter(code=COMPANY_CODE).exists()
