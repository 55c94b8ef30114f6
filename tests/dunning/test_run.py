"""The daily run: one message per customer, currency and policy; catch-up; holds; exactly once."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command

from dunwell.core.errors import DunwellError
from dunwell.credit.models import CreditHold
from dunwell.dunning.models import Decision, ItemStep, Message, Run, RunStatus
from dunwell.dunning.services import run as run_module
from dunwell.dunning.services.approvals import approve, reject
from dunwell.dunning.services.holds import place_hold
from dunwell.dunning.services.policies import (
    STANDARD,
    StepSpec,
    add_rule,
    assign_customer,
    assign_item,
    create_policy,
    ensure_default_policy,
)
from dunwell.dunning.services.run import RunBusyError, run_dunning
from dunwell.ledger.models import ContactRole, OpenItem
from dunwell.ledger.services.allocations import allocate_payment
from dunwell.ledger.services.customers import add_contact
from tests import factories as f

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


@pytest.fixture
def acme():
    company = f.company()
    ensure_default_policy(company, AT)
    return company


def customer(company, number, *, email=True, **extra):
    made = f.customer(company, number, f"Customer {number}", **extra)
    if email:
        add_contact(customer=made, actor=None, name=f"AP {number}", role=ContactRole.AP_CLERK,
                    email=f"ap@{number.lower()}.example")  # fmt: skip
    return made


def invoice(company, owner, number, due_on, amount=100_00):
    return f.invoice(company, owner, number, amount, due_on - timedelta(days=30), due_on=due_on)


def run(company, on=MONDAY, **kwargs):
    kwargs.setdefault("at", datetime.combine(on, AT.timetz()))
    return run_dunning(company=company, on=on, **kwargs)


def test_one_message_per_customer_takes_the_highest_step_and_each_item_keeps_its_own(acme):
    bauer = customer(acme, "C001")
    invoice(acme, bauer, "INV-1", MONDAY - timedelta(days=25))  # second reminder (+21)
    invoice(acme, bauer, "INV-2", MONDAY - timedelta(days=8))  # first reminder (+7)
    invoice(acme, bauer, "INV-3", MONDAY + timedelta(days=2))  # courtesy (-3)
    invoice(acme, bauer, "INV-4", MONDAY + timedelta(days=10))  # nothing yet
    report = run(acme)
    [group] = report.groups
    assert (group.step, group.step_name, group.outcome) == (3, "Second reminder", "queued")
    assert [i["number"] for i in group.items] == ["INV-1", "INV-2"]  # the overdue ones
    assert [i["days_overdue"] for i in group.items] == [25, 8]
    assert group.reason == "step 3 (Second reminder) due for INV-1"
    messages = Message.objects.order_by("channel")
    assert [(m.channel, m.step, m.status) for m in messages] == [
        ("call", 3, "pending"),
        ("email", 3, "pending"),
    ]
    assert messages[1].recipients == [
        {"name": "AP C001", "email": "ap@c001.example", "role": "ap_clerk"}
    ]
    reached = dict(ItemStep.objects.values_list("item__number", "reached"))
    assert reached == {"INV-1": 3, "INV-2": 2, "INV-3": 1}


def test_a_missed_week_is_caught_up_with_only_the_highest_step(acme):
    bauer = customer(acme, "C001")
    f.contact(bauer, "dana@c001.example", name="Dana Director", role=ContactRole.FINANCE_DIRECTOR)
    invoice(acme, bauer, "INV-1", MONDAY - timedelta(days=40))
    [group] = run(acme).groups
    assert group.step == 4 and group.outcome == "approval"  # final demand, a person confirms it
    email = Message.objects.get(channel="email")
    assert email.status == "approval" and email.template == "final"
    assert [r["email"] for r in email.recipients] == ["dana@c001.example"]  # escalated
    assert [r["email"] for r in email.cc] == ["ap@c001.example"]
    assert Message.objects.get(channel="letter").status == "approval"
    assert ItemStep.objects.get().reached == 4


def test_the_same_day_again_adds_nothing_and_the_next_days_respect_the_gap(acme):
    bauer = customer(acme, "C001")
    invoice(acme, bauer, "INV-1", MONDAY - timedelta(days=8))
    invoice(acme, bauer, "INV-2", MONDAY - timedelta(days=5))
    first = run(acme)
    assert first.counts["queued"] == 1 and Message.objects.count() == 1
    again = run(acme)
    assert again.already_done and Message.objects.count() == 1
    tuesday = run(acme, MONDAY + timedelta(days=1))
    assert tuesday.groups == []  # INV-2's first reminder is due on Wednesday: nothing new
    wednesday = run(acme, date(2026, 11, 25))
    [skipped] = wednesday.groups
    assert skipped.outcome == "skipped"
    assert skipped.reason == (
        "last message on 2026-11-23: the policy waits 5 days between two messages"
    )
    monday = run(acme, date(2026, 11, 30))
    assert [(g.step, g.outcome) for g in monday.groups] == [(2, "queued")]
    assert Message.objects.count() == 2


def test_a_day_without_business_is_skipped_and_the_next_one_catches_up(acme):
    bauer = customer(acme, "C001")
    invoice(acme, bauer, "INV-1", date(2026, 11, 14))
    sunday = run(acme, date(2026, 11, 22))
    assert not sunday.business_day and sunday.counts == {"not_business_day": 1}
    assert Message.objects.count() == 0
    assert [g.step for g in run(acme).groups] == [2]


def test_holds_pause_an_account_or_one_invoice_with_their_reason(acme):
    held = customer(acme, "C001")
    invoice(acme, held, "INV-1", MONDAY - timedelta(days=10))
    place_hold(company=acme, customer=held, until=date(2026, 12, 31), reason="disputed delivery",
               on=MONDAY, at=AT, actor=None)  # fmt: skip
    other = customer(acme, "C002")
    invoice(acme, other, "INV-2", MONDAY - timedelta(days=10))
    paused = invoice(acme, other, "INV-3", MONDAY - timedelta(days=30))
    place_hold(company=acme, customer=other, item=paused, until=date(2026, 12, 1),
               reason="credit note promised", on=MONDAY, at=AT, actor=None)  # fmt: skip
    account, items = run(acme).groups
    assert (account.outcome, account.reason) == (
        "skipped",
        "on hold until 2026-12-31: disputed delivery",
    )
    assert (items.outcome, items.step) == ("queued", 2)
    assert items.items[-1] == {
        "id": paused.pk,
        "number": "INV-3",
        "due_on": "2026-10-24",
        "days_overdue": 30,
        "open_minor": 100_00,
        "step": 0,
        "paused": "on hold until 2026-12-01: credit note promised",
    }
    assert list(ItemStep.objects.values_list("item__number", flat=True)) == ["INV-2"]


def test_a_branch_billed_to_its_head_office_is_dunned_there(acme):
    head = customer(acme, "H001")
    branch = customer(acme, "B001", email=False, parent_account="H001", billed_to_parent=True)
    own = customer(acme, "B002", parent_account="H001")
    invoice(acme, branch, "INV-B", MONDAY - timedelta(days=10))
    invoice(acme, head, "INV-H", MONDAY - timedelta(days=9))
    invoice(acme, own, "INV-O", MONDAY - timedelta(days=9))
    groups = {g.account_number: g for g in run(acme).groups}
    assert set(groups) == {"H001", "B002"}
    assert [i["number"] for i in groups["H001"].items] == ["INV-B", "INV-H"]
    assert groups["H001"].recipients[0]["email"] == "ap@h001.example"
    assert head.pk < own.pk


def test_a_part_of_a_split_run_holds_its_customers_with_the_branches_billed_to_them(acme):
    head = customer(acme, "H001")
    branch = customer(acme, "B001", email=False, parent_account="H001", billed_to_parent=True)
    own = customer(acme, "B002", parent_account="H001")
    for who, number in ((head, "INV-H"), (branch, "INV-B"), (own, "INV-O")):
        invoice(acme, who, number, MONDAY - timedelta(days=9))
    parts = [run_module._World.load(acme, MONDAY, part=k, parts=2) for k in (0, 1)]
    numbers = [sorted(item.number for item in world.items) for world in parts]
    head_part = head.pk % 2
    assert "INV-B" in numbers[head_part] and "INV-H" in numbers[head_part]  # with its parent
    assert "INV-O" in numbers[own.pk % 2]  # a branch billed on its own goes by its own id
    assert sorted(numbers[0] + numbers[1]) == ["INV-B", "INV-H", "INV-O"]  # each item once
    assert branch.pk % 2 != head_part  # so its own id would have put it in the other part


def test_without_an_email_contact_the_message_becomes_a_letter(acme):
    silent = customer(acme, "C001", email=False)
    invoice(acme, silent, "INV-1", MONDAY - timedelta(days=8))
    [group] = run(acme).groups
    assert group.channels == ["letter"]
    assert group.reason.endswith("no contact with an email address for ap_clerk: a letter instead")


def test_the_policy_of_the_invoice_then_the_customer_then_a_rule_then_the_default(acme):
    one_step = (StepSpec("Note", "friendly", ("email",), offset_days=1),)
    gentle = create_policy(company=acme, name="Gentle", steps=one_step, at=AT)
    strict = create_policy(company=acme, name="Strict", steps=one_step, at=AT, min_gap_days=1)
    vip = create_policy(company=acme, name="VIP", steps=one_step, at=AT)
    add_rule(policy=gentle, segment="strategic")
    a = customer(acme, "C001", segment="strategic")
    b = customer(acme, "C002", segment="strategic")
    c = customer(acme, "C003")
    assign_customer(b, strict)
    invoice(acme, a, "INV-A", MONDAY - timedelta(days=2))
    invoice(acme, b, "INV-B", MONDAY - timedelta(days=2))
    invoice(acme, c, "INV-C", MONDAY - timedelta(days=2))
    special = invoice(acme, c, "INV-D", MONDAY - timedelta(days=2))
    assign_item(special, vip)
    chosen = {(g.account_number, g.policy) for g in run(acme).groups}
    assert chosen == {("C001", "Gentle"), ("C002", "Strict"), ("C003", "Standard"),
                      ("C003", "VIP")}  # fmt: skip


def test_a_step_below_its_minimum_waits(acme):
    small = tuple(
        StepSpec(s.name, s.template, s.channels, s.offset_days, s.after_previous_days,
                 s.recipient_roles, s.cc_roles, min_overdue_minor=500_00)
        for s in STANDARD
    )  # fmt: skip
    create_policy(company=acme, name="Large debts only", steps=small, at=AT, is_default=True)
    bauer = customer(acme, "C001")
    invoice(acme, bauer, "INV-1", MONDAY - timedelta(days=8), amount=120_00)
    [group] = run(acme).groups
    assert group.outcome == "skipped"
    assert group.reason == "below the minimum of step 2: 12000 < 50000 (minor units overdue)"
    assert ItemStep.objects.count() == 0


def test_a_back_dated_run_sees_the_invoice_open_as_it_was_on_that_day(acme):
    bauer = customer(acme, "C001")
    paid = invoice(acme, bauer, "INV-1", MONDAY - timedelta(days=10))
    money = f.payment(acme, bauer, "P-1", 100_00, MONDAY + timedelta(days=2))
    allocate_payment(company=acme, payment=money, item=paid, amount_minor=100_00,
                     on=MONDAY + timedelta(days=2), actor=None, at=AT)  # fmt: skip
    assert OpenItem.objects.get(pk=paid.pk).open_minor == 0
    assert [g.step for g in run(acme, dry_run=True).groups] == [2]
    assert run(acme, MONDAY + timedelta(days=3), dry_run=True).groups == []


def test_a_dry_run_explains_and_stores_nothing(acme):
    bauer = customer(acme, "C001")
    invoice(acme, bauer, "INV-1", MONDAY - timedelta(days=60))
    report = run(acme, dry_run=True)
    assert report.groups[0].step == 5 and report.groups[0].channels == ["letter", "hold", "agency"]
    assert (Run.objects.count(), Decision.objects.count(), Message.objects.count()) == (0, 0, 0)
    assert CreditHold.objects.count() == 0


def test_a_credit_hold_step_places_the_one_credit_hold(acme):
    hold_now = (StepSpec("Stop", "final", ("hold", "task"), offset_days=30),)
    create_policy(company=acme, name="Hold", steps=hold_now, at=AT, is_default=True)
    bauer = customer(acme, "C001")
    invoice(acme, bauer, "INV-1", MONDAY - timedelta(days=31))
    [group] = run(acme).groups
    assert group.channels == ["hold", "task"]
    hold = CreditHold.objects.get()
    assert (hold.customer_id, hold.reason, hold.source) == (
        bauer.pk,
        "dunning step 1 (Stop)",
        "dunning",
    )
    assert list(Message.objects.values_list("channel", flat=True)) == ["task"]


def test_a_run_that_dies_is_resumed_after_its_last_batch_and_queues_each_message_once(
    acme, monkeypatch
):
    for n in range(1, 6):
        invoice(acme, customer(acme, f"C00{n}"), f"INV-{n}", MONDAY - timedelta(days=8))

    def die(name):
        raise SystemExit(f"killed at {name}")

    monkeypatch.setattr(run_module.faults, "point", die)
    with pytest.raises(SystemExit):
        run(acme, batch=2)
    assert Message.objects.count() == 2  # the first batch is committed, the rest is not
    crashed = Run.objects.get()
    assert crashed.status == RunStatus.RUNNING
    with pytest.raises(RunBusyError, match="is in progress"):
        run(acme)  # its lease has not run out: a second run refuses
    monkeypatch.undo()
    later = datetime.combine(MONDAY, AT.timetz()) + timedelta(minutes=11)
    resumed = run(acme, at=later, batch=2)
    assert resumed.resumed_after_customer == crashed.last_customer_id
    assert len(resumed.groups) == 3
    assert Message.objects.count() == 5
    assert sorted(Message.objects.values_list("customer__account_number", flat=True)) == [
        "C001", "C002", "C003", "C004", "C005"
    ]  # fmt: skip
    assert Run.objects.get().counts == {"queued": 5}


def test_a_company_without_a_default_policy_is_told_how_to_get_one():
    company = f.company()
    with pytest.raises(DunwellError, match="dunwell dunning standard"):
        run(company)


def test_the_command_prints_the_run_and_the_outbox(acme, capsys):
    bauer = customer(acme, "C001")
    invoice(acme, bauer, "INV-1", MONDAY - timedelta(days=8))
    call_command("dunning", "run", "--date", "2026-11-23", "--dry-run")
    out = capsys.readouterr().out
    assert "acme: dunning dry run of 2026-11-23" in out and "First reminder" in out
    call_command("dunning", "run", "--date", "2026-11-23")
    call_command("dunning", "outbox")
    out = capsys.readouterr().out
    assert "C001" in out and "email" in out and "ap@c001.example" in out


def test_a_step_that_needs_approval_waits_for_a_person_who_approves_or_rejects_it(acme):
    bauer = customer(acme, "C001")
    f.contact(bauer, "dana@c001.example", name="Dana Director", role=ContactRole.FINANCE_DIRECTOR)
    invoice(acme, bauer, "INV-1", MONDAY - timedelta(days=30))  # second reminder was due
    run(acme)
    assert ItemStep.objects.get().reached == 3
    late = run(acme, date(2026, 12, 1))  # 38 days: the final demand needs approval
    [decision] = Decision.objects.filter(outcome="approval")
    assert late.groups[0].outcome == "approval" and ItemStep.objects.get().reached == 4
    with pytest.raises(DunwellError, match="a rejection needs a reason"):
        reject(decision=decision, actor=None, on=date(2026, 12, 1), at=AT, reason=" ")
    reject(decision=decision, actor=None, on=date(2026, 12, 1), at=AT, reason="customer called")
    decision.refresh_from_db()
    assert decision.outcome == "rejected" and decision.reason.endswith(
        "rejected by system on 2026-12-01: customer called"
    )
    assert set(decision.messages.values_list("status", flat=True)) == {"cancelled"}
    state = ItemStep.objects.get()
    assert (state.reached, state.reached_on) == (3, MONDAY)  # back where it was
    with pytest.raises(DunwellError, match="does not await approval"):
        approve(decision=decision, actor=None, on=date(2026, 12, 1), at=AT)
    run(acme, date(2026, 12, 2))  # decided again the next day
    again = Decision.objects.get(outcome="approval")
    assert approve(decision=again, actor=None, on=date(2026, 12, 2), at=AT) == 2
    assert set(again.messages.values_list("status", flat=True)) == {"pending"}
    assert CreditHold.objects.count() == 0  # the final demand has no hold channel


def test_the_command_lists_approves_and_rejects(acme, capsys):
    bauer = customer(acme, "C001")
    invoice(acme, bauer, "INV-1", MONDAY - timedelta(days=40))
    invoice(acme, customer(acme, "C002"), "INV-2", MONDAY - timedelta(days=60))
    call_command("dunning", "run", "--date", "2026-11-23")
    capsys.readouterr()
    call_command("dunning", "approvals", "--format", "json")
    waiting = json.loads(capsys.readouterr().out)
    assert [(w["customer"], w["step"], w["items"]) for w in waiting] == [
        ("C001", 4, ["INV-1"]),
        ("C002", 5, ["INV-2"]),
    ]
    call_command("dunning", "approve", str(waiting[1]["decision"]))
    assert "approved: 2 message(s) released" in capsys.readouterr().out  # letter and agency
    assert CreditHold.objects.get().customer.account_number == "C002"
    call_command("dunning", "reject", str(waiting[0]["decision"]), "--reason", "paying Friday")
    assert "rejected" in capsys.readouterr().out
    call_command("dunning", "approvals")
    assert "nothing waits for approval" in capsys.readouterr().out


def test_a_batch_never_splits_a_customers_groups_so_a_resume_misses_none(acme, monkeypatch):
    two = customer(acme, "C001")
    invoice(acme, two, "INV-E", MONDAY - timedelta(days=8))
    f.invoice(acme, two, "INV-U", 50_00, MONDAY - timedelta(days=38), currency="USD",
              due_on=MONDAY - timedelta(days=8))  # fmt: skip
    invoice(acme, customer(acme, "C002"), "INV-2", MONDAY - timedelta(days=8))

    def die(name):
        raise SystemExit(f"killed at {name}")

    monkeypatch.setattr(run_module.faults, "point", die)
    with pytest.raises(SystemExit):
        run(acme, batch=1)
    assert sorted(Message.objects.values_list("currency", flat=True)) == ["EUR", "USD"]
    monkeypatch.undo()
    run(acme, at=datetime.combine(MONDAY, AT.timetz()) + timedelta(minutes=11), batch=1)
    assert sorted(Message.objects.values_list("customer__account_number", "currency")) == [
        ("C001", "EUR"), ("C001", "USD"), ("C002", "EUR")
    ]  # fmt: skip
