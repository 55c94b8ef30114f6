"""Structured payment references printed on invoices so that payments can be matched.

Every invoice carries an ISO 11649 "RF" creditor reference; a company in Belgium, Switzerland,
Norway or Finland also gets its country's own structured reference, which banks there offer
their customers first (DOMAIN.md 4.2):

==========  =======================  ============================================================
scheme      printed                  check
==========  =======================  ============================================================
RF          RF71 2348 231            ``RF`` + 2 check digits + up to 21 letters or digits; append
                                     "RF00", letters as numbers (A=10 ... Z=35), remainder mod 97
                                     r, check 98 - r: base 2348231 -> 2348231271500 mod 97 = 27
                                     -> ``RF712348231``
BE OGM/VCS  +++010/8068/17183+++     12 digits: 10 + (the 10 mod 97, 97 when that is 0);
                                     0108068171 mod 97 = 83 -> 010806817183
CH QRR      21 00000 00003 13947     27 digits: 26 + a modulo 10 recursive check digit; used
            14300 09017              only with a QR-IBAN (institution id 30000-31999)
NO KID      1234566                  2 to 25 digits, the last a check: MOD10 (Luhn) or MOD11
                                     (weights 2..7 from the right, 11 - sum mod 11, 11 -> 0, 10
                                     -> "-"): 123456 -> 1234566 (MOD10), 1234560 (MOD11)
FI viite    12 34561                 4 to 20 digits, the last a check: weights 7, 3, 1 from the
                                     right, the sum's distance to the next multiple of 10:
                                     12345 -> 123453; printed in groups of five from the right,
                                     leading zeros dropped
==========  =======================  ============================================================

RF, OGM and QRR are checked by python-stdnum; KID's MOD11 and the Finnish 7-3-1 check are
written here (no library has them; each is a few lines, tested against DOMAIN.md 7.2 item 8).

**Where a numeric reference's base comes from** (`reference_base`): the same document number
always gives the same reference, on the ORM path and in a bulk import alike.

1. The document number's digits, in order, leading zeros dropped: "INV-2025-0042" -> 20250042.
2. When that leaves no digits, fewer than the scheme needs (a viite base has at least 3 digits,
   and a viite never starts with 0) or more than it holds (OGM 10, QRR 26, KID 24, viite 19),
   the base is the leading digits of the SHA-256 of the whole number (UTF-8) read as a decimal
   integer, as many as the scheme holds: a stable number, though not one a person can read back.
3. The fixed-length schemes are padded with leading zeros: OGM to 10 digits, QRR to 26.

Two numbers that differ only in their letters or separators ("A-1", "B-1") get the same numeric
reference; the matcher treats a reference found on several open items as ambiguous. Credit notes
get none (nothing is paid on them), so an invoice and its credit note never share one.

`parse_reference` reads what people type or banks pass on (spaces, ``+++``/``***`` and ``/``,
a viite's leading zeros, a lower-case ``rf``) and says which scheme it is; a bare number can be
valid in several numeric schemes, so a caller that knows which schemes it issued names them.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Iterable, Iterator
from enum import StrEnum

from stdnum import iso11649, luhn
from stdnum.be import ogm_vcs
from stdnum.ch import esr

_LETTER_VALUES = str.maketrans({c: str(int(c, 36)) for c in string.ascii_uppercase})
_NOT_ALNUM = re.compile(r"[\W_]+")
_SPACES = re.compile(r"\s+")
_NOT_DIGIT = re.compile(r"\D+")


class Scheme(StrEnum):
    RF = "rf"
    BE_OGM = "be_ogm"
    CH_QRR = "ch_qrr"
    NO_KID = "no_kid"
    FI_VIITE = "fi_viite"


class KidCheck(StrEnum):
    """How a Norwegian creditor's KID is checked, agreed with its bank."""

    MOD10 = "mod10"
    MOD11 = "mod11"


