"""The demo's last month of payments arrives as camt.053 statements, imported and matched."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from django.db.models import Sum

from dunwell.cash.models import BankStatement, LineState, StatementFile, StatementLine
from dunwell.cash.services.statements import import_statements
from dunwell.ledger.models import Activity, ActivityKind, Allocation, Payment
from dunwell.ledger.queries import drift
from dunwell.workflows.cash import match_lines
from tests.demo.test_demo_build import EXPECTED_PAID, small_demo

pytestmark = pytest.mark.django_db

# The small demo (seed 1, 12 customers, as of 2026-11-23): the business days of the 30 days
# from 2026-10-25, one statement each.
STATEMENTS = 21
CUSTOMER_PAYMENTS = 16
QUEUED = {"name only": 1, "supplier refund": 1, "own transfer": 1}
PAID_BEFORE_THE_BANK = 376_620_069  # the payments' total when the demo booked them directly


def test_a_month_of_statements_reconciles_and_is_mostly_applied() -> None:
    stats = small_demo()
    company, bank = stats.company, stats.bank
    statements = list(BankStatement.objects.filter(company=company).order_by("opening_on"))
    assert len(statements) == bank.statements == STATEMENTS
    assert statements[0].opening_on == date(2026, 10, 26)  # a Monday
    assert statements[-1].closing_on == date(2026, 11, 23)
    assert all(s.opening_on.weekday() < 5 for s in statements)
    assert StatementFile.objects.filter(company=company, format="camt.053").count() == STATEMENTS
    for statement, following in itertools.pairwise(statements):
        assert following.opening_minor == statement.closing_minor
    for statement in statements:
        booked = statement.lines.aggregate(total=Sum("amount_minor"))["total"] or 0
        assert statement.reconciles is True
        assert statement.opening_minor + booked == statement.closing_minor

    credits = StatementLine.objects.filter(company=company, amount_minor__gt=0)
    assert credits.count() == bank.credits == CUSTOMER_PAYMENTS + 2
    assert bank.kinds["bank fee"] == 3
    applied = credits.filter(state=LineState.APPLIED)
    assert applied.count() == bank.applied == 15
    assert round(100 * applied.count() / credits.count()) == 83  # of all credits
    assert round(100 * applied.count() / CUSTOMER_PAYMENTS) == 94  # of the customers' payments
    # the review queue holds what was meant for it, each with the reason a person reads
    queued = credits.filter(state=LineState.UNMATCHED)
    assert bank.queued_kinds == Counter(QUEUED)
    assert {bank.kind_of[line.bank_reference] for line in queued} == set(QUEUED)
    name_only = next(q for q in queued if bank.kind_of[q.bank_reference] == "name only")
    assert name_only.text == "" and name_only.structured == []
    assert name_only.proposals.first().reason.startswith("payer IBAN AT81…4816 is Bauer & Berger")
    # every applied line is a payment with its history, and the ledger still adds up
    assert not applied.filter(payment__isnull=True).exists()
    received = Activity.objects.filter(
        company=company,
        kind=ActivityKind.PAYMENT_RECEIVED,
        payment__external_id__startswith="bank:",
    )
    assert received.count() == 15
    assert drift(company) == []
    # the ledger's payments are the old ones but for the customer payment left in the queue
    paid = Payment.objects.filter(company=company).aggregate(total=Sum("amount_minor"))["total"]
    assert paid == EXPECTED_PAID == PAID_BEFORE_THE_BANK - name_only.amount_minor


def test_importing_the_same_files_again_changes_nothing() -> None:
    stats = small_demo()
    company = stats.company

    def counts() -> tuple[int, ...]:
        return (
            StatementFile.objects.filter(company=company).count(),
            BankStatement.objects.filter(company=company).count(),
            StatementLine.objects.filter(company=company).count(),
            StatementLine.objects.filter(company=company, state=LineState.APPLIED).count(),
            Payment.objects.filter(company=company).count(),
            Allocation.objects.filter(company=company).count(),
            Activity.objects.filter(company=company).count(),
        )

    before = counts()
    at = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
    for name, data in stats.bank.files:
        report = import_statements(company=company, data=data, file_name=name, at=at)
        assert report.duplicate_file and report.lines_new == 0
        # the same statements in another file (a new message id): filed already, lines known
        again = data.replace(b"<MsgId>NW", b"<MsgId>AGAIN-NW", 1)
        report = import_statements(company=company, data=again, file_name=f"again-{name}", at=at)
        assert not report.duplicate_file
        assert all(s.already_filed for s in report.statements)
        assert report.lines_new == 0
    rematched = match_lines(company=company, at=at)
    assert (rematched.lines, rematched.applied) == (3, 0)
    files, *rest = counts()
    assert (files, *rest) == (before[0] + STATEMENTS, *before[1:])
