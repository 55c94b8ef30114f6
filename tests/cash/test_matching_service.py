"""Matching stored bank lines to open items: applied automatically, queued, confirmed, learned."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dunwell.cases.models import PromiseState
from dunwell.cases.services.promises import make_promise
from dunwell.cash.models import (
    BankAccount,
    BankStatement,
    KnownAccount,
    LineState,
    Proposal,
    StatementFile,
    StatementLine,
)
from dunwell.core.errors import DunwellError
from dunwell.ledger.models import Activity, ActivityKind, Payment
from dunwell.terms.services import create_term
from dunwell.workflows.cash import apply_line, from_stored, match_lines
from tests import factories as f

pytestmark = pytest.mark.django_db

AT = datetime(2025, 3, 20, 8, 0, tzinfo=UTC)
IBAN = "DE89370400440532013000"


@pytest.fixture
def world():
    company = f.company()
    customer = f.customer(company, "C001", "Bauer KG")
    return company, customer


_counter = iter(range(1, 10_000))


def bank_line(company, amount_minor, *, text="", structured=(), name="", iban="",
              value_on=date(2025, 3, 9)) -> StatementLine:  # fmt: skip
    account, _ = BankAccount.objects.get_or_create(
        company=company, iban="DE02120300000000202051", currency="EUR",
        defaults={"name": "Main", "created_at": AT},
    )  # fmt: skip
    n = next(_counter)
    file = StatementFile.objects.create(company=company, file_name=f"s{n}.xml", sha256=f"{n:064}",
                                        format="camt053", size=1, imported_at=AT)  # fmt: skip
    statement = BankStatement.objects.create(company=company, account=account, file=file,
                                             key=f"S{n}", statement_id=f"S{n}", entries=1)  # fmt: skip
    return StatementLine.objects.create(
        company=company, account=account, statement=statement, key=f"k{n}", entry_index=1,
        amount_minor=amount_minor, currency="EUR", value_on=value_on, text=text,
        structured=list(structured), counterparty_name=name, counterparty_iban=iban,
        state=LineState.UNMATCHED,
    )  # fmt: skip


def test_an_rf_referenced_line_is_applied_automatically(world):
    company, customer = world
    item = f.invoice(company, customer, "INV-0815", 1_250_00, date(2025, 3, 1))
    line = bank_line(company, 1_000_00, structured=[item.payment_reference], name="Bauer KG")
    report = match_lines(company=company, at=AT)
    assert (report.applied, report.queued, dict(report.by_rule)) == (1, 0, {"reference": 1})
    line.refresh_from_db()
    item.refresh_from_db()
    payment = Payment.objects.get()
    assert (line.state, line.customer_id, line.payment_id, line.rule) == (
        LineState.APPLIED, customer.pk, payment.pk, "reference")  # fmt: skip
    assert line.decided_by is None and line.decided_at == AT
    assert (payment.amount_minor, payment.unapplied_minor, payment.value_on) == (
        1_000_00, 0, date(2025, 3, 9))  # fmt: skip
    assert payment.external_id == f"bank:{line.account_id}:{line.key}"
    assert item.open_minor == 250_00  # partial: 1,250.00 less 1,000.00
    received = Activity.objects.get(kind=ActivityKind.PAYMENT_RECEIVED)
    assert "matched (reference): RF reference" in received.summary
    assert "matches invoice INV-0815" in received.summary
    assert Activity.objects.filter(kind=ActivityKind.ALLOCATED, item=item).count() == 1
    assert not Proposal.objects.exists()
    # the payer named the invoice: the IBAN (none here) would be learned; nothing to learn
    assert not KnownAccount.objects.exists()


def test_scoring_without_the_workflow_only_proposes(world):
    """cash.services.matching ranks and stores; applying is the workflow's (the layers)."""
    from dunwell.cash.services import matching as scoring

    company, customer = world
    item = f.invoice(company, customer, "INV-0815", 1_250_00, date(2025, 3, 1))
    line = bank_line(company, 1_250_00, structured=[item.payment_reference])
    report = scoring.match_lines(company=company, at=AT)
    assert (report.applied, report.queued) == (0, 1)
    line.refresh_from_db()
    assert line.state == LineState.UNMATCHED and not Payment.objects.exists()
    assert list(Proposal.objects.values_list("rule", "confidence")) == [("reference", 990)]


