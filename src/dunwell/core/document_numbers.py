"""The comparable form of a document number, however it is written (pure, no Django).

Payers write "INV-000123", "inv 123" or "INV000123" for the same invoice. A number is reduced to
a `NumberKey`: the letters in front (the *prefix*: INV), the rest without separators (*written*:
000123) and without leading zeros (*core*: 123). The ledger stores each item's `lookup_key`
(the core, or the prefix of a number of letters only) in an indexed column, so that cash
matching finds the items a payment text names with one query; `cash.rules.numbers` reads the
numbers in payment texts to the same keys.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_NOT_ALNUM = re.compile(r"[^0-9A-Z]+")
_LETTERS = re.compile(r"[A-Z]*")


class NumberKey(NamedTuple):
    prefix: str  # the letters in front: "INV"
    core: str  # the rest without separators and leading zeros: "123"
    written: str  # the rest as written, without separators: "000123"


def number_key(number: str) -> NumberKey:
    """The comparable form of an invoice number: number_key("INV-000123") == ("INV", "123",
    "000123"); a number of letters only keeps them all as the prefix."""
    compact = _NOT_ALNUM.sub("", number.upper())
    prefix = _LETTERS.match(compact)
    letters = prefix.group() if prefix else ""
    written = compact[len(letters) :]
    return NumberKey(letters, written.lstrip("0") or ("0" if written else ""), written)


def lookup_key(number: str) -> str:
    """What an item is found by (at most 60 characters): the core, or the letters when the
    number has no digits. "INV-000123" -> "123", "2024/0815" -> "20240815", "ABC" -> "ABC"."""
    key = number_key(number)
    return (key.core or key.prefix)[:60]
