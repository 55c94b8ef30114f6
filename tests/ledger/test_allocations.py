from datetime import date
from decimal import Decimal

import pytest

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.ledger.models import Activity, ActivityKind, Allocation, ItemKind
from dunwell.ledger.queries import drift, open_items
from dunwell.ledger.services.allocations import (
    allocate_oldest_first,
    allocate_payment,
    apply_credit_note,
    reverse_allocations,
    void_item,
    void_payment,
    write_off,
)
from dunwell.ledger.services.fx import set_rate
from dunwell.terms.services import create_term
from tests import factories as f
from tests.factories import AT

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    company = f.company()
    customer = f.customer(company)
    return company, customer


def test_invoice_due_date_comes_from_the_default_terms_when_not_given(world):
    company, customer = world
    item = f.invoice(company, customer, "INV-1", 100_00, date(2025, 1, 31))
    assert item.due_on == date(2025, 3, 2)
    assert item.payment_reference == "RF47INV1"  # valid ISO 11649 (checked in tests/core)
    assert item.open_minor == 100_00


def test_partial_payment_leaves_the_rest_open_and_back_dated_views_are_exact(world):
    company, customer = world
    item = f.invoice(company, customer, "INV-1", 1000_00, date(2025, 3, 1), date(2025, 3, 31))
    pay1 = f.payment(company, customer, "P1", 400_00, date(2025, 4, 10))
    pay2 = f.payment(company, customer, "P2", 600_00, date(2025, 5, 20))
    allocate_payment(
        company=company, payment=pay1, item=item, amount_minor=400_00, actor=None, at=AT
    )
    allocate_payment(
        company=company, payment=pay2, item=item, amount_minor=600_00, actor=None, at=AT
    )
    item.refresh_from_db()
    assert item.open_minor == 0
    assert item.settled_on == date(2025, 5, 20)
    [as_of_april] = open_items(company, customer, date(2025, 4, 30))
    assert as_of_april.open_minor == 600_00
    assert as_of_april.days_past_due == 30
    assert open_items(company, customer, date(2025, 5, 20)) == []
    assert drift(company) == []


def test_allocation_above_the_open_amount_is_refused_and_nothing_is_written(world):
    company, customer = world
    item = f.invoice(company, customer, "INV-1", 100_00, date(2025, 3, 1))
    pay = f.payment(company, customer, "P1", 500_00, date(2025, 3, 10))
    with pytest.raises(DunwellError) as refused:
        allocate_payment(
            company=company, payment=pay, item=item, amount_minor=150_00, actor=None, at=AT
        )
    assert refused.value.code is ErrorCode.OVER_ALLOCATION
    assert (
        str(refused.value) == "cannot allocate EUR 150.00 to Invoice INV-1: only EUR 100.00 is open"
    )
    assert Allocation.objects.count() == 0


def test_overpayment_stays_on_the_account_as_unapplied_cash(world):
    company, customer = world
    item = f.invoice(company, customer, "INV-1", 100_00, date(2025, 3, 1))
    pay = f.payment(company, customer, "P1", 130_00, date(2025, 3, 10))
    allocate_oldest_first(company=company, payment=pay, actor=None, at=AT)
    pay.refresh_from_db()
    item.refresh_from_db()
    assert (item.open_minor, pay.unapplied_minor, pay.settled_on) == (0, 30_00, None)


def test_oldest_first_settles_the_earliest_due_invoice_first(world):
    company, customer = world
    newer = f.invoice(company, customer, "INV-2", 100_00, date(2025, 3, 1), date(2025, 4, 30))
    older = f.invoice(company, customer, "INV-1", 100_00, date(2025, 2, 1), date(2025, 3, 31))
    pay = f.payment(company, customer, "P1", 150_00, date(2025, 5, 10))
    allocate_oldest_first(company=company, payment=pay, actor=None, at=AT)
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.open_minor, newer.open_minor) == (0, 50_00)


def test_payment_in_another_currency_converts_at_the_dated_rate(world):
    company, customer = world
    item = f.invoice(company, customer, "INV-1", 1000_00, date(2025, 3, 1))
    pay = f.payment(company, customer, "P1", 1100_00, date(2025, 3, 10), currency="USD")
    set_rate(base="USD", quote="EUR", on=date(2025, 3, 10), rate=Decimal("0.9090909091"))
    [row] = allocate_payment(
        company=company, payment=pay, item=item, amount_minor=1000_00, actor=None, at=AT
    )
    assert (row.amount_minor, row.payment_amount_minor, row.fx_on) == (
        1000_00,
        1100_00,
        date(2025, 3, 10),
    )
    entry = Activity.objects.get(kind=ActivityKind.ALLOCATED)
    assert "USD 1100.00 at 0.9090909091 on 2025-03-10" in entry.summary


