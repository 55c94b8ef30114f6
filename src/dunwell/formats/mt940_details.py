"""The ``:86:`` information of an MT940 statement line, in the styles banks write it.

`read_details` takes the raw text of one ``:86:`` (the `mt-940` library's own structured
reader is switched off, see `formats.mt940`) and gives a `Details`. The styles read:

- German GVC (``051?00UEBERWEISUNG?20...?30BLZ?31account?32name``): ``?00`` posting text (the
  entry's text), ``?20``-``?29`` and ``?60``-``?63`` purpose, joined without separators (the
  text is cut into 27-character pieces regardless of words), ``?30`` BIC or bank code, ``?31``
  IBAN or account, ``?32``/``?33`` name, ``?38`` IBAN. Inside the purpose the SEPA tags:
  ``EREF+`` end-to-end reference, ``SVWZ+`` remittance text, ``ABWA+``/``ABWE+`` ultimate
  debtor/creditor, ``IBAN+``/``BIC+`` the counterparty's, ``KREF+``, ``MREF+``, ``CRED+`` and
  the rest as references.
- Dutch structured (Rabobank, ABN AMRO, ING): ``/EREF/``, ``/NAME/`` (after ``/BENM/``,
  ``/ORDP/``; a name after ``/ULTD/``/``/ULTB/`` is the ultimate party), ``/IBAN/``,
  ``/BIC/``, ING's ``/CNTP/IBAN/BIC/NAME/CITY/``, ``/REMI/`` (ING's ``USTD//`` dropped),
  ``/CDTRREF/``, ``/MARF/``, ``/CSID/``, ``/IREF/``, ``/RTRN/`` return reason.
- Knab: free text, then ``REK: <IBAN>/NAAM: <name>``.
- Anything else is free text (GVC 999, the DFÜ code for unstructured text, is taken off its
  front). Lines of free text are joined with a space, except after a full 65-character line,
  which was wrapped mid-word; the structured styles are one text cut wherever the writer
  reached the width (mid-word, even mid-tag), so their lines join without a separator.

The line after ``:61:`` (supplementary details) is the counterparty's IBAN or account number
where a bank puts it there (Rabobank), else text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from dunwell.formats.bank_values import IBAN_SHAPE, compact, iban_or_account, is_iban

_WRAP = 65  # an :86: line this long was cut by the writer, not ended by the payer


@dataclass
class Details:
    """What one :86: says; filled by the style readers below (mutable while it is read)."""

    unstructured: str = ""
    end_to_end_id: str = ""
    name: str = ""
    iban: str = ""
    account: str = ""
    bic: str = ""
    ultimate: str = ""
    return_reason: str = ""
    structured: list[str] = field(default_factory=list)
    references: list[tuple[str, str]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def set_account(self, value: str) -> None:
        iban, account = iban_or_account(value)
        if iban and not self.iban:
            self.iban = iban
        elif account and not self.account and not self.iban:
            self.account = account


def read_details(raw: str, *, credit: bool) -> Details:
    """The details of one :86: field (its lines as the library keeps them, joined by newlines);
    `credit` says whose ultimate party ABWA/ABWE names."""
    lines = [line.rstrip() for line in raw.split("\n") if line.strip()]
    first = lines[0] if lines else ""
    # Structured styles are one text cut into lines wherever the writer reached the width
    # (mid-word, even mid-tag: "...?" / "22INFO"), so their lines join without a separator.
    if re.match(r"\d{3}\?\d{2}", first):
        return _gvc("".join(lines), credit=credit)
    if _DUTCH_START.match(first):
        return _dutch("".join(lines))
    details = Details()
    text = _joined(lines)
    unstructured_gvc = re.match(r"999(?!\?)", text)  # DFÜ: GVC 999 is unstructured text
    if unstructured_gvc:
        details.references.append(("GVC", "999"))
        text = text[3:].strip()
    knab = _KNAB.search(text)
    if knab:
        details.set_account(knab["account"])
        details.name = knab["name"].strip()
        text = text[: knab.start()].strip()
    details.unstructured = text
    return details


def _joined(lines: list[str]) -> str:
    """Free-text lines as one text: a space where a line ended early, nothing after a full
    65-character line (the writer wrapped it mid-word)."""
    text = ""
    for i, line in enumerate(lines):
        if i:
            text += "" if len(lines[i - 1]) >= _WRAP else " "
        text += line.strip() if i else line
    return text.strip()


_KNAB = re.compile(r"REK:\s*(?P<account>[^/\s]+)\s*/NAAM:\s*(?P<name>.*)$")

# German GVC: sub-fields and SEPA tags (DFÜ-Abkommen, Anlage 3)
_GVC_FIELD = re.compile(r"\?(\d{2})")
_SEPA_TAG = re.compile(
    r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC |BIC|COAM|OAMT|PURP|MDAT|SQTP|ORCR"
    r"|ORMR|DDAT|BREF|RREF)\+"
)
_BIC = re.compile(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?")


def _gvc(text: str, *, credit: bool) -> Details:
    details = Details()
    parts = _GVC_FIELD.split(text)
    details.references.append(("GVC", parts[0].strip()))
    fields: dict[str, str] = {}
    purpose = ""
    for key, value in zip(parts[1::2], parts[2::2], strict=True):
        if "20" <= key <= "29" or "60" <= key <= "63":
            purpose += value
        else:
            fields[key] = fields.get(key, "") + value
    if fields.get("00", "").strip():
        details.text.append(fields["00"].strip())
    bank, number = fields.get("30", "").strip(), fields.get("31", "").strip()
    if _BIC.fullmatch(bank):
        details.bic = bank
    if is_iban(number):
        details.iban = compact(number)
    elif number:  # a German account number needs its bank code (BLZ), as :25: writes it
        details.account = f"{bank}/{number}" if bank and not details.bic else number
    if is_iban(fields.get("38", "")):
        details.iban = compact(fields["38"])
    details.name = (fields.get("32", "") + fields.get("33", "")).strip()
    _sepa(details, purpose, credit=credit)
    return details


def _sepa(details: Details, purpose: str, *, credit: bool) -> None:
    pieces = _SEPA_TAG.split(purpose)
    texts = [pieces[0].strip()]  # free text before the first tag
    for raw_tag, raw_value in zip(pieces[1::2], pieces[2::2], strict=True):
        tag, value = raw_tag.strip(), raw_value.strip()
        if not value:
            continue
        if tag == "SVWZ":
            texts.append(value)
        elif tag == "EREF":
            details.end_to_end_id = "" if value.upper() == "NOTPROVIDED" else value
        elif tag in ("ABWA", "ABWE"):  # abweichender Auftraggeber / Empfänger
            if (tag == "ABWA") == credit:
                details.ultimate = value
        elif tag == "IBAN":
            details.set_account(value)
        elif tag == "BIC":
            details.bic = details.bic or value
        else:
            details.references.append((tag, value))
    details.unstructured = " ".join(text for text in texts if text)


# Dutch structured :86: (NVB/Rabobank, ABN AMRO, ING)
_DUTCH = (
    "EREF", "BENM", "ORDP", "NAME", "IBAN", "BIC", "CNTP", "REMI", "CDTRREFTP", "CDTRREF",
    "MARF", "CSID", "IREF", "PREF", "RTRN", "ULTD", "ULTB", "ULTC", "ISDT", "TRTP", "BUSP",
    "PURP", "ADDR", "ID", "CD", "ISSR", "KREF", "SVCL", "CHGS", "EXCH", "OCMT", "FX",
)  # fmt: skip
# "/ULTD/NAME/x": the slash after a code also opens the next one, so it is only looked at
_DUTCH_TAG = re.compile(r"/(" + "|".join(_DUTCH) + r")(?=/)")
_DUTCH_START = re.compile(r"/(" + "|".join(_DUTCH) + r")/")


def _dutch(text: str) -> Details:
    details = Details()
    tags = list(_DUTCH_TAG.finditer(text))
    party = "BENM"  # whose /NAME/, /IBAN/ and /BIC/ follow
    texts: list[str] = []
    for i, tag in enumerate(tags):
        end = tags[i + 1].start() if i + 1 < len(tags) else len(text)
        code, value = tag[1], text[tag.end() : end].strip().strip("/").strip()
        if code in ("BENM", "ORDP", "CNTP", "ULTD", "ULTB", "ULTC"):
            party = code
        if not value:
            continue
        if party.startswith("ULT") and code == "NAME":
            details.ultimate = details.ultimate or value
        elif party.startswith("ULT") and code in ("IBAN", "BIC"):
            continue  # the ultimate party's account is not the counterparty's
        elif code == "REMI":
            texts.append(_remi(details, value))
        else:
            _DUTCH_FIELDS.get(code, _ignore)(details, value)
    details.unstructured = " ".join(t for t in texts if t)
    return details


def _ignore(details: Details, value: str) -> None:
    return None


def _first(name: str) -> Callable[[Details, str], None]:
    def set_first(details: Details, value: str) -> None:
        if not getattr(details, name):
            setattr(details, name, value)

    return set_first


def _reference(code: str) -> Callable[[Details, str], None]:
    def add(details: Details, value: str) -> None:
        details.references.append((code, value))

    return add


def _end_to_end(details: Details, value: str) -> None:
    details.end_to_end_id = "" if value.upper() == "NOTPROVIDED" else value


def _cntp(details: Details, value: str) -> None:
    """ING: /CNTP/<IBAN>/<BIC>/<name>/<city>/."""
    parts = [*value.split("/"), "", "", ""]
    if parts[0]:
        details.set_account(parts[0])
    details.bic = details.bic or parts[1].strip()
    details.name = details.name or parts[2].strip()


def _remi(details: Details, value: str) -> str:
    """The remittance text; ING writes USTD//text or STRD/CUR/<reference>."""
    if value.startswith("USTD//"):
        return value.removeprefix("USTD//").strip("/ ")
    if value.startswith("STRD/"):
        details.structured.append(value.rsplit("/", 1)[-1].strip())
        return ""
    return value


_DUTCH_FIELDS: dict[str, Callable[[Details, str], None]] = {
    "NAME": _first("name"),
    "IBAN": Details.set_account,
    "BIC": _first("bic"),
    "CNTP": _cntp,
    "EREF": _end_to_end,
    "CDTRREF": lambda details, value: details.structured.append(value),
    "RTRN": _first("return_reason"),
    "TRTP": lambda details, value: details.text.append(value),
    **{code: _reference(code) for code in ("MARF", "CSID", "IREF", "PREF", "KREF")},
}


def add_supplementary(details: Details, extra: str) -> None:
    """The line after :61:: an IBAN or account number where the bank puts the counterparty's
    there (Rabobank), else text."""
    if not extra:
        return
    token = compact(extra)
    if IBAN_SHAPE.fullmatch(token) or (" " not in extra and re.fullmatch(r"[A-Z]?\d{5,}", token)):
        details.set_account(extra)
    else:
        details.text.append(extra)
