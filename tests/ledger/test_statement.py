"""The customer statement read model: what was open on a date, per currency, to the cent.

The world: Acme GmbH (company) and Bauer KG (customer, EUR). Dates are fixed; the statement date
is a parameter, never today.
"""

from datetime import date

import pytest

from dunwell.ledger.models import ItemKind
from dunwell.ledger.services.allocations import allocate_payment, apply_credit_note, void_payment
from dunwell.ledger.statement import customer_statement
from dunwell.reports.aging import aging
from dunwell.terms.models import PaymentTerm, PaymentTermLine
from dunwell.terms.rules.due_dates import Basis
from tests import factories as f
from tests.factories import AT

pytestmark = pytest.mark.django_db


def lines(section):
    return [
        (line.entry.number, line.entry.original_minor, line.entry.open_minor, line.days_overdue,
         line.balance_minor)
        for line in section.lines
    ]  # fmt: skip


def allocate(company, payment, item, amount, on=None):
    allocate_payment(company=company, payment=payment, item=item, amount_minor=amount, on=on,
                     actor=None, at=AT)  # fmt: skip


def test_statement_lists_open_items_with_a_running_balance_to_the_cent():
    acme = f.company()
    bauer = f.customer(acme)
    a = f.invoice(acme, bauer, "A-1", 1000_00, date(2026, 1, 1), date(2026, 1, 31))
    f.invoice(
        acme, bauer, "B-1", 150_00, date(2026, 3, 1), date(2026, 3, 10), kind=ItemKind.CREDIT_NOTE
    )
    f.invoice(acme, bauer, "C-1", 250_01, date(2026, 3, 16), date(2026, 4, 15))
    allocate(acme, f.payment(acme, bauer, "P-1", 399_99, date(2026, 2, 10)), a, 399_99)
    f.payment(acme, bauer, "P-2", 50_00, date(2026, 3, 20))

    statement = customer_statement(bauer, date(2026, 3, 31))

    [eur] = statement.sections
    assert eur.currency == "EUR"
    assert lines(eur) == [
        ("A-1", 1000_00, 600_01, 59, 600_01),
        ("B-1", -150_00, -150_00, 0, 450_01),
        ("C-1", 250_01, 250_01, 0, 700_02),
        ("P-2", -50_00, -50_00, 0, 650_02),  # cash on account, a credit line
    ]
    assert eur.aging == (250_01, -150_00, 600_01, 0, 0, 0)
    assert (eur.items_minor, eur.unapplied_minor, eur.balance_minor) == (700_02, 50_00, 650_02)
    assert statement.bucket_labels == ("Current", "1-30", "31-60", "61-90", "91-120", ">120")
    assert statement.customer.account_number == "C001"
    assert statement.company.party.name == "Acme GmbH"


def test_back_dated_statement_ignores_allocations_effective_after_its_date():
    acme = f.company()
    bauer = f.customer(acme)
    invoice = f.invoice(acme, bauer, "A-1", 1000_00, date(2026, 1, 1), date(2026, 1, 31))
    early = f.payment(acme, bauer, "P-1", 1000_00, date(2026, 2, 5))
    allocate(acme, early, invoice, 1000_00, on=date(2026, 2, 15))  # applied ten days later

    [before] = customer_statement(bauer, date(2026, 2, 4)).sections
    assert lines(before) == [("A-1", 1000_00, 1000_00, 4, 1000_00)]
    [received] = customer_statement(bauer, date(2026, 2, 10)).sections
    assert lines(received) == [
        ("A-1", 1000_00, 1000_00, 10, 1000_00),  # the later allocation does not reduce it
        ("P-1", -1000_00, -1000_00, 0, 0),  # the money is on account until it is applied
    ]
    assert customer_statement(bauer, date(2026, 2, 15)).sections == ()
    assert invoice.open_minor == 1000_00  # the stored copy is not what the statement reads
    invoice.refresh_from_db()
    assert invoice.open_minor == 0


def test_partly_applied_payment_shows_only_its_unapplied_rest():
    acme = f.company()
    bauer = f.customer(acme)
    invoice = f.invoice(acme, bauer, "A-1", 300_00, date(2026, 1, 1), date(2026, 1, 31))
    paid = f.payment(acme, bauer, "P-1", 500_00, date(2026, 2, 1))
    allocate(acme, paid, invoice, 300_00)
    [eur] = customer_statement(bauer, date(2026, 2, 28)).sections
    assert lines(eur) == [("P-1", -500_00, -200_00, 0, -200_00)]
    assert (eur.items_minor, eur.unapplied_minor, eur.balance_minor) == (0, 200_00, -200_00)


def test_voided_payment_is_on_account_only_until_it_was_voided():
    acme = f.company()
    bauer = f.customer(acme)
    paid = f.payment(acme, bauer, "P-1", 80_00, date(2026, 2, 1))
    void_payment(company=acme, payment=paid, on=date(2026, 2, 10), reason="returned", actor=None,
                 at=AT)  # fmt: skip
    [eur] = customer_statement(bauer, date(2026, 2, 9)).sections
    assert eur.unapplied_minor == 80_00
    assert customer_statement(bauer, date(2026, 2, 10)).sections == ()


def test_items_issued_after_the_date_and_other_customers_items_are_left_out():
    acme = f.company()
    bauer, other = f.customer(acme), f.customer(acme, "C002", "Other AG")
    f.invoice(acme, bauer, "LATER", 100_00, date(2026, 4, 1), date(2026, 5, 1))
    f.invoice(acme, other, "OTHER", 100_00, date(2026, 1, 1), date(2026, 2, 1))
    f.payment(acme, other, "P-OTHER", 100_00, date(2026, 1, 1))
    assert customer_statement(bauer, date(2026, 3, 31)).sections == ()