def test_matching_again_applies_nothing_twice(world):
    company, customer = world
    item = f.invoice(company, customer, "INV-0815", 1_250_00, date(2025, 3, 1))
    line = bank_line(company, 1_250_00, structured=[item.payment_reference])
    match_lines(company=company, at=AT)
    again = match_lines(company=company, at=AT)
    assert (again.lines, again.applied) == (0, 0)
    assert Payment.objects.count() == 1
    line.refresh_from_db()
    with pytest.raises(DunwellError, match="applied already"):
        apply_line(company=company, line=line, proposal=from_stored_like(line, item), actor=None,
                   at=AT)  # fmt: skip
    assert Payment.objects.count() == 1


def from_stored_like(line, item):
    from dunwell.cash.rules.values import Allocation
    from dunwell.cash.rules.values import Proposal as Value

    return Value(item.customer_id, (Allocation(item.pk, line.amount_minor),), 0, 1000, "manual",
                 "by hand")  # fmt: skip


def test_a_discount_taken_in_time_settles_the_invoice(world):
    company, customer = world
    term = create_term(company=company, code="2-10-net30", name="2/10 net 30", days=30,
                       discount_percent="2", discount_days=10)  # fmt: skip
    item = f.invoice(company, customer, "INV-1001", 10_000_00, date(2025, 3, 1), payment_term=term)
    bank_line(
        company, 9_800_00, text="Rechnung INV-1001 minus 2% Skonto", value_on=date(2025, 3, 9)
    )
    report = match_lines(company=company, at=AT)
    assert report.applied == 1
    item.refresh_from_db()
    assert item.open_minor == 0
    discount = Activity.objects.get(kind=ActivityKind.DISCOUNT_GRANTED)
    assert discount.amount_minor == 200_00


def test_bank_charges_within_the_tolerance_are_written_off(world):
    company, customer = world
    item = f.invoice(company, customer, "INV-0815", 1_250_00, date(2025, 3, 1))
    bank_line(company, 1_245_00, structured=[item.payment_reference])
    report = match_lines(company=company, at=AT)
    assert report.applied == 1
    item.refresh_from_db()
    assert item.open_minor == 0
    written = Activity.objects.get(kind=ActivityKind.WRITTEN_OFF)
    assert written.amount_minor == 5_00 and "bank charges" in written.summary


def test_an_ambiguous_line_waits_with_ranked_proposals_and_a_confirmation_learns_the_iban(world):
    company, customer = world
    other = f.customer(company, "C002", "Huber AG")
    one = f.invoice(company, customer, "A-1", 500_00, date(2025, 2, 1))
    two = f.invoice(company, other, "B-7", 500_00, date(2025, 2, 3))
    line = bank_line(company, 500_00, iban=IBAN, name="Unknown Trading")
    report = match_lines(company=company, at=AT)
    assert (report.applied, report.queued) == (0, 1)
    proposals = list(Proposal.objects.filter(line=line))
    assert len(proposals) == 2 and [p.rank for p in proposals] == [1, 2]
    assert {p.allocations[0]["item"] for p in proposals} == {one.pk, two.pk}
    assert proposals[0].confidence >= proposals[1].confidence
    chosen = next(p for p in proposals if p.allocations[0]["item"] == two.pk)
    clerk = User.objects.create_user("clerk")
    apply_line(company=company, line=line, proposal=from_stored(chosen), actor=clerk, at=AT)
    line.refresh_from_db()
    two.refresh_from_db()
    assert (line.state, line.customer_id, line.decided_by) == (LineState.APPLIED, other.pk, clerk)
    assert two.open_minor == 0
    known = KnownAccount.objects.get()
    assert (known.iban, known.customer_id, known.confirmations) == (IBAN, other.pk, 1)
    # the next payment from that IBAN with its amount goes to Huber AG's open items
    three = f.invoice(company, other, "B-9", 320_00, date(2025, 3, 3))
    later = bank_line(company, 320_00, iban=IBAN)
    match_lines(company=company, at=AT)
    best = Proposal.objects.filter(line=later, rank=1).first()
    assert (best.rule, best.confidence, best.allocations[0]["item"]) == (
        "iban+amount",
        885,
        three.pk,
    )
    assert best.reason == (
        "payer IBAN DE89…3000 is Huber AG's (confirmed once); 320.00 equals the open amount of "
        "B-9 (320.00)"
    )  # one confirmation is not enough to apply on its own (threshold 900): it waits


