"""Invoices becoming overdue are recorded in the history (ITEM_OVERDUE), once per invoice and due
date, by one set-based pass (`ledger.services.overdue.record_overdue`) that the nightly cycle runs;
its choice agrees with the one definition of overdue (`ledger.rules.open_items.item_status`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dunwell.core.models import Company
from dunwell.core.money import Money
from dunwell.ledger.models import Activity, ActivityKind, Customer, ItemKind, OpenItem
from dunwell.ledger.rules.open_items import ItemStatus, item_status, open_amount_as_of
from dunwell.ledger.services import activity
from dunwell.ledger.services.allocations import allocate_payment, void_item
from dunwell.ledger.services.overdue import WINDOW_DAYS, overdue_key, record_overdue
from tests import factories as f

pytestmark = pytest.mark.django_db

DUE = date(2026, 10, 1)
AT = datetime(2026, 10, 2, 6, 0, tzinfo=UTC)


@pytest.fixture
def acme() -> tuple[Company, Customer]:
    company = f.company()
    return company, f.customer(company, "C001", "Bauer KG")


def overdue(company: Company) -> list[Activity]:
    return list(Activity.objects.filter(company=company, kind=ActivityKind.ITEM_OVERDUE)
                .order_by("pk"))  # fmt: skip


def pay(company: Company, customer: Customer, item: OpenItem, amount: int, on: date) -> None:
    payment = f.payment(company, customer, f"BANK-{item.number}-{on}", amount, on)
    allocate_payment(company=company, payment=payment, item=item, amount_minor=amount,
                     actor=None, at=AT)  # fmt: skip


def test_an_invoice_past_its_due_date_is_recorded_overdue_once(acme) -> None:
    company, customer = acme
    item = f.invoice(company, customer, "INV-1", 600_00, date(2026, 9, 1), DUE)
    pay(company, customer, item, 100_00, date(2026, 9, 20))
    assert record_overdue(company=company, on=DUE, at=AT) == 0  # due today: not overdue yet
    assert record_overdue(company=company, on=DUE + timedelta(days=1), at=AT) == 1
    [entry] = overdue(company)
    assert entry.summary == "Invoice INV-1 is overdue: due on 2026-10-01, open EUR 500.00"
    assert (entry.on, entry.item_id, entry.customer_id, entry.amount_minor, entry.currency) == (
        date(2026, 10, 2), item.pk, customer.pk, 500_00, "EUR")  # fmt: skip
    assert entry.data == {"due_on": "2026-10-01", "total_minor": 600_00, "open_minor": 500_00}
    assert (entry.actor_id, entry.actor_label, entry.recorded_at) == (None, "system", AT)
    assert entry.key == overdue_key(item.pk, DUE) == f"overdue:{item.pk}:2026-10-01"
    assert record_overdue(company=company, on=DUE + timedelta(days=1), at=AT) == 0  # re-run
    assert record_overdue(company=company, on=DUE + timedelta(days=30), at=AT) == 0  # still overdue
    assert len(overdue(company)) == 1


def test_invoices_not_due_settled_voided_or_not_invoices_get_no_entry(acme) -> None:
    company, customer = acme
    on = DUE + timedelta(days=10)
    f.invoice(company, customer, "INV-LATER", 100_00, date(2026, 9, 1), on)  # due on the day
    paid = f.invoice(company, customer, "INV-PAID", 200_00, date(2026, 9, 1), DUE)
    pay(company, customer, paid, 200_00, date(2026, 9, 30))
    voided = f.invoice(company, customer, "INV-VOID", 300_00, date(2026, 9, 1), DUE)
    void_item(company=company, item=voided, on=date(2026, 9, 25), reason="duplicate",
              actor=None, at=AT)  # fmt: skip
    f.invoice(company, customer, "CN-1", 50_00, date(2026, 9, 1), DUE, kind=ItemKind.CREDIT_NOTE)
    f.invoice(company, customer, "FEE-1", 5_00, date(2026, 9, 1), DUE, kind=ItemKind.FEE)
    other = f.company("bolt")
    f.invoice(other, f.customer(other, "B1", "Bolt Kunde"), "B-INV-1", 900_00, date(2026, 9, 1),
              DUE)  # fmt: skip
    due = f.invoice(company, customer, "INV-DUE", 400_00, date(2026, 9, 1), DUE)
    assert record_overdue(company=company, on=on, at=AT) == 1
    assert [e.item_id for e in overdue(company)] == [due.pk]
    assert overdue(other) == []  # another company's pass records its own


def test_the_pass_agrees_with_the_rule_of_what_is_overdue_on_a_past_day(acme) -> None:
    company, customer = acme
    on = date(2026, 10, 10)  # a back-dated pass: the payment of 20 October was not made yet
    later = f.invoice(company, customer, "INV-A", 600_00, date(2026, 9, 1), DUE)
    pay(company, customer, later, 600_00, date(2026, 10, 20))
    early = f.invoice(company, customer, "INV-B", 250_00, date(2026, 9, 1), DUE)
    pay(company, customer, early, 250_00, date(2026, 10, 5))
    f.invoice(company, customer, "INV-C", 75_00, date(2026, 9, 1), date(2026, 10, 9))
    f.invoice(company, customer, "INV-D", 80_00, date(2026, 9, 1), on)
    record_overdue(company=company, on=on, at=AT)
    expected = {
        item.number
        for item in OpenItem.objects.filter(company=company).prefetch_related("allocations")
        if item_status(
            open_minor=open_amount_as_of(item.amount_minor, [(a.effective_on, a.amount_minor)
                                                            for a in item.allocations.all()], on),
            due_on=item.due_on, as_of=on, voided=item.voided_on is not None,
        ) is ItemStatus.OVERDUE
    }  # fmt: skip
    assert expected == {"INV-A", "INV-C"}
    assert {e.item.number: e.summary for e in overdue(company)} == {
        "INV-A": "Invoice INV-A is overdue: due on 2026-10-01, open EUR 600.00",
        "INV-C": "Invoice INV-C is overdue: due on 2026-10-09, open EUR 75.00",
    }


def test_a_moved_due_date_records_the_invoice_overdue_again(acme) -> None:
    company, customer = acme
    item = f.invoice(company, customer, "INV-1", 600_00, date(2026, 9, 1), DUE)
    record_overdue(company=company, on=date(2026, 10, 5), at=AT)
    # a corrected file moves the due date (as `dunwell import invoices` updates a document)
    OpenItem.objects.filter(pk=item.pk).update(due_on=date(2026, 10, 20))
    assert record_overdue(company=company, on=date(2026, 10, 20), at=AT) == 0
    assert record_overdue(company=company, on=date(2026, 10, 21), at=AT) == 1
    assert [e.summary for e in overdue(company)] == [
        "Invoice INV-1 is overdue: due on 2026-10-01, open EUR 600.00",
        "Invoice INV-1 is overdue: due on 2026-10-20, open EUR 600.00",
    ]


def test_a_pass_records_only_what_another_pass_has_not(acme) -> None:
    company, customer = acme
    items = [f.invoice(company, customer, f"INV-{n}", 100_00 + n, date(2026, 9, 1), DUE)
             for n in range(1, 6)]  # fmt: skip
    # what a pass that ran at the same time, or before a due date was corrected back, wrote
    activity.record(company=company, kind=ActivityKind.ITEM_OVERDUE, on=DUE, at=AT, summary="x",
                    item=items[1], customer=customer, key=overdue_key(items[1].pk, DUE))  # fmt: skip
    assert record_overdue(company=company, on=date(2026, 10, 5), at=AT) == 4
    assert sorted(e.item_id for e in overdue(company)) == sorted(i.pk for i in items)
    assert record_overdue(company=company, on=date(2026, 10, 6), at=AT) == 0


@pytest.mark.parametrize(
    ("currency", "open_minor"),
    [("EUR", 1_234_567_89), ("EUR", 5), ("JPY", 120_000), ("KWD", 1_500), ("KWD", 7),
     ("CLF", 12_3456), ("CHF", 100_00)],
)  # fmt: skip
def test_the_open_amount_reads_as_money_prints_it(acme, currency: str, open_minor: int) -> None:
    company, customer = acme
    f.invoice(company, customer, "INV-1", open_minor, date(2026, 9, 1), DUE, currency=currency)
    record_overdue(company=company, on=date(2026, 10, 5), at=AT)
    [entry] = overdue(company)
    money = Money.from_minor(open_minor, currency)
    assert entry.summary == f"Invoice INV-1 is overdue: due on 2026-10-01, open {money}"


def test_the_pass_costs_the_same_queries_for_few_or_many_invoices(acme) -> None:
    company, customer = acme
    counts = []
    for size, day in ((3, date(2026, 10, 5)), (30, date(2026, 10, 6))):
        for n in range(size):
            f.invoice(company, customer, f"INV-{size}-{n}", 10_00, date(2026, 9, 1), DUE)
        with CaptureQueriesContext(connection) as queries:
            assert record_overdue(company=company, on=day, at=AT) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_only_invoices_that_fell_due_within_the_window_are_recorded(acme) -> None:
    company, customer = acme
    on = DUE + timedelta(days=WINDOW_DAYS)
    f.invoice(company, customer, "INV-OLD", 100_00, date(2026, 8, 1), DUE - timedelta(days=1))
    edge = f.invoice(company, customer, "INV-EDGE", 200_00, date(2026, 8, 1), DUE)
    assert record_overdue(company=company, on=on, at=AT) == 1
    assert list(Activity.objects.filter(kind=ActivityKind.ITEM_OVERDUE).values_list(
        "item_id", flat=True)) == [edge.pk]  # fmt: skip
