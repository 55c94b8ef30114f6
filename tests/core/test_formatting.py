"""Amounts and dates as a German or an English reader writes them, to the currency's last digit."""

from datetime import date
from decimal import Decimal

import pytest

from dunwell.core.formatting import (
    country_name,
    format_amount,
    format_date,
    format_money,
    format_number,
)


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "expected"),
    [
        (123456, "EUR", "de", "1.234,56\xa0€"),
        (123456, "EUR", "en", "€1,234.56"),
        (-123456, "EUR", "de", "-1.234,56\xa0€"),
        (5, "EUR", "en", "€0.05"),
        (1234, "JPY", "en", "¥1,234"),  # no minor unit
        (1234567, "KWD", "de", "1.234,567\xa0KWD"),  # three decimals
        (1234500, "IQD", "en", "IQD1,234.500"),  # ISO 4217 says three, CLDR says none
        (123456, "CHF", "de_CH", "CHF\xa01’234.56"),
    ],
)
def test_money_is_formatted_with_the_currency_exponent(minor, currency, locale, expected):
    assert format_money(minor, currency, locale) == expected


def test_huge_amounts_keep_every_cent():
    assert format_money(10**17 + 1, "EUR", "de") == "1.000.000.000.000.000,01\xa0€"


def test_unknown_locale_falls_back_to_english():
    assert format_money(123456, "EUR", "xx") == "€1,234.56"
    assert format_date(date(2026, 11, 23), "not a locale") == "Nov 23, 2026"


def test_dates_in_german_and_english():
    assert format_date(date(2026, 11, 23), "de") == "23.11.2026"
    assert format_date(date(2026, 11, 23), "en") == "Nov 23, 2026"
    assert format_date(date(2026, 11, 23), "de", "long") == "23. November 2026"


def test_unit_prices_show_their_extra_decimals_and_at_least_the_currencys():
    assert format_amount(Decimal("12.012500"), "EUR", "de", max_decimals=6) == "12,0125\xa0€"
    assert format_amount(Decimal("12.000000"), "EUR", "en", max_decimals=6) == "€12.00"


def test_numbers_and_countries():
    assert format_number(Decimal("1.500000"), "de") == "1,5"
    assert format_number(Decimal("19.0000"), "en") == "19"
    assert country_name("DE", "de") == "Deutschland"
    assert country_name("at", "en") == "Austria"
    assert country_name("", "en") == ""
