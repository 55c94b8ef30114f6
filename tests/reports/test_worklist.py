"""The collector's worklist read model: scores, order, reasons and next actions of a handful of
accounts; filters and paging; a refresh of one customer; the statement sent on request; the CLI.

Acme (EUR) as of Tuesday 2026-12-01: Bauer owes EUR 12,400.00 (the priority rule's worked
example: oldest 67 days, weighted 40, a promise broken, 2 tasks due, and an expected loss of EUR
955.00 at the illustrative loss rates: 60 points); Carré owes USD 2,000.00, 100 days, USD 500.00
of it disputed (EUR 1,818.18 at 1.10: 53 points); Dietz EUR 500.00 for 10 days (20); Engel is on
a dunning hold.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from dunwell.cases.models import PromiseState, PromiseToPay, Task, TaskKind
from dunwell.cases.services.disputes import open_dispute
from dunwell.credit.models import PaymentPrediction, PredictionModel
from dunwell.dunning.models import Message, Run, RunStatus
from dunwell.dunning.services.holds import place_hold
from dunwell.dunning.services.policies import ensure_default_policy
from dunwell.dunning.services.run import run_dunning
from dunwell.dunning.services.statement_requests import send_statement
from dunwell.ledger.models import OpenItem
from dunwell.ledger.services.fx import set_rate
from dunwell.reports import worklist
from dunwell.reports.models import WorklistRow
from dunwell.reports.reserve import set_rates
from dunwell.reports.rules.reserve import parse_rates
from dunwell.reports.worklist import Filters, refresh_worklist, worklist_page
from tests import factories as f

pytestmark = pytest.mark.django_db

ON = date(2026, 12, 1)
AT = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


def overdue(company, customer, number, amount, days, currency=None):
    due = ON - timedelta(days=days)
    return f.invoice(company, customer, number, amount, due - timedelta(days=30), due_on=due,
                     currency=currency)  # fmt: skip


def customer(company, number, name, owner=None, **extra):
    made = f.customer(company, number, name, **extra)
    if owner is not None:
        made.owner = owner
        made.save(update_fields=["owner"])
    return made


def world():
    acme = f.company()
    ensure_default_policy(acme, AT)
    colly = User.objects.create_user("colly")
    set_rate(base="EUR", quote="USD", on=ON, rate=Decimal("1.10"))
    bauer = customer(acme, "C001", "Bauer KG", owner=colly, segment="wholesale")
    f.contact(bauer, "ap@bauer.example")
    overdue(acme, bauer, "INV-1", 3_100_00, 67)
    overdue(acme, bauer, "INV-2", 9_300_00, 31)
    f.invoice(acme, bauer, "INV-3", 5_000_00, ON, due_on=ON + timedelta(days=30))  # not yet due
    PromiseToPay.objects.create(
        company=acme, customer=bauer, currency="EUR", amount_minor=3_100_00,
        promised_on=date(2026, 11, 17), promised_by="Petra", channel="phone",
        state=PromiseState.BROKEN, made_on=date(2026, 11, 10), decided_on=date(2026, 11, 20),
        created_at=AT,
    )  # fmt: skip
    for title, due in (("call back", ON), ("send copy", ON - timedelta(days=3))):
        Task.objects.create(company=acme, customer=bauer, kind=TaskKind.CALL, title=title,
                            due_on=due, created_at=AT)  # fmt: skip
    Task.objects.create(company=acme, customer=bauer, kind=TaskKind.CALL, title="later",
                        due_on=ON + timedelta(days=5), created_at=AT)  # fmt: skip
    carre = customer(acme, "C002", "Carré SARL", currency="USD", owner=colly)
    disputed = overdue(acme, carre, "INV-4", 2_000_00, 100)
    dispute = open_dispute(company=acme, customer=carre, items=[(disputed, 500_00)],
                           reason="price", actor=None, on=ON, at=AT)  # fmt: skip
    dietz = customer(acme, "C003", "Dietz OHG", owner=colly)
    overdue(acme, dietz, "INV-5", 500_00, 10)
    engel = customer(acme, "C004", "Engel AG")
    overdue(acme, engel, "INV-6", 800_00, 20)
    place_hold(company=acme, customer=engel, until=date(2026, 12, 15), reason="moving office",
               on=ON, at=AT, actor=None)  # fmt: skip
    customer(acme, "C005", "Fuchs GmbH", owner=colly)  # nothing open: not on the list
    return acme, colly, {"bauer": bauer, "carre": carre, "dietz": dietz, "engel": engel,
                         "dispute": dispute}  # fmt: skip


@pytest.fixture
def acme():
    return world()


def listed(company, **filters):
    return [(r.account_number, r.score) for r in worklist_page(company, Filters(**filters)).rows]


def test_accounts_are_ordered_by_score_then_amount_with_their_reasons_and_actions(acme):
    company, colly, who = acme
    assert refresh_worklist(company=company, on=ON, at=AT) == 4
    rows = {r.account_number: r for r in WorklistRow.objects.all()}
    bauer, carre, dietz, engel = (rows[n] for n in ("C001", "C002", "C003", "C004"))
    assert (bauer.score, bauer.overdue_minor, bauer.oldest_days) == (60, 12_400_00, 67)
    assert bauer.components == {"overdue": 25, "oldest": 11, "weighted_age": 2, "promises": 8,
                                "disputes": 0, "tasks": 10, "expected_loss": 4,
                                "lateness": 0}  # fmt: skip
    # expected loss at the illustrative rates: 3,100.00 at 67 days x 15 % + 9,300.00 at 31 days
    # x 5 % + 5,000.00 not yet due x 0.5 % = 955.00; 5 x log10(956) / log10(10,001) = 3.73 -> 4
    assert bauer.explanation == (
        "EUR 12,400.00 overdue, oldest 67 days; promise broken on 2026-11-20; 2 tasks due"
    )
    assert bauer.action_text == "call now"
    assert (carre.score, carre.overdue_minor, carre.disputed_minor) == (53, 1_818_18, 454_55)
    assert carre.explanation == (
        "EUR 1,818.18 overdue, oldest 100 days; 1 dispute open (EUR 454.55)"
    )
    assert carre.action_text == f"resolve dispute {who['dispute'].pk}"
    assert (dietz.score, dietz.action_text) == (20, "send statement")
    assert engel.action_text == "nothing: paused until 2026-12-15"
    assert engel.explanation.endswith("paused by a dunning hold until 2026-12-15")
    assert listed(company) == [("C001", 60), ("C002", 53), ("C003", 20), ("C004", engel.score)]
    assert listed(company, owner=colly.pk) == [("C001", 60), ("C002", 53), ("C003", 20)]
    assert listed(company, owner=0) == [("C004", engel.score)]


def test_the_company_s_loss_rates_and_the_predicted_lateness_move_the_score(acme):
    company, _, who = acme
    bauer = who["bauer"]
    set_rates(company=company, rates=parse_rates("0,0,0,0,0,0"), segment="wholesale",
              effective_on=ON, reason="wholesale never defaults", at=AT)  # fmt: skip
    item = OpenItem.objects.get(number="INV-2")
    model = PredictionModel.objects.create(company=company, trained_at=AT, as_of=ON,
                                           window_from=ON, window_to=ON, rows=1000,
                                           point_model="x", low_model="x", high_model="x")  # fmt: skip
    PaymentPrediction.objects.create(
        company=company, item=item, customer=bauer, model=model, as_of=ON, scored_at=AT,
        currency="EUR", open_minor=item.open_minor, due_on=item.due_on,
        predicted_on=item.due_on + timedelta(days=75), low_on=item.due_on,
        high_on=item.due_on + timedelta(days=90), lateness_days=75,
    )  # fmt: skip
    refresh_worklist(company=company, on=ON, at=AT)
    row = WorklistRow.objects.get(customer=bauer)
    # the segment's own rates (nothing lost), and 75 days late (capped at 60): 5 points
    assert (row.components["expected_loss"], row.components["lateness"]) == (0, 5)
    assert row.score == 60 - 4 + 5


def test_filters_narrow_the_list(acme):
    company, _, _ = acme
    refresh_worklist(company=company, on=ON, at=AT)
    assert [n for n, _ in listed(company, min_overdue_minor=1_000_00)] == ["C001", "C002"]
    assert [n for n, _ in listed(company, currency="usd")] == ["C002"]
    assert [n for n, _ in listed(company, segment="wholesale")] == ["C001"]
    assert [n for n, _ in listed(company, broken_promise=True)] == ["C001"]
    assert [n for n, _ in listed(company, dispute=True)] == ["C002"]
    assert [n for n, _ in listed(company, tasks_due=True)] == ["C001"]
    assert [n for n, _ in listed(company, search="dietz")] == ["C003"]
    assert [n for n, _ in listed(company, search="C00")] == ["C001", "C002", "C003", "C004"]


def test_keyset_pages_follow_on_from_the_last_row_and_match_the_numbered_pages(acme):
    company, _, _ = acme
    refresh_worklist(company=company, on=ON, at=AT)
    first = worklist_page(company, Filters(), size=3)
    assert [r.account_number for r in first.rows] == ["C001", "C002", "C003"]
    assert (first.has_next, first.total) == (True, 4)
    rank, customer = (int(p) for p in first.next_after.split(":"))
    second = worklist_page(company, Filters(), size=3, after=(rank, customer), page=2)
    assert [r.account_number for r in second.rows] == ["C004"] and not second.has_next
    assert [r.account_number for r in worklist_page(company, Filters(), size=3, page=2).rows] == [
        "C004"
    ]


def test_the_list_sorts_by_overdue_or_oldest_with_keyset_pages_in_that_order(acme):
    company, _, _ = acme
    refresh_worklist(company=company, on=ON, at=AT)
    rows = {r.account_number: r for r in WorklistRow.objects.all()}

    def order(sort, **pages):
        return [r.account_number for r in worklist_page(company, Filters(), sort=sort,
                                                        **pages).rows]  # fmt: skip

    by_overdue = sorted(rows, key=lambda n: (-rows[n].overdue_minor, rows[n].customer_id))
    by_oldest = sorted(rows, key=lambda n: (-rows[n].oldest_days, rows[n].customer_id))
    assert order("overdue") == by_overdue and by_overdue[0] == "C001"
    assert order("oldest") == by_oldest and by_oldest[0] == "C002"  # 100 days
    assert order("planets") == order("priority") == ["C001", "C002", "C003", "C004"]
    first = worklist_page(company, Filters(), sort="oldest", size=2)
    value, customer = (int(p) for p in first.next_after.split(":"))
    assert value == rows[by_oldest[1]].oldest_days
    rest = order("oldest", size=2, after=(value, customer), page=2)
    assert [r.account_number for r in first.rows] + rest == by_oldest


def test_a_long_list_is_counted_up_to_a_limit_and_says_more(acme, monkeypatch):
    company, _, _ = acme
    refresh_worklist(company=company, on=ON, at=AT)
    monkeypatch.setattr(worklist, "COUNTED", 2)
    page = worklist_page(company, Filters(), size=3)
    assert (page.total, page.more, len(page.rows)) == (2, True, 3)
    monkeypatch.setattr(worklist, "COUNTED", 4)
    assert (worklist_page(company, Filters(), size=3).total, worklist_page(company, Filters(),
            size=3).more) == (4, False)  # fmt: skip


def test_refreshing_one_customer_updates_its_row_and_leaves_the_others(acme):
    company, _, who = acme
    refresh_worklist(company=company, on=ON, at=AT)
    overdue(company, who["dietz"], "INV-7", 20_000_00, 45)
    assert refresh_worklist(company=company, on=ON, at=AT, customer_ids=[who["dietz"].pk]) == 1
    dietz = WorklistRow.objects.get(customer=who["dietz"])
    assert (dietz.overdue_minor, dietz.oldest_days) == (20_500_00, 45)
    assert WorklistRow.objects.count() == 4


def test_a_statement_is_queued_once_a_day_and_the_run_still_runs(acme):
    company, _, who = acme
    message, queued = send_statement(company=company, customer=who["bauer"], on=ON, at=AT,
                                     actor=None)  # fmt: skip
    again, queued_again = send_statement(company=company, customer=who["bauer"], on=ON, at=AT,
                                         actor=None)  # fmt: skip
    assert (queued, queued_again, again.pk) == (True, False, message.pk)
    assert (message.template, message.channel, message.status) == ("statement", "email", "pending")
    assert [r["email"] for r in message.recipients] == ["ap@bauer.example"]
    assert [row["number"] for row in message.decision.items] == ["INV-1", "INV-2", "INV-3"]
    report = run_dunning(company=company, on=ON, at=AT)
    assert Run.objects.get(company=company, business_date=ON).status == RunStatus.DONE
    assert report.counts["queued"] >= 1
    assert Message.objects.filter(template="statement").count() == 1


def test_a_statement_needs_a_contact_that_receives_statements(acme):
    company, _, who = acme
    with pytest.raises(Exception, match="C003: no contact with an email address receives"):
        send_statement(company=company, customer=who["dietz"], on=ON, at=AT, actor=None)


def test_the_command_prints_a_collectors_page_as_json(acme, capsys, monkeypatch):
    company, _, _ = acme
    refresh_worklist(company=company, on=ON, at=AT)
    call_command("worklist", "--collector", "colly", "--format", "json")
    out = json.loads(capsys.readouterr().out)
    assert (out["accounts"], out["page"], out["has_next"], out["as_of"]) == (
        3,
        1,
        False,
        "2026-12-01",
    )
    assert out["rows"][0] == {
        "account_number": "C001", "customer": "Bauer KG", "collector": "colly",
        "overdue": "12400.00", "currency": "EUR", "oldest_days": 67, "score": 60,
        "components": {"overdue": 25, "oldest": 11, "weighted_age": 2, "promises": 8,
                       "disputes": 0, "tasks": 10, "expected_loss": 4, "lateness": 0},
        "why": "EUR 12,400.00 overdue, oldest 67 days; promise broken on 2026-11-20; 2 tasks due",
        "next_action": "call now",
    }  # fmt: skip
    call_command("worklist", "--collector", "unassigned")
    assert "Engel AG" in capsys.readouterr().out