# The most base digits each numeric scheme holds, and the fewest it needs (before padding).
BASE_DIGITS = {Scheme.BE_OGM: 10, Scheme.CH_QRR: 26, Scheme.NO_KID: 24, Scheme.FI_VIITE: 19}
_MIN_BASE_DIGITS = {Scheme.BE_OGM: 1, Scheme.CH_QRR: 1, Scheme.NO_KID: 1, Scheme.FI_VIITE: 3}
_PADDED = {Scheme.BE_OGM, Scheme.CH_QRR}

# Which national scheme a creditor's country uses (CH and LI share the QR-bill).
COUNTRY_SCHEMES = {
    "BE": Scheme.BE_OGM,
    "CH": Scheme.CH_QRR,
    "LI": Scheme.CH_QRR,
    "NO": Scheme.NO_KID,
    "FI": Scheme.FI_VIITE,
}
# The order `parse_reference` tries when not told: the most specific shape first.
ALL_SCHEMES = (Scheme.RF, Scheme.BE_OGM, Scheme.CH_QRR, Scheme.FI_VIITE, Scheme.NO_KID)


# -- RF (ISO 11649) ------------------------------------------------------------------------------


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


# -- Belgian OGM/VCS -----------------------------------------------------------------------------


def ogm_reference(base: str) -> str:
    """The 12-digit structured communication for a base of up to 10 digits (zero-padded)."""
    digits = _digits_only(base, "an OGM base", 10).zfill(10)
    return digits + str(ogm_vcs.calc_check_digits(digits))


def _ogm_compact(reference: str) -> str:
    text = _SPACES.sub("", reference)
    for mark in ("+++", "***"):
        if text.startswith(mark) and text.endswith(mark) and len(text) > 6:
            text = text[3:-3]
    return text.replace("/", "").replace(".", "").replace("-", "")


def is_valid_ogm(reference: str) -> bool:
    compact = _ogm_compact(reference)
    return compact.isdigit() and len(compact) == 12 and bool(ogm_vcs.is_valid(compact))


def format_ogm(reference: str) -> str:
    """+++010/8068/17183+++"""
    return f"+++{ogm_vcs.format(_ogm_compact(reference))}+++"


# -- Swiss QR reference --------------------------------------------------------------------------


def qrr_reference(base: str) -> str:
    """The 27-digit QR reference for a base of up to 26 digits (zero-padded)."""
    digits = _digits_only(base, "a QR reference base", 26).zfill(26)
    return digits + str(esr.calc_check_digit(digits))


def is_valid_qrr(reference: str) -> bool:
    compact = _SPACES.sub("", reference)
    return compact.isdigit() and len(compact) == 27 and bool(esr.is_valid(compact))


def format_qrr(reference: str) -> str:
    """21 00000 00003 13947 14300 09017: two digits, then groups of five."""
    return str(esr.format(_SPACES.sub("", reference)))


def is_qr_iban(iban: str) -> bool:
    """A Swiss or Liechtenstein QR-IBAN: its institution id (IBAN digits 5-9) is 30000-31999."""
    compact = _SPACES.sub("", iban).upper()
    iid = compact[4:9]
    return compact[:2] in ("CH", "LI") and iid.isdigit() and 30000 <= int(iid) <= 31999


# -- Norwegian KID -------------------------------------------------------------------------------


def _mod11(digits: str) -> str:
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(digits)))
    check = 11 - total % 11
    return "0" if check == 11 else "-" if check == 10 else str(check)


def kid_check_digit(base: str, method: KidCheck = KidCheck.MOD10) -> str:
    """MOD10 is Luhn's; MOD11 may give "-" (a KID can end in a hyphen)."""
    digits = _digits_only(base, "a KID base", 24)
    return str(luhn.calc_check_digit(digits)) if method is KidCheck.MOD10 else _mod11(digits)


def kid_reference(base: str, method: KidCheck = KidCheck.MOD10) -> str:
    digits = _digits_only(base, "a KID base", 24)
    return digits + kid_check_digit(digits, method)


