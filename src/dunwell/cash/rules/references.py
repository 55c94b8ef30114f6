"""Structured payment references on a bank line: find them, normalise them, check them.

A creditor reference is the strongest evidence a payment can carry (DOMAIN.md 4.4, tier 1), but
only when it is the one we issued, character for character. So a reference is first reduced to
its compact form (no spaces, no `+++`/`***` frames, no `/`, `-` or `.`, upper case), and the
compact forms are compared. An ISO 11649 "RF" reference carries a check (MOD 97-10): one that
fails it was mistyped somewhere, so it never matches exactly; the matcher compares it with the
references it issued and accepts one that is a single edit away (a wrong, missing, extra or
swapped character) as a lower-confidence hint for a person to confirm.

Worked example: the payer writes "RF18 5390 0754 7034" -> compact RF18539007547034, valid, equal
to invoice 2024-0815's reference: exact. "RF18 5390 0754 7043" (two digits swapped) fails the
check; it is one transposition from RF18539007547034, so it points at 2024-0815 as a typo.

National schemes (Belgian OGM +++010/8068/17183+++, Swiss QRR, Norwegian KID, Finnish viite) are
compared the same way on their compact digits. `parse_reference` is deliberately local and small:
when `core.references` grows a scheme-aware parser, it replaces this one (same result shape).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from dunwell.core.references import format_rf, is_valid_rf

_FRAMING = re.compile(r"[\s+*/.\-]+")
# In upper-cased text. An RF reference is written in groups of four, or in one piece; the
# groups after the first may run into the next words, so candidates are cut back group by group.
_RF_IN_TEXT = re.compile(r"(?<![A-Z0-9])RF ?(\d{2})((?: ?[0-9A-Z]{1,4}){1,6})")
_OGM_IN_TEXT = re.compile(r"[+*]{3}\s*\d{3}\s*/\s*\d{4}\s*/\s*\d{5}\s*[+*]{3}")
_QRR_IN_TEXT = re.compile(r"(?<!\d)\d{2}(?: ?\d{5}){5}(?!\d)")


class Reference(NamedTuple):
    compact: str
    scheme: str  # "rf" or "other" (a national scheme, or text put in the reference field)
    # The matcher treats valid=False as a typo of ours at best, whatever the scheme, so a parser
    # that knows the national check digits can return them here and nothing else changes.
    valid: bool | None  # the check digit's verdict; None where this module knows no check

    def shown(self) -> str:
        """The reference as a reason prints it: RF in groups of four, others compact."""
        return format_rf(self.compact) if self.scheme == "rf" and self.valid else self.compact


class Found(NamedTuple):
    """A reference-shaped piece of free text: the ways to read it, and where it was."""

    readings: tuple[Reference, ...]  # the valid reading alone, else every cut, longest first
    span: tuple[int, int]


def normalise_reference(text: str) -> str:
    """Compact form: "+++010/8068/17183+++" -> "010806817183", "rf18 5390" -> "RF185390"."""
    return _FRAMING.sub("", text).upper()


def parse_reference(text: str) -> Reference | None:
    """Read a structured reference field; None when nothing is left after normalising."""
    compact = normalise_reference(text)
    if not compact:
        return None
    if compact.startswith("RF") and compact[2:4].isdigit() and len(compact) > 4:
        return Reference(compact, "rf", is_valid_rf(compact))
    return Reference(compact, "other", None)


def references_in_text(upper_text: str) -> list[Found]:
    """Every RF, OGM and QRR reference written in free text (already upper-cased)."""
    found = [
        Found(_rf_readings(match.group(1), match.group(2)), match.span())
        for match in _RF_IN_TEXT.finditer(upper_text)
    ]
    for pattern in (_OGM_IN_TEXT, _QRR_IN_TEXT):
        for match in pattern.finditer(upper_text):
            compact = normalise_reference(match.group())
            found.append(Found((Reference(compact, "other", None),), match.span()))
    return found


def _rf_readings(check: str, groups: str) -> tuple[Reference, ...]:
    pieces = groups.split()
    cuts = ["RF" + check + "".join(pieces[:n]) for n in range(len(pieces), 0, -1)]
    for cut in cuts:
        if len(cut) <= 25 and is_valid_rf(cut):
            return (Reference(cut, "rf", True),)
    return tuple(Reference(cut, "rf", False) for cut in cuts if len(cut) <= 25)
