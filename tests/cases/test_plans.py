"""Payment plans: agreed for overdue invoices, their items are not dunned while the plan is
current; instalments follow the payments in the same transaction; a missed one defaults the plan
(escalation, alert, dunned again); all paid completes it; a day run twice changes nothing."""

import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from dunwell.cases.models import (
    Escalation,
    InstalmentState,
    PaymentPlan,
    PlanState,
    Task,
    TaskKind,
)
from dunwell.cases.printing import agreement_pdf
from dunwell.cases.services import tracking
from dunwell.cases.services.plans import agree_plan, cancel_plan, plan_reference
from dunwell.core.errors import DunwellError
from dunwell.core.models import Company
from dunwell.dunning.models import Message, MessageStatus
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Activity, ActivityKind, Customer, ItemKind, OpenItem
from dunwell.ledger.services.allocations import reverse_allocations
from dunwell.workflows import plans as plan_flows
from dunwell.workflows.payments import apply_payment
from tests import factories as f

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
FIRST = date(2026, 12, 15)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC)


@pytest.fixture
def account():
    company = f.company()
    ensure_default_policy(company, AT)
    owner = User.objects.create_user("colly")
    customer = f.customer(company, "C001", "Bauer KG")
    Customer.objects.filter(pk=customer.pk).update(owner=owner)
    customer.refresh_from_db()
    f.contact(customer, "ap@bauer.example")
    due = MONDAY - timedelta(days=20)
    one = f.invoice(company, customer, "INV-1", 1_000_00, due - timedelta(days=30), due_on=due)
    two = f.invoice(company, customer, "INV-2", 500_00, due - timedelta(days=30), due_on=due)
    three = f.invoice(company, customer, "INV-3", 200_00, due - timedelta(days=30), due_on=due)
    return company, customer, one, two, three


def agreed(account, items=None, **kwargs):
    company, customer, one, two, _ = account
    values = {"instalments": 3, "first_due_on": FIRST} | kwargs
    return agree_plan(company=company, customer=customer, items=items or [one, two],
                      actor=None, on=MONDAY, at=AT, **values)  # fmt: skip


def pay(account, item, amount, on, key):
    company, customer, *_ = account
    payment = f.payment(company, customer, key, amount, on)
    return apply_payment(company=company, payment=payment, item=item, amount_minor=amount,
                         on=on, actor=None, at=at(on))  # fmt: skip


def instalments(plan):
    return [(i.sequence, i.due_on, i.amount_minor, i.paid_minor, i.state)
            for i in plan.instalments.order_by("sequence")]  # fmt: skip


def test_three_monthly_instalments_with_interest_and_a_fee_booked_as_open_items(account):
    plan = agreed(account, interest_percent=Decimal(5), fee_minor=25_00, agreed_by="Frau Bauer")
    # 1,500 x 5 % x 22/365 = 4.52; 1,000 x 5 % x 31/365 = 4.25; 500 x 5 % x 31/365 = 2.12
    assert (plan.principal_minor, plan.interest_minor, plan.fee_minor, plan.total_minor) == (
        1_500_00,
        10_89,
        25_00,
        1_535_89,
    )
    assert instalments(plan) == [
        (1, FIRST, 511_97, 0, InstalmentState.DUE),
        (2, date(2027, 1, 15), 511_96, 0, InstalmentState.DUE),
        (3, date(2027, 2, 15), 511_96, 0, InstalmentState.DUE),
    ]
    charges = OpenItem.objects.filter(source=f"payment plan {plan.pk}").order_by("kind")
    assert [(c.kind, c.number, c.amount_minor, c.due_on) for c in charges] == [
        (ItemKind.FEE, f"PLAN-{plan.pk}-FEE", 25_00, date(2027, 2, 15)),
        (ItemKind.INTEREST, f"PLAN-{plan.pk}-INTEREST", 10_89, date(2027, 2, 15)),
    ]
    assert sorted(plan.covered.values_list("item__number", "amount_minor")) == sorted(
        [("INV-1", 1_000_00), ("INV-2", 500_00), (f"PLAN-{plan.pk}-FEE", 25_00),
         (f"PLAN-{plan.pk}-INTEREST", 10_89)])  # fmt: skip
    entry = Activity.objects.get(kind=ActivityKind.PLAN_AGREED, item__isnull=True)
    assert entry.summary == (
        f"payment plan {plan.pk} agreed with Frau Bauer: EUR 1535.89 in 3 instalments from "
        "2026-12-15 (first EUR 511.97) for INV-1, INV-2, interest EUR 10.89, fee EUR 25.00"
    )
    assert Activity.objects.filter(kind=ActivityKind.PLAN_AGREED, item__number="INV-2").exists()


