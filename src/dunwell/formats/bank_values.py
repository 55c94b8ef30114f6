"""Values every bank statement reader needs: account identifiers, currency codes, amounts.

- An IBAN is recognised by its shape (two letters, two check digits, 11 to 30 letters or digits,
  spaces ignored), not by its check digits: the matcher validates them before it trusts one, and
  test files, the shared samples among them, carry made-up IBANs. Anything else that identifies
  an account is kept as an account number, as written.
- A currency is three letters. Statements may be old: the Deutsche Mark (DEM) of an MT940 from
  the nineties is read, and the cash service refuses what it cannot book.
- An amount may not have more decimals than its currency (1.005 EUR), so that converting it to
  minor units later never rounds.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from dunwell.core.money import exponent
from dunwell.formats.errors import FieldError

IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_UNSIGNED = re.compile(r"\d{1,18}(\.\d{1,6})?")


def compact(text: str) -> str:
    """Without spaces, upper case: how an IBAN is compared."""
    return "".join(text.split()).upper()


def is_iban(text: str) -> bool:
    return IBAN_SHAPE.fullmatch(compact(text)) is not None


def iban_or_account(text: str) -> tuple[str, str]:
    """(IBAN, "") when `text` has an IBAN's shape, else ("", the account number as given)."""
    if is_iban(text):
        return compact(text), ""
    return "", text.strip()


def currency_code(text: str) -> str:
    code = text.strip().upper()
    if not _CURRENCY.fullmatch(code):
        raise FieldError("a three-letter ISO 4217 currency code like EUR", text)
    return code


def check_places(amount: Decimal, currency: str) -> Decimal:
    """`amount` if it has at most the currency's decimals (trailing zeros do not count)."""
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        places = exponent(currency)
        raise FieldError(f"an amount with at most {places} decimals for {currency}", str(amount))
    return amount


def unsigned_decimal(text: str) -> Decimal:
    """An XML-style decimal without sign or separators: 1234.56 (camt, OFX balances)."""
    raw = text.strip()
    if not _UNSIGNED.fullmatch(raw):
        raise FieldError("an amount like 1234.56", text)
    return Decimal(raw)


def two_digit_year(yy: int) -> int:
    """YYMMDD dates (MT940, BAI2): 70-99 are the 1900s, 00-69 the 2000s."""
    return 1900 + yy if yy >= 70 else 2000 + yy


def yymmdd(text: str, what: str = "a date") -> date:
    raw = text.strip()
    if not re.fullmatch(r"\d{6}", raw):
        raise FieldError(f"{what} as YYMMDD", text)
    try:
        return date(two_digit_year(int(raw[:2])), int(raw[2:4]), int(raw[4:]))
    except ValueError:
        raise FieldError(f"{what} that exists, as YYMMDD", text) from None


def iso_date(text: str, what: str = "a date") -> date:
    """YYYY-MM-DD, or the date part of an xs:dateTime (2017-03-22T20:00:00+01:00) as written:
    the bank's local day, never shifted to another time zone."""
    raw = text.strip()
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(T[\d:.]+)?(Z|[+-]\d{2}:\d{2})?", raw)
    if match is None:
        raise FieldError(f"{what} as YYYY-MM-DD", text)
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise FieldError(f"{what} that exists, as YYYY-MM-DD", text) from None
