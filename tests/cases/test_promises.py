"""Promises to pay: dunning pauses what they cover until the promised date plus grace; the money
allocated decides kept, partly kept or broken; every step in the history; the `case` command."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from dunwell.cases.models import Escalation, PromiseState, Task, TaskKind
from dunwell.cases.services import tracking
from dunwell.cases.services.promises import cancel_promise, make_promise
from dunwell.core import clock
from dunwell.core.errors import DunwellError
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.imports.services.common import Options
from dunwell.imports.services.run import run_import
from dunwell.ledger.models import Activity, ActivityKind, Allocation
from dunwell.ledger.services.allocations import reverse_allocations
from dunwell.workflows.payments import apply_payment
from tests import factories as f

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 23)
PROMISED = date(2026, 12, 4)  # a Friday; with 3 days' grace: paused through Monday 7 December
AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC)


@pytest.fixture
def account():
    company = f.company()
    ensure_default_policy(company, AT)
    owner = User.objects.create_user("colly")
    customer = f.customer(company, "C001", "Bauer KG")
    customer.owner = owner
    customer.save(update_fields=["owner"])
    f.contact(customer, "ap@bauer.example")
    due = MONDAY - timedelta(days=10)
    one = f.invoice(company, customer, "INV-1", 1_200_00, due - timedelta(days=30), due_on=due)
    two = f.invoice(company, customer, "INV-2", 400_00, due - timedelta(days=30), due_on=due)
    return company, customer, one, two


def promise(account, items=None, amount=1_200_00, **extra):
    company, customer, one, _ = account
    fields = {"grace_days": 3, "note": "", "channel": "phone", "promised_on": PROMISED}
    fields.update(extra)
    return make_promise(company=company, customer=customer, amount_minor=amount, currency="EUR",
                        promised_by="Petra Bauer", items=[one] if items is None else items,
                        actor=None, on=MONDAY, at=AT, **fields)  # fmt: skip


def day(company, on):
    """The daily cycle of `on`: cases first, then the dunning run; its groups."""
    tracking.daily(company=company, on=on, at=at(on))
    return run_dunning(company=company, on=on, at=at(on)).groups


def pay(account, amount, on, item=None):
    company, customer, one, _ = account
    payment = f.payment(company, customer, f"P-{amount}-{on}", amount, on)
    return apply_payment(company=company, payment=payment, item=item or one, amount_minor=amount,
                         actor=None, at=at(on))  # fmt: skip


def test_a_promise_pauses_its_invoice_until_the_date_plus_grace_then_it_is_dunned_again(account):
    company, _, one, _ = account
    made = promise(account, note="in the Friday payment run")
    [group] = day(company, MONDAY)
    rows = {row["number"]: row for row in group.items}
    assert rows["INV-1"]["paused"] == f"promise {made.pk}: EUR 1200.00 by 2026-12-04"
    assert group.reason.startswith("step 2 (First reminder) due for INV-2")
    [later] = day(company, date(2026, 12, 7))  # the last day of grace: INV-2 only (step 3)
    assert {r["number"]: r.get("paused", "") for r in later.items}["INV-1"].startswith("promise")
    made.refresh_from_db()
    assert made.state == PromiseState.OPEN
    [after] = day(company, date(2026, 12, 8))
    made.refresh_from_db()
    assert (made.state, made.decided_on) == (PromiseState.BROKEN, date(2026, 12, 8))
    assert [r["number"] for r in after.items if r.get("step")] == ["INV-1"]
    assert after.reason == f"promise {made.pk} broken: step 3 (Second reminder)"
    entry = Activity.objects.get(kind=ActivityKind.PROMISE_MADE, item__isnull=True)
    assert entry.summary == ("promise to pay EUR 1200.00 by 2026-12-04 (Petra Bauer, phone): "
                             "INV-1: in the Friday payment run")  # fmt: skip
    assert Activity.objects.filter(kind=ActivityKind.PROMISE_MADE, item=one).exists()


def test_a_promise_for_the_account_pauses_every_invoice(account):
    company, *_ = account
    made = promise(account, items=[], amount=1_600_00)
    [group] = day(company, MONDAY)
    assert (group.outcome, group.reason) == (
        "skipped",
        f"promise {made.pk}: EUR 1600.00 by 2026-12-04",
    )


def test_a_payment_that_completes_the_promise_keeps_it_in_the_same_transaction(account):
    company, *_ = account
    made = promise(account)
    pay(account, 700_00, date(2026, 11, 30))
    made.refresh_from_db()
    assert (made.state, made.paid_minor) == (PromiseState.OPEN, 700_00)
    pay(account, 500_00, date(2026, 12, 2))
    made.refresh_from_db()
    assert (made.state, made.paid_minor, made.decided_on) == (
        PromiseState.KEPT, 1_200_00, date(2026, 12, 2))  # fmt: skip
    kept = Activity.objects.get(kind=ActivityKind.PROMISE_KEPT, item__isnull=True)
    assert kept.summary == f"promise {made.pk} kept: EUR 1200.00 of EUR 1200.00 by 2026-12-04"
    day(company, date(2026, 12, 8))
    assert not Escalation.objects.exists() and not Task.objects.exists()


def test_a_failure_after_the_allocation_rolls_back_the_payment_and_the_promise(account,
                                                                               monkeypatch):  # fmt: skip
    made = promise(account)

    def fails(**_):
        raise RuntimeError("plans broke")

    monkeypatch.setattr("dunwell.cases.services.tracking.plans.track_payments", fails)
    with pytest.raises(RuntimeError, match="plans broke"):
        pay(account, 1_200_00, date(2026, 12, 1))
    made.refresh_from_db()
    assert (made.state, made.paid_minor) == (PromiseState.OPEN, 0)
    assert not Allocation.objects.exists()
    assert not Activity.objects.filter(kind=ActivityKind.PROMISE_KEPT).exists()


def test_payments_to_other_invoices_or_after_the_grace_do_not_count(account):
    *_, two = account
    made = promise(account)
    pay(account, 400_00, date(2026, 12, 1), item=two)  # not the promised invoice
    pay(account, 1_200_00, date(2026, 12, 9))  # after the grace: too late
    made.refresh_from_db()
    assert (made.state, made.paid_minor) == (PromiseState.OPEN, 0)


def test_a_part_paid_promise_is_partly_kept_and_alerts_the_owner(account):
    company, customer, one, _ = account
    made = promise(account)
    rows = pay(account, 500_00, date(2026, 12, 3))
    pay(account, 100_00, date(2026, 12, 4))
    reverse_allocations(company=company, allocations=rows[:1], on=date(2026, 12, 5),
                        reason="bounced", actor=None, at=at(date(2026, 12, 5)))  # fmt: skip
    tracking.after_payments(company=company, customer_ids=[customer.pk], on=date(2026, 12, 5),
                            at=at(date(2026, 12, 5)), actor=None)  # fmt: skip
    made.refresh_from_db()
    assert made.paid_minor == 100_00  # net of the reversal
    tracking.daily(company=company, on=date(2026, 12, 8), at=at(date(2026, 12, 8)))
    made.refresh_from_db()
    assert (made.state, made.paid_minor) == (PromiseState.PARTLY_KEPT, 100_00)
    entry = Activity.objects.get(kind=ActivityKind.PROMISE_PARTLY_KEPT, item__isnull=True)
    assert entry.summary == (f"promise {made.pk} partly kept: EUR 100.00 of EUR 1200.00 by "
                             "2026-12-04")  # fmt: skip
    escalation = Escalation.objects.get()
    assert (escalation.key, escalation.reason, escalation.item_ids, escalation.source) == (
        f"promise-{made.pk}",
        f"promise {made.pk} partly kept",
        [one.pk],
        "broken_promise",
    )
    task = Task.objects.get()
    assert (task.kind, task.assignee.username, task.due_on) == (
        TaskKind.ALERT, "colly", date(2026, 12, 8))  # fmt: skip
    assert task.title == f"{entry.summary} (Petra Bauer, phone)"


def test_deciding_a_day_twice_changes_nothing(account):
    company, *_ = account
    promise(account)
    for _ in range(2):
        tracking.daily(company=company, on=date(2026, 12, 8), at=at(date(2026, 12, 8)))
    assert Escalation.objects.count() == Task.objects.count() == 1
    assert Activity.objects.filter(kind=ActivityKind.PROMISE_BROKEN).count() == 2  # customer, INV-1
    tracking.daily(company=company, on=date(2026, 12, 9), at=at(date(2026, 12, 9)))
    assert Escalation.objects.count() == 1


def test_a_cancelled_promise_resumes_dunning(account):
    company, *_ = account
    made = promise(account)
    with pytest.raises(DunwellError, match="a cancellation needs a reason"):
        cancel_promise(promise=made, reason=" ", actor=None, on=MONDAY, at=AT)
    made = cancel_promise(promise=made, reason="entered twice", actor=None, on=MONDAY, at=AT)
    assert made.state == PromiseState.CANCELLED
    [group] = day(company, MONDAY)
    assert group.reason == "step 2 (First reminder) due for INV-1, INV-2"
    with pytest.raises(DunwellError, match=f"promise {made.pk} is cancelled"):
        cancel_promise(promise=made, reason="again", actor=None, on=MONDAY, at=AT)


def test_a_promise_names_what_is_wrong_with_its_input(account):
    company, customer, one, _ = account
    with pytest.raises(DunwellError, match="amount: a promise is for more than zero"):
        promise(account, amount=0)
    with pytest.raises(DunwellError, match="promised_on 2026-11-20 is before today"):
        promise(account, promised_on=date(2026, 11, 20))
    with pytest.raises(DunwellError, match="channel 'fax': expected one of phone, email"):
        promise(account, channel="fax")
    with pytest.raises(
        DunwellError, match=r"currency 'USD': C001 has nothing open in it \(open: EUR\)"
    ):
        make_promise(company=company, customer=customer, amount_minor=1, currency="USD",
                     promised_on=PROMISED, promised_by="Petra", channel="phone", actor=None,
                     on=MONDAY, at=AT)  # fmt: skip
    other = f.customer(company, "C002", "Other AG")
    theirs = f.invoice(company, other, "INV-9", 10_00, MONDAY - timedelta(days=40))
    with pytest.raises(DunwellError, match="items: Invoice INV-9 is not C001's") as error:
        promise(account, items=[theirs])
    assert error.value.context == {"field": "items"}
    usd = f.invoice(company, customer, "INV-U", 10_00, MONDAY - timedelta(days=40), currency="USD")
    with pytest.raises(DunwellError, match="items: Invoice INV-U is in USD, the promise in EUR"):
        promise(account, items=[one, usd])


def test_the_case_command_records_lists_and_cancels_promises_as_json(account, capsys,
                                                                     monkeypatch):  # fmt: skip
    monkeypatch.setattr(clock, "today", lambda company=None: MONDAY)
    monkeypatch.setattr(clock, "now", lambda: AT)
    call_command("case", "promise", "--customer", "C001", "--amount", "1200.00", "--date",
                 "2026-12-04", "--promised-by", "Petra Bauer", "--channel", "phone",
                 "--invoice", "INV-1", "--invoice", "INV-2", "--grace", "5", "--note", "Friday",
                 "--by", "colly", "--format", "json")  # fmt: skip
    made = json.loads(capsys.readouterr().out)
    assert {k: made[k] for k in ("customer", "state", "currency", "amount", "paid", "promised_on",
                                 "grace_days", "until", "promised_by", "channel", "items")} == {
        "customer": "C001", "state": "open", "currency": "EUR", "amount": "1200.00",
        "paid": "0.00", "promised_on": "2026-12-04", "grace_days": 5, "until": "2026-12-09",
        "promised_by": "Petra Bauer", "channel": "phone", "items": ["INV-1", "INV-2"],
    }  # fmt: skip
    call_command("case", "promises", "--customer", "C001", "--format", "json")
    assert [p["id"] for p in json.loads(capsys.readouterr().out)] == [made["id"]]
    call_command("case", "cancel-promise", str(made["id"]), "--reason", "a plan instead",
                 "--format", "json")  # fmt: skip
    assert json.loads(capsys.readouterr().out)["state"] == "cancelled"
    call_command("case", "promises", "--format", "json")
    assert json.loads(capsys.readouterr().out) == []
    call_command("case", "promises", "--all", "--format", "json")
    assert len(json.loads(capsys.readouterr().out)) == 1
    with pytest.raises(CommandError, match="--amount '12,x' \\(EUR\\): "):
        call_command("case", "promise", "--customer", "C001", "--amount", "12,x", "--date",
                     "2026-12-04", "--promised-by", "P", "--channel", "phone")  # fmt: skip
    with pytest.raises(CommandError, match="C001 has no invoice 'INV-404'"):
        call_command("case", "promise", "--customer", "C001", "--amount", "1", "--date",
                     "2026-12-04", "--promised-by", "P", "--channel", "phone",
                     "--invoice", "INV-404")  # fmt: skip
    with pytest.raises(CommandError, match="no promise 999 in acme"):
        call_command("case", "cancel-promise", "999", "--reason", "x")


def test_an_imported_payment_naming_the_invoice_keeps_the_promise(account):
    company, *_ = account
    made = promise(account)
    data = b"id,customer,date,amount,invoices\nB-1,C001,2026-12-01,1200.00,INV-1\n"
    summary = run_import(company=company, kind="payments", files=[("bank.csv", data)],
                         options=Options(), actor=None, at=at(date(2026, 12, 1)))  # fmt: skip
    assert not summary.rejected
    made.refresh_from_db()
    assert (made.state, made.paid_minor, made.decided_on) == (
        PromiseState.KEPT, 1_200_00, date(2026, 12, 1))  # fmt: skip
