"""Matching stored bank lines to open items: applied automatically, queued, confirmed, learned."""

from __future__ import annotations

import re
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


def promised_invoice(company, customer, promised_on):
    """Invoice INV-0815 of 1,200.00 and Petra Bauer's promise to pay it by `promised_on`."""
    item = f.invoice(company, customer, "INV-0815", 1_200_00, date(2025, 2, 1))
    made = make_promise(company=company, customer=customer, amount_minor=1_200_00,
                        currency="EUR", promised_by="Petra Bauer", items=[item], actor=None,
                        on=date(2025, 3, 3), at=AT, grace_days=3, note="", channel="phone",
                        promised_on=promised_on)  # fmt: skip
    return item, made


def test_a_promise_kept_by_the_applied_payment_changes_state_with_it(world):
    company, customer = world
    item, made = promised_invoice(company, customer, date(2025, 3, 10))
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
        # (an executemany is logged as "N times: INSERT ...")
        return [
            q["sql"][:30]
            for q in queries
            if not re.sub(r"^\d+ times: ", "", q["sql"]).startswith(("INSERT", "SAVEPOINT",
                                                                        "RELEASE"))
        ]  # fmt: skip

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


def test_two_lines_for_one_invoice_in_one_batch_the_second_waits(world):
    """A customer paid the same invoice twice: the second payment is not forced onto it."""
    company, customer = world
    item = f.invoice(company, customer, "INV-0815", 500_00, date(2025, 3, 1))
    first = bank_line(company, 500_00, structured=[item.payment_reference])
    second = bank_line(company, 500_00, structured=[item.payment_reference])
    report = match_lines(company=company, at=AT)
    assert (report.lines, report.applied, report.failed, report.queued) == (2, 1, 1, 1)
    assert report.errors == [f"line {second.pk}: Invoice INV-0815 has only EUR 0.00 open: the "
                             "proposal puts EUR 500.00 on it"]  # fmt: skip
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (LineState.APPLIED, LineState.UNMATCHED)
    assert Payment.objects.get().statement_line == first
    assert Proposal.objects.filter(line=second).exists()  # it waits with its proposals


def test_a_line_refused_after_its_batch_was_written_costs_the_others_nothing(world):
    """A discount the ledger does not grant is seen only once the allocations are written: the
    batch is rolled back and booked again without that line."""
    from dunwell.cash.rules.values import Allocation
    from dunwell.cash.rules.values import Proposal as Value
    from dunwell.workflows.cash import apply_lines

    company, customer = world
    plain = f.invoice(company, customer, "A-1", 300_00, date(2025, 3, 1))
    no_discount = f.invoice(company, customer, "A-2", 1_000_00, date(2025, 3, 1))
    good = bank_line(company, 300_00)
    greedy = bank_line(company, 980_00)
    done = apply_lines(company=company, pairs=[
        (good.pk, Value(customer.pk, (Allocation(plain.pk, 300_00),), 0, 1000, "manual",
                        "by hand")),
        (greedy.pk, Value(customer.pk, (Allocation(no_discount.pk, 980_00, 20_00),), 0, 1000,
                       "manual", "by hand")),
    ], actor=None, at=AT)  # fmt: skip
    assert list(done.payments) == [good.pk]
    assert str(done.refused[greedy.pk]) == (
        "the early-payment discount on Invoice A-2 is not earned by this payment: EUR 20.00 "
        "would stay open"
    )
    plain.refresh_from_db()
    no_discount.refresh_from_db()
    assert (plain.open_minor, no_discount.open_minor) == (0, 1_000_00)
    assert Payment.objects.get().amount_minor == 300_00
    assert Activity.objects.filter(kind=ActivityKind.PAYMENT_RECEIVED).count() == 1
    greedy.refresh_from_db()
    assert greedy.state == LineState.UNMATCHED


def test_a_persons_confirmations_in_one_batch_each_count(world):
    from dunwell.cash.rules.values import Allocation
    from dunwell.cash.rules.values import Proposal as Value
    from dunwell.workflows.cash import apply_lines

    company, customer = world
    clerk = User.objects.create_user("clerk")
    items = [f.invoice(company, customer, f"A-{n}", 100_00, date(2025, 3, 1)) for n in (1, 2)]
    lines = [bank_line(company, 100_00, iban="DE89 3704 0044 0532 0130 00") for _ in items]
    done = apply_lines(company=company, pairs=[
        (line.pk, Value(customer.pk, (Allocation(item.pk, 100_00),), 0, 1000, "manual", "by hand"))
        for line, item in zip(lines, items, strict=True)
    ], actor=clerk, at=AT)  # fmt: skip
    assert not done.refused
    known = KnownAccount.objects.get()
    assert (known.iban, known.customer_id, known.confirmations) == (IBAN, customer.pk, 2)


def test_a_promise_is_kept_on_the_day_the_money_that_completed_it_came(world):
    """A month of statements matched in one batch: a promise paid in two parts is kept on the
    second part's value date, not on the first's."""
    company, customer = world
    item, made = promised_invoice(company, customer, date(2025, 3, 12))
    bank_line(company, 600_00, structured=[item.payment_reference], value_on=date(2025, 3, 11))
    bank_line(company, 600_00, structured=[item.payment_reference], value_on=date(2025, 3, 5))
    assert match_lines(company=company, at=AT).applied == 2
    made.refresh_from_db()
    assert (made.state, made.decided_on) == (PromiseState.KEPT, date(2025, 3, 11))


def test_applying_is_set_based_the_statements_do_not_grow_with_the_lines(world):
    company, customer = world

    def statements_of_a_run(first, last):
        for n in range(first, last):
            item = f.invoice(company, customer, f"INV-{n:04}", 100_00 + n, date(2025, 2, 1))
            bank_line(company, 100_00 + n - 3, structured=[item.payment_reference],
                      iban=f"DE{n:020}")  # fmt: skip  # 3 cents of bank charges each
        with CaptureQueriesContext(connection) as queries:
            report = match_lines(company=company, at=AT)
        assert (report.applied, report.queued) == (last - first, 0)
        return len([q for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))])

    assert statements_of_a_run(0, 4) == statements_of_a_run(4, 40)
    assert Activity.objects.filter(kind=ActivityKind.WRITTEN_OFF).count() == 40
