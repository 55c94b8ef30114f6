"""Payment plan schedules: equal to the cent, month ends, custom dates, interest on the declining
principal (the module docstring's example), and instalment standings as payments come in."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunwell.cases.rules.plans import (
    Instalment,
    PlanError,
    ScheduleTotalError,
    State,
    custom_schedule,
    due_dates,
    equal_schedule,
    interest,
    standings,
)

AGREED = date(2026, 12, 1)


def test_the_worked_example_of_the_module():
    plan = equal_schedule(3_000_00, 3, date(2027, 1, 1), agreed_on=AGREED, every_months=1,
                          yearly_percent=Decimal(6), fee_minor=25_00)  # fmt: skip
    assert (plan.interest_minor, plan.fee_minor, plan.total_minor) == (30_08, 25_00, 3_055_08)
    assert [i.amount_minor for i in plan.instalments] == [1_018_36] * 3
    assert [i.due_on for i in plan.instalments] == [date(2027, 1, 1), date(2027, 2, 1),
                                                    date(2027, 3, 1)]  # fmt: skip


def test_an_uneven_total_gives_its_remainder_cents_to_the_first_instalments():
    plan = equal_schedule(100_00, 3, date(2026, 12, 15), agreed_on=AGREED, every_months=1)
    assert [i.amount_minor for i in plan.instalments] == [33_34, 33_33, 33_33]


def test_month_ends_clamp_and_come_back():
    assert due_dates(date(2027, 1, 31), 4, every_months=1) == [
        date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]  # fmt: skip
    assert due_dates(date(2027, 1, 1), 3, every_days=14) == [
        date(2027, 1, 1), date(2027, 1, 15), date(2027, 1, 29)]  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"every_months": 0}, "every"),
        ({"every_months": 1, "every_days": 7}, "every"),
        ({"every_months": 1, "count": 0}, "instalments"),
        ({"every_months": 1, "first": date(2026, 11, 30)}, "first"),
        ({"every_months": 1, "fee_minor": -1}, "fee"),
        ({"every_months": 1, "yearly_percent": Decimal(101)}, "interest"),
    ],
)
def test_a_bad_equal_schedule_names_the_field(kwargs, field):
    count = kwargs.pop("count", 3)
    first = kwargs.pop("first", date(2026, 12, 15))
    with pytest.raises(PlanError) as raised:
        equal_schedule(1_000_00, count, first, agreed_on=AGREED, **kwargs)
    assert raised.value.field == field


def test_a_custom_schedule_must_add_up_to_the_total_and_its_dates_increase():
    rows = [(date(2026, 12, 15), 600_00), (date(2027, 1, 15), 400_00)]
    plan = custom_schedule(1_000_00, rows, agreed_on=AGREED)
    assert [i.amount_minor for i in plan.instalments] == [600_00, 400_00]
    with pytest.raises(PlanError, match="add up to 90000 minor units; the plan's total is 100000"):
        custom_schedule(1_000_00, [(date(2026, 12, 15), 900_00)], agreed_on=AGREED)
    with pytest.raises(PlanError, match="dates must increase"):
        custom_schedule(1_000_00, list(reversed(rows)), agreed_on=AGREED)
    with pytest.raises(PlanError, match="more than zero"):
        custom_schedule(1_000_00, [*rows, (date(2027, 2, 15), 0)], agreed_on=AGREED)
    with pytest.raises(PlanError, match="total is 102500"):
        custom_schedule(1_000_00, rows, agreed_on=AGREED, fee_minor=25_00)


def test_a_custom_schedule_with_interest_states_the_total_it_needs():
    # shares 600/400; 1,000 x 12 % x 14/365 = 4.60, 400 x 12 % x 31/365 = 4.08
    rows = [(date(2026, 12, 15), 604_60), (date(2027, 1, 15), 404_08)]
    plan = custom_schedule(1_000_00, rows, agreed_on=AGREED, yearly_percent=Decimal(12))
    assert plan.interest_minor == 8_68 and plan.total_minor == 1_008_68


amounts = st.integers(min_value=1, max_value=10**11)
counts = st.integers(min_value=1, max_value=60)
firsts = st.dates(min_value=AGREED, max_value=date(2030, 12, 31))
percents = st.none() | st.decimals(min_value=0, max_value=30, places=3)


@given(principal=amounts, count=counts, first=firsts, months=st.integers(1, 12),
       percent=percents, fee=st.integers(0, 10**6))  # fmt: skip
def test_equal_instalments_add_up_to_the_total_and_differ_by_at_most_a_cent(
    principal, count, first, months, percent, fee
):
    if principal < count:
        with pytest.raises(PlanError):
            equal_schedule(principal, count, first, agreed_on=AGREED, every_months=months)
        return
    plan = equal_schedule(principal, count, first, agreed_on=AGREED, every_months=months,
                          yearly_percent=percent, fee_minor=fee)  # fmt: skip
    parts = [i.amount_minor for i in plan.instalments]
    assert sum(parts) == plan.total_minor == principal + plan.interest_minor + fee
    assert max(parts) - min(parts) <= 1 and parts == sorted(parts, reverse=True)
    dates = [i.due_on for i in plan.instalments]
    assert dates == sorted(set(dates)) and dates[0] == first
    assert plan.interest_minor >= 0 and (percent or plan.interest_minor == 0)


@given(principal=amounts, days=st.lists(st.integers(1, 400), min_size=1, max_size=24),
       percent=st.decimals(min_value=0, max_value=30, places=2))  # fmt: skip
def test_interest_never_exceeds_the_whole_principal_for_the_whole_time(principal, days, percent):
    dates, day = [], AGREED
    for step in days:
        day += timedelta(days=step)
        dates.append(day)
    shares = [principal // len(days)] * len(days)
    shares[0] += principal - sum(shares)
    charged = interest(principal, shares, dates, AGREED, percent)
    ceiling = Decimal(principal) * percent * (dates[-1] - AGREED).days / (100 * 365)
    assert 0 <= charged <= ceiling + len(days)  # each period rounds by at most half a cent


@given(principal=st.integers(100_00, 10**9), parts=st.lists(st.integers(1, 60), min_size=1,
       max_size=12), gaps=st.lists(st.integers(1, 120), min_size=13, max_size=13),
       percent=percents, fee=st.integers(0, 10**5))  # fmt: skip
def test_a_last_amount_left_out_is_the_rest_and_the_schedule_adds_up(
    principal, parts, gaps, percent, fee
):
    """The given amounts take parts/100 of the principal each (at most 60 % together, so some
    is left); the last, left out, is whatever makes the schedule valid."""
    given_amounts = [principal * p // (100 * len(parts)) or 1 for p in parts]
    dates, day = [], AGREED
    for gap in gaps[: len(parts) + 1]:
        day += timedelta(days=gap)
        dates.append(day)
    rows = [*zip(dates, given_amounts, strict=False), (dates[-1], None)]
    plan = custom_schedule(principal, rows, agreed_on=AGREED, yearly_percent=percent,
                           fee_minor=fee)  # fmt: skip
    amounts = [i.amount_minor for i in plan.instalments]
    assert amounts[:-1] == given_amounts and amounts[-1] > 0
    assert sum(amounts) == plan.total_minor == principal + plan.interest_minor + fee
    # the same amounts, all given, make the same plan
    again = custom_schedule(principal, list(zip(dates, amounts, strict=True)), agreed_on=AGREED,
                            yearly_percent=percent, fee_minor=fee)  # fmt: skip
    assert again == plan


def test_only_the_last_amount_may_be_left_out():
    rows = [(date(2026, 12, 15), None), (date(2027, 1, 15), 500_00)]
    with pytest.raises(PlanError, match="only the last instalment's amount") as refused:
        custom_schedule(1_000_00, rows, agreed_on=AGREED)
    assert (refused.value.field, refused.value.row) == ("amount", 1)


SCHEDULE = [Instalment(date(2027, 1, 15), 500_00), Instalment(date(2027, 2, 15), 500_00),
            Instalment(date(2027, 3, 15), 500_00)]  # fmt: skip


def test_payments_fill_the_instalments_in_order_and_an_unpaid_one_is_missed_after_grace():
    paid = [(date(2027, 1, 14), 500_00), (date(2027, 2, 10), 200_00)]
    on_20th = standings(SCHEDULE, paid, on=date(2027, 2, 20), grace_days=5)
    assert [(s.paid_minor, s.state, s.settled_on) for s in on_20th] == [
        (500_00, State.PAID, date(2027, 1, 14)),
        (200_00, State.PARTLY_PAID, None),
        (0, State.DUE, None),
    ]
    assert standings(SCHEDULE, paid, on=date(2027, 2, 21), grace_days=5)[1].state is State.MISSED
    later = standings(SCHEDULE, [*paid, (date(2027, 2, 25), -500_00)], on=date(2027, 2, 25),
                      grace_days=45)  # fmt: skip
    assert [s.state for s in later] == [State.PARTLY_PAID, State.DUE, State.DUE]


@given(payments=st.lists(st.tuples(st.dates(min_value=date(2027, 1, 1),
                                            max_value=date(2027, 4, 30)),
                                   st.integers(1, 800_00)), max_size=8),
       on=st.dates(min_value=date(2027, 1, 1), max_value=date(2027, 5, 31)),
       grace=st.integers(0, 20))  # fmt: skip
def test_what_is_paid_by_the_day_is_what_the_instalments_show(payments, on, grace):
    result = standings(SCHEDULE, payments, on=on, grace_days=grace)
    total = sum(a for d, a in payments if d <= on)
    assert sum(s.paid_minor for s in result) == min(total, 1_500_00)
    seen_unpaid = False
    for instalment, standing in zip(SCHEDULE, result, strict=True):
        assert (standing.state is State.PAID) == (standing.paid_minor == instalment.amount_minor)
        assert not (seen_unpaid and standing.paid_minor)  # filled in order
        seen_unpaid = seen_unpaid or standing.state is not State.PAID
        if standing.settled_on:
            assert standing.settled_on <= on


def test_a_custom_schedule_names_the_row_and_the_field_at_fault():
    rows = [(date(2026, 12, 15), 600_00), (date(2027, 1, 15), 400_00)]
    cases = [
        ([(date(2026, 11, 30), 600_00), rows[1]], (1, "first")),  # before the agreement
        ([rows[0], (date(2026, 12, 15), 400_00)], (2, "due_on")),  # not after row 1
        ([*rows, (date(2027, 2, 15), 0)], (3, "amount")),
    ]
    for schedule, (row, field) in cases:
        with pytest.raises(PlanError) as raised:
            custom_schedule(1_000_00, schedule, agreed_on=AGREED)
        assert (raised.value.row, raised.value.field) == (row, field)
    with pytest.raises(ScheduleTotalError) as short:
        custom_schedule(1_000_00, rows[:1], agreed_on=AGREED, fee_minor=25_00)
    assert (short.value.given_minor, short.value.needed.total_minor) == (600_00, 1_025_00)
