"""Write-offs: at or below the company's threshold booked at once, above it waiting for a second
person (a credit manager or an administrator) whose approval books it, once."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from dunwell.cases.models import WriteOffState
from dunwell.cases.services.writeoffs import approve_write_off, reject_write_off, request_write_off
from dunwell.core.errors import DunwellError
from dunwell.core.models import Membership, Role
from dunwell.ledger.models import Activity, ActivityKind, WriteOff
from dunwell.ledger.services.fx import set_rate
from tests import factories as f

pytestmark = pytest.mark.django_db

ON = date(2026, 11, 9)
AT = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)


@pytest.fixture
def world():
    company = f.company()  # threshold: EUR 500.00 by default
    customer = f.customer(company, "C001", "Bauer KG")
    item = f.invoice(company, customer, "INV-1", 2_000_00, date(2026, 8, 1))
    users = {}
    for name, role in (("colly", Role.COLLECTOR), ("manny", Role.CREDIT_MANAGER),
                       ("mona", Role.CREDIT_MANAGER)):  # fmt: skip
        users[name] = User.objects.create_user(name)
        Membership.objects.create(user=users[name], company=company, role=role)
    return company, customer, item, users


def ask(world, amount, who="colly", item=None, reason="small balance, not worth chasing"):
    company, _, invoice, users = world
    return request_write_off(company=company, item=item or invoice, amount_minor=amount,
                             reason=reason, actor=users[who], on=ON, at=AT)  # fmt: skip


def test_at_or_below_the_threshold_it_is_written_off_at_once(world):
    _, _, item, _ = world
    request = ask(world, 500_00)
    item.refresh_from_db()
    assert (request.state, item.open_minor) == (WriteOffState.EXECUTED, 1_500_00)
    assert request.decision_note == "within the approval threshold of EUR 500.00"
    assert WriteOff.objects.get().amount_minor == 500_00
    assert not Activity.objects.filter(kind=ActivityKind.WRITE_OFF_REQUESTED).exists()


def test_above_the_threshold_it_waits_and_a_second_person_approves_it_once(world):
    _, _, item, users = world
    request = ask(world, 500_01)
    item.refresh_from_db()
    assert (request.state, item.open_minor) == (WriteOffState.PENDING, 2_000_00)
    entry = Activity.objects.get(kind=ActivityKind.WRITE_OFF_REQUESTED)
    assert entry.summary == (
        "write-off of EUR 500.01 of Invoice INV-1 requested by colly, above the approval "
        f"threshold of EUR 500.00: small balance, not worth chasing [request {request.pk}]"
    )
    with pytest.raises(DunwellError, match="colly may not decide write-offs in acme"):
        approve_write_off(request=request, actor=users["colly"], on=ON, at=AT)
    approved = approve_write_off(request=request, actor=users["manny"], on=ON, at=AT)
    item.refresh_from_db()
    assert (approved.state, approved.decided_by, item.open_minor) == (
        WriteOffState.APPROVED, users["manny"], 1_499_99)  # fmt: skip
    with pytest.raises(DunwellError, match=f"write-off request {request.pk} is already decided"):
        approve_write_off(request=request, actor=users["mona"], on=ON, at=AT)
    assert WriteOff.objects.count() == 1
    assert Activity.objects.filter(kind=ActivityKind.WRITE_OFF_APPROVED).count() == 1


def test_the_requester_cannot_approve_their_own_write_off(world):
    _, _, item, users = world
    request = ask(world, 900_00, who="manny")
    with pytest.raises(DunwellError, match="was asked for by manny: a write-off above the "
                                           "threshold needs a second person's approval"):  # fmt: skip
        approve_write_off(request=request, actor=users["manny"], on=ON, at=AT)
    rejected = reject_write_off(request=request, actor=users["mona"], reason="call them first",
                                on=ON, at=AT)  # fmt: skip
    item.refresh_from_db()
    assert (rejected.state, rejected.decision_note, item.open_minor) == (
        WriteOffState.REJECTED, "call them first", 2_000_00)  # fmt: skip
    assert not WriteOff.objects.exists()


def test_an_item_in_another_currency_is_compared_in_the_base_currency(world):
    company, customer, _, _ = world
    usd = f.invoice(company, customer, "INV-USD", 2_000_00, date(2026, 8, 1), currency="USD")
    with pytest.raises(DunwellError, match="no USD/EUR exchange rate for 2026-11-09"):
        ask(world, 550_00, item=usd)
    set_rate(base="EUR", quote="USD", on=ON, rate=Decimal("1.1000"))
    below = ask(world, 550_00, item=usd)  # EUR 500.00
    assert (below.state, below.base_minor, below.fx_on) == (WriteOffState.EXECUTED, 500_00, ON)
    assert below.fx_rate == Decimal("0.9090909091")
    above = ask(world, 550_01, item=usd)  # EUR 500.01
    assert (above.state, above.base_minor) == (WriteOffState.PENDING, 500_01)
    entry = Activity.objects.get(kind=ActivityKind.WRITE_OFF_REQUESTED)
    assert "USD 550.01 = EUR 500.01 at 0.9090909091 on 2026-11-09" in entry.summary
    with pytest.raises(DunwellError, match=r"at most the USD 899.99 open \(USD 550.01 awaits "):
        ask(world, 900_00, item=usd)


def test_the_case_command_asks_lists_and_approves_as_json(world, capsys):
    call_command("case", "write-off", "--invoice", "INV-1", "--amount", "800.00", "--reason",
                 "goodwill", "--by", "colly", "--format", "json")  # fmt: skip
    made = json.loads(capsys.readouterr().out)
    assert (made["state"], made["amount"], made["base_amount"]) == ("pending", "800.00", "800.00")
    call_command("case", "write-offs", "--format", "json")
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [made["id"]]
    Membership.objects.filter(user__username="colly").update(role=Role.ADMIN)
    with pytest.raises(CommandError, match="was asked for by colly"):
        call_command("case", "approve-write-off", str(made["id"]), "--by", "colly")
    call_command("case", "approve-write-off", str(made["id"]), "--by", "manny", "--format",
                 "json")  # fmt: skip
    assert json.loads(capsys.readouterr().out)["state"] == "approved"
    with pytest.raises(CommandError, match="--invoice: no item 'INV-404' in acme"):
        call_command("case", "write-off", "--invoice", "INV-404", "--reason", "x")
    with pytest.raises(CommandError, match="--by: name the user who decides"):
        call_command("case", "reject-write-off", str(made["id"]), "--reason", "no")
