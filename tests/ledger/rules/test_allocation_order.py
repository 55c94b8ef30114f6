from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunwell.ledger.rules.allocation_order import (
    APPLICATION_ORDER,
    OpenPart,
    Planned,
    plan_oldest_first,
    split_over_instalments,
)

ISSUED = date(2025, 1, 1)
A = OpenPart(1, date(2025, 2, 28), ISSUED, 80_000)
B = OpenPart(2, date(2025, 1, 31), ISSUED, 50_000)
C = OpenPart(3, date(2025, 3, 31), ISSUED, 40_000)


def test_oldest_due_item_is_settled_first_when_the_payment_covers_only_some():
    planned, remainder = plan_oldest_first(150_000, [A, B, C])
    assert planned == [
        Planned(2, date(2025, 1, 31), 50_000),
        Planned(1, date(2025, 2, 28), 80_000),
        Planned(3, date(2025, 3, 31), 20_000),
    ]
    assert remainder == 0


def test_excess_is_left_unapplied_when_the_payment_covers_everything():
    planned, remainder = plan_oldest_first(200_000, [A, B, C])
    assert [p.amount_minor for p in planned] == [50_000, 80_000, 40_000]
    assert remainder == 30_000


def test_ties_go_to_the_earlier_issue_date_then_the_lower_id_when_due_dates_are_equal():
    due = date(2025, 3, 31)
    items = [
        OpenPart(9, due, date(2025, 3, 1), 100),
        OpenPart(5, due, date(2025, 3, 1), 100),
        OpenPart(7, due, date(2025, 2, 1), 100),
    ]
    planned, _ = plan_oldest_first(300, items)
    assert [p.item_id for p in planned] == [7, 5, 9]


def test_credit_notes_and_settled_items_are_skipped_when_planning():
    items = [
        OpenPart(1, date(2025, 1, 1), ISSUED, -5_000),
        OpenPart(2, date(2025, 1, 2), ISSUED, 0),
        OpenPart(3, date(2025, 1, 3), ISSUED, 1_000),
    ]
    assert plan_oldest_first(700, items) == ([Planned(3, date(2025, 1, 3), 700)], 0)


def test_nothing_is_planned_when_the_payment_is_zero_or_nothing_is_open():
    assert plan_oldest_first(0, [A, B]) == ([], 0)
    assert plan_oldest_first(5_000, []) == ([], 5_000)


def test_a_negative_amount_is_refused_when_planning_or_splitting():
    with pytest.raises(ValueError, match="-1"):
        plan_oldest_first(-1, [A])
    with pytest.raises(ValueError, match="-1"):
        split_over_instalments(-1, [(date(2025, 1, 31), 100)])


def test_earliest_open_instalment_is_paid_first_when_splitting_over_instalments():
    instalments = [
        (date(2025, 5, 1), 40_001),
        (date(2025, 3, 2), 0),  # already paid
        (date(2025, 4, 1), 30_000),
    ]
    assert split_over_instalments(50_000, instalments) == [
        (date(2025, 4, 1), 30_000),
        (date(2025, 5, 1), 20_000),
    ]


def test_splitting_is_refused_when_the_amount_exceeds_what_the_instalments_owe():
    with pytest.raises(ValueError, match="owe 300"):
        split_over_instalments(301, [(date(2025, 3, 2), 100), (date(2025, 4, 1), 200)])


# -- properties -----------------------------------------------------------------------------------

open_parts = st.lists(
    st.builds(
        OpenPart,
        item_id=st.integers(min_value=1, max_value=10_000),
        due_on=st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)),
        issued_on=st.dates(min_value=date(2023, 1, 1), max_value=date(2026, 12, 31)),
        open_minor=st.integers(min_value=-100_000, max_value=100_000),
    ),
    max_size=20,
    unique_by=lambda part: part.item_id,
)


@given(amount=st.integers(min_value=0, max_value=10**6), items=open_parts)
def test_plan_never_exceeds_open_amounts_nor_the_payment_when_items_are_random(amount, items):
    planned, remainder = plan_oldest_first(amount, items)
    open_by_id = {item.item_id: item.open_minor for item in items}
    assert all(0 < p.amount_minor <= open_by_id[p.item_id] for p in planned)
    assert sum(p.amount_minor for p in planned) + remainder == amount
    assert 0 <= remainder <= amount
    owed = sum(item.open_minor for item in items if item.open_minor > 0)
    assert remainder == max(0, amount - owed)


