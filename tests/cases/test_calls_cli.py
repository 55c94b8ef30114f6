"""`dunwell case call|calls|task|tasks|task-done|task-cancel|note`, as JSON for scripts."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from dunwell.cases.models import Dispute
from dunwell.core import clock
from dunwell.dunning.models import Message
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.ledger.models import Activity, ActivityKind
from tests import factories as f

pytestmark = pytest.mark.django_db

THURSDAY = date(2026, 11, 26)
AT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def desk(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: AT)
    monkeypatch.setattr(clock, "today", lambda company=None: THURSDAY)
    company = f.company()
    colly = User.objects.create_user(username="colly")
    customer = f.customer(company, "C001", "Bauer KG")
    customer.owner = colly
    customer.save(update_fields=["owner"])
    f.contact(customer, "anna@bauer.example", name="Anna Weber", phone="+49 30 1234")
    due = THURSDAY - timedelta(days=25)
    f.invoice(company, customer, "INV-1", 1_000_00, due - timedelta(days=30), due_on=due)
    return company, customer


def case(capsys, *args):
    call_command("case", *args, "--format", "json")
    return json.loads(capsys.readouterr().out)


def test_a_call_is_logged_and_listed_with_its_follow_up(desk, capsys):
    made = case(capsys, "call", "--customer", "C001", "--outcome", "no_answer", "--contact",
                "anna weber", "--note", "rang ten times", "--by", "colly")  # fmt: skip
    assert (made["contact"], made["phone"], made["outcome_label"]) == (
        "Anna Weber", "+49 30 1234", "No answer"
    )  # fmt: skip
    assert (made["follow_up_on"], made["by"], made["on"]) == ("2026-11-30", "colly", "2026-11-26")
    [listed] = case(capsys, "calls", "--customer", "C001")
    assert listed == made
    with pytest.raises(CommandError, match="--contact 'Bob': C001 has no such contact "
                       r"\(contacts: Anna Weber\)"):  # fmt: skip
        call_command("case", "call", "--customer", "C001", "--outcome", "other", "--contact",
                     "Bob")  # fmt: skip
    with pytest.raises(CommandError, match="--outcome promise needs --amount and --pay-by"):
        call_command("case", "call", "--customer", "C001", "--outcome", "promise")


def test_a_call_answers_the_step_call_task_and_opens_the_dispute(desk, capsys):
    company, customer = desk
    ensure_default_policy(company, AT)
    run_dunning(company=company, on=THURSDAY, at=AT)
    task = Message.objects.get(customer=customer, channel="call")
    queue = case(capsys, "tasks", "--mine", "--by", "colly")
    assert [(r["type"], r["call_task"], r["title"]) for r in queue] == [
        ("step", task.pk, "Call (step 3)")
    ]
    made = case(capsys, "call", "--customer", "C001", "--outcome", "dispute", "--task",
                str(task.pk), "--invoice", "INV-1=250.00", "--reason", "quality", "--note",
                "broken pallets", "--by", "colly")  # fmt: skip
    dispute = Dispute.objects.get()
    assert (made["call_task"], made["dispute"]) == (task.pk, dispute.pk)
    assert dispute.items.get().amount_minor == 250_00
    assert case(capsys, "tasks", "--mine", "--by", "colly") == []
    with pytest.raises(CommandError, match=f"call task {task.pk} was already logged"):
        call_command("case", "call", "--customer", "C001", "--outcome", "other", "--task",
                     str(task.pk))  # fmt: skip
    promised = case(capsys, "call", "--customer", "C001", "--outcome", "promise", "--amount",
                    "400.00", "--pay-by", "2026-12-04", "--invoice", "INV-1")  # fmt: skip
    assert promised["outcome"] == "promise"
    assert Activity.objects.filter(kind=ActivityKind.CALL_LOGGED).last().summary == (
        "call to Bauer KG: spoke: promise to pay (promised EUR 400.00 by 2026-12-04 for INV-1)"
    )


def test_tasks_by_hand_are_listed_done_and_cancelled(desk, capsys):
    made = case(capsys, "task", "--customer", "C001", "--title", "Ask for the remittance",
                "--due", "2026-11-27", "--by", "colly")  # fmt: skip
    assert (made["assignee"], made["due_on"], made["kind"], made["state"]) == (
        "colly", "2026-11-27", "call", "open"
    )  # fmt: skip
    other = case(capsys, "task", "--customer", "C001", "--title", "Check the PO", "--due",
                 "2026-11-26", "--kind", "review")  # fmt: skip
    assert [r["id"] for r in case(capsys, "tasks")] == [other["id"], made["id"]]  # by due date
    done = case(capsys, "task-done", str(made["id"]), "--note", "sent")
    assert (done["state"], done["note"]) == ("done", "sent")
    with pytest.raises(CommandError, match=f"task {made['id']} is done, not open"):
        call_command("case", "task-done", str(made["id"]))
    case(capsys, "task-cancel", str(other["id"]), "--note", "not needed")
    assert case(capsys, "tasks") == []
    assert [r["state"] for r in case(capsys, "tasks", "--all")] == ["cancelled", "done"]
    with pytest.raises(CommandError, match="--mine needs --by USER"):
        call_command("case", "tasks", "--mine")


def test_a_note_on_an_invoice(desk, capsys):
    made = case(capsys, "note", "--customer", "C001", "--invoice", "INV-1", "--text",
                "PO 4711 missing", "--by", "colly")  # fmt: skip
    assert (made["invoice"], made["summary"]) == ("INV-1", "note on INV-1: PO 4711 missing")
    assert Activity.objects.get(kind=ActivityKind.NOTE_ADDED).actor.username == "colly"
