"""Exact money: a `Money` value is a Decimal amount in one ISO 4217 currency.

Amounts live in the database as integer minor units beside a currency code (invariant 1). In
Python they are `Money`: arithmetic refuses to mix currencies and refuses floats, and rounding
happens in exactly one place, `round_half_up`, to the currency's exponent.

Splitting is exact: `split(Money("100.00", "EUR"), [1, 1, 1])` gives 33.34, 33.33, 33.33 - the
parts always add up to the whole, the remainder going to the earliest parts (largest remainder
method), so an instalment schedule or an allocation never loses or invents a cent.

Worked example: EUR 10,000 x 11.27 % x 45/365 = 138.945205... -> `round_half_up` -> EUR 138.95.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 minor-unit exponents that differ from 2. Every other active code has 2.
_EXPONENTS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}  # fmt: skip

# Active ISO 4217 codes (2026). Unknown codes are refused at the edge with a clear error.
CURRENCIES: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
    FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD
    JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT
    MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG
    QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS
    TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG
    XOF XPF YER ZAR ZMW ZWG
    """.split()  # noqa: SIM905 - a block of codes reads better than a list
)


class MoneyError(ValueError):
    """A money value or operation that cannot be exact (mixed currencies, floats, bad text)."""


class CurrencyMismatchError(MoneyError):
    pass


def check_currency(code: str) -> str:
    """Return the upper-cased ISO 4217 code or raise `MoneyError` naming what was given."""
    given: object = code  # callers at the edges pass whatever a file held
    if not isinstance(given, str) or code.upper() not in CURRENCIES:
        raise MoneyError(f"unknown currency {code!r}: expected an ISO 4217 code such as EUR")
    return code.upper()


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-exponent(currency))


def round_half_up(amount: Decimal, currency: str) -> Decimal:
    """The one rounding rule: half away from zero, to the currency's minor unit."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def round_half_up_integer(value: Decimal) -> int:
    """Round an exact number of minor units (e.g. 2 % of 10,001 cents) half-up to whole ones."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _to_decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, (bool, float)):
        raise MoneyError(f"refusing {type(value).__name__} {value!r} as money: use Decimal or str")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise MoneyError(f"{value!r} is not a number") from None
    else:
        raise MoneyError(f"refusing {type(value).__name__} as money")
    if not result.is_finite():
        raise MoneyError(f"{value!r} is not a finite amount")
    return result


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency. Construct with `Money("12.34", "EUR")`."""

    amount: Decimal
    currency: str

    def __init__(self, amount: Decimal | int | str, currency: str) -> None:
        object.__setattr__(self, "currency", check_currency(currency))
        object.__setattr__(self, "amount", _to_decimal(amount))

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        given: object = minor
        if not isinstance(given, int) or isinstance(given, bool):
            raise MoneyError(f"minor units must be an int, got {minor!r}")
        return cls(Decimal(minor).scaleb(-exponent(check_currency(currency))), currency)

    # -- conversion -----------------------------------------------------------------------------
    @property
    def minor(self) -> int:
        """Integer minor units; refuses an amount that is not already rounded to them."""
        scaled = self.amount.scaleb(exponent(self.currency))
        if scaled != scaled.to_integral_value():
            # the amount as given: `str(self)` rounds, and "EUR 12.35 has more decimals" misleads
            raise MoneyError(f"{self.currency} {self.amount} has more decimals than "
                             f"{self.currency} allows: round first")  # fmt: skip
        return int(scaled)

    def rounded(self) -> Money:
        return Money(round_half_up(self.amount, self.currency), self.currency)

    # -- arithmetic (never across currencies) ---------------------------------------------------
    def _same(self, other: Money) -> Money:
        if not isinstance(other, Money):
            raise MoneyError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(f"cannot combine {self.currency} and {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        return Money(self.amount * _to_decimal(factor), self.currency)

    __rmul__ = __mul__

    def __truediv__(self, divisor: Decimal | int) -> Money:
        return Money(self.amount / _to_decimal(divisor), self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def __bool__(self) -> bool:
        return bool(self.amount)

    def is_zero(self) -> bool:
        return self.amount == 0

    def __str__(self) -> str:
        return f"{self.currency} {round_half_up(self.amount, self.currency)}"

    def __repr__(self) -> str:
        return f"Money('{self.amount}', '{self.currency}')"


def total(amounts: Iterable[Money], currency: str) -> Money:
    """Sum of amounts that must all be in `currency` (an empty sum is zero)."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result


