from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunwell.ledger.rules.open_items import (
    ItemStatus,
    days_past_due,
    is_partly_paid,
    item_status,
    open_amount_as_of,
    settled_on,
)

DUE = date(2025, 3, 31)
PAID_IN_TWO = ((date(2025, 4, 10), 40_000), (date(2025, 5, 20), 60_000))
REVERSAL = ((date(2025, 6, 1), -60_000),)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2025, 4, 9), 100_000),
        (date(2025, 4, 10), 60_000),
        (date(2025, 4, 30), 60_000),
        (date(2025, 5, 20), 0),
        (date(2025, 12, 31), 0),
    ],
)
def test_open_amount_counts_allocations_effective_on_or_before_the_date_when_paid_in_two(
    as_of, expected
):
    assert open_amount_as_of(100_000, PAID_IN_TWO, as_of) == expected


def test_item_is_settled_on_the_last_payment_when_paid_in_two():
    assert settled_on(100_000, PAID_IN_TWO) == date(2025, 5, 20)


def test_item_is_not_settled_when_a_reversal_reopens_it():
    allocations = PAID_IN_TWO + REVERSAL
    assert settled_on(100_000, allocations) is None
    assert open_amount_as_of(100_000, allocations, date(2025, 6, 1)) == 60_000
    assert open_amount_as_of(100_000, allocations, date(2025, 5, 31)) == 0


def test_item_is_settled_on_the_repayment_when_a_reversed_payment_is_paid_again():
    allocations = PAID_IN_TWO + REVERSAL + ((date(2025, 6, 15), 60_000),)
    assert settled_on(100_000, allocations) == date(2025, 6, 15)


def test_settled_on_is_none_when_nothing_or_too_little_was_allocated():
    assert settled_on(100_000, ()) is None
    assert settled_on(100_000, PAID_IN_TWO[:1]) is None
    assert settled_on(0, ()) is None


def test_credit_note_is_settled_when_fully_applied():
    assert settled_on(-5_000, ((date(2025, 2, 1), -2_000), (date(2025, 2, 3), -3_000))) == date(
        2025, 2, 3
    )


def test_allocations_on_one_day_count_together_when_a_payment_is_reversed_and_reapplied():
    allocations = ((date(2025, 4, 10), 100_000), (date(2025, 4, 12), -100_000))
    allocations += ((date(2025, 4, 12), 100_000),)
    assert settled_on(100_000, allocations) == date(2025, 4, 10)


@pytest.mark.parametrize(
    ("_case", "open_minor", "as_of", "voided", "expected"),
    [
        ("before_due", 100_000, date(2025, 3, 30), False, ItemStatus.OPEN),
        ("due_today_is_not_overdue", 100_000, DUE, False, ItemStatus.OPEN),
        ("day_after_due", 100_000, date(2025, 4, 1), False, ItemStatus.OVERDUE),
        ("partly_paid_late", 60_000, date(2025, 4, 30), False, ItemStatus.OVERDUE),
        ("settled", 0, date(2025, 5, 20), False, ItemStatus.PAID),
        ("voided", 100_000, date(2025, 5, 20), True, ItemStatus.VOID),
        ("unapplied_credit_note", -5_000, date(2025, 5, 20), False, ItemStatus.OPEN),
    ],
)
def test_status_follows_open_amount_and_due_date_when_asked_as_of_a_date(
    _case, open_minor, as_of, voided, expected
):
    assert item_status(open_minor=open_minor, due_on=DUE, as_of=as_of, voided=voided) is expected


@pytest.mark.parametrize(
    ("amount", "open_minor", "expected"),
    [
        (100_000, 60_000, True),
        (100_000, 100_000, False),
        (100_000, 0, False),
        (100_000, -1_000, False),  # overpaid
        (-5_000, -2_000, True),  # credit note partly applied
        (-5_000, -5_000, False),
        (0, 0, False),
    ],
)
def test_partly_paid_is_true_only_when_some_but_not_all_was_settled(amount, open_minor, expected):
    assert is_partly_paid(amount, open_minor) is expected


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [(date(2025, 3, 1), 0), (DUE, 0), (date(2025, 4, 1), 1), (date(2025, 4, 30), 30)],
)
def test_days_past_due_count_from_the_day_after_the_due_date(as_of, expected):
    assert days_past_due(DUE, as_of) == expected


# -- properties -----------------------------------------------------------------------------------

allocation_lists = st.lists(
    st.tuples(
        st.dates(min_value=date(2025, 1, 1), max_value=date(2025, 12, 31)),
        st.integers(min_value=-50_000, max_value=50_000),
    ),
    max_size=12,
)


@given(amount=st.integers(min_value=-100_000, max_value=100_000), allocations=allocation_lists)
def test_settled_on_is_the_day_from_which_the_item_stays_at_zero_when_allocations_are_random(
    amount, allocations
):
    result = settled_on(amount, allocations)
    days = sorted({on for on, _ in allocations})
    if result is None:
        final_open = open_amount_as_of(amount, allocations, date.max)
        never_open = all(open_amount_as_of(amount, allocations, d) == 0 for d in days)
        assert final_open != 0 or (amount == 0 and never_open)
        return
    assert all(open_amount_as_of(amount, allocations, d) == 0 for d in days if d >= result)
    assert open_amount_as_of(amount, allocations, result - timedelta(days=1)) != 0


@given(amount=st.integers(min_value=-100_000, max_value=100_000), allocations=allocation_lists)
def test_open_amount_is_the_amount_less_all_allocations_when_asked_after_the_last(
    amount, allocations
):
    assert open_amount_as_of(amount, allocations, date(2026, 1, 1)) == amount - sum(
        a for _, a in allocations
    )
