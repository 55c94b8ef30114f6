"""Recording a payment another system reports and applying it in one transaction
(`workflows.payments.receive_and_apply`, behind POST /api/payments): to the invoices named, oldest
first, or not at all; the promises it keeps follow the money; a refusal records nothing."""

from datetime import UTC, date, datetime

import pytest

from dunwell.cases.models import PromiseState
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.ledger.models import Activity, ActivityKind, ItemKind, Payment
from dunwell.ledger.services.payments import PaymentInput
from dunwell.workflows.payments import receive_and_apply
from dunwell.workflows.promises import open_promise
from tests import factories as f

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PAID_ON = date(2026, 11, 20)


@pytest.fixture
def world():
    company = f.company()
    bauer = f.customer(company, "C001", "Bauer KG")
    one = f.invoice(company, bauer, "INV-1", 600_00, date(2026, 9, 1), due_on=date(2026, 10, 1))
    two = f.invoice(company, bauer, "INV-2", 400_00, date(2026, 8, 1), due_on=date(2026, 9, 1))
    return company, bauer, one, two


def paid(customer, amount_minor, key="ERP-1"):
    return PaymentInput(customer=customer, external_id=key, value_on=PAID_ON, currency="EUR",
                        amount_minor=amount_minor, reference="INV-1 INV-2")  # fmt: skip


def test_a_payment_settles_the_named_invoices_in_the_order_given(world) -> None:
    company, bauer, one, two = world
    payment, rows = receive_and_apply(company=company, spec=paid(bauer, 800_00),
                                      items=[(one, None), (two, None)], actor=None, at=AT)  # fmt: skip
    one.refresh_from_db()
    two.refresh_from_db()
    assert [(r.target.number, r.amount_minor) for r in rows] == [("INV-1", 600_00),
                                                                   ("INV-2", 200_00)]  # fmt: skip
    assert (one.open_minor, one.settled_on, two.open_minor) == (0, PAID_ON, 200_00)
    assert (payment.unapplied_minor, payment.settled_on) == (0, PAID_ON)
    assert list(Activity.objects.filter(kind=ActivityKind.ALLOCATED).values_list("summary", flat=True)) == [
        "EUR 600.00 of payment ERP-1 allocated to Invoice INV-1",
        "EUR 200.00 of payment ERP-1 allocated to Invoice INV-2",
    ]  # fmt: skip


def test_a_named_amount_is_applied_as_given_and_the_rest_stays_on_the_account(world) -> None:
    company, bauer, one, _ = world
    payment, _ = receive_and_apply(company=company, spec=paid(bauer, 500_00),
                                   items=[(one, 150_00)], actor=None, at=AT)  # fmt: skip
    one.refresh_from_db()
    assert (one.open_minor, payment.unapplied_minor, payment.settled_on) == (450_00, 350_00, None)


def test_oldest_first_spreads_it_over_the_open_invoices_oldest_due_first(world) -> None:
    company, bauer, _, _ = world
    payment, rows = receive_and_apply(company=company, spec=paid(bauer, 1_100_00),
                                      oldest_first=True, actor=None, at=AT)  # fmt: skip
    assert [(r.target.number, r.amount_minor) for r in rows] == [("INV-2", 400_00),
                                                                   ("INV-1", 600_00)]  # fmt: skip
    assert payment.unapplied_minor == 100_00


def test_without_invoices_or_oldest_first_it_stays_unapplied(world) -> None:
    company, bauer, _, _ = world
    payment, rows = receive_and_apply(company=company, spec=paid(bauer, 300_00), actor=None, at=AT)
    assert (rows, payment.unapplied_minor) == ([], 300_00)
    assert Activity.objects.get(kind=ActivityKind.PAYMENT_RECEIVED).summary == (
        "Payment of EUR 300.00 received, reference INV-1 INV-2"
    )


def test_the_promise_the_payment_completes_is_kept_at_once(world) -> None:
    company, bauer, one, _ = world
    promise = open_promise(company=company, customer=bauer, amount_minor=600_00, currency="EUR",
                           promised_on=date(2026, 11, 30), promised_by="Petra Bauer",
                           channel="phone", items=[one], actor=None, on=date(2026, 11, 16),
                           at=AT)  # fmt: skip
    receive_and_apply(company=company, spec=paid(bauer, 600_00), items=[(one, None)], actor=None,
                      at=AT)  # fmt: skip
    promise.refresh_from_db()
    assert (promise.state, promise.paid_minor) == (PromiseState.KEPT, 600_00)


@pytest.mark.parametrize(
    ("items_of", "code", "message"),
    [
        pytest.param(lambda one, two, note: [(one, None), (one, None)], ErrorCode.INVALID,
                     "an invoice is named twice", id="twice"),
        pytest.param(lambda one, two, note: [(note, None)], ErrorCode.INVALID,
                     "CN-1 is a credit note: a payment settles what is owed", id="credit_note"),
        pytest.param(lambda one, two, note: [(one, 700_00)], ErrorCode.OVER_ALLOCATION,
                     "cannot allocate EUR 700.00 to Invoice INV-1: only EUR 600.00 is open",
                     id="more_than_open"),
        pytest.param(lambda one, two, note: [(one, None), (two, None)], ErrorCode.INVALID,
                     "INV-2: nothing of the payment is left for it, or nothing is open on it",
                     id="nothing_left"),
    ],
)  # fmt: skip
def test_a_refused_application_records_no_payment(world, items_of, code, message) -> None:
    company, bauer, one, two = world
    note = f.invoice(company, bauer, "CN-1", 50_00, date(2026, 9, 5), kind=ItemKind.CREDIT_NOTE)
    with pytest.raises(DunwellError) as refused:
        receive_and_apply(company=company, spec=paid(bauer, 600_00),
                          items=items_of(one, two, note), actor=None, at=AT)  # fmt: skip
    assert (refused.value.code, refused.value.message) == (code, message)
    assert not Payment.objects.exists()
