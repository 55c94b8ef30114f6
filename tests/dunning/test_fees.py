"""Late fees charged by a step: booked once as a fee item, shown in the reminder, waivable."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from dunwell.core.errors import DunwellError
from dunwell.dunning.models import Message
from dunwell.dunning.rendering import render
from dunwell.dunning.services.approvals import approve
from dunwell.dunning.services.charges import waive_fee
from dunwell.dunning.services.policies import StepSpec, create_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Activity, ActivityKind, ItemKind, OpenItem
from dunwell.terms.rules.fees import LateFee
from tests import factories as f

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
TWO_PERCENT = LateFee(percent=Decimal(2), minimum_minor=5_00, maximum_minor=50_00)
LADDER = (
    StepSpec("Reminder", "friendly", ("email",), offset_days=7, fee=TWO_PERCENT),
    StepSpec("Final demand", "final", ("email",), offset_days=30, needs_approval=True,
             fee=LateFee(fixed_minor=15_00)),
)  # fmt: skip


@pytest.fixture
def acme():
    company = f.company()
    create_policy(company=company, name="With fees", steps=LADDER, at=AT, is_default=True)
    return company


def customer_with(company, *amounts_and_days):
    customer = f.customer(company, "C001", "Bauer KG")
    f.contact(customer, "ap@bauer.example", name="Petra Bauer")
    for n, (amount, days) in enumerate(amounts_and_days, start=1):
        due = MONDAY - timedelta(days=days)
        f.invoice(company, customer, f"INV-{n}", amount, due - timedelta(days=30), due_on=due)
    return customer


def test_a_step_with_a_fee_books_it_once_and_the_reminder_says_so(acme):
    customer_with(acme, (1_234_56, 10), (300_00, 8))
    run_dunning(company=acme, on=MONDAY, at=AT)
    fee = OpenItem.objects.get(kind=ItemKind.FEE)
    assert (fee.number, fee.amount_minor, fee.due_on) == (
        "FEE-20261123-C001-EUR-1", 30_69, date(2026, 12, 7),  # 2 % of 1,534.56
    )  # fmt: skip
    assert fee.related.number == "INV-1"
    assert Activity.objects.filter(kind=ActivityKind.FEE_CHARGED, item=fee).count() == 1
    _, body = render(Message.objects.get())
    assert "Total due: €1,534.56\nLate fee for this reminder: €30.69\n" in body
    run_dunning(company=acme, on=MONDAY, at=AT)  # the same day again
    assert OpenItem.objects.filter(kind=ItemKind.FEE).count() == 1


def test_a_fee_of_a_step_that_needs_approval_is_charged_when_approved(acme):
    customer_with(acme, (100_00, 40))
    run_dunning(company=acme, on=MONDAY, at=AT)
    assert not OpenItem.objects.filter(kind=ItemKind.FEE).exists()
    approve(decision=Message.objects.get().decision, actor=None, on=MONDAY, at=AT)
    fee = OpenItem.objects.get(kind=ItemKind.FEE)
    assert (fee.number, fee.amount_minor) == ("FEE-20261123-C001-EUR-2", 15_00)


def test_a_fee_is_dunned_later_like_any_item_and_can_be_waived_with_a_reason(acme):
    customer_with(acme, (100_00, 10))
    run_dunning(company=acme, on=MONDAY, at=AT)
    later = run_dunning(company=acme, on=date(2026, 12, 21), at=AT + timedelta(days=28))
    [group] = later.groups
    assert [row["number"] for row in group.items] == ["INV-1", "FEE-20261123-C001-EUR-1"]
    manager = User.objects.create_user("manny")
    call_command("dunning", "waive", "FEE-20261123-C001-EUR-1", "--reason", "goodwill",
                 "--by", "manny")  # fmt: skip
    fee = OpenItem.objects.get(kind=ItemKind.FEE)
    assert fee.open_minor == 0
    waived = Activity.objects.get(kind=ActivityKind.WRITTEN_OFF, item=fee)
    assert waived.actor_id == manager.pk and waived.summary.endswith("fee waived: goodwill")
    with pytest.raises(DunwellError, match="has nothing open to waive"):
        waive_fee(company=acme, number=fee.number, reason="again", on=MONDAY, at=AT, actor=None)