def is_valid_kid(reference: str, method: KidCheck | None = None) -> bool:
    """Valid under `method`, or under either when None (a payer's bank does not say which)."""
    compact = _SPACES.sub("", reference)
    base, check = compact[:-1], compact[-1:]
    if not (2 <= len(compact) <= 25 and base.isdigit() and (check.isdigit() or check == "-")):
        return False
    methods = (method,) if method is not None else tuple(KidCheck)
    return any(kid_check_digit(base, m) == check for m in methods)


def format_kid(reference: str) -> str:
    """A KID is printed as it is: one run of digits."""
    return _SPACES.sub("", reference)


# -- Finnish viite -------------------------------------------------------------------------------


def viite_check_digit(base: str) -> str:
    digits = _digits_only(base, "a viite base", 19)
    total = sum(int(d) * (7, 3, 1)[i % 3] for i, d in enumerate(reversed(digits)))
    return str(-total % 10)


def viite_reference(base: str) -> str:
    """The viite for a base of 3 to 19 digits not starting with 0: 12345 -> 123453."""
    digits = _digits_only(base, "a viite base", 19)
    if len(digits) < 3 or digits[0] == "0":
        raise ValueError(f"a viite base has 3 to 19 digits and no leading zero, got {base!r}")
    return digits + viite_check_digit(digits)


def _viite_compact(reference: str) -> str:
    return _SPACES.sub("", reference).lstrip("0")


def is_valid_viite(reference: str) -> bool:
    compact = _viite_compact(reference)
    return (
        compact.isdigit()
        and 4 <= len(compact) <= 20
        and viite_check_digit(compact[:-1]) == compact[-1]
    )


def format_viite(reference: str) -> str:
    """Groups of five from the right, leading zeros dropped: 1234561 -> 12 34561."""
    compact = _viite_compact(reference)
    head = len(compact) % 5
    groups = [compact[:head]] if head else []
    groups += [compact[i : i + 5] for i in range(head, len(compact), 5)]
    return " ".join(groups)


# -- all schemes ---------------------------------------------------------------------------------


def _digits_only(base: str, what: str, most: int) -> str:
    if not (base.isascii() and base.isdigit()) or len(base) > most:
        raise ValueError(f"{what} has 1 to {most} digits, got {base!r}")
    return base


def national_scheme(country: str, iban: str = "") -> Scheme | None:
    """The national scheme a creditor in `country` issues, or None (RF alone).

    Switzerland's QR reference only goes with a QR-IBAN; with a regular IBAN a Swiss invoice
    carries the RF reference alone (DOMAIN.md 4.2).
    """
    scheme = COUNTRY_SCHEMES.get(country.upper())
    if scheme is Scheme.CH_QRR and not is_qr_iban(iban):
        return None
    return scheme


def reference_base(number: str, scheme: Scheme) -> str:
    """The digits a numeric scheme's reference is built on, from a document number (see the
    module docstring): its digits, else a stable number derived from it."""
    most = BASE_DIGITS[scheme]
    digits = _NOT_DIGIT.sub("", number).lstrip("0")
    if not _MIN_BASE_DIGITS[scheme] <= len(digits) <= most or not digits.isascii():
        digits = str(int(hashlib.sha256(number.encode()).hexdigest(), 16))[:most]
    return digits.zfill(most) if scheme in _PADDED else digits


def national_reference(number: str, scheme: Scheme, kid_check: KidCheck = KidCheck.MOD10) -> str:
    """The reference of `scheme` for a document number, in compact form."""
    base = reference_base(number, scheme)
    if scheme is Scheme.BE_OGM:
        return ogm_reference(base)
    if scheme is Scheme.CH_QRR:
        return qrr_reference(base)
    if scheme is Scheme.NO_KID:
        return kid_reference(base, kid_check)
    if scheme is Scheme.FI_VIITE:
        return viite_reference(base)
    raise ValueError(f"{scheme} is not a numeric national scheme")