def test_a_promise_kept_by_the_applied_payment_changes_state_with_it(world):
    company, customer = world
    item = f.invoice(company, customer, "INV-0815", 1_200_00, date(2025, 2, 1))
    made = make_promise(company=company, customer=customer, amount_minor=1_200_00,
                        currency="EUR", promised_by="Petra Bauer", items=[item], actor=None,
                        on=date(2025, 3, 3), at=AT, grace_days=3, note="", channel="phone",
                        promised_on=date(2025, 3, 10))  # fmt: skip
    bank_line(company, 1_200_00, structured=[item.payment_reference])
    assert match_lines(company=company, at=AT).applied == 1
    made.refresh_from_db()
    assert made.state == PromiseState.KEPT
    assert Activity.objects.filter(kind=ActivityKind.PROMISE_KEPT).exists()


def test_retrieval_is_set_based_the_queries_do_not_grow_with_the_lines(world):
    company, customer = world

    def add(first, last):
        for n in range(first, last):
            f.invoice(company, customer, f"INV-{n:04}", 100_00 + n, date(2025, 2, 1))
            f.invoice(company, customer, f"DUP-{n:04}", 100_00 + n, date(2025, 2, 1))
            bank_line(company, 100_00 + n, text=f"invoice {n:04} thanks", name="Nobody Ltd")

    def queries_of_a_run(lines):
        with CaptureQueriesContext(connection) as queries:
            report = match_lines(company=company, at=AT)
        assert (report.lines, report.applied, report.queued) == (lines, 0, lines)
        # the proposals' INSERT is chunked at the database's parameter limit (SQLite: 999);
        # savepoint names differ from run to run
        return [
            q["sql"][:30]
            for q in queries
            if not q["sql"].startswith(("INSERT", "SAVEPOINT", "RELEASE"))
        ]

    add(0, 5)
    queries_of_a_run(5)  # the runs measured below replace stored proposals, as this one did not
    few = queries_of_a_run(5)
    add(5, 50)
    assert queries_of_a_run(50) == few
    assert Proposal.objects.filter(rank=1).count() == 50


def test_the_cli_matches_reviews_confirms_by_item_and_ignores(world, capsys):
    import json

    from django.core.management import call_command

    company, customer = world
    User.objects.create_user("clerk")
    item = f.invoice(company, customer, "A-1", 500_00, date(2025, 2, 1))
    f.invoice(company, f.customer(company, "C002", "Huber AG"), "B-7", 500_00, date(2025, 2, 3))
    line = bank_line(company, 600_00, iban=IBAN, name="Unknown Trading")
    fee = bank_line(company, 12_00, text="interest credit")
    call_command("cash", "match", "--format", "json")
    out = json.loads(capsys.readouterr().out)
    assert (out["lines"], out["applied"], out["queued"]) == (2, 0, 2)
    call_command("cash", "confirm", str(line.pk), "--item", "A-1=500.00", "--by", "clerk")
    assert "applied as payment" in capsys.readouterr().out
    item.refresh_from_db()
    line.refresh_from_db()
    assert (item.open_minor, line.state, line.payment.unapplied_minor) == (0, "applied", 100_00)
    call_command("cash", "ignore", str(fee.pk), "--reason", "bank interest", "--by", "clerk")
    fee.refresh_from_db()
    assert (fee.state, fee.reason) == ("ignored", "bank interest")
    call_command("cash", "review")
    assert "no lines waiting for review" in capsys.readouterr().out


def test_the_cli_refuses_an_item_it_cannot_book_and_writes_nothing(world):
    from django.core.management import CommandError, call_command

    company, customer = world
    User.objects.create_user("clerk")
    f.invoice(company, customer, "A-1", 500_00, date(2025, 2, 1))
    line = bank_line(company, 600_00)
    for given, message in [("NOPE=1.00", "--item: no document numbered 'NOPE'"),
                           ("A-1=600.00", "--item: A-1: EUR 600.00 is more than the EUR 500.00 "
                                          "open on it")]:  # fmt: skip
        with pytest.raises(CommandError) as refused:
            call_command("cash", "confirm", str(line.pk), "--item", given, "--by", "clerk")
        assert str(refused.value) == message
    line.refresh_from_db()
    assert line.state == LineState.UNMATCHED and not Payment.objects.exists()