def test_a_credit_note_applied_by_the_date_closes_both_items():
    acme = f.company()
    bauer = f.customer(acme)
    invoice = f.invoice(acme, bauer, "A-1", 100_00, date(2026, 1, 1), date(2026, 1, 31))
    note = f.invoice(acme, bauer, "CN-1", 40_00, date(2026, 2, 1), kind=ItemKind.CREDIT_NOTE)
    apply_credit_note(company=acme, credit_note=note, item=invoice, on=date(2026, 2, 5),
                      actor=None, at=AT)  # fmt: skip
    [before] = customer_statement(bauer, date(2026, 2, 4)).sections
    assert lines(before) == [("A-1", 100_00, 100_00, 4, 100_00), ("CN-1", -40_00, -40_00, 0, 60_00)]
    [after] = customer_statement(bauer, date(2026, 2, 5)).sections
    assert lines(after) == [("A-1", 100_00, 60_00, 5, 60_00)]


def test_each_currency_has_its_own_section_and_totals_are_never_summed():
    acme = f.company()
    bauer = f.customer(acme, currency="USD")
    f.invoice(acme, bauer, "E-1", 100_00, date(2026, 3, 1), date(2026, 3, 31), currency="EUR")
    f.invoice(acme, bauer, "U-1", 50_00, date(2026, 3, 1), date(2026, 3, 31))
    f.payment(acme, bauer, "P-EUR", 30_00, date(2026, 4, 1), currency="EUR")
    f.invoice(acme, bauer, "J-1", 1234, date(2026, 3, 1), date(2026, 3, 31), currency="JPY")

    statement = customer_statement(bauer, date(2026, 4, 10))

    assert [(s.currency, s.items_minor, s.unapplied_minor, s.balance_minor)
            for s in statement.sections] == [
        ("USD", 50_00, 0, 50_00),  # the customer's own currency first
        ("EUR", 100_00, 30_00, 70_00),
        ("JPY", 1234, 0, 1234),
    ]  # fmt: skip
    assert [lines(s)[-1][-1] for s in statement.sections] == [50_00, 70_00, 1234]


def test_aging_summary_agrees_with_the_aging_report():
    acme = f.company()
    bauer = f.customer(acme)
    as_of = date(2026, 6, 30)
    for number, due, amount in [("CUR", date(2026, 7, 10), 10_00), ("D15", date(2026, 6, 15), 20_00),
                                ("D45", date(2026, 5, 16), 30_00), ("D75", date(2026, 4, 16), 40_00),
                                ("D100", date(2026, 3, 22), 50_00), ("D200", date(2025, 12, 12), 60_00)]:  # fmt: skip
        f.invoice(acme, bauer, number, amount, date(2025, 12, 1), due)
    partly = f.invoice(acme, bauer, "D46", 99_99, date(2025, 12, 1), date(2026, 5, 15))
    allocate(acme, f.payment(acme, bauer, "P-1", 120_00, date(2026, 6, 1)), partly, 33_33)

    [eur] = customer_statement(bauer, as_of).sections
    [row] = aging(acme, as_of).rows

    assert eur.aging == (10_00, 20_00, 30_00 + 66_66, 40_00, 50_00, 60_00)
    assert list(eur.aging) == row.buckets
    assert eur.unapplied_minor == row.unapplied_minor == 120_00 - 33_33
    assert eur.balance_minor == row.balance_minor


def test_instalments_are_listed_and_aged_by_their_own_due_dates():
    acme = f.company()
    bauer = f.customer(acme)
    halves = PaymentTerm.objects.create(company=acme, code="halves", name="Half at 30, half at 60")
    PaymentTermLine.objects.create(
        term=halves, sequence=1, share_percent=50, basis=Basis.AFTER_INVOICE, days=30
    )
    PaymentTermLine.objects.create(term=halves, sequence=2, basis=Basis.AFTER_INVOICE, days=60)
    item = f.invoice(acme, bauer, "INST-1", 1000_01, date(2026, 1, 1), payment_term=halves)
    allocate(acme, f.payment(acme, bauer, "P-1", 200_00, date(2026, 2, 5)), item, 200_00)

    as_of = date(2026, 3, 10)
    [eur] = customer_statement(bauer, as_of).sections

    assert [(line.entry.number, line.entry.instalment, line.entry.due_on, line.entry.original_minor,
             line.entry.open_minor, line.days_overdue) for line in eur.lines] == [
        ("INST-1", 1, date(2026, 1, 31), 500_01, 300_01, 38),
        ("INST-1", 2, date(2026, 3, 2), 500_00, 500_00, 8),
    ]  # fmt: skip
    [row] = aging(acme, as_of).rows
    assert list(eur.aging) == row.buckets == [0, 500_00, 300_01, 0, 0, 0]


def test_statement_reads_a_fixed_number_of_rows_whatever_the_number_of_items(
    django_assert_max_num_queries,
):
    acme = f.company()
    bauer = f.customer(acme)
    cash = f.payment(acme, bauer, "P-1", 10_000_00, date(2026, 1, 1))
    for n in range(25):
        item = f.invoice(
            acme, bauer, f"INV-{n:02}", 100_00 + n, date(2026, 1, 1), date(2026, 1, 31)
        )
        allocate(acme, cash, item, 1_00, on=date(2026, 2, 1))
        f.payment(acme, bauer, f"P-X{n}", 1_00, date(2026, 1, 2))
    bauer.refresh_from_db()
    with django_assert_max_num_queries(4):  # company, items, allocations, payments
        [eur] = customer_statement(bauer, date(2026, 3, 1)).sections
    assert len(eur.lines) == 25 + 26
    assert eur.items_minor == 25 * 99_00 + sum(range(25))