def test_a_plan_is_refused_with_a_reason(account):
    company, customer, one, _, three = account
    other = f.customer(company, "C002", "Other AG")
    foreign = f.invoice(company, other, "X-1", 100_00, MONDAY - timedelta(days=40))
    with pytest.raises(DunwellError, match="Invoice X-1 is not C001's"):
        agreed(account, items=[foreign])
    short = (r"add up to EUR 1000\.00; the plan's total is EUR 1500\.00 \(principal EUR "
             r"1500\.00 \+ interest EUR 0\.00 \+ fee EUR 0\.00\)")  # fmt: skip
    with pytest.raises(DunwellError, match=short):
        agreed(account, instalments=None, schedule=[(FIRST, 1_000_00)])
    with pytest.raises(DunwellError, match="instalment dates must increase"):
        agreed(account, instalments=None, schedule=[(FIRST, 1_000_00), (FIRST, 500_00)])
    agreed(account)
    with pytest.raises(DunwellError, match="Invoice INV-1 is already in payment plan"):
        agreed(account, items=[one, three])
    usd = f.invoice(company, customer, "INV-USD", 100_00, MONDAY - timedelta(days=40),
                    currency="USD")  # fmt: skip
    with pytest.raises(DunwellError, match="the invoices are in EUR and USD"):
        agreed(account, items=[three, usd])


def test_covered_invoices_are_not_dunned_while_the_plan_is_current(account):
    company, *_ = account
    plan = agreed(account)
    [group] = run_dunning(company=company, on=MONDAY, at=AT).groups
    by_number = {row["number"]: row for row in group.items}
    assert by_number["INV-1"]["paused"] == (
        f"payment plan {plan.pk} current (next EUR 500.00 on 2026-12-15)"
    )
    assert "paused" in by_number["INV-2"] and "paused" not in by_number["INV-3"]
    assert group.reason.startswith("step 2 (First reminder) due for INV-3")


def test_an_instalment_paid_through_apply_payment_is_paid_in_the_same_transaction(account):
    _, _, one, two, _ = account
    plan = agreed(account)
    pay(account, one, 300_00, date(2026, 12, 10), "P1")
    assert instalments(plan)[0][3:] == (300_00, InstalmentState.PARTLY_PAID)
    pay(account, two, 250_00, date(2026, 12, 14), "P2")
    assert instalments(plan)[:2] == [
        (1, FIRST, 500_00, 500_00, InstalmentState.PAID),
        (2, date(2027, 1, 15), 500_00, 50_00, InstalmentState.PARTLY_PAID),
    ]
    assert plan.instalments.get(sequence=1).settled_on == date(2026, 12, 14)
    [paid] = Activity.objects.filter(kind=ActivityKind.INSTALMENT_PAID)
    assert paid.summary == f"payment plan {plan.pk}: instalment 1 of EUR 500.00 due 2026-12-15 paid"
    assert (paid.on, paid.customer_id) == (date(2026, 12, 14), plan.customer_id)


def test_a_reversed_payment_takes_the_instalment_back(account):
    company, _, one, *_ = account
    plan = agreed(account)
    rows = pay(account, one, 500_00, date(2026, 12, 10), "P1")
    reverse_allocations(company=company, allocations=rows, on=date(2026, 12, 12),
                        reason="returned", actor=None, at=at(date(2026, 12, 12)))  # fmt: skip
    tracking.after_payments(company=company, customer_ids=[one.customer_id],
                            on=date(2026, 12, 12), at=at(date(2026, 12, 12)), actor=None)  # fmt: skip
    assert instalments(plan)[0][3:] == (0, InstalmentState.DUE)


