"""Debit lines: payments the bank returned re-open what they paid; refunds use unapplied cash."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from dunwell.cases.models import PromiseState
from dunwell.cases.services.promises import make_promise
from dunwell.cash.models import (
    BankAccount,
    BankStatement,
    KnownAccount,
    LineState,
    StatementFile,
    StatementLine,
)
from dunwell.core.errors import DunwellError
from dunwell.ledger.models import (
    Activity,
    ActivityKind,
    Allocation,
    AllocationKind,
    ItemKind,
    OpenItem,
    Payment,
)
from dunwell.ledger.queries import drift
from dunwell.terms.services import create_term
from dunwell.workflows.cash import match_lines, refund_line, return_line
from tests import factories as f

pytestmark = pytest.mark.django_db

AT = datetime(2025, 3, 25, 8, 0, tzinfo=UTC)
IBAN = "DE89370400440532013000"
_counter = iter(range(1, 10_000))


@pytest.fixture
def world():
    company = f.company()
    customer = f.customer(company, "C001", "Bauer KG")
    clerk = User.objects.create_user("clerk")
    return company, customer, clerk


def bank_line(company, amount_minor, *, value_on, structured=(), iban=IBAN, e2e="",
              reason="", reversal=False, name="Bauer KG") -> StatementLine:  # fmt: skip
    account, _ = BankAccount.objects.get_or_create(
        company=company, iban="DE02120300000000202051", currency="EUR",
        defaults={"name": "Main", "created_at": AT},
    )  # fmt: skip
    n = next(_counter)
    file = StatementFile.objects.create(company=company, file_name=f"r{n}.xml", sha256=f"{n:064}",
                                        format="camt053", size=1, imported_at=AT)  # fmt: skip
    statement = BankStatement.objects.create(company=company, account=account, file=file,
                                             key=f"R{n}", statement_id=f"R{n}", entries=1)  # fmt: skip
    return StatementLine.objects.create(
        company=company, account=account, statement=statement, key=f"r{n}", entry_index=1,
        amount_minor=amount_minor, currency="EUR", value_on=value_on,
        structured=list(structured), counterparty_name=name, counterparty_iban=iban,
        end_to_end_id=e2e, return_reason=reason, reversal=reversal, state=LineState.UNMATCHED,
    )  # fmt: skip


def paid(company, item, amount_minor, value_on, **extra) -> StatementLine:
    """A credit line for `item`, applied by the matcher (its RF reference)."""
    line = bank_line(company, amount_minor, value_on=value_on,
                     structured=[item.payment_reference], **extra)  # fmt: skip
    assert match_lines(company=company, at=AT, line_ids=[line.pk]).applied == 1
    line.refresh_from_db()
    assert line.state == LineState.APPLIED
    return line


def verify_is_clean(company, capsys) -> None:
    assert drift(company) == []
    call_command("verify", "--company", company.code)
    assert "every stored balance matches the allocations" in capsys.readouterr().out


def test_a_returned_payment_reopens_the_invoice_to_the_cent_and_writes_history(world, capsys):
    company, customer, clerk = world
    item = f.invoice(company, customer, "INV-0815", 1_250_37, date(2025, 2, 1))
    credit = paid(company, item, 1_250_37, date(2025, 3, 3))
    item.refresh_from_db()
    assert item.open_minor == 0 and item.settled_on == date(2025, 3, 3)
    debit = bank_line(company, -1_250_37, value_on=date(2025, 3, 20), reason="AC04")

    returned = return_line(company=company, line=debit, actor=clerk, at=AT)

    item.refresh_from_db()
    credit.refresh_from_db()
    payment = Payment.objects.get()
    assert (item.open_minor, item.settled_on) == (1_250_37, None)
    assert (payment.voided_on, payment.unapplied_minor) == (date(2025, 3, 20), 0)
    assert (returned.state, returned.returns_id, returned.customer_id, returned.rule) == (
        LineState.RETURNED, credit.pk, customer.pk, "return")  # fmt: skip
    assert returned.decided_by == clerk and returned.decided_at == AT
    assert returned.reason == f"returns line {credit.pk} (payment {payment.external_id}): " \
        "AC04 account closed"  # fmt: skip
    # the original stays applied (its money did come in on 3 March); the link says it went back
    assert credit.state == LineState.APPLIED and credit.returned_by == returned
    voided = Activity.objects.get(kind=ActivityKind.PAYMENT_VOIDED)
    assert voided.customer_id == customer.pk and voided.on == date(2025, 3, 20)
    assert voided.summary == (
        f"Payment {payment.external_id} of 2025-03-03 voided: EUR 1250.37 returned by the bank: "
        f"AC04 account closed (statement line {debit.pk})"
    )
    reversed_ = Activity.objects.get(kind=ActivityKind.ALLOCATION_REVERSED)
    assert reversed_.item_id == item.pk and reversed_.amount_minor == -1_250_37
    verify_is_clean(company, capsys)


def test_a_returned_payment_takes_back_the_bank_charges_written_off_with_it(world, capsys):
    company, customer, clerk = world
    item = f.invoice(company, customer, "INV-0816", 1_250_37, date(2025, 2, 1))
    paid(company, item, 1_245_37, date(2025, 3, 3))  # EUR 5.00 kept back by the banks
    item.refresh_from_db()
    assert item.open_minor == 0
    charges = Allocation.objects.get(kind=AllocationKind.WRITE_OFF)
    assert (charges.amount_minor, charges.payment_id) == (5_00, Payment.objects.get().pk)
    assert Payment.objects.get().unapplied_minor == 0  # the charges took none of its cash

    return_line(company=company, line=bank_line(company, -1_245_37, value_on=date(2025, 3, 20),
                                                reason="AC04"), actor=clerk, at=AT)  # fmt: skip

    item.refresh_from_db()
    assert (item.open_minor, item.settled_on) == (1_250_37, None)  # all of it is owed again
    assert Allocation.objects.get(reversal_of=charges).amount_minor == -5_00
    verify_is_clean(company, capsys)


def test_a_return_is_booked_once(world):
    company, customer, clerk = world
    item = f.invoice(company, customer, "INV-0815", 500_00, date(2025, 2, 1))
    paid(company, item, 500_00, date(2025, 3, 3))
    debit = bank_line(company, -500_00, value_on=date(2025, 3, 20), reason="AM04")
    return_line(company=company, line=debit, actor=clerk, at=AT)
    with pytest.raises(DunwellError, match=f"statement line {debit.pk} is returned already"):
        return_line(company=company, line=debit, actor=clerk, at=AT)
    # a second debit of the same amount from the same payer finds nothing left to return
    again = bank_line(company, -500_00, value_on=date(2025, 3, 21), reason="AM04")
    with pytest.raises(DunwellError, match=r"no applied credit of EUR 500\.00"):
        return_line(company=company, line=again, actor=clerk, at=AT)
    report = match_lines(company=company, at=AT)
    assert report.returned == 0
    item.refresh_from_db()
    again.refresh_from_db()
    assert item.open_minor == 500_00 and again.state == LineState.UNMATCHED
    assert Activity.objects.filter(kind=ActivityKind.PAYMENT_VOIDED).count() == 1
    assert Activity.objects.filter(kind=ActivityKind.ALLOCATION_REVERSED).count() == 1


def test_matching_books_a_flagged_return_with_a_unique_original(world, capsys):
    company, customer, _ = world
    item = f.invoice(company, customer, "INV-0815", 800_00, date(2025, 2, 1))
    credit = paid(company, item, 800_00, date(2025, 3, 3), e2e="E2E-77")
    debit = bank_line(company, -800_00, value_on=date(2025, 3, 10), reversal=True, iban="",
                      e2e="E2E-77")  # fmt: skip
    plain = bank_line(company, -800_00, value_on=date(2025, 3, 11))  # no flag: a person decides
    report = match_lines(company=company, at=AT)
    assert report.returned == 1 and report.as_dict()["returned"] == 1
    debit.refresh_from_db()
    plain.refresh_from_db()
    item.refresh_from_db()
    assert (debit.state, debit.returns_id, debit.decided_by) == (LineState.RETURNED, credit.pk,
                                                                  None)  # fmt: skip
    assert "reversal" in debit.reason
    assert plain.state == LineState.UNMATCHED
    assert item.open_minor == 800_00
    verify_is_clean(company, capsys)


def test_an_ambiguous_return_waits_for_a_person(world):
    company, customer, clerk = world
    first = f.invoice(company, customer, "INV-1", 500_00, date(2025, 2, 1))
    second = f.invoice(company, customer, "INV-2", 500_00, date(2025, 2, 2))
    paid(company, first, 500_00, date(2025, 3, 3))
    later = paid(company, second, 500_00, date(2025, 3, 4))
    debit = bank_line(company, -500_00, value_on=date(2025, 3, 20), reason="MD06")
    assert match_lines(company=company, at=AT).returned == 0
    debit.refresh_from_db()
    assert debit.state == LineState.UNMATCHED
    with pytest.raises(DunwellError, match="2 applied credit lines could be the one returned"):
        return_line(company=company, line=debit, actor=clerk, at=AT)
    assert not Payment.objects.filter(voided_on__isnull=False).exists()
    # the person names it
    return_line(company=company, line=debit, actor=clerk, at=AT, original=later)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.open_minor, second.open_minor) == (0, 500_00)
    debit.refresh_from_db()
    assert debit.reason.endswith("MD06 refund requested by the debtor")


def test_a_return_outside_the_window_or_of_another_amount_is_not_guessed(world):
    company, customer, clerk = world
    item = f.invoice(company, customer, "INV-1", 500_00, date(2025, 1, 1))
    credit = paid(company, item, 500_00, date(2025, 1, 10))
    late = bank_line(company, -500_00, value_on=date(2025, 3, 20), reason="AC04")  # 69 days
    other = bank_line(company, -499_00, value_on=date(2025, 1, 20), reason="AC04")
    for line in (late, other):
        with pytest.raises(DunwellError, match="no applied credit"):
            return_line(company=company, line=line, actor=clerk, at=AT)
    with pytest.raises(DunwellError, match="is not the same amount"):
        return_line(company=company, line=other, actor=clerk, at=AT, original=credit)
    item.refresh_from_db()
    assert item.open_minor == 0


def test_a_returned_payment_counts_no_more_for_an_open_promise(world):
    company, customer, clerk = world
    item = f.invoice(company, customer, "INV-0815", 1_200_00, date(2025, 2, 1))
    made = make_promise(company=company, customer=customer, amount_minor=1_200_00,
                        currency="EUR", promised_by="Petra Bauer", items=[item], actor=None,
                        on=date(2025, 3, 1), at=AT, grace_days=3, note="", channel="phone",
                        promised_on=date(2025, 3, 30))  # fmt: skip
    paid(company, item, 600_00, date(2025, 3, 3))
    made.refresh_from_db()
    assert (made.state, made.paid_minor) == (PromiseState.OPEN, 600_00)
    debit = bank_line(company, -600_00, value_on=date(2025, 3, 10), reason="AC04")
    return_line(company=company, line=debit, actor=clerk, at=AT)
    made.refresh_from_db()
    assert (made.state, made.paid_minor) == (PromiseState.OPEN, 0)


def test_a_refund_reduces_unapplied_cash_oldest_first(world, capsys):
    company, customer, clerk = world
    older = f.payment(company, customer, "P-1", 100_00, date(2025, 3, 1))
    newer = f.payment(company, customer, "P-2", 200_00, date(2025, 3, 5))
    debit = bank_line(company, -250_00, value_on=date(2025, 3, 20))

    done = refund_line(company=company, line=debit, customer=customer, actor=clerk, at=AT)

    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.unapplied_minor, newer.unapplied_minor) == (0, 50_00)
    assert older.settled_on == date(2025, 3, 20) and newer.settled_on is None
    item = OpenItem.objects.get(kind=ItemKind.REFUND)
    assert (item.number, item.amount_minor, item.open_minor, item.settled_on) == (
        f"REFUND-{debit.pk}", 250_00, 0, date(2025, 3, 20))  # fmt: skip
    assert (done.state, done.refund_id, done.customer_id, done.rule) == (
        LineState.REFUNDED, item.pk, customer.pk, "refund")  # fmt: skip
    entry = Activity.objects.get(kind=ActivityKind.REFUND_PAID)
    assert entry.customer_id == customer.pk and entry.amount_minor == 250_00
    assert entry.summary == (
        "Refund of EUR 250.00 paid to the customer from unapplied cash (EUR 100.00 of payment "
        f"P-1, EUR 150.00 of payment P-2): paid back by bank transfer to Bauer KG, {IBAN} "
        f"(statement line {debit.pk})"
    )
    assert KnownAccount.objects.get(iban=IBAN).customer_id == customer.pk
    verify_is_clean(company, capsys)


def test_a_refund_above_the_unapplied_cash_is_refused_and_writes_nothing(world):
    company, customer, clerk = world
    payment = f.payment(company, customer, "P-1", 300_00, date(2025, 3, 1))
    item = f.invoice(company, customer, "INV-1", 100_00, date(2025, 2, 1))
    from dunwell.ledger.services.allocations import allocate_payment

    allocate_payment(company=company, payment=payment, item=item, amount_minor=100_00,
                     actor=None, at=AT)  # fmt: skip
    debit = bank_line(company, -200_01, value_on=date(2025, 3, 20))
    with pytest.raises(DunwellError, match=r"only EUR 200\.00 of their payments is unapplied"):
        refund_line(company=company, line=debit, customer=customer, actor=clerk, at=AT)
    debit.refresh_from_db()
    payment.refresh_from_db()
    assert debit.state == LineState.UNMATCHED and payment.unapplied_minor == 200_00
    assert not OpenItem.objects.filter(kind=ItemKind.REFUND).exists()
    assert not Activity.objects.filter(kind=ActivityKind.REFUND_PAID).exists()
    # a bank return is not a refund; a credit is neither
    flagged = bank_line(company, -100_00, value_on=date(2025, 3, 20), reason="AC04")
    with pytest.raises(DunwellError, match="is a bank return"):
        refund_line(company=company, line=flagged, customer=customer, actor=clerk, at=AT)
    credit = bank_line(company, 100_00, value_on=date(2025, 3, 20))
    with pytest.raises(DunwellError, match="only a debit"):
        refund_line(company=company, line=credit, customer=customer, actor=clerk, at=AT)


def test_the_cli_returns_and_refunds(world, capsys):
    company, customer, _ = world
    item = f.invoice(company, customer, "INV-1", 500_00, date(2025, 2, 1))
    paid(company, item, 500_00, date(2025, 3, 3))
    debit = bank_line(company, -500_00, value_on=date(2025, 3, 20))  # not flagged
    capsys.readouterr()
    call_command("cash", "return", str(debit.pk), "--by", "clerk")
    assert f"line {debit.pk} returned: returns line" in capsys.readouterr().out
    item.refresh_from_db()
    assert item.open_minor == 500_00
    with pytest.raises(CommandError, match="returned already"):
        call_command("cash", "return", str(debit.pk), "--by", "clerk")

    f.payment(company, customer, "P-9", 80_00, date(2025, 3, 21))
    refund = bank_line(company, -80_00, value_on=date(2025, 3, 22))
    # the payee IBAN was learned for Bauer KG when the first payment was applied
    call_command("cash", "refund", str(refund.pk), "--by", "clerk", "--format", "json")
    out = json.loads(capsys.readouterr().out)
    assert (out["state"], out["customer"]) == ("refunded", "C001")
    other = bank_line(company, -10_00, value_on=date(2025, 3, 22), iban="")
    with pytest.raises(CommandError, match="give --customer ACCOUNT"):
        call_command("cash", "refund", str(other.pk), "--by", "clerk")
    with pytest.raises(CommandError, match=r"only EUR 0\.00"):
        call_command("cash", "refund", str(other.pk), "--customer", "C001", "--by", "clerk")


ADVICE_CSV = b"""Payment Reference,Payment Date,Payment Amount,Currency,Invoice Number,Amount Paid,Discount
PAY-778,2025-03-09,3480.00,EUR,INV-1001,2450.00,50.00
PAY-778,2025-03-09,3480.00,EUR,INV-1002,1030.00,
"""


def test_an_advice_becomes_the_split_of_its_line_and_is_applied_on_confirmation(
    world, tmp_path, capsys
):
    from dunwell.cash.models import Advice, Proposal

    company, customer, _ = world
    term = create_term(company=company, code="2-10-net30", name="2/10 net 30", days=30,
                       discount_percent="2", discount_days=10)  # fmt: skip
    first = f.invoice(company, customer, "INV-1001", 2_500_00, date(2025, 3, 1), payment_term=term)
    second = f.invoice(company, customer, "INV-1002", 1_030_00, date(2025, 2, 21))
    line = bank_line(company, 3_480_00, value_on=date(2025, 3, 11), iban="")
    line.text = "PAY-778 Bauer"
    line.save()
    bank_line(company, 3_480_00, value_on=date(2025, 3, 12), iban="")  # same amount, no key
    path = tmp_path / "advice.csv"
    path.write_bytes(ADVICE_CSV)
    call_command("cash", "advice", str(path), "--format", "json")
    [out] = json.loads(capsys.readouterr().out)
    assert (out["line"], out["proposed"]) == (line.pk, True)
    advice = Advice.objects.get()
    assert (advice.payment_key, advice.amount_minor, advice.paid_on) == (
        "PAY-778", 3_480_00, date(2025, 3, 9))  # fmt: skip
    assert list(advice.rows.values_list("number", "amount_minor", "discount_minor", "item")) == [
        ("INV-1001", 2_450_00, 50_00, first.pk), ("INV-1002", 1_030_00, 0, second.pk)]  # fmt: skip
    best = Proposal.objects.get(line=line, rank=1)
    assert (best.rule, best.confidence, best.unapplied_minor) == ("advice", 1000, 0)
    assert best.reason == (
        "remittance advice PAY-778 of 2025-03-09: INV-1001 2450.00 (discount 50.00), "
        "INV-1002 1030.00"
    )
    # the matcher leaves the advised line to the advice
    match_lines(company=company, at=AT)
    assert Proposal.objects.get(line=line, rank=1).rule == "advice"
    call_command("cash", "confirm", str(line.pk), "--by", "clerk")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.open_minor, second.open_minor) == (0, 0)
    verify_is_clean(company, capsys)


def test_pasted_remittance_lines_for_a_named_line(world, capsys):
    from dunwell.cash.models import Proposal

    company, customer, _ = world
    f.invoice(company, customer, "INV-7", 300_00, date(2025, 2, 20))
    f.invoice(company, customer, "INV-8", 200_00, date(2025, 2, 21))
    line = bank_line(company, 520_00, value_on=date(2025, 3, 11))
    text = "Hello,\nINV-7   300.00\nInvoice INV-8: 200.00 EUR\nTotal 500.00\nRegards"
    call_command("cash", "advice", "--text", text, "--line", str(line.pk))
    assert f"the split of line {line.pk}" in capsys.readouterr().out
    best = Proposal.objects.get(line=line, rank=1)
    assert (best.rule, best.unapplied_minor) == ("advice", 20_00)
    other = bank_line(company, 520_00, value_on=date(2025, 3, 12))
    call_command("cash", "advice", "--text", "INV-9 520.00", "--line", str(other.pk))
    assert f"waits: line {other.pk}: no open document numbered INV-9" in capsys.readouterr().out
    assert not Proposal.objects.filter(line=other, rule="advice").exists()
    with pytest.raises(CommandError, match=r"give an advice FILE\.csv or --text"):
        call_command("cash", "advice")
