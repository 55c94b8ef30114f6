"""Invoice numbers in a payment's free text, in whatever form the payer typed them.

Payers write "INV-000123", "inv 123", "Rechnung 123 und 124", "FACTUUR 201403110, 201403113" or
"Invoice no. 2024/0815". Both sides are reduced to a `NumberKey`: the letters in front (the
*prefix*: INV, RE, ...), and the rest without separators (*written*: 000123) and without leading
zeros (*core*: 123). "INV-000123", "inv 123" and "INV000123" all have prefix INV and core 123;
"2024/0815" and "2024-0815" both have core 20240815.

What is not an invoice number is blanked out first, so that its digits cannot hit one: dates
(9.3.2025, 2025-03-09), amounts (1.250,00, 7250.00, EUR 7250), percentages, phone numbers and
IBANs (a valid MOD 97 check). A bare number's prefix is the word before it when that word is
letters ("Rechnung 123"), and a number in a list inherits the prefix of the one before it
("INV-1001, 1004 and 1007": all three have prefix INV). `labelled` says the prefix is a word
like "invoice", "Rechnung" or "no.", which makes a short number more likely to be one.

OCR-ish confusions: scanned advices turn 0 into O and 1 into I or l. A word of digits with one or
two of those letters in it ("INV-1O23") is also read with them replaced (core 1023); the matcher
gives such a reading a lower confidence.

Worked example: "Rechnung 123 und 124, Betrag 1.250,00 EUR vom 09.03.2025" gives two tokens,
prefix RECHNUNG core 123 and core 124 (inherited prefix), both labelled; the amount and the date
leave nothing behind.
"""

from __future__ import annotations

import re
import string
from typing import NamedTuple

from dunwell.core.document_numbers import NumberKey, number_key

__all__ = ["NumberKey", "Token", "blank", "number_key", "numbers_in_text"]

MAX_TOKENS = 40  # a payment text with more numbers than this is a listing, not a designation

_LETTER_VALUES = str.maketrans({c: str(int(c, 36)) for c in string.ascii_uppercase})
_OCR = str.maketrans("OIL", "011")
KEYWORDS = frozenset(
    [
        "INVOICE",
        "INVOICES",
        "INV",
        "RECHNUNG",
        "RECHNUNGEN",
        "RECHNUNGSNR",
        "RECH",
        "RG",
        "RE",
        "RGNR",
        "FACTUUR",
        "FACTUREN",
        "FACTURE",
        "FACTURES",
        "FACT",
        "FACTURA",
        "FAKTURA",
        "FAKTURANR",
        "FATTURA",
        "LASKU",
        "NO",
        "NR",
        "NUMBER",
        "NUMMER",
        "NUM",
        "BELEG",
        "DOC",
        "DOCUMENT",
        "REF",
    ]
)
CONNECTORS = frozenset(
    ["AND", "UND", "EN", "ET", "Y", "E", "OG", "OCH", "JA", "I", "U", "ODER", "OR"]
)

_IBAN_SHAPED = re.compile(
    r"(?<![A-Z0-9])[A-Z]{2}\d{2}"  # country and check digits, then compact or in fours
    r"(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![A-Z0-9])"
)
_NOT_NUMBERS = re.compile(
    "|".join(
        (
            r"\+\d{1,3}[\s\d()/-]{6,}\d",  # phone numbers
            r"(?<![\w.])(?:0?[1-9]|[12]\d|3[01])[./-](?:0?[1-9]|1[0-2])[./-](?:19|20)?\d\d(?!\w)",
            r"(?<![\w.])(?:19|20)\d\d-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])(?!\w)",
            r"(?<![\w.,'/-])\d{1,3}(?:[.,' ]\d{3})+[.,]\d{1,2}(?!\w)",  # 1.250,00  1,250.00
            r"(?<![\w.,'/-])\d+[.,]\d\d(?![\w.,])",  # 7250.00
            r"(?:EUR|USD|GBP|CHF|SEK|NOK|DKK|PLN|CZK|HUF|JPY|€|\$|£) ?\d[\d.,']*",
            r"\d+(?:[.,]\d+)? ?%",
        )
    )
)
_TOKEN = re.compile(r"(?<!\w)(?:([A-Z]{1,12})[ #:._/-]{0,3})?(\d+(?:[-/._]\d+)*)(?!\w)")
_OCR_TOKEN = re.compile(
    r"(?<!\w)(?:([A-Z]{1,12}?)[ #:._/-]{0,3})?((?=[0-9OIL]*\d)(?=[0-9OIL]*[OIL])[0-9OIL]{4,})(?!\w)"
)
_LIST_GAP = re.compile(r"[\s,;&+/]*")
_SEPARATORS = re.compile(r"[-/._]")


class Token(NamedTuple):
    """One number found in free text."""

    key: NumberKey
    text: str  # as the payer wrote it, for the reason
    labelled: bool = False  # after a word such as "invoice", "Rechnung", "no."
    ocr: bool = False  # read with O, I, l taken for 0, 1, 1
    parts: tuple[NumberKey, ...] = ()  # "123/124": also 123 and 124, if 123124 is nothing


def blank(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each span replaced by as many spaces (positions stay where they were)."""
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def numbers_in_text(upper_text: str) -> list[Token]:
    """The invoice-number-like tokens of an upper-cased text, in order (at most MAX_TOKENS)."""
    text = _IBAN_SHAPED.sub(_blank_iban, upper_text)
    text = _NOT_NUMBERS.sub(_spaces, text)
    tokens: list[Token] = []
    last_prefix, last_labelled, last_end = "", False, -1
    for match in _TOKEN.finditer(text):
        own, body = match.group(1) or "", match.group(2)
        if own in CONNECTORS:
            own = ""
        prefix, labelled = own, own in KEYWORDS
        if not own and last_end >= 0 and _LIST_GAP.fullmatch(text, last_end, match.start()):
            prefix, labelled = last_prefix, last_labelled  # "INV-1001, 1004 and 1007"
        parts = tuple(number_key(prefix + part) for part in _SEPARATORS.split(body))
        shown = match.group().strip() if own else body
        tokens.append(
            Token(number_key(prefix + body), shown, labelled, parts=parts if len(parts) > 1 else ())
        )
        last_prefix, last_labelled, last_end = prefix, labelled, match.end()
        if len(tokens) >= MAX_TOKENS:
            return tokens
    for match in _OCR_TOKEN.finditer(text):
        own, body = match.group(1) or "", match.group(2)
        digits = sum(ch.isdigit() for ch in body)
        if digits < 2 or len(body) - digits > 2:
            continue
        key = number_key(own + body.translate(_OCR))
        tokens.append(Token(key, match.group().strip(), own in KEYWORDS, ocr=True))
    return tokens[:MAX_TOKENS]


def _spaces(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _blank_iban(match: re.Match[str]) -> str:
    compact = match.group().replace(" ", "")
    rearranged = (compact[4:] + compact[:4]).translate(_LETTER_VALUES)
    # a hand-written MOD 97-10 check: python-stdnum's iban module costs ~40 µs a call here
    return _spaces(match) if int(rearranged) % 97 == 1 else match.group()
