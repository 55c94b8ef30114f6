"""Amounts, dates and country names as a reader of one locale writes them (Babel, at the edge).

Formatting is kept apart from arithmetic (STYLE.md, from Beancount): amounts stay integer minor
units until they are printed here. The number of decimals is the currency's ISO 4217 exponent from
`core.money`, not CLDR's: the two disagree for a few codes (CLDR prints the Iraqi dinar with no
decimals, ISO 4217 has three), and a statement must show every minor unit it sums.

Worked examples: 123456 minor units of EUR are "1.234,56 €" in German ("de") and "€1,234.56" in
English ("en"); 1234 of JPY is "¥1,234"; 2026-11-23 is "23.11.2026" and "Nov 23, 2026".

`locale` is a Babel identifier ("de", "de_CH", "en_US"); an unknown one falls back to English.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.numbers import NumberPattern, parse_pattern
from babel.numbers import format_decimal as babel_format_decimal

from dunwell.core.money import Money, exponent

FALLBACK = "en"


@lru_cache(maxsize=64)
def _locale(locale: str) -> Locale:
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK)


def format_amount(
    amount: Decimal, currency: str, locale: str, *, max_decimals: int | None = None
) -> str:
    """An exact amount with the currency's symbol: the currency's decimals, more if it has them.

    `max_decimals` allows more digits than the currency's exponent (unit prices such as 0.0125).
    """
    places = exponent(currency)
    pattern = _currency_pattern(locale, places, max(places, max_decimals or places))
    return str(pattern.apply(amount, _locale(locale), currency=currency, currency_digits=False))


@lru_cache(maxsize=256)
def _currency_pattern(locale: str, least: int, most: int) -> NumberPattern:
    """The locale's currency pattern with this precision: parsed once, never changed after
    (a reminder run prints thousands of amounts)."""
    pattern = parse_pattern(_locale(locale).currency_formats["standard"].pattern)
    pattern.frac_prec = (least, most)
    return pattern


def format_money(minor: int, currency: str, locale: str) -> str:
    """Integer minor units in a currency: format_money(123456, "EUR", "de") == "1.234,56\xa0€"."""
    return format_amount(Money.from_minor(minor, currency).amount, currency, locale)


def format_number(value: Decimal, locale: str) -> str:
    """A quantity or a rate as written in the locale, with all its significant decimals."""
    return str(babel_format_decimal(value, locale=_locale(locale), decimal_quantization=False))


def format_date(day: date, locale: str, style: str = "medium") -> str:
    """A date in the locale's own style: "23.11.2026" (de), "Nov 23, 2026" (en)."""
    return str(babel_format_date(day, style, locale=_locale(locale)))


def country_name(code: str, locale: str) -> str:
    """The name of an ISO 3166 country in the locale ("DE" -> "Deutschland"), else the code."""
    return str(_locale(locale).territories.get(code.upper(), code)) if code else ""