@given(amount=st.integers(min_value=0, max_value=10**6), items=open_parts)
def test_only_the_last_planned_item_is_partly_settled_when_items_are_random(amount, items):
    planned, _ = plan_oldest_first(amount, items)
    open_by_id = {item.item_id: item.open_minor for item in items}
    assert all(p.amount_minor == open_by_id[p.item_id] for p in planned[:-1])
    order = [(p.due_on, p.item_id) for p in planned]
    assert [due for due, _ in order] == sorted(due for due, _ in order)


@given(
    instalments=st.lists(
        st.tuples(
            st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)),
            st.integers(min_value=0, max_value=100_000),
        ),
        max_size=8,
    ),
    share=st.fractions(min_value=0, max_value=1),
)
def test_instalment_split_adds_up_and_respects_each_part_when_amounts_are_random(
    instalments, share
):
    owed = sum(open_minor for _, open_minor in instalments)
    amount = int(owed * share)
    result = split_over_instalments(amount, instalments)
    assert sum(applied for _, applied in result) == amount
    assert [on for on, _ in result] == sorted(on for on, _ in result)
    assert all(applied > 0 for _, applied in result)


# -- costs and interest before principal (BGB § 367(1), DOMAIN.md 4.5) ---------------------------

DEBT_A = OpenPart(10, date(2025, 2, 1), ISSUED, 5_000_00)
DEBT_B = OpenPart(20, date(2025, 3, 1), date(2025, 1, 31), 5_000_00)
INTEREST_A = OpenPart(11, date(2025, 4, 14), date(2025, 3, 31), 80_00, "interest", 10)
COSTS_A = OpenPart(12, date(2025, 4, 14), date(2025, 3, 31), 40_00, "fee", 10)


def test_a_german_payment_settles_costs_then_interest_then_principal_of_the_older_debt():
    order = APPLICATION_ORDER["DE"]
    planned, remainder = plan_oldest_first(3_000_00, [DEBT_B, INTEREST_A, DEBT_A, COSTS_A], order)
    assert [(p.item_id, p.amount_minor) for p in planned] == [
        (12, 40_00),  # costs
        (11, 80_00),  # interest
        (10, 2_880_00),  # principal: A keeps 2,120.00 open
    ]
    assert remainder == 0


def test_without_a_statutory_order_each_charge_takes_its_place_by_its_own_due_date():
    planned, _ = plan_oldest_first(10_120_00, [DEBT_B, INTEREST_A, DEBT_A, COSTS_A])
    assert [p.item_id for p in planned] == [10, 20, 11, 12]
    french = APPLICATION_ORDER["FR"]  # interest before principal; a fee is a debt of its own
    planned, _ = plan_oldest_first(10_120_00, [DEBT_B, INTEREST_A, DEBT_A, COSTS_A], french)
    assert [p.item_id for p in planned] == [11, 10, 20, 12]


def test_a_charge_whose_invoice_is_settled_takes_its_own_place():
    order = APPLICATION_ORDER["DE"]
    planned, _ = plan_oldest_first(5_040_00, [DEBT_B, COSTS_A], order)
    assert [p.item_id for p in planned] == [20, 12]  # B is due before the fee


@given(amount=st.integers(min_value=0, max_value=10**6), items=open_parts, data=st.data())
def test_charges_of_a_debt_are_planned_before_its_principal_when_items_are_random(
    amount, items, data
):
    ids = [item.item_id for item in items]
    charged = []
    for item in items:
        kind = data.draw(st.sampled_from(["invoice", "fee", "interest"]))
        debt = data.draw(st.sampled_from(ids)) if kind != "invoice" else None
        charged.append(
            OpenPart(item.item_id, item.due_on, item.issued_on, item.open_minor, kind, debt)
        )
    planned, remainder = plan_oldest_first(amount, charged, APPLICATION_ORDER["DE"])
    assert sum(p.amount_minor for p in planned) + remainder == amount
    position = {p.item_id: n for n, p in enumerate(planned)}
    by_id = {item.item_id: item for item in charged}
    for item in charged:
        debt = by_id.get(item.debt) if item.debt is not None else None
        if debt is None or debt.kind != "invoice":
            continue
        if item.item_id in position and debt.item_id in position:
            assert position[item.item_id] < position[debt.item_id]
