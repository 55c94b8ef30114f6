"""The provision matrix: DOMAIN.md §3's worked example with both published rate sets, rounding,
the rates' validation and the roll-forward."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunwell.reports.rules.reserve import (
    BUCKETS,
    DEMO_RATES,
    Rates,
    RatesError,
    owed,
    parse_rates,
    provision,
    reserve_of,
    roll_forward,
)

# DOMAIN.md §3: AR at 31 Mar 2025 aged by due date, in whole euros (as cents here).
AGED = [14_000_000, 4_000_000, 1_500_000, 800_000, 400_000, 300_000]


def test_the_demo_matrix_reserves_7100_of_210000() -> None:
    reserves = reserve_of(AGED, DEMO_RATES)
    assert reserves == [70_000, 80_000, 75_000, 120_000, 140_000, 225_000]
    assert sum(reserves) == 710_000  # 7,100.00 = 3.38 % of 210,000
    assert round(Decimal(sum(reserves)) / sum(AGED) * 100, 2) == Decimal("3.38")


def test_the_ifrs_style_matrix_with_over_90_merged_reserves_2870() -> None:
    ifrs = parse_rates("0.3, 1.6, 3.6, 6.6, 10.6, 10.6")
    reserves = reserve_of(AGED, ifrs)
    assert reserves == [42_000, 64_000, 54_000, 52_800, 42_400, 31_800]
    assert sum(reserves) == 287_000  # 2,870.00 = 1.37 %
    assert round(Decimal(sum(reserves)) / sum(AGED) * 100, 2) == Decimal("1.37")


def test_a_reserve_is_rounded_half_up_to_the_cent() -> None:
    assert provision(1_01, Decimal("0.5")) == 1  # 0.505 cents
    assert provision(3_00, Decimal("0.5")) == 2  # 1.5 cents -> 2
    assert provision(1_00, Decimal("0.25")) == 0  # 0.25 cents
    assert provision(0, Decimal(75)) == 0


def test_a_customers_credit_in_a_bucket_does_not_lower_the_base() -> None:
    assert owed([10_000, -2_500, 0, 400, -1, 0]) == [10_000, 0, 0, 400, 0, 0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.5,2,5,15,35", "expected 6 rates separated by commas"),
        ("0.5,2,5,15,35,75,90", "got 7"),
        ("0.5,2,five,15,35,75", "bucket 31-60: 'five' is not a percentage"),
        ("0.5,2,5,15,35,101", "bucket >120: 101 % is not between 0 and 100"),
        ("-1,2,5,15,35,75", "bucket current: -1 % is not between 0 and 100"),
        ("0.5,2,5,15,35,NaN", "bucket >120: 'NaN' is not a percentage"),
        ("0.1234,2,5,15,35,75", "bucket current: 0.1234 % has more than 3 decimals"),
    ],
)
def test_rates_that_cannot_be_used_are_refused_naming_the_bucket(text: str, message: str) -> None:
    with pytest.raises(RatesError, match=message.replace("+", r"\+")):
        parse_rates(text)


def test_rates_read_back_as_typed() -> None:
    assert parse_rates("0.5%, 2 %,5,15,35,75") == DEMO_RATES
    assert DEMO_RATES.text() == "0.5,2,5,15,35,75"
    assert len(BUCKETS) == len(DEMO_RATES.percents) == 6


def test_the_charge_reconciles_the_opening_and_closing_reserve() -> None:
    moved = roll_forward(opening_minor=700_000, closing_minor=710_000, written_off_minor=50_000)
    assert moved.charge_minor == 60_000
    assert moved.opening_minor + moved.charge_minor - moved.written_off_minor == 710_000


amounts = st.integers(min_value=0, max_value=10**13)
percents = st.decimals(min_value=0, max_value=100, places=3, allow_nan=False)


@given(base=amounts, low=percents, high=percents)
def test_a_higher_rate_never_reserves_less(base: int, low: Decimal, high: Decimal) -> None:
    low, high = min(low, high), max(low, high)
    assert 0 <= provision(base, low) <= provision(base, high) <= base


@given(bases=st.lists(amounts, min_size=6, max_size=6), rates=st.lists(percents, min_size=6,
       max_size=6))  # fmt: skip
def test_each_buckets_reserve_is_within_half_a_cent_of_exact(
    bases: list[int], rates: list[Decimal]
) -> None:
    reserves = reserve_of(bases, Rates(tuple(rates)))
    for base, rate, reserved in zip(bases, rates, reserves, strict=True):
        assert abs(Decimal(reserved) - Decimal(base) * rate / 100) <= Decimal("0.5")
