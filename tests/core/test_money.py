from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunwell.core.money import (
    CurrencyMismatchError,
    Money,
    MoneyError,
    parse_amount,
    split,
    split_minor,
)


def test_money_refuses_floats():
    with pytest.raises(MoneyError, match="float"):
        Money(0.1, "EUR")  # type: ignore[arg-type]


def test_adding_two_currencies_is_refused():
    with pytest.raises(CurrencyMismatchError, match="EUR and USD"):
        Money("1.00", "EUR") + Money("1.00", "USD")


def test_unknown_currency_names_the_code():
    with pytest.raises(MoneyError, match="'EUX'"):
        Money("1", "EUX")


def test_minor_units_follow_the_currency_exponent():
    assert Money.from_minor(12345, "EUR").amount == Decimal("123.45")
    assert Money.from_minor(12345, "JPY").amount == Decimal("12345")
    assert Money.from_minor(12345, "KWD").amount == Decimal("12.345")


def test_statutory_interest_example_rounds_half_up_once():
    exact = Money("10000", "EUR") * Decimal("0.1127") * Decimal(45) / 365  # type: ignore[operator]
    assert str(exact.rounded()) == "EUR 138.95"


def test_a_hundred_euros_in_three_parts_keeps_every_cent():
    assert [str(p) for p in split(Money("100.00", "EUR"), [1, 1, 1])] == [
        "EUR 33.34",
        "EUR 33.33",
        "EUR 33.33",
    ]


@given(
    whole=st.integers(min_value=-(10**15), max_value=10**15),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=24).filter(
        lambda ws: sum(ws) > 0
    ),
)
def test_split_parts_always_add_up_to_the_whole(whole, weights):
    parts = split_minor(whole, weights)
    assert sum(parts) == whole
    assert len(parts) == len(weights)
    # No part is more than one minor unit away from its exact share.
    for part, weight in zip(parts, weights, strict=True):
        assert abs(abs(part) - abs(whole) * weight / sum(weights)) < 1


@pytest.mark.parametrize(
    ("text", "decimal_sep", "thousands_sep", "expected"),
    [
        ("1,234.56", ".", ",", "1234.56"),
        ("1.234,56", ",", ".", "1234.56"),
        ("(12.00)", ".", ",", "-12.00"),
        ("12.00-", ".", ",", "-12.00"),
        ("1 234,56", ",", ".", "1234.56"),
        ("500,", ",", ".", "500"),
    ],
)
def test_amounts_parse_as_people_write_them(text, decimal_sep, thousands_sep, expected):
    assert parse_amount(text, decimal_sep=decimal_sep, thousands_sep=thousands_sep) == Decimal(
        expected
    )


@pytest.mark.parametrize("text", ["abc", "", "1.234,56", "--1", "1e5"])
def test_non_numbers_are_refused_with_the_text(text):
    with pytest.raises(MoneyError):
        parse_amount(text)