def test_a_missed_instalment_defaults_the_plan_escalates_and_alerts_the_owner(account):
    company, customer, one, *_ = account
    plan = agreed(account)
    pay(account, one, 200_00, date(2026, 12, 10), "P1")
    grace_end = FIRST + timedelta(days=5)
    assert plan_flows.instalments_due(company=company, on=grace_end, at=at(grace_end)) == []
    day = grace_end + timedelta(days=1)
    for _ in range(2):  # the day run twice changes nothing
        plan_flows.instalments_due(company=company, on=day, at=at(day))
    plan.refresh_from_db()
    assert (plan.state, plan.ended_on) == (PlanState.DEFAULTED, day)
    assert instalments(plan)[0][3:] == (200_00, InstalmentState.MISSED)
    [missed] = Activity.objects.filter(kind=ActivityKind.INSTALMENT_MISSED)
    assert missed.summary == (f"payment plan {plan.pk}: instalment 1 due 2026-12-15 missed "
                              "(EUR 300.00 unpaid after 5 days' grace)")  # fmt: skip
    assert Activity.objects.filter(kind=ActivityKind.PLAN_DEFAULTED).count() == 3  # + 2 items
    [escalation] = Escalation.objects.all()
    assert (escalation.source, escalation.key, escalation.raised_on) == (
        "plan_default",
        f"plan-{plan.pk}",
        day,
    )
    assert escalation.reason == (f"payment plan {plan.pk} defaulted: instalment 1 due "
                                 "2026-12-15 missed")  # fmt: skip
    [task] = Task.objects.all()
    assert (task.kind, task.assignee, task.due_on) == (TaskKind.ALERT, customer.owner, day)
    assert (
        task.title
        == f"Bauer KG: payment plan {plan.pk} defaulted: instalment 1 due 2026-12-15 missed"
    )
    [group] = run_dunning(company=company, on=day, at=at(day)).groups
    assert not any(row.get("paused") for row in group.items)


def test_every_instalment_paid_completes_the_plan(account):
    _, _, one, two, _ = account
    plan = agreed(account, instalments=2, every_days=14, first_due_on=FIRST)
    pay(account, one, 1_000_00, date(2026, 12, 1), "P1")
    pay(account, two, 500_00, date(2026, 12, 20), "P2")
    plan.refresh_from_db()
    assert (plan.state, plan.ended_on) == (PlanState.COMPLETED, date(2026, 12, 20))
    assert [i[4] for i in instalments(plan)] == [InstalmentState.PAID] * 2
    assert Activity.objects.get(kind=ActivityKind.PLAN_COMPLETED).summary == (
        f"payment plan {plan.pk} completed: EUR 1500.00 paid"
    )
    assert Activity.objects.filter(kind=ActivityKind.INSTALMENT_PAID).count() == 2


def test_payments_before_the_agreement_do_not_count(account):
    _, _, one, *_ = account
    pay(account, one, 100_00, MONDAY - timedelta(days=1), "P0")
    plan = agreed(account)
    assert plan.principal_minor == 1_400_00
    pay(account, one, 100_00, MONDAY, "P1")
    assert instalments(plan)[0][2:] == (466_67, 100_00, InstalmentState.PARTLY_PAID)


def test_a_cancelled_plan_is_dunned_again_and_its_unpaid_fee_voided(account):
    company, *_ = account
    plan = agreed(account, fee_minor=25_00)
    cancel_plan(plan=plan, reason="entered by mistake", actor=None, on=MONDAY, at=AT)
    plan.refresh_from_db()
    assert (plan.state, plan.ended_on) == (PlanState.CANCELLED, MONDAY)
    assert OpenItem.objects.get(number=f"PLAN-{plan.pk}-FEE").voided_on == MONDAY
    tuesday = MONDAY + timedelta(days=1)
    [group] = run_dunning(company=company, on=tuesday, at=at(tuesday)).groups
    assert not any(row.get("paused") for row in group.items)
    with pytest.raises(DunwellError, match="is cancelled"):
        cancel_plan(plan=plan, reason="again", actor=None, on=MONDAY, at=AT)


def test_agreeing_holds_back_pending_reminders_for_the_covered_invoices_only(account):
    company, _, one, two, three = account
    run_dunning(company=company, on=MONDAY, at=AT)
    [message] = Message.objects.filter(channel="email")
    assert message.status == MessageStatus.PENDING
    # the reminder also demands INV-3: it still goes
    plan_flows.agree_plan(company=company, customer=one.customer, items=[one, two],
                          instalments=2, first_due_on=FIRST, actor=None, on=MONDAY, at=AT)  # fmt: skip
    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING
    PaymentPlan.objects.update(state=PlanState.CANCELLED)
    done = plan_flows.agree_plan(company=company, customer=one.customer, items=[one, two, three],
                                 instalments=2, first_due_on=FIRST, actor=None, on=MONDAY, at=AT)  # fmt: skip
    message.refresh_from_db()
    assert done.held_back == [message.pk]
    assert (message.status, message.error) == (
        MessageStatus.WITHDRAWN,
        f"withdrawn: payment plan {done.plan.pk} agreed",
    )


