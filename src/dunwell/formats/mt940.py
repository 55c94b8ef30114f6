"""SWIFT MT940 statements in, `Statement` values out, read with the `mt-940` library.

The library (import name `mt940`) splits the tags and reads ``:20:``, ``:25:``, ``:28C:``, the
balances and the ``:61:`` statement lines. Dunwell adds what it leaves out or gets wrong:

- **Physical line numbers.** The library drops blank lines before it reads, so it knows no
  lines; each statement and entry here carries the line its ``:20:`` / ``:61:`` is on, and an
  error names the line of the tag it is in.
- **Impossible month-end dates.** German banks date month-end bookings by the 30/360
  convention: the cmxl sample's closing balance is dated 021131, 31 November 2002. The library
  repairs only 30 February and otherwise refuses the whole file with a bare ValueError; here a
  day 29-31 past the month's end is its last day. Any other impossible date is refused.
- **The :86: details are read here, not by the library.** Its structured reader drops ``?38``
  (the counterparty IBAN at Polish and some German banks), files ``?31`` under a name or an
  IBAN depending on an option, lets a ``KREF+`` overwrite the ``:61:`` customer reference, and
  knows neither the Dutch ``/EREF/.../NAME/`` style nor Knab's ``REK:``/``NAAM:``. So only the
  raw ``:86:`` text is taken from it (``post_transaction_details`` switched off).
- **Statement-level :86:** after the closing balance (information for the account owner) is
  dropped; the library would glue it to the last entry's details.
- A ``:61:`` without a transaction type (NTRF ...) is refused: the library would merge the next
  statement line into it and lose an entry.

The ``:86:`` styles read:

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
- Anything else is free text. Lines of free text are joined with a space, except after a full
  65-character line, which was wrapped mid-word.

The line after ``:61:`` (supplementary details) is the counterparty's IBAN or account number
where a bank puts it there (Rabobank), else text.

Amounts are signed from the account holder's side; a reversal (``RC``/``RD``) keeps the sign of
the booking (RC negative, RD positive) with `Entry.reversal` set. The value date is the
``:61:`` date, the booking date its optional MMDD.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NoReturn

import mt940

from dunwell.formats.bank_values import (
    IBAN_SHAPE,
    check_places,
    compact,
    currency_code,
    iban_or_account,
    is_iban,
    two_digit_year,
)
from dunwell.formats.csv_rows import decode
from dunwell.formats.errors import FieldError, FileRejected, FormatError
from dunwell.formats.statements import Entry, Remittance, Statement, Transaction

_OPTIONS = mt940.Options.all()  # every fix of the 5.x line: RC signed, BOM stripped, ...
_TAG_LINE = re.compile(r":(?P<tag>\d{2}|NS)(?P<sub>[A-Z])?:")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_AMOUNT = re.compile(r"\d{1,15}(,\d*)?")
_WRAP = 65  # an :86: line this long was cut by the writer, not ended by the payer
_BALANCES = ("final_opening_balance", "opening_balance", "intermediate_opening_balance")
_CLOSINGS = ("final_closing_balance", "closing_balance", "intermediate_closing_balance")


def read_mt940(data: bytes, *, file_name: str) -> list[Statement]:
    """Every statement in the file (each starts at a ``:20:``), in file order."""
    text, _ = decode(data, file_name)
    lines = _clean(_NEWLINE.split(text.removeprefix("\ufeff")))
    blocks = _blocks(lines)
    if not blocks:
        expected = "an MT940 statement starting with a :20: line"
        got = next((line.strip() for _, line in lines if line.strip()), "an empty file")
        raise FileRejected([FormatError(file_name, None, None, expected, got)])
    errors: list[FormatError] = []
    statements: list[Statement] = []
    for position, block in enumerate(blocks):
        last = position == len(blocks) - 1
        try:
            statements.append(_Block(file_name, block, last).statement())
        except FileRejected as exc:
            errors.extend(exc.errors)
    if errors:
        raise FileRejected(errors)
    return statements


# -- lines and blocks -------------------------------------------------------------------------

_Lines = list[tuple[int, str]]  # (physical line, text without trailing spaces)


def _clean(raw: list[str]) -> _Lines:
    """Numbered lines without the SWIFT envelope ({1:...}{2:...}{4: and -}) or trailing spaces."""
    lines: _Lines = []
    for number, line in enumerate(raw, start=1):
        text = line.rstrip()
        if text.startswith("{"):
            text = text.partition("{4:")[2] if "{4:" in text else ""
        elif text.startswith(("-}", "}")):
            text = ""
        lines.append((number, text))
    return lines


def _blocks(lines: _Lines) -> list[_Lines]:
    """The statements: from each :20: line to the next; what comes before the first is a
    header (Rabobank's :940:) and is skipped."""
    blocks: list[_Lines] = []
    for number, text in lines:
        if text.startswith(":20:"):
            blocks.append([])
        if blocks:
            blocks[-1].append((number, text))
    for block in blocks:
        _drop_statement_information(block)
    return blocks


def _drop_statement_information(block: _Lines) -> None:
    """Blank an :86: that follows the closing balance: it informs the account owner about the
    statement, and the library would append it to the last entry's details."""
    after_closing = dropping = False
    for i, (number, text) in enumerate(block):
        tag = _TAG_LINE.match(text)
        if tag:
            name = tag["tag"] + (tag["sub"] or "")
            after_closing = name.startswith("62") or (after_closing and name != "61")
            dropping = after_closing and name == "86"
        if dropping:
            block[i] = (number, "")


class _Problem(Exception):  # noqa: N818 - carried to the line of the tag being read
    def __init__(self, expected: str, got: str | None) -> None:
        super().__init__(expected)
        self.expected = expected
        self.got = got


# -- one statement ----------------------------------------------------------------------------


class _Block:
    """One statement's lines, read by the library with Dunwell's checks hooked in."""

    def __init__(self, file_name: str, lines: _Lines, last: bool) -> None:
        self.file_name = file_name
        self.lines = lines
        self.last = last
        self.tags = [  # (line, tag id as the library keys it, name as written)
            (number, tag_id, name)
            for number, text in lines
            if (found := _tag_of(text)) is not None
            for tag_id, name in [found]
        ]
        self.done = 0  # tags the library has read so far (counted by `_count`)

    def error(
        self, line: int | None, field: str | None, expected: str, got: str | None
    ) -> NoReturn:
        raise FileRejected([FormatError(self.file_name, line, field, expected, got)])

    def statement(self) -> Statement:
        transactions = self._parse()
        data: dict[str, Any] = transactions.data
        first_line = self.lines[0][0]
        opening = next((data[k] for k in _BALANCES if k in data), None)
        if opening is None:
            self.error(first_line, ":60F:", "an opening balance (:60F: or :60M:)", None)
        closing = next((data[k] for k in _CLOSINGS if k in data), None)
        if closing is None:
            got = "the end of the file" if self.last else "the next statement (:20:)"
            expected = (
                f"the closing balance (:62F: or :62M:) of the statement from line {first_line}"
            )
            self.error(self.lines[-1][0], None, expected, got)
        account = str(data.get("account_identification") or "").strip()
        if not account:
            self.error(first_line, ":25:", "the account (:25:)", None)
        currency = str(opening.amount.currency)
        iban, number = _account(account, currency)
        return Statement(
            format="mt940",
            statement_id=_statement_id(data),
            account_iban=iban,
            account_number=number,
            currency=currency,
            entries=self._entries(transactions, currency),
            opening_balance=opening.amount.amount,
            closing_balance=closing.amount.amount,
            opening_on=_plain(opening.date),
            closing_on=_plain(closing.date),
            created_at=_created_at(data.get("date")),
            line=first_line,
        )

    def _parse(self) -> mt940.models.Transactions:
        transactions = mt940.models.Transactions(processors=self._processors(), options=_OPTIONS)
        try:
            transactions.parse("\n".join(text for _, text in self.lines))
        except _Problem as exc:
            line, _, name = self.tags[self.done - 1]
            self.error(line, f":{name}:", exc.expected, exc.got)
        except RuntimeError as exc:  # the tag's pattern did not match; it had not been counted
            line, _, name = self.tags[min(self.done, len(self.tags) - 1)]
            value = str(exc.args[2]) if len(exc.args) > 2 else str(exc)
            self.error(line, f":{name}:", _expected(name), value.split("\n")[0])
        count = sum(1 for _, tag_id, _ in self.tags if tag_id == 61)
        if count != len(transactions):  # cannot happen with the checks above; never lose one
            self.error(self.lines[0][0], ":61:", f"{count} statement lines", str(len(transactions)))
        return transactions

    def _processors(self) -> dict[str, list[Any]]:
        defaults = mt940.models.Transactions.DEFAULT_PROCESSORS
        processors: dict[str, list[Any]] = {
            f"pre_{tag.slug}": [self._count, *defaults.get(f"pre_{tag.slug}", [])]
            for tag in mt940.tags.TAG_BY_ID.values()
        }
        for slug in (*_BALANCES, *_CLOSINGS, "available_balance", "forward_available_balance"):
            processors[f"pre_{slug}"] = [self._count, _check_balance]
        # replaces the library's date_fixup_pre_processor, which repairs February only
        processors["pre_statement"] = [self._count, _check_statement_line]
        processors["post_transaction_details"] = []  # the raw text; read by `_details`
        return processors

    def _count(self, transactions: object, tag: object, tag_dict: Any, *args: object) -> Any:
        self.done += 1
        return tag_dict

    def _entries(self, transactions: mt940.models.Transactions, currency: str) -> tuple[Entry, ...]:
        lines = [number for number, tag_id, _ in self.tags if tag_id == 61]
        entries = []
        for index, (transaction, line) in enumerate(zip(transactions, lines, strict=True), start=1):
            try:
                entries.append(_entry(transaction.data, index, line, currency))
            except FieldError as exc:
                self.error(line, ":61:", exc.expected, exc.got)
        return tuple(entries)


def _expected(name: str) -> str:
    if name == "61":
        return "a statement line like 1403010301C500,00NTRFNONREF//BANKREF"
    if name[:2] in ("60", "62", "64", "65"):
        return f"a balance like C140301EUR1000,00 after :{name}:"
    if name.startswith("28"):
        return "a statement number like 12/1"
    return f"a valid :{name}: field"


def _tag_of(text: str) -> tuple[int | str, str] | None:
    """(the id the library files the tag under, the tag as written) for a known tag line."""
    found = _TAG_LINE.match(text)
    if found is None:
        return None
    name = found["tag"] + (found["sub"] or "")
    known = mt940.tags.TAG_BY_ID
    tag = known.get(name) or known.get(int(found["tag"]) if found["tag"].isdigit() else name)
    return (tag.id, name) if tag is not None else None


# -- checks run inside the library (pre-processors) -------------------------------------------


def _day(tag_dict: dict[str, Any], month_key: str = "month", day_key: str = "day") -> None:
    """Check a YYMMDD date; move a day 29-31 past the month's end to the month's last day (see
    the module docstring) and write the year with four digits (the library would read 95 as
    2095)."""
    raw = f"{tag_dict['year']}{tag_dict[month_key]}{tag_dict[day_key]}"
    year = (
        two_digit_year(int(tag_dict["year"]))
        if len(tag_dict["year"]) == 2
        else int(tag_dict["year"])
    )
    month, day = int(tag_dict[month_key]), int(tag_dict[day_key])
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        raise _Problem("a date that exists, as YYMMDD", raw)
    tag_dict[day_key] = str(min(day, calendar.monthrange(year, month)[1]))
    tag_dict["year"] = str(year)


def _check_amount(raw: str | None) -> None:
    if not _AMOUNT.fullmatch(raw or ""):
        raise _Problem("an amount like 1234,56", raw)


def _check_balance(transactions: object, tag: object, tag_dict: Any, *args: object) -> Any:
    _check_amount(tag_dict.get("amount"))
    try:
        tag_dict["currency"] = currency_code(tag_dict["currency"])
    except FieldError as exc:
        raise _Problem(exc.expected, exc.got) from None
    _day(tag_dict)
    return tag_dict


def _check_statement_line(transactions: object, tag: object, tag_dict: Any, *args: object) -> Any:
    _check_amount(tag_dict.get("amount"))
    currency = getattr(transactions, "currency", None)  # the opening balance's, read before
    if isinstance(currency, str):
        try:
            check_places(Decimal(tag_dict["amount"].replace(",", ".")), currency)
        except FieldError as exc:
            raise _Problem(exc.expected, tag_dict["amount"]) from None
    if not tag_dict.get("id"):
        raise _Problem("a transaction type like NTRF after the amount", tag_dict.get("amount"))
    entry_month, entry_day = tag_dict.get("entry_month") or "", tag_dict.get("entry_day") or ""
    if entry_month.strip() and entry_day.strip():
        entry = {"year": tag_dict["year"], "month": entry_month, "day": entry_day}
        _day(entry)
        tag_dict["entry_day"] = entry["day"]
    _day(tag_dict)
    return tag_dict


# -- values -----------------------------------------------------------------------------------


def _plain(day: date) -> date:
    """The library's Date subclass as a plain date (they compare equal; reprs stay readable)."""
    return date(day.year, day.month, day.day)


def _account(account: str, currency: str) -> tuple[str, str]:
    """:25: is an IBAN (maybe followed by the currency, or preceded by a BIC and a slash), or
    an account number as the bank writes it (BLZ/Konto, BIC/number)."""
    last = account.rsplit("/", 1)[-1]
    if currency and last.upper().endswith(currency) and is_iban(last[: -len(currency)]):
        last = last[: -len(currency)]
    if is_iban(last):
        return compact(last), ""
    return "", account


def _statement_id(data: dict[str, Any]) -> str:
    parts = [
        str(data.get(key) or "").strip()
        for key in ("transaction_reference", "statement_number", "sequence_number")
    ]
    return "/".join(part for part in parts if part)


def _created_at(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else ""


def _entry(data: dict[str, Any], index: int, line: int, currency: str) -> Entry:
    amount = check_places(Decimal(data["amount"].amount), currency)
    reversal = str(data.get("status") or "").upper().startswith("R")  # RC, RD
    credit = (amount > 0) != reversal  # a reversed credit still names its debtor
    details = _details(str(data.get("transaction_details") or ""), credit=credit)
    _supplementary(details, str(data.get("extra_details") or "").strip())
    customer_reference = str(data.get("customer_reference") or "").strip()
    references = list(details.references)
    if customer_reference and customer_reference.upper() != "NONREF":
        references.insert(0, ("customer_reference", customer_reference))
    transaction = Transaction(
        amount=amount,
        currency=currency,
        end_to_end_id=details.end_to_end_id,
        counterparty_name=details.name,
        counterparty_iban=details.iban,
        counterparty_account=details.account,
        counterparty_bic=details.bic,
        ultimate_party=details.ultimate,
        remittance=Remittance(tuple(details.structured), details.unstructured),
        return_reason=details.return_reason,
        references=tuple(references),
    )
    entry_date = data.get("entry_date")
    return Entry(
        index=index,
        amount=amount,
        currency=currency,
        value_on=_plain(data["date"]),
        booked_on=_plain(entry_date) if isinstance(entry_date, date) else None,
        reversal=reversal,
        bank_reference=str(data.get("bank_reference") or "").strip(),
        bank_code=str(data.get("id") or "").strip(),
        text="; ".join(details.text),
        line=line,
        transactions=(transaction,),
    )


# -- :86: details -----------------------------------------------------------------------------


@dataclass
class _Details:
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


def _details(raw: str, *, credit: bool) -> _Details:
    lines = [line.rstrip() for line in raw.split("\n") if line.strip()]
    first = lines[0] if lines else ""
    # Structured styles are one text cut into lines wherever the writer reached the width
    # (mid-word, even mid-tag: "...?" / "22INFO"), so their lines join without a separator.
    if re.match(r"\d{3}\?\d{2}", first):
        return _gvc("".join(lines), credit=credit)
    if _DUTCH_START.match(first):
        return _dutch("".join(lines))
    details = _Details()
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


def _gvc(text: str, *, credit: bool) -> _Details:
    details = _Details()
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


def _sepa(details: _Details, purpose: str, *, credit: bool) -> None:
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


def _dutch(text: str) -> _Details:
    details = _Details()
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


def _ignore(details: _Details, value: str) -> None:
    return None


def _first(name: str) -> Callable[[_Details, str], None]:
    def set_first(details: _Details, value: str) -> None:
        if not getattr(details, name):
            setattr(details, name, value)

    return set_first


def _reference(code: str) -> Callable[[_Details, str], None]:
    def add(details: _Details, value: str) -> None:
        details.references.append((code, value))

    return add


def _end_to_end(details: _Details, value: str) -> None:
    details.end_to_end_id = "" if value.upper() == "NOTPROVIDED" else value


def _cntp(details: _Details, value: str) -> None:
    """ING: /CNTP/<IBAN>/<BIC>/<name>/<city>/."""
    parts = [*value.split("/"), "", "", ""]
    if parts[0]:
        details.set_account(parts[0])
    details.bic = details.bic or parts[1].strip()
    details.name = details.name or parts[2].strip()


def _remi(details: _Details, value: str) -> str:
    """The remittance text; ING writes USTD//text or STRD/CUR/<reference>."""
    if value.startswith("USTD//"):
        return value.removeprefix("USTD//").strip("/ ")
    if value.startswith("STRD/"):
        details.structured.append(value.rsplit("/", 1)[-1].strip())
        return ""
    return value


_DUTCH_FIELDS: dict[str, Callable[[_Details, str], None]] = {
    "NAME": _first("name"),
    "IBAN": _Details.set_account,
    "BIC": _first("bic"),
    "CNTP": _cntp,
    "EREF": _end_to_end,
    "CDTRREF": lambda details, value: details.structured.append(value),
    "RTRN": _first("return_reason"),
    "TRTP": lambda details, value: details.text.append(value),
    **{code: _reference(code) for code in ("MARF", "CSID", "IREF", "PREF", "KREF")},
}


def _supplementary(details: _Details, extra: str) -> None:
    """The line after :61:: an IBAN or account number where the bank puts the counterparty's
    there (Rabobank), else text."""
    if not extra:
        return
    token = compact(extra)
    if IBAN_SHAPE.fullmatch(token) or (" " not in extra and re.fullmatch(r"[A-Z]?\d{5,}", token)):
        details.set_account(extra)
    else:
        details.text.append(extra)
