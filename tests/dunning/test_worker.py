"""`dunwell worker`: the daily cycle is enqueued once the company's morning has come on a business
day, run through the task queue (django-tasks-db), and not again once done."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command

from dunwell.core import clock
from dunwell.dunning.management.commands.worker import due_cycles
from dunwell.dunning.models import Message, Run
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.reports.models import WorklistRow
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)  # the worker commits as it goes

MONDAY_0630_UTC = datetime(2026, 11, 23, 6, 30, tzinfo=UTC)  # 07:30 in Berlin


@pytest.fixture
def berlin():
    company = f.company()
    company.time_zone = "Europe/Berlin"
    company.save()
    ensure_default_policy(company, MONDAY_0630_UTC)
    customer = f.customer(company, "C001", "Bauer KG")
    f.contact(customer, "ap@bauer.example", name="Petra Bauer")
    due = MONDAY_0630_UTC.date() - timedelta(days=8)
    f.invoice(company, customer, "INV-1", 100_00, due - timedelta(days=30), due_on=due)
    return company


def test_the_cycle_is_due_after_the_run_hour_on_a_business_day(berlin, settings):
    settings.DUNNING_RUN_HOUR = 6
    assert due_cycles(datetime(2026, 11, 23, 4, 30, tzinfo=UTC)) == []  # 05:30 in Berlin
    assert due_cycles(MONDAY_0630_UTC) == [("acme", "2026-11-23")]
    assert due_cycles(datetime(2026, 11, 22, 10, 0, tzinfo=UTC)) == []  # a Sunday


def test_one_round_runs_the_day_and_delivers_and_the_next_round_adds_nothing(
    berlin, monkeypatch, capsys
):
    monkeypatch.setattr(clock, "now", lambda: MONDAY_0630_UTC)
    call_command("worker", "--once")
    assert "enqueued the daily cycle of acme" in capsys.readouterr().out
    assert Run.objects.get().status == "done"
    assert Message.objects.get().status == "sent"
    assert [m.to for m in mail.outbox] == [["ap@bauer.example"]]
    call_command("worker", "--once")
    assert "enqueued" not in capsys.readouterr().out
    assert len(mail.outbox) == 1 and Message.objects.count() == 1
    # the worklists were rebuilt after the run (reports registers it): the account is on it
    [row] = WorklistRow.objects.filter(company=berlin)
    assert (row.account_number, row.as_of, row.overdue_minor) == ("C001", date(2026, 11, 23),
                                                                  100_00)  # fmt: skip
