"""Calls and tasks: a logged call joins the history with its outcome, sets the next action as a
follow-up task (no answer and voicemail: again in two business days), answers the dunning step's
call task once, and opens the dispute the customer raised, all in one transaction."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User

from dunwell.cases.models import CallLog, CallOutcome, Dispute, Task, TaskKind, TaskState
from dunwell.cases.services import calls, tasks
from dunwell.core.errors import DunwellError
from dunwell.dunning.models import Message
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Activity, ActivityKind
from dunwell.workflows import calls as workflow
from dunwell.workflows.calls import DisputeSpec, PromiseSpec
from tests import factories as f

pytestmark = pytest.mark.django_db

THURSDAY = date(2026, 11, 26)
AT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def desk():
    company = f.company()
    colly = User.objects.create_user(username="colly")
    customer = f.customer(company, "C001", "Bauer KG")
    customer.owner = colly
    customer.save(update_fields=["owner"])
    anna = f.contact(customer, "anna@bauer.example", name="Anna Weber", phone="+49 30 1234")
    due = THURSDAY - timedelta(days=25)
    invoice = f.invoice(company, customer, "INV-1", 1_000_00, due - timedelta(days=30), due_on=due)
    return company, customer, anna, invoice, colly


def log(desk, outcome, **extra):
    company, customer, anna, _, colly = desk
    values = {"contact": anna, "actor": colly, "on": THURSDAY, "at": AT} | extra
    return workflow.log_call(company=company, customer=customer, outcome=outcome, **values)


def entry(kind, **filters):
    return Activity.objects.get(kind=kind, **filters)


SUMMARIES = {
    "no_answer": "call to Anna Weber (+49 30 1234): no answer: rang out; next action 2026-11-30",
    "voicemail": "call to Anna Weber (+49 30 1234): left a voicemail: rang out; "
    "next action 2026-11-30",
    "wrong_contact": "call to Anna Weber (+49 30 1234): wrong contact (Anna Weber flagged): "
    "rang out",
    "will_pay": "call to Anna Weber (+49 30 1234): spoke: will pay: rang out",
    "refuses": "call to Anna Weber (+49 30 1234): spoke: refuses to pay: rang out",
    "other": "call to Anna Weber (+49 30 1234): spoke: other: rang out",
}


@pytest.mark.parametrize("outcome", sorted(SUMMARIES))
def test_every_outcome_is_logged_with_its_history_text(desk, outcome):
    call = log(desk, outcome, note="rang out")
    assert call.get_outcome_display() == CallOutcome(outcome).label
    logged = entry(ActivityKind.CALL_LOGGED)
    assert logged.summary == SUMMARIES[outcome]
    assert (logged.actor.username, logged.on, logged.data["outcome"]) == (
        "colly",
        THURSDAY,
        outcome,
    )


def test_a_promise_call_names_what_was_promised_and_needs_the_details(desk):
    *_, invoice, _ = desk
    with pytest.raises(DunwellError, match="promise outcome needs promise details"):
        log(desk, "promise")
    spec = PromiseSpec(amount_minor=500_00, currency="EUR", promised_on=date(2026, 12, 4),
                       promised_by="Anna Weber", items=(invoice,))  # fmt: skip
    log(desk, "promise", promise=spec, note="half now")
    assert entry(ActivityKind.CALL_LOGGED).summary == (
        "call to Anna Weber (+49 30 1234): spoke: promise to pay (promised EUR 500.00 by "
        "2026-12-04 (Anna Weber) for INV-1): half now"
    )
    with pytest.raises(DunwellError, match="promise details given for outcome 'will_pay'"):
        log(desk, "will_pay", promise=spec)


def test_a_promise_call_records_the_promise_that_pauses_dunning_in_the_same_transaction(desk):
    _, customer, _, invoice, colly = desk
    spec = PromiseSpec(amount_minor=500_00, currency="EUR", promised_on=date(2026, 12, 4),
                       promised_by="Anna Weber", items=(invoice,))  # fmt: skip
    call = log(desk, "promise", promise=spec)
    promise = call.promise
    assert (promise.amount_minor, promise.promised_on, promise.promised_by, promise.channel) == (
        500_00, date(2026, 12, 4), "Anna Weber", "phone",
    )  # fmt: skip
    assert [p.item_id for p in promise.promised.all()] == [invoice.pk]
    assert promise.created_by == colly and promise.customer == customer
    with pytest.raises(DunwellError, match="promised_on 2026-11-01 is before "):  # nothing kept
        log(desk, "promise", promise=PromiseSpec(amount_minor=1_00, currency="EUR",
                                                 promised_on=date(2026, 11, 1)))  # fmt: skip
    assert customer.promises.count() == 1
    assert Activity.objects.filter(kind=ActivityKind.CALL_LOGGED).count() == 1


def test_no_answer_is_tried_again_in_two_business_days_of_the_companys_calendar(desk):
    company, *_ = desk
    call = log(desk, "no_answer")
    assert call.follow_up.due_on == date(2026, 11, 30)  # Thursday -> Monday
    assert (call.follow_up.kind, call.follow_up.assignee.username) == ("follow_up", "colly")
    assert call.follow_up.title == "Call Anna Weber again (no answer)"
    assert call.follow_up.source == f"call {call.pk}"
    company.holiday_country = "DE"
    company.save()
    before_christmas = log(desk, "voicemail", on=date(2026, 12, 23), at=AT + timedelta(days=27))
    assert before_christmas.follow_up.due_on == date(2026, 12, 28)  # 24th, then 28th


def test_a_next_action_date_sets_the_follow_up_and_other_outcomes_set_none(desk):
    call = log(desk, "will_pay", note="pays after the board meets",
               next_action_on=date(2026, 12, 3))  # fmt: skip
    assert call.follow_up.due_on == date(2026, 12, 3)
    assert call.follow_up.title == "Follow up the call with Anna Weber: pays after the board meets"
    created = entry(ActivityKind.TASK_CREATED)
    assert created.summary == ("follow-up task due 2026-12-03 (colly): Follow up the call with "
                               "Anna Weber: pays after the board meets")  # fmt: skip
    assert log(desk, "refuses").follow_up is None
    with pytest.raises(DunwellError, match="next action date 2026-11-25 is before today"):
        log(desk, "other", next_action_on=date(2026, 11, 25))


def test_a_wrong_contact_stays_flagged_until_a_call_to_it_gets_through(desk):
    _, customer, anna, *_ = desk
    log(desk, "wrong_contact", note="left the company")
    assert calls.flagged_contacts([customer.pk]) == {anna.pk}
    log(desk, "will_pay", at=AT + timedelta(hours=1))
    assert calls.flagged_contacts([customer.pk]) == set()


def test_a_step_call_task_is_done_by_logging_the_call_once(desk):
    company, customer, *_ = desk
    ensure_default_policy(company, AT)
    run_dunning(company=company, on=THURSDAY, at=AT)
    task = Message.objects.get(customer=customer, channel="call")
    call = log(desk, "will_pay", note="pays Monday", message_id=task.pk)
    task.refresh_from_db()
    assert (task.status, task.body) == ("sent", f"call {call.pk}: spoke: will pay: pays Monday")
    assert call.message_id == task.pk
    assert entry(ActivityKind.TASK_DONE).summary == (
        f"Call (step 3) done: call {call.pk}: spoke: will pay: pays Monday"
    )
    with pytest.raises(DunwellError, match=f"call task {task.pk} was already logged: call "
                       f"{call.pk} on 2026-11-26"):  # fmt: skip
        log(desk, "no_answer", message_id=task.pk)
    assert CallLog.objects.count() == 1 and not Task.objects.exists()


def test_another_customers_call_task_is_not_answered(desk):
    company, customer, *_ = desk
    ensure_default_policy(company, AT)
    run_dunning(company=company, on=THURSDAY, at=AT)
    task = Message.objects.get(customer=customer, channel="call")
    other = f.customer(company, "C002", "Other AG")
    with pytest.raises(DunwellError, match=f"no call task {task.pk} for C002"):
        workflow.log_call(company=company, customer=other, outcome="other", actor=None,
                          on=THURSDAY, at=AT, message_id=task.pk)  # fmt: skip


def test_a_dispute_call_opens_the_dispute_in_the_same_transaction(desk):
    *_, invoice, _ = desk
    with pytest.raises(DunwellError, match="dispute outcome needs the disputed invoices"):
        log(desk, "dispute")
    call = log(desk, "dispute", note="goods damaged",
               dispute=DisputeSpec(items=[(invoice, 300_00)], reason="quality"))  # fmt: skip
    dispute = Dispute.objects.get()
    assert call.dispute == dispute and dispute.note == "goods damaged"
    assert entry(ActivityKind.CALL_LOGGED).summary == (
        f"call to Anna Weber (+49 30 1234): spoke: dispute (dispute {dispute.pk} opened): "
        "goods damaged"
    )
    assert entry(ActivityKind.DISPUTE_OPENED, item__isnull=True).summary == (
        "dispute opened (quality): INV-1 EUR 300.00: goods damaged"
    )


def test_a_refused_call_leaves_nothing_behind(desk):
    company, customer, *_ = desk
    *_, invoice, _ = desk
    ensure_default_policy(company, AT)
    run_dunning(company=company, on=THURSDAY, at=AT)
    task = Message.objects.get(customer=customer, channel="call")
    task.status = "sent"  # done by hand already: completing it again is refused
    task.save()
    with pytest.raises(DunwellError, match="not pending"):
        log(desk, "dispute", message_id=task.pk, next_action_on=date(2026, 12, 1),
            dispute=DisputeSpec(items=[(invoice, None)], reason="price"))  # fmt: skip
    assert not Dispute.objects.exists() and not CallLog.objects.exists()
    assert not Task.objects.exists()
    assert not Activity.objects.filter(kind__gte=700).exists()


def test_tasks_by_hand_are_done_once_and_automatic_ones_created_once(desk):
    company, customer, _, _, colly = desk
    made = tasks.create_task(company=company, customer=customer, kind=TaskKind.CALL,
                             title="Ask for the remittance", due_on=date(2026, 11, 27),
                             actor=colly, at=AT, on=THURSDAY)  # fmt: skip
    assert (made.assignee, made.source, made.state) == (colly, "by hand", TaskState.OPEN)
    done = tasks.complete_task(task=made, note="sent by mail", actor=colly, on=THURSDAY, at=AT)
    assert (done.state, done.note, done.done_at) == (TaskState.DONE, "sent by mail", AT)
    with pytest.raises(DunwellError, match=f"task {made.pk} is done, not open"):
        tasks.cancel_task(task=made, actor=colly, on=THURSDAY, at=AT)
    closed = Activity.objects.filter(kind=ActivityKind.TASK_CLOSED)
    assert [a.summary for a in closed] == ["task done: Ask for the remittance: sent by mail"]

    def alert():
        return tasks.create_task(company=company, customer=customer, kind=TaskKind.ALERT,
                                 title="Promise 3 broken", due_on=THURSDAY, source="promise 3",
                                 key="promise:3:broken", actor=None, at=AT, on=THURSDAY)  # fmt: skip

    first, second = alert(), alert()
    assert first.pk == second.pk and Task.objects.filter(kind="alert").count() == 1
    assert Activity.objects.filter(kind=ActivityKind.TASK_CREATED).count() == 2
    cancelled = tasks.cancel_task(task=first, note="paid", actor=None, on=THURSDAY, at=AT)
    assert cancelled.state == TaskState.CANCELLED
    assert closed.order_by("pk").last().summary == "task cancelled: Promise 3 broken: paid"


def test_a_note_joins_the_history_of_the_account_or_the_invoice(desk):
    company, customer, _, invoice, colly = desk
    calls.add_note(company=company, customer=customer, text="new AP clerk from January",
                   actor=colly, on=THURSDAY, at=AT)  # fmt: skip
    calls.add_note(company=company, customer=customer, item=invoice, text="PO missing",
                   actor=colly, on=THURSDAY, at=AT)  # fmt: skip
    notes = Activity.objects.filter(kind=ActivityKind.NOTE_ADDED).order_by("pk")
    assert [(n.summary, n.item) for n in notes] == [
        ("note: new AP clerk from January", None),
        ("note on INV-1: PO missing", invoice),
    ]
    with pytest.raises(DunwellError, match="a note needs a text"):
        calls.add_note(company=company, customer=customer, text=" ", actor=colly, on=THURSDAY,
                       at=AT)  # fmt: skip