def split_minor(whole: int, weights: Sequence[int | Decimal]) -> list[int]:
    """Split integer minor units by weights; the parts add up to `whole` exactly.

    Largest-remainder method, ties to the earliest part: 10000 by (1, 1, 1) -> 3334, 3333, 3333.
    A negative whole splits like its absolute value, with every part negated.
    """
    if not weights:
        raise MoneyError("cannot split into zero parts")
    decimal_weights = [_to_decimal(w) if not isinstance(w, Decimal) else w for w in weights]
    if any(w < 0 for w in decimal_weights) or sum(decimal_weights) == 0:
        raise MoneyError("split weights must be non-negative and not all zero")
    sign = -1 if whole < 0 else 1
    magnitude = abs(whole)
    weight_sum = sum(decimal_weights)
    exact = [Decimal(magnitude) * w / weight_sum for w in decimal_weights]
    parts = [int(e) for e in exact]  # floor: all values are non-negative
    short = magnitude - sum(parts)
    by_remainder = sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in by_remainder[:short]:
        parts[i] += 1
    return [sign * p for p in parts]


def split(whole: Money, weights: Sequence[int | Decimal]) -> list[Money]:
    """Split a rounded amount by weights into parts that add up to it exactly."""
    return [Money.from_minor(p, whole.currency) for p in split_minor(whole.minor, weights)]


def convert(amount: Money, rate: Decimal, to_currency: str) -> Money:
    """Convert through a rate quoted as units of `to_currency` per one unit of `amount`'s currency.

    The result is rounded half-up to the target currency; the rate itself must be stored and shown
    by the caller (invariant 1: conversions are dated and visible).
    """
    given: object = rate
    if not isinstance(given, Decimal) or rate <= 0:
        raise MoneyError(f"an FX rate must be a positive Decimal, got {rate!r}")
    return Money(round_half_up(amount.amount * rate, check_currency(to_currency)), to_currency)


def parse_amount(text: str, *, decimal_sep: str = ".", thousands_sep: str = ",") -> Decimal:
    """Read an amount as people and accounting systems write it; refuse anything ambiguous.

    Accepted: ``1234.56``, ``1,234.56``, ``1.234,56`` (with ``decimal_sep=","``), ``-12.00``,
    ``(12.00)`` (accounting negative), ``12.00-`` (trailing minus, as SAP exports), ``1 234,56``
    (space or apostrophe as a thousands separator). Raises `MoneyError` with the text otherwise.
    """
    if decimal_sep == thousands_sep:
        raise MoneyError("the decimal and thousands separators must differ")
    raw = text.strip()
    negative = False
    if raw.startswith("(") and raw.endswith(")"):
        negative, raw = True, raw[1:-1].strip()
    if raw.endswith("-"):
        negative, raw = not negative, raw[:-1].strip()
    if raw.startswith("-"):
        negative, raw = not negative, raw[1:].strip()
    elif raw.startswith("+"):
        raw = raw[1:].strip()
    message = f"{text!r} is not a number in the format 1{thousands_sep}234{decimal_sep}56"
    integer, _, fraction = raw.partition(decimal_sep)
    groups = re.split(r"[" + re.escape(thousands_sep + " \u00a0\u202f'") + r"]", integer)
    # Thousands separators must group by three: "1.23456" with "," as thousands separator is a
    # typo (or another format), never 123456.
    if len(groups) > 1 and (not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:])):
        raise MoneyError(message)
    raw = "".join(groups) + ("." + fraction if fraction else "")
    if not raw or raw == "." or not all(c.isdigit() or c == "." for c in raw) or raw.count(".") > 1:
        raise MoneyError(message)
    value = Decimal(raw)
    return -value if negative else value