@pytest.fixture
def monday(monkeypatch):
    """The commands and pages read the clock: it is Monday, 23 November 2026."""
    monkeypatch.setattr("dunwell.core.clock.today", lambda company=None: MONDAY)
    monkeypatch.setattr("dunwell.core.clock.now", lambda: AT)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_agreement_letter_names_the_parties_invoices_schedule_and_reference(account):
    company, customer, *_ = account
    Company.objects.filter(pk=company.pk).update(iban="DE89370400440532013000",
                                                 address="Hauptstr. 1\n10115 Berlin")  # fmt: skip
    plan = agreed(account, fee_minor=25_00, interest_percent=Decimal(5), agreed_by="Frau Bauer")
    plan = PaymentPlan.objects.select_related("company", "customer").get(pk=plan.pk)
    text = pdf_text(agreement_pdf(plan))
    for expected in ("Payment plan agreement", "Acme GmbH", "Bauer KG", "Invoice INV-1",
                     "Invoice INV-2", "€1,535.89", "€511.97", "Dec 15, 2026",
                     "Feb 15, 2027", "5 days of grace", "Interest at 5 % a year",
                     "DE89 3704 0044 0532 0130 00", plan_reference(plan)[:4],
                     "Place, date, signature"):  # fmt: skip
        assert expected in text, expected
    Customer.objects.filter(pk=customer.pk).update(language="de")
    plan.customer.refresh_from_db()
    german = pdf_text(agreement_pdf(plan))
    assert "Ratenzahlungsvereinbarung" in german and "1.535,89" in german and "15.12.2026" in german


def test_the_case_command_agrees_shows_writes_the_letter_and_cancels_as_json(
    account, capsys, monday, tmp_path
):
    call_command("case", "plan", "--customer", "C001", "--invoice", "INV-1", "--invoice",
                 "INV-2", "--instalments", "3", "--first", "2026-12-15", "--fee", "25.00",
                 "--interest", "5", "--agreed-by", "Frau Bauer", "--format", "json")  # fmt: skip
    made = json.loads(capsys.readouterr().out)
    assert (made["total"], made["fee"], made["interest"], made["state"]) == (
        "1535.89",
        "25.00",
        "10.89",
        "active",
    )
    assert [(i["due_on"], i["amount"]) for i in made["instalments"]] == [
        ("2026-12-15", "511.97"),
        ("2027-01-15", "511.96"),
        ("2027-02-15", "511.96"),
    ]
    call_command("case", "plans", "--customer", "C001", "--format", "json")
    assert [p["id"] for p in json.loads(capsys.readouterr().out)] == [made["id"]]
    call_command("case", "plan-show", str(made["id"]), "--format", "json")
    assert json.loads(capsys.readouterr().out)["instalments"][0]["state"] == "due"
    out = tmp_path / "plan.pdf"
    call_command("case", "plan-letter", str(made["id"]), "--out", str(out), "--format", "json")
    assert json.loads(capsys.readouterr().out)["file"] == str(out)
    assert "Payment plan agreement" in pdf_text(out.read_bytes())
    call_command("case", "cancel-plan", str(made["id"]), "--reason", "mistake", "--format", "json")
    assert json.loads(capsys.readouterr().out)["state"] == "cancelled"
    call_command("case", "plan", "--customer", "C001", "--invoice", "INV-3", "--schedule",
                 "2026-12-15=150.00", "--schedule", "2027-01-15=rest", "--format", "json")  # fmt: skip
    custom = json.loads(capsys.readouterr().out)
    assert [i["amount"] for i in custom["instalments"]] == ["150.00", "50.00"]
    with pytest.raises(CommandError, match="--schedule '2026-12-15': expected YYYY-MM-DD=AMOUNT"):
        call_command("case", "plan", "--customer", "C001", "--invoice", "INV-1", "--schedule",
                     "2026-12-15")  # fmt: skip
    with pytest.raises(CommandError, match="--fee '2x'"):
        call_command("case", "plan", "--customer", "C001", "--invoice", "INV-1", "--instalments",
                     "2", "--first", "2026-12-15", "--fee", "2x")  # fmt: skip
    with pytest.raises(CommandError, match="no payment plan 999"):
        call_command("case", "plan-show", "999")
