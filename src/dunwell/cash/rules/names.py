"""Who sent the money, by name: the payer name on a bank line against customers' names.

Banks shorten, upper-case and transliterate names (SEPA's character set has no umlauts), and
payers add or drop their legal form. So both sides are reduced to a comparable form before
rapidfuzz scores them (WRatio, 0..100, which also rewards a shortened name found inside the
whole one):

1. transliterate: ä -> ae, ö -> oe, ü -> ue, ß -> ss, æ -> ae, ø -> oe, å -> aa, every other
   accent dropped (é -> e) through Unicode NFKD, then Cyrillic and Greek by a small table;
2. lower-case, drop dots inside abbreviations (B.V. -> bv), punctuation becomes a space;
3. drop legal forms (GmbH, AG, KG, Ltd, BV, SAS, S.A., Oy, Sp. z o.o., ...), unless nothing else
   is left;
4. fold ae/oe/ue/aa to a/o/u/a, on both sides alike, so that the bank's "MULLER" and the
   ledger's "Müller" (mueller) meet.

Worked example: "Müller Bau GmbH & Co. KG" -> "muller bau"; the bank's "MUELLER BAU" ->
"muller bau": 100. "BAUER LOGISTIK MUENCHEN" against "Bauer Logistik GmbH": 90 (the shorter name
found inside the longer one).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from rapidfuzz import fuzz, process

_SPECIAL = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "å": "aa", "œ": "oe",
     "ð": "d", "þ": "th", "ł": "l", "đ": "d", "ı": "i"}
)  # fmt: skip
_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "i",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "-",
            "y",
            "-",
            "e",
            "iu",
            "ia",
            "i",
            "i",
            "ie",
            "g",
        ],
        strict=True,
    )
)
_GREEK = dict(
    zip(
        "αβγδεζηθικλμνξοπρσςτυφχψω",
        [
            "a",
            "v",
            "g",
            "d",
            "e",
            "z",
            "i",
            "th",
            "i",
            "k",
            "l",
            "m",
            "n",
            "x",
            "o",
            "p",
            "r",
            "s",
            "s",
            "t",
            "y",
            "f",
            "ch",
            "ps",
            "o",
        ],
        strict=True,
    )
)
_SCRIPTS = str.maketrans({k: ("" if v == "-" else v) for k, v in (_CYRILLIC | _GREEK).items()})
_ABBREVIATION_DOTS = re.compile(r"(?<=\w)\.(?=\w)|(?<=\b\w)\.")
_NOT_WORD = re.compile(r"[\W_]+")
_FOLDS = re.compile(r"ae|oe|ue|aa")
LEGAL_FORMS = frozenset(
    [
        "gmbh",
        "mbh",
        "ag",
        "kg",
        "kgaa",
        "ohg",
        "gbr",
        "ug",
        "se",
        "ev",
        "eg",
        "co",
        "ltd",
        "limited",
        "plc",
        "llp",
        "llc",
        "lp",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "company",
        "bv",
        "nv",
        "vof",
        "cv",
        "sa",
        "sas",
        "sasu",
        "sarl",
        "eurl",
        "sca",
        "snc",
        "srl",
        "spa",
        "sapa",
        "sl",
        "slu",
        "sll",
        "oy",
        "oyj",
        "ab",
        "aps",
        "asa",
        "hf",
        "kft",
        "zrt",
        "nyrt",
        "sro",
        "as",
        "ad",
        "doo",
        "dd",
        "oo",
        "zoo",
        "sp",
        "spzoo",
        "z",
        "ooo",
        "zao",
        "oao",
        "pao",
        "ae",
        "epe",
        "ike",
        "gesmbh",
        "pty",
    ]
)


def normalise_name(name: str) -> str:
    """The comparable form of a company name (see the module docstring)."""
    text = name.casefold()
    if not text.isascii():  # most names are: no accents to strip, no script to transliterate
        text = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).translate(_SCRIPTS)
    words = _NOT_WORD.sub(" ", _ABBREVIATION_DOTS.sub("", text)).split()
    kept = [word for word in words if word not in LEGAL_FORMS] or words
    return _FOLDS.sub(_first_letter, " ".join(kept))


def _first_letter(found: re.Match[str]) -> str:
    return found.group()[0]


def similar_names(
    name: str, choices: Sequence[str], cutoff: int, limit: int = 5
) -> list[tuple[int, int]]:
    """(index into `choices`, score 0..100) of the normalised `choices` that resemble the
    normalised `name` at least `cutoff`, best first."""
    if len(name) < 3:
        return []
    found = process.extract(name, choices, scorer=fuzz.WRatio, score_cutoff=cutoff, limit=limit)
    return [(index, int(score)) for _, score, index in found]
