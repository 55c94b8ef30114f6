"""The prediction features see only what was known at their moment (credit.features)."""

from datetime import UTC, date, datetime

import numpy as np
import pytest

from dunwell.cases.services.disputes import open_dispute
from dunwell.cases.services.promises import make_promise
from dunwell.credit.features import FEATURES, day_number, features, load_ledger
from dunwell.ledger.models import ActivityKind, OpenItem
from dunwell.ledger.services import activity
from dunwell.ledger.services.allocations import allocate_payment
from tests import factories as f

pytestmark = pytest.mark.django_db

MOMENT = date(2026, 3, 31)
AT = datetime(2026, 4, 30, 9, 0, tzinfo=UTC)


def pay(company, item: OpenItem, on: date, amount: int | None = None, key: str = "") -> None:
    amount = item.amount_minor if amount is None else amount
    payment = f.payment(company, item.customer, key or f"P-{item.number}-{on}", amount, on)
    allocate_payment(company=company, payment=payment, item=item, amount_minor=amount, on=on,
                     actor=None, at=AT)  # fmt: skip


def world():
    """A customer who paid two invoices 10 and 20 days late, and an invoice open at MOMENT."""
    company = f.company()
    customer = f.customer(company, "C001")
    one = f.invoice(company, customer, "INV-1", 1_000_00, date(2026, 1, 2), date(2026, 1, 16))
    two = f.invoice(company, customer, "INV-2", 3_000_00, date(2026, 1, 15), date(2026, 2, 14))
    pay(company, one, date(2026, 1, 26))
    pay(company, two, date(2026, 3, 6))
    third = f.invoice(company, customer, "INV-3", 2_000_00, date(2026, 3, 2), date(2026, 3, 16))
    later = f.invoice(company, customer, "INV-4", 500_00, date(2026, 3, 20), date(2026, 4, 19))
    return company, customer, third, later


def row(company, item: OpenItem) -> dict[str, float]:
    ledger = load_ledger(company)
    index = int(np.flatnonzero(ledger.item_id == item.pk)[0])
    values = features(ledger, np.array([index]), np.array([day_number(MOMENT)]))[0]
    return dict(zip(FEATURES, values.tolist(), strict=True))


def same(a: dict[str, float], b: dict[str, float]) -> bool:
    return all(a[k] == b[k] or (np.isnan(a[k]) and np.isnan(b[k])) for k in FEATURES)


def test_the_history_of_a_row_is_what_was_settled_by_its_moment():
    company, _, third, _ = world()
    seen = row(company, third)
    assert seen["hist_count"] == 2
    assert seen["hist_mean"] == 15.0  # (10 + 20) / 2
    assert seen["hist_std"] == 5.0
    assert seen["hist_last"] == 20.0
    assert seen["hist_late_share"] == 1.0
    assert seen["hist_beyond_terms"] == 17.5  # (1,000 x 10 + 3,000 x 20) / 4,000
    assert seen["age_days"] == 29 and seen["days_past_due"] == 15 and seen["terms_days"] == 14
    assert seen["due_month"] == 3 and seen["due_day_of_month"] == 16 and seen["due_weekday"] == 0
    assert seen["open_share"] == 1.0
    assert seen["open_count"] == 2 and seen["open_past_due_count"] == 1  # INV-3 past due, INV-4 not


def test_facts_dated_after_the_moment_change_no_feature():
    company, customer, third, later = world()
    before = row(company, third)
    after = date(2026, 4, 1)
    pay(company, third, after, 500_00, key="P-late-part")  # part of the invoice itself
    pay(company, later, date(2026, 4, 2))  # another invoice of the customer settled
    open_dispute(company=company, customer=customer, items=[(third, None)], reason="price",
                 actor=None, on=after, at=AT)  # fmt: skip
    make_promise(company=company, customer=customer, amount_minor=1_500_00, currency="EUR",
                 promised_on=date(2026, 4, 10), promised_by="AP", channel="phone",
                 items=[third], actor=None, on=after, at=AT)  # fmt: skip
    activity.record(company=company, kind=ActivityKind.REMINDER_SENT, on=after, at=AT,
                    customer=customer, summary="reminder", data={"batch": "B1"})  # fmt: skip
    assert same(row(company, third), before)


def test_the_same_facts_dated_by_the_moment_are_seen():
    company, customer, third, later = world()
    before = row(company, third)
    on = MOMENT
    pay(company, third, on, 500_00, key="P-part")
    pay(company, later, on)
    open_dispute(company=company, customer=customer, items=[(third, None)], reason="price",
                 actor=None, on=on, at=AT)  # fmt: skip
    activity.record(company=company, kind=ActivityKind.REMINDER_SENT, on=on, at=AT,
                    customer=customer, summary="reminder", data={"batch": "B1"})  # fmt: skip
    seen = row(company, third)
    assert not same(seen, before)
    assert seen["open_share"] == 0.75  # 500.00 of 2,000.00 paid
    assert (seen["hist_count"], seen["hist_last"]) == (3, -19)  # INV-4 paid 19 days early
    assert seen["item_disputes"] == 1 and seen["account_disputes_year"] == 1
    assert seen["reminders_since_due"] == 1 and seen["letters_since_due"] == 1
    assert seen["open_count"] == 1