def test_payment_in_another_currency_without_a_rate_for_its_date_is_refused(world):
    company, customer = world
    item = f.invoice(company, customer, "INV-1", 1000_00, date(2025, 3, 1))
    pay = f.payment(company, customer, "P1", 1100_00, date(2025, 3, 10), currency="USD")
    with pytest.raises(DunwellError) as refused:
        allocate_payment(
            company=company, payment=pay, item=item, amount_minor=1000_00, actor=None, at=AT
        )
    assert refused.value.code is ErrorCode.NO_FX_RATE
    assert "no USD/EUR exchange rate for 2025-03-10" in str(refused.value)


def test_credit_note_applied_reduces_both_documents(world):
    company, customer = world
    item = f.invoice(company, customer, "INV-1", 100_00, date(2025, 3, 1))
    note = f.invoice(company, customer, "CN-1", 30_00, date(2025, 3, 5), kind=ItemKind.CREDIT_NOTE)
    assert note.amount_minor == -30_00
    apply_credit_note(company=company, credit_note=note, item=item, actor=None, at=AT)
    item.refresh_from_db()
    note.refresh_from_db()
    assert (item.open_minor, note.open_minor, note.settled_on) == (70_00, 0, date(2025, 3, 5))
    assert drift(company) == []


def test_reversal_reopens_the_item_and_keeps_the_earlier_view(world):
    company, customer = world
    item = f.invoice(company, customer, "INV-1", 100_00, date(2025, 3, 1), date(2025, 3, 31))
    pay = f.payment(company, customer, "P1", 100_00, date(2025, 3, 20))
    rows = allocate_payment(
        company=company, payment=pay, item=item, amount_minor=100_00, actor=None, at=AT
    )
    void_payment(company=company, payment=pay, on=date(2025, 4, 2), reason="returned by the bank",
                 actor=None, at=AT)  # fmt: skip
    item.refresh_from_db()
    assert (item.open_minor, item.settled_on) == (100_00, None)
    assert open_items(company, customer, date(2025, 3, 25)) == []
    assert open_items(company, customer, date(2025, 4, 5))[0].open_minor == 100_00
    with pytest.raises(DunwellError, match="already a reversal or reversed"):
        reverse_allocations(company=company, allocations=rows, on=date(2025, 4, 5), reason="again",
                            actor=None, at=AT)  # fmt: skip
    assert drift(company) == []


def test_write_off_and_void_close_items_with_a_history_entry(world):
    company, customer = world
    small = f.invoice(company, customer, "INV-1", 12_34, date(2025, 3, 1))
    wrong = f.invoice(company, customer, "INV-2", 99_00, date(2025, 3, 1))
    write_off(company=company, item=small, on=date(2025, 9, 30), reason="below collection threshold",
              actor=None, at=AT)  # fmt: skip
    void_item(
        company=company, item=wrong, on=date(2025, 3, 2), reason="issued twice", actor=None, at=AT
    )
    small.refresh_from_db()
    wrong.refresh_from_db()
    assert (small.open_minor, wrong.open_minor, wrong.voided_on) == (0, 0, date(2025, 3, 2))
    kinds = set(Activity.objects.values_list("kind", flat=True))
    assert {ActivityKind.WRITTEN_OFF, ActivityKind.DOCUMENT_VOIDED} <= kinds


def test_void_is_refused_while_money_is_allocated(world):
    company, customer = world
    item = f.invoice(company, customer, "INV-1", 100_00, date(2025, 3, 1))
    pay = f.payment(company, customer, "P1", 50_00, date(2025, 3, 10))
    allocate_payment(company=company, payment=pay, item=item, amount_minor=50_00, actor=None, at=AT)
    with pytest.raises(DunwellError) as refused:
        void_item(company=company, item=item, on=date(2025, 3, 11), reason="x", actor=None, at=AT)
    assert refused.value.code is ErrorCode.HAS_ALLOCATIONS


def test_due_date_before_issue_date_is_refused(world):
    company, customer = world
    with pytest.raises(DunwellError) as refused:
        f.invoice(company, customer, "INV-1", 100_00, date(2025, 3, 1), date(2025, 2, 1))
    assert refused.value.code is ErrorCode.DUE_BEFORE_ISSUE
    assert str(refused.value) == "INV-1: due date 2025-02-01 is before the issue date 2025-03-01"


