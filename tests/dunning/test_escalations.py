"""Escalations in the dunning run: a broken promise sends the policy's configured step on the next
run, whatever the cadence and the minimum gap, still not while a hold pauses it; the decision
names the cause; the escalation is acted on once."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from dunwell.cases.models import Escalation, PromiseState, Task
from dunwell.cases.services import tracking
from dunwell.cases.services.promises import make_promise
from dunwell.core import clock
from dunwell.core.errors import DunwellError
from dunwell.dunning.models import ItemStep, Message, Policy
from dunwell.dunning.services.holds import place_hold, release_hold
from dunwell.dunning.services.policies import ensure_default_policy, set_escalation_steps
from dunwell.dunning.services.run import run_dunning
from dunwell.dunning.tasks import daily_cycle
from dunwell.ledger.models import Activity, ActivityKind, ContactRole
from dunwell.workflows.payments import apply_payment
from tests import factories as f

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 23)
TUESDAY_AFTER = date(2026, 12, 8)  # the day after the promised 4 December plus 3 days' grace


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC)


@pytest.fixture
def broken():
    """C001 owes INV-1 (EUR 1,200.00) and INV-2, promised INV-1 by 4 December and paid nothing;
    the Standard policy sends its step 4 (Final demand, which a person approves) for a broken
    promise."""
    company = f.company()
    policy = ensure_default_policy(company, at(MONDAY))
    set_escalation_steps(policy=policy, broken_promise_step=4, plan_default_step=None)
    customer = f.customer(company, "C001", "Bauer KG")
    customer.owner = User.objects.create_user("colly")
    customer.save(update_fields=["owner"])
    f.contact(customer, "ap@bauer.example")
    f.contact(customer, "max@bauer.example", name="Max Weber", role=ContactRole.AP_MANAGER)
    due = MONDAY - timedelta(days=10)
    one = f.invoice(company, customer, "INV-1", 1_200_00, due - timedelta(days=30), due_on=due)
    f.invoice(company, customer, "INV-2", 400_00, due - timedelta(days=30), due_on=due)
    promise = make_promise(company=company, customer=customer, amount_minor=1_200_00,
                           currency="EUR", promised_on=date(2026, 12, 4), promised_by="Petra Bauer",
                           channel="phone", items=[one], grace_days=3, actor=None, on=MONDAY,
                           at=at(MONDAY))  # fmt: skip
    run_dunning(company=company, on=MONDAY, at=at(MONDAY))  # INV-2: step 2; INV-1 paused
    run_dunning(company=company, on=date(2026, 12, 4), at=at(date(2026, 12, 4)))  # INV-2: step 3
    return company, customer, one, promise


def cycle(company, on):
    tracking.daily(company=company, on=on, at=at(on))
    return run_dunning(company=company, on=on, at=at(on))


def test_a_broken_promise_sends_the_configured_step_on_the_next_run_and_alerts_the_owner(broken):
    company, customer, one, promise = broken
    [group] = cycle(company, TUESDAY_AFTER).groups
    assert (group.step, group.outcome) == (4, "approval")
    assert group.reason == f"promise {promise.pk} broken: step 4 (Final demand); awaiting approval"
    stepped = {row["number"]: row["step"] for row in group.items}
    assert stepped == {"INV-1": 4, "INV-2": 0}  # INV-2 is listed, still on its own cadence
    assert ItemStep.objects.get(item=one).reached == 4
    assert sorted(Message.objects.filter(step=4).values_list("channel", flat=True)) == [
        "email", "letter"]  # fmt: skip
    escalation = Escalation.objects.get()
    assert escalation.acted_on == TUESDAY_AFTER
    task = Task.objects.get(customer=customer)
    assert (task.assignee.username, task.kind, task.source) == ("colly", "alert",
                                                                f"promise {promise.pk}")  # fmt: skip
    escalated = Activity.objects.get(kind=ActivityKind.ESCALATED)
    assert escalated.summary == (f"promise {promise.pk} broken: step 4 (Final demand) awaiting "
                                 "approval")  # fmt: skip
    promise.refresh_from_db()
    assert promise.state == PromiseState.BROKEN


def test_the_escalation_ignores_the_minimum_gap_and_acts_once(broken):
    company, *_ = broken  # INV-2's step 3 went out on 4 December: 4 days, the policy waits 5
    assert cycle(company, TUESDAY_AFTER).groups[0].outcome == "approval"
    again = cycle(company, TUESDAY_AFTER)
    assert again.already_done and Message.objects.filter(step=4).count() == 2
    assert cycle(company, TUESDAY_AFTER + timedelta(days=1)).groups == []  # nothing more due
    assert Activity.objects.filter(kind=ActivityKind.ESCALATED).count() == 1
    assert Task.objects.count() == 1


def test_a_dry_run_shows_the_escalation_and_leaves_it_pending(broken):
    company, _, _, promise = broken
    tracking.daily(company=company, on=TUESDAY_AFTER, at=at(TUESDAY_AFTER))
    [group] = run_dunning(company=company, on=TUESDAY_AFTER, at=at(TUESDAY_AFTER),
                          dry_run=True).groups  # fmt: skip
    assert group.reason.startswith(f"promise {promise.pk} broken: step 4 (Final demand);")
    assert Escalation.objects.get().acted_on is None and not Message.objects.filter(step=4)


def test_a_held_invoice_waits_and_the_escalation_acts_when_the_hold_ends(broken):
    company, customer, one, promise = broken
    hold = place_hold(company=company, customer=customer, item=one, until=date(2026, 12, 31),
                      reason="asked the buyer", on=MONDAY, at=at(MONDAY), actor=None)  # fmt: skip
    assert all(g.step != 4 for g in cycle(company, TUESDAY_AFTER).groups)
    assert Escalation.objects.get().acted_on is None
    release_hold(hold=hold, on=date(2026, 12, 9), at=at(date(2026, 12, 9)), actor=None)
    [group] = cycle(company, date(2026, 12, 10)).groups
    assert group.reason.startswith(f"promise {promise.pk} broken: step 4 (Final demand);")
    assert Escalation.objects.get().acted_on == date(2026, 12, 10)


def test_an_escalation_with_nothing_left_open_is_closed_without_a_message(broken):
    company, customer, one, _ = broken
    tracking.daily(company=company, on=TUESDAY_AFTER, at=at(TUESDAY_AFTER))  # broken
    payment = f.payment(company, customer, "P-1", 1_200_00, TUESDAY_AFTER)
    apply_payment(company=company, payment=payment, item=one, amount_minor=1_200_00, actor=None,
                  at=at(TUESDAY_AFTER))  # fmt: skip
    report = run_dunning(company=company, on=TUESDAY_AFTER, at=at(TUESDAY_AFTER))
    assert all(g.step != 4 for g in report.groups)
    assert Escalation.objects.get().acted_on == TUESDAY_AFTER


def test_without_a_configured_step_the_next_step_after_the_highest_reached_is_sent(broken):
    company, _, one, promise = broken
    Policy.objects.update(broken_promise_step=None)
    ItemStep.objects.create(company=company, item=one, policy=Policy.objects.get(), reached=3,
                            reached_on=MONDAY)  # fmt: skip
    [group] = cycle(company, TUESDAY_AFTER).groups
    assert group.reason.startswith(f"promise {promise.pk} broken: step 4 (Final demand);")


def test_escalation_steps_are_checked_set_and_listed_by_the_command(broken, capsys):
    policy = Policy.objects.get()
    with pytest.raises(DunwellError, match="broken_promise_step 9: Standard has steps 1 to 5"):
        set_escalation_steps(policy=policy, broken_promise_step=9, plan_default_step=None)
    call_command("dunning", "escalation-steps", "--policy", "Standard", "--broken-promise", "5",
                 "--plan-default", "next", "--format", "json")  # fmt: skip
    [row] = json.loads(capsys.readouterr().out)
    assert (row["broken_promise_step"], row["plan_default_step"]) == (5, None)
    call_command("dunning", "policies")
    assert ("a broken promise sends step 5; a defaulted plan the step after the highest reached"
            in capsys.readouterr().out)  # fmt: skip
    with pytest.raises(CommandError, match="'x': a step's sequence"):
        call_command("dunning", "escalation-steps", "--policy", "Standard", "--broken-promise",
                     "x", "--plan-default", "next")  # fmt: skip


def test_the_run_command_and_the_daily_task_decide_promises_before_the_run(broken, capsys,
                                                                           monkeypatch):  # fmt: skip
    company, _, _, promise = broken
    monkeypatch.setattr(clock, "now", lambda: at(TUESDAY_AFTER))
    call_command("dunning", "run", "--date", "2026-12-08", "--dry-run", "--format", "json")
    assert json.loads(capsys.readouterr().out)["decisions"][0]["step"] == 3  # not decided yet
    promise.refresh_from_db()
    assert promise.state == PromiseState.OPEN
    result = daily_cycle.call(company.code, TUESDAY_AFTER.isoformat())
    assert result["run"]["counts"] == {"approval": 1}
    promise.refresh_from_db()
    assert promise.state == PromiseState.BROKEN
    assert Message.objects.filter(step=4).count() == 2