def is_valid(reference: str, scheme: Scheme) -> bool:
    return parse_reference(reference, (scheme,)) is not None


def format_reference(reference: str, scheme: Scheme) -> str:
    """The printed form of a reference of `scheme`; an invalid one as it is."""
    parsed = parse_reference(reference, (scheme,))
    if parsed is None:
        return reference
    compact = parsed[1]
    if scheme is Scheme.RF:
        return format_rf(compact)
    if scheme is Scheme.BE_OGM:
        return format_ogm(compact)
    if scheme is Scheme.CH_QRR:
        return format_qrr(compact)
    if scheme is Scheme.FI_VIITE:
        return format_viite(compact)
    return format_kid(compact)


def _compact(text: str, scheme: Scheme) -> str | None:
    """The stored form of `text` if it is a valid reference of `scheme`, else None."""
    if scheme is Scheme.RF:
        upper = _SPACES.sub("", text).upper()
        return upper if upper.startswith("RF") and is_valid_rf(upper) else None
    if scheme is Scheme.BE_OGM:
        return _ogm_compact(text) if is_valid_ogm(text) else None
    if scheme is Scheme.CH_QRR:
        return _SPACES.sub("", text) if is_valid_qrr(text) else None
    if scheme is Scheme.FI_VIITE:
        return _viite_compact(text) if is_valid_viite(text) else None
    return _SPACES.sub("", text) if is_valid_kid(text) else None


def parse_reference(
    text: str, schemes: Iterable[Scheme] = ALL_SCHEMES
) -> tuple[Scheme, str] | None:
    """(scheme, compact form) of the first of `schemes` that `text` is a valid reference of.

    Accepts the printed and typed forms: "RF18 5390 0754 7034", "rf18539007547034",
    "+++010/8068/17183+++", "***010/8068/17183***", "010/8068/17183", "21 00000 00003 13947
    14300 09017", "12 34561" or "00000000000001234561" (a viite's machine form).
    """
    stripped = text.strip()
    if not stripped:
        return None
    for scheme in schemes:
        compact = _compact(stripped, scheme)
        if compact is not None:
            return scheme, compact
    return None


# Candidates in free text (a bank's remittance line): an RF in any grouping, an OGM with its
# marks or slashes, or a run of digits in groups separated by single spaces.
_CANDIDATES = re.compile(
    r"RF\d{2}(?: ?[A-Z0-9]{1,4}){1,6}"
    r"|[+*]{3}\s*\d{3}\s*/?\s*\d{4}\s*/?\s*\d{5}\s*[+*]{3}"
    r"|\d{3}/\d{4}/\d{5}"
    r"|\d+(?: \d+)*-?",
    re.IGNORECASE,
)


def find_references(
    text: str, schemes: Iterable[Scheme] = ALL_SCHEMES
) -> Iterator[tuple[Scheme, str]]:
    """Every valid reference of `schemes` in free text, in order, each once.

    A candidate's space-separated groups are read left to right, the longest run of groups that
    is a valid reference first: "RF18 5390 0754 7034 2025" holds RF18539007547034, "12 34561"
    is one viite. A bare number is valid in some numeric scheme more often than not (a KID
    check digit matches one number in ten), so a caller looks each one up among the references
    it issued.
    """
    wanted, seen = tuple(schemes), set()
    for match in _CANDIDATES.finditer(text):
        for found in _segments(match.group().split(), wanted):
            if found not in seen:
                seen.add(found)
                yield found


def _segments(tokens: list[str], schemes: tuple[Scheme, ...]) -> Iterator[tuple[Scheme, str]]:
    start = 0
    while start < len(tokens):
        for end in range(len(tokens), start, -1):
            found = parse_reference(" ".join(tokens[start:end]), schemes)
            if found is not None:
                yield found
                start = end
                break
        else:
            start += 1