# -- early-payment discounts (issue 3 point 7, DOMAIN.md 4.5) ------------------------------------


@pytest.fixture
def on_discount_terms(world):
    company, customer = world
    term = create_term(company=company, code="2-10-net30", name="2/10 net 30", days=30,
                       discount_percent="2", discount_days=10)  # fmt: skip
    item = f.invoice(company, customer, "INV-D", 10_000_00, date(2025, 3, 1), payment_term=term)
    assert (item.discount_until, item.discount_minor) == (date(2025, 3, 11), 200_00)
    return company, customer, item


def test_the_discounted_amount_paid_in_time_settles_the_invoice_in_full(on_discount_terms):
    company, customer, item = on_discount_terms
    payment = f.payment(company, customer, "P1", 9_800_00, date(2025, 3, 9))
    allocate_payment(company=company, payment=payment, item=item, amount_minor=9_800_00,
                     actor=None, at=AT)  # fmt: skip
    item.refresh_from_db()
    assert (item.open_minor, item.settled_on) == (0, date(2025, 3, 9))
    rows = Allocation.objects.filter(target=item).order_by("pk")
    assert [(a.kind, a.amount_minor, a.payment_id) for a in rows] == [
        ("payment", 9_800_00, payment.pk),
        ("discount", 200_00, payment.pk),
    ]
    payment.refresh_from_db()
    assert payment.unapplied_minor == 0  # the discount is not taken from the payment
    granted = Activity.objects.get(kind=ActivityKind.DISCOUNT_GRANTED)
    assert granted.summary == (
        "early-payment discount of EUR 200.00 on Invoice INV-D: paid on 2025-03-09, within "
        "the discount period to 2025-03-11"
    )
    assert drift(company) == []
    # a returned payment takes the discount back with it
    void_payment(company=company, payment=payment, on=date(2025, 3, 20), reason="returned",
                 actor=None, at=AT)  # fmt: skip
    item.refresh_from_db()
    assert item.open_minor == 10_000_00


def test_the_discounted_amount_paid_late_leaves_the_discount_open(on_discount_terms):
    company, customer, item = on_discount_terms
    payment = f.payment(company, customer, "P1", 9_800_00, date(2025, 3, 25))
    allocate_payment(company=company, payment=payment, item=item, amount_minor=9_800_00,
                     actor=None, at=AT)  # fmt: skip
    item.refresh_from_db()
    assert item.open_minor == 200_00 and item.settled_on is None
    assert not Allocation.objects.filter(kind="discount").exists()


def test_paying_oldest_first_in_two_parts_earns_the_discount_with_the_second(on_discount_terms):
    company, customer, item = on_discount_terms
    first = f.payment(company, customer, "P1", 4_900_00, date(2025, 3, 4))
    allocate_oldest_first(company=company, payment=first, actor=None, at=AT)
    item.refresh_from_db()
    assert item.open_minor == 5_100_00
    second = f.payment(company, customer, "P2", 4_900_00, date(2025, 3, 10))
    allocate_oldest_first(company=company, payment=second, actor=None, at=AT)
    item.refresh_from_db()
    assert item.open_minor == 0
    discount = Allocation.objects.get(kind="discount")
    assert (discount.amount_minor, discount.payment_id) == (200_00, second.pk)


def test_a_german_payment_without_designation_settles_costs_then_interest_then_principal(world):
    company, customer = world
    company.governing_law = "DE"
    company.save()
    a = f.invoice(company, customer, "A", 5_000_00, date(2025, 1, 2), date(2025, 2, 1))
    b = f.invoice(company, customer, "B", 5_000_00, date(2025, 1, 31), date(2025, 3, 1))
    interest = f.invoice(company, customer, "INT-A", 80_00, date(2025, 3, 31), date(2025, 4, 14),
                         kind=ItemKind.INTEREST, related=a)  # fmt: skip
    costs = f.invoice(company, customer, "FEE-A", 40_00, date(2025, 3, 31), date(2025, 4, 14),
                      kind=ItemKind.FEE, related=a)  # fmt: skip
    payment = f.payment(company, customer, "P1", 3_000_00, date(2025, 4, 2))
    allocate_oldest_first(company=company, payment=payment, actor=None, at=AT)
    applied = {a.target_id: a.amount_minor for a in Allocation.objects.filter(payment=payment)}
    assert applied == {costs.pk: 40_00, interest.pk: 80_00, a.pk: 2_880_00}
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.open_minor, b.open_minor) == (2_120_00, 5_000_00)
