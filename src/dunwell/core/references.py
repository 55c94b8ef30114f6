"""Structured payment references printed on invoices so that payments can be matched.

ISO 11649 "RF" creditor reference (DOMAIN.md 4.2): ``RF`` + 2 check digits + up to 21
alphanumerics. To create one, append "RF00" to the base, turn letters into numbers (A=10 ... Z=35),
take the remainder modulo 97, and the check is 98 minus it. Base 2348231 -> 234823127 1500
mod 97 = 27 -> check 71 -> ``RF712348231``. Validation is python-stdnum's.
"""

from __future__ import annotations

import re
import string

from stdnum import iso11649

_LETTER_VALUES = str.maketrans({c: str(int(c, 36)) for c in string.ascii_uppercase})
_NOT_ALNUM = re.compile(r"[\W_]+")


def _numeric(text: str) -> int:
    """Letters as numbers (A=10 ... Z=35), digits as they are, read as one integer."""
    return int(text.translate(_LETTER_VALUES))


def rf_reference(base: str) -> str:
    """The RF creditor reference for an alphanumeric base of 1 to 21 characters (compact form)."""
    cleaned = base.upper()
    if not (cleaned.isascii() and cleaned.isalnum()):  # letters and digits only: kept as they are
        cleaned = _NOT_ALNUM.sub("", cleaned)
    if not 1 <= len(cleaned) <= 21 or not cleaned.isascii():
        raise ValueError(f"an RF reference base has 1 to 21 letters or digits, got {base!r}")
    check = 98 - _numeric(cleaned + "RF00") % 97
    return f"RF{check:02d}{cleaned}"


def is_valid_rf(reference: str) -> bool:
    return bool(iso11649.is_valid(reference))


def format_rf(reference: str) -> str:
    """Print form in groups of four: RF18 5390 0754 7034."""
    return str(iso11649.format(reference))
