"""Statutory interest booked by a step: the accrual of DOMAIN.md's example B, then only what
accrued since, and the rest up to the payment once the invoice is paid; never for a consumer."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from dunwell.core.errors import DunwellError
from dunwell.dunning.models import Decision, InterestCharge, Message
from dunwell.dunning.rendering import render
from dunwell.dunning.services.approvals import approve
from dunwell.dunning.services.policies import StepSpec, create_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import (
    Activity,
    ActivityKind,
    CustomerKind,
    ItemKind,
    OpenItem,
)
from dunwell.ledger.services.allocations import allocate_payment
from dunwell.terms.services import create_term
from tests import factories as f

pytestmark = pytest.mark.django_db

AT = datetime(2025, 7, 30, 6, 0, tzinfo=UTC)
LADDER = (
    StepSpec("Reminder", "friendly", ("email",), offset_days=7),
    StepSpec("Interest", "firm", ("email",), offset_days=40, charge_interest=True),
    StepSpec("Final", "final", ("email",), offset_days=60, charge_interest=True,
             needs_approval=True),
)  # fmt: skip


@pytest.fixture
def german():
    company = f.company()
    company.governing_law = "DE"
    company.save()
    create_policy(company=company, name="Interest", steps=LADDER, at=AT, is_default=True)
    return company


def debtor(company, kind=CustomerKind.BUSINESS):
    customer = f.customer(company, "C001", "Bauer KG", kind=kind)
    f.contact(customer, "ap@bauer.example")
    f.invoice(company, customer, "INV-1", 1_000_000, date(2025, 5, 16), due_on=date(2025, 6, 15))
    return customer


def test_a_step_books_the_interest_accrued_and_a_later_one_only_what_accrued_since(german):
    debtor(german)
    run_dunning(company=german, on=date(2025, 7, 30), at=AT)  # 45 days: example B
    charge = OpenItem.objects.get(kind=ItemKind.INTEREST)
    assert (charge.number, charge.amount_minor, charge.related.number) == (
        "INT-INV-1-20250730", 130_73, "INV-1",
    )  # fmt: skip
    run_dunning(company=german, on=date(2025, 8, 14), at=AT + timedelta(days=15))  # final: approval
    assert OpenItem.objects.filter(kind=ItemKind.INTEREST).count() == 1  # not before approval
    approve(decision=Decision.objects.get(outcome="approval"), actor=None,
            on=date(2025, 8, 14), at=AT + timedelta(days=15))  # fmt: skip
    later = OpenItem.objects.get(kind=ItemKind.INTEREST, number="INT-INV-1-20250814")
    # accrued to 14 Aug: 46.3151 + 10,000 x 10.27 % x 45 / 365 = 172.9315, rounded once: 172.93
    assert later.amount_minor == 172_93 - 130_73
    assert sum(InterestCharge.objects.values_list("amount_minor", flat=True)) == 172_93


def test_a_consumer_is_charged_no_commercial_interest(german):
    debtor(german, kind=CustomerKind.CONSUMER)
    run_dunning(company=german, on=date(2025, 7, 30), at=AT)
    assert not OpenItem.objects.filter(kind=ItemKind.INTEREST).exists()


def test_when_the_invoice_is_paid_the_next_run_books_the_interest_up_to_the_payment(german):
    customer = debtor(german)
    run_dunning(company=german, on=date(2025, 7, 30), at=AT)  # 130.73 to 30 Jul
    invoice = OpenItem.objects.get(number="INV-1")
    payment = f.payment(german, customer, "P1", 1_000_000, date(2025, 8, 5))
    allocate_payment(company=german, payment=payment, item=invoice, amount_minor=1_000_000,
                     actor=None, at=AT + timedelta(days=6))  # fmt: skip
    report = run_dunning(company=german, on=date(2025, 8, 6), at=AT + timedelta(days=7))
    assert report.interest_on_settled == 1
    last = OpenItem.objects.get(kind=ItemKind.INTEREST, number="INT-INV-1-20250805")
    # accrued to the value date, 5 Aug: 46.3151 + 10,000 x 10.27 % x 36 / 365 = 147.6083
    assert (last.amount_minor, last.issued_on, last.related) == (147_61 - 130_73,
                                                                 date(2025, 8, 6), invoice)  # fmt: skip
    assert last.description == "Interest (DE) on INV-1 to 2025-08-05"
    again = run_dunning(company=german, on=date(2025, 8, 7), at=AT + timedelta(days=8))
    assert again.interest_on_settled == 0  # interest stopped with the payment: nothing more
    assert OpenItem.objects.filter(kind=ItemKind.INTEREST).count() == 2


def test_an_invoice_paid_without_interest_ever_charged_gets_none_afterwards(german):
    customer = debtor(german)
    invoice = OpenItem.objects.get(number="INV-1")
    payment = f.payment(german, customer, "P1", 1_000_000, date(2025, 7, 1))
    allocate_payment(company=german, payment=payment, item=invoice, amount_minor=1_000_000,
                     actor=None, at=AT)  # fmt: skip
    assert run_dunning(company=german, on=date(2025, 7, 30), at=AT).interest_on_settled == 0
    assert not OpenItem.objects.filter(kind=ItemKind.INTEREST).exists()


def test_a_contractual_rate_on_the_payment_terms_is_what_a_step_charges(german):
    german.governing_law = "CONTRACT"  # no statute: the contract alone sets interest
    german.save()
    customer = f.customer(german, "C002", "Vertrag GmbH")
    f.contact(customer, "ap@vertrag.example")
    term = create_term(company=german, code="net30-9", name="30 days, 9 % late interest",
                       days=30, interest_percent="9", interest_grace_days=5,
                       interest_day_count="ACT/360")  # fmt: skip
    f.invoice(german, customer, "INV-9", 2_500_00, date(2025, 1, 30), due_on=date(2025, 3, 1),
              payment_term=term)  # fmt: skip
    run_dunning(company=german, on=date(2025, 4, 10), at=AT)  # the +40 step charges interest
    charge = OpenItem.objects.get(kind=ItemKind.INTEREST)
    # from 7 Mar (due + 5 days' grace) to 10 Apr: 35 days, 2,500.00 x 9 % x 35 / 360 = 21.875
    assert charge.amount_minor == 21_88
    assert charge.description == "Interest (contract: 9 % a year, ACT/360) on INV-9 to 2025-04-10"


def test_without_a_statute_or_a_contract_rate_no_interest_is_charged(german):
    german.governing_law = "CONTRACT"
    german.save()
    debtor(german)  # default terms, no interest on them
    run_dunning(company=german, on=date(2025, 7, 30), at=AT)
    assert not OpenItem.objects.filter(kind=ItemKind.INTEREST).exists()


def test_payment_terms_refuse_a_day_count_they_do_not_know(german):
    with pytest.raises(DunwellError) as refused:
        create_term(company=german, code="bad", name="Bad", days=30, interest_percent="9",
                    interest_day_count="30/360")  # fmt: skip
    assert refused.value.message == (
        "day count '30/360': expected one of ACT/365F, ACT/360, ACT/ACT"
    )
    assert refused.value.context["field"] == "interest_day_count"


def test_booked_interest_is_waived_with_a_reason_and_who_decided(german):
    debtor(german)
    run_dunning(company=german, on=date(2025, 7, 30), at=AT)
    manager = User.objects.create_user("manny")
    call_command("dunning", "waive", "INT-INV-1-20250730", "--reason", "long-standing customer",
                 "--by", "manny")  # fmt: skip
    charge = OpenItem.objects.get(kind=ItemKind.INTEREST)
    assert charge.open_minor == 0
    waived = Activity.objects.get(kind=ActivityKind.WRITTEN_OFF, item=charge)
    assert waived.actor == manager
    assert waived.summary.endswith("interest waived: long-standing customer")


def test_a_final_demand_states_the_contracts_interest_for_invoices_on_a_contract_rate(german):
    customer = f.customer(german, "C003", "Vertrag GmbH", language="de")
    f.contact(customer, "ap@vertrag.example")
    term = create_term(company=german, code="net30-9", name="30 days, 9 %", days=30,
                       interest_percent="9", interest_grace_days=5,
                       interest_day_count="ACT/360")  # fmt: skip
    f.invoice(german, customer, "INV-9", 2_500_00, date(2025, 1, 30), due_on=date(2025, 3, 1),
              payment_term=term)  # fmt: skip
    run_dunning(company=german, on=date(2025, 4, 30), at=AT)  # the +60 final demand, approval
    message = Message.objects.get(customer=customer, channel="email")
    _, body = render(message)
    # 7 Mar to 30 Apr: 55 days, 2,500.00 x 9 % x 55 / 360 = 34.375
    assert ("Nach dem Vertrag sind Verzugszinsen von 9 % jährlich geschuldet; bis zum "
            "30.04.2025 betragen sie 34,38\xa0€.") in body  # fmt: skip
    assert "Pauschale" not in body  # the statute's fixed sum is not the contract's
