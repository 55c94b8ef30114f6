"""The ledger's batch services (`allocate_payments`, `write_offs`, `receive_payments`): what a
batch does is what its requests one by one would have done, in a fixed number of statements."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dunwell.core.errors import DunwellError
from dunwell.ledger.models import Activity, ActivityKind, Allocation, Payment, WriteOff
from dunwell.ledger.services.allocations import (
    Share,
    WriteOffRequest,
    allocate_payments,
    write_offs,
)
from dunwell.ledger.services.payments import PaymentInput, Received, receive_payments
from dunwell.terms.models import Basis, PaymentTerm, PaymentTermLine
from tests import factories as f

pytestmark = pytest.mark.django_db

AT = datetime(2026, 2, 10, 9, tzinfo=UTC)


def halves(company):
    term = PaymentTerm.objects.create(company=company, code="halves", name="Half at 30, 60")
    PaymentTermLine.objects.create(term=term, sequence=1, share_percent=50,
                                   basis=Basis.AFTER_INVOICE, days=30)  # fmt: skip
    PaymentTermLine.objects.create(term=term, sequence=2, basis=Basis.AFTER_INVOICE, days=60)
    return term


def test_two_shares_on_one_item_in_instalments_split_as_one_after_the_other():
    acme = f.company()
    bauer = f.customer(acme)
    item = f.invoice(acme, bauer, "INST-1", 1000_00, date(2026, 1, 1), payment_term=halves(acme))
    first = f.payment(acme, bauer, "P-1", 300_00, date(2026, 2, 5))
    second = f.payment(acme, bauer, "P-2", 400_00, date(2026, 2, 6))
    allocate_payments(company=acme, shares=[Share(first.pk, item.pk, 300_00),
                                            Share(second.pk, item.pk, 400_00)],
                      actor=None, at=AT)  # fmt: skip
    rows = Allocation.objects.filter(target=item).order_by("pk")
    assert [(r.payment_id, r.target_due_on, r.amount_minor) for r in rows] == [
        (first.pk, date(2026, 1, 31), 300_00),
        (second.pk, date(2026, 1, 31), 200_00),  # what the first share left of instalment 1
        (second.pk, date(2026, 3, 2), 200_00),
    ]
    item.refresh_from_db()
    assert item.open_minor == 300_00
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.unapplied_minor, second.unapplied_minor) == (0, 0)
    assert list(Activity.objects.filter(kind=ActivityKind.ALLOCATED).values_list("summary", flat=True)
                .order_by("pk")) == [
        "EUR 300.00 of payment P-1 allocated to Invoice INST-1",
        "EUR 400.00 of payment P-2 allocated to Invoice INST-1",
    ]  # fmt: skip


def test_a_batch_that_asks_more_than_is_open_writes_nothing():
    acme = f.company()
    bauer = f.customer(acme)
    item = f.invoice(acme, bauer, "A-1", 500_00, date(2026, 1, 1))
    one = f.payment(acme, bauer, "P-1", 400_00, date(2026, 2, 5))
    two = f.payment(acme, bauer, "P-2", 400_00, date(2026, 2, 5))
    with pytest.raises(DunwellError, match=r"only EUR 100\.00 is open"):
        allocate_payments(company=acme, shares=[Share(one.pk, item.pk, 400_00),
                                                Share(two.pk, item.pk, 400_00)],
                          actor=None, at=AT)  # fmt: skip
    assert not Allocation.objects.exists()
    assert not Activity.objects.filter(kind=ActivityKind.ALLOCATED).exists()
    with pytest.raises(DunwellError, match=r"only EUR 5\.00 is open"):
        write_offs(company=acme, requests=[WriteOffRequest(item.pk, date(2026, 2, 5), "fees",
                                                           495_00),
                                           WriteOffRequest(item.pk, date(2026, 2, 5), "fees",
                                                           6_00)],
                   actor=None, at=AT)  # fmt: skip
    assert not WriteOff.objects.exists()


def test_write_offs_in_one_batch_each_with_its_record_rows_and_entry():
    acme = f.company()
    bauer = f.customer(acme)
    one = f.invoice(acme, bauer, "A-1", 500_00, date(2026, 1, 1))
    two = f.invoice(acme, bauer, "A-2", 80_00, date(2026, 1, 2))
    made = write_offs(company=acme, requests=[
        WriteOffRequest(one.pk, date(2026, 2, 5), "bank charges", 3_50),
        WriteOffRequest(two.pk, date(2026, 2, 6), "small balance"),
    ], actor=None, at=AT)  # fmt: skip
    assert [(w.item_id, w.amount_minor, w.reason) for w in made] == [
        (one.pk, 3_50, "bank charges"), (two.pk, 80_00, "small balance")]  # fmt: skip
    assert [(a.write_off_id, a.amount_minor, a.effective_on) for a in
            Allocation.objects.order_by("pk")] == [(made[0].pk, 3_50, date(2026, 2, 5)),
                                                   (made[1].pk, 80_00, date(2026, 2, 6))]  # fmt: skip
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.open_minor, two.open_minor, two.settled_on) == (496_50, 0, date(2026, 2, 6))
    assert list(Activity.objects.filter(kind=ActivityKind.WRITTEN_OFF).order_by("pk")
                .values_list("summary", flat=True)) == [
        "EUR 3.50 of Invoice A-1 written off: bank charges",
        "EUR 80.00 of Invoice A-2 written off: small balance",
    ]  # fmt: skip


def test_receiving_a_batch_refuses_an_id_given_twice_and_one_already_recorded():
    acme = f.company()
    bauer = f.customer(acme)

    def spec(external_id):
        return Received(PaymentInput(customer=bauer, external_id=external_id,
                                     value_on=date(2026, 2, 5), currency="EUR",
                                     amount_minor=10_00))  # fmt: skip

    made = receive_payments(company=acme, received=[spec("A"), spec("B")], actor=None, at=AT)
    assert [p.external_id for p in made] == ["A", "B"] and all(p.pk for p in made)
    assert Activity.objects.filter(kind=ActivityKind.PAYMENT_RECEIVED).count() == 2
    for batch in ([spec("C"), spec("C")], [spec("D"), spec("A")]):
        with pytest.raises(DunwellError, match="is already recorded"):
            receive_payments(company=acme, received=batch, actor=None, at=AT)
    assert Payment.objects.count() == 2


def test_a_batch_of_allocations_costs_the_same_statements_whatever_its_size():
    acme = f.company()
    bauer = f.customer(acme)

    def statements(count):
        shares = []
        for n in range(count):
            item = f.invoice(acme, bauer, f"N{count}-{n}", 100_00, date(2026, 1, 1))
            payment = f.payment(acme, bauer, f"P{count}-{n}", 100_00, date(2026, 2, 5))
            shares.append(Share(payment.pk, item.pk, 100_00))
        with CaptureQueriesContext(connection) as queries:
            allocate_payments(company=acme, shares=shares, actor=None, at=AT)
        return len(queries)

    assert statements(3) == statements(40)
