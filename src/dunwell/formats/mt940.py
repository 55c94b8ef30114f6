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

The ``:86:`` details are read by `formats.mt940_details`, which describes the styles. A SWIFT
envelope around the statements (``{1:...}{2:...}{4:`` ... ``-}``) and a header before the first
``:20:`` (Rabobank's ``:940:``) are skipped.

Amounts are signed from the account holder's side; a reversal (``RC``/``RD``) keeps the sign of
the booking (RC negative, RD positive) with `Entry.reversal` set. The value date is the
``:61:`` date, the booking date its optional MMDD.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NoReturn

import mt940

from dunwell.formats.bank_values import (
    check_places,
    compact,
    currency_code,
    is_iban,
    two_digit_year,
)
from dunwell.formats.csv_rows import decode
from dunwell.formats.errors import FieldError, FileRejected, FormatError
from dunwell.formats.mt940_details import add_supplementary, read_details
from dunwell.formats.statements import Entry, Remittance, Statement, Transaction

_OPTIONS = mt940.Options.all()  # every fix of the 5.x line: RC signed, BOM stripped, ...
_TAG_LINE = re.compile(r":(?P<tag>\d{2}|NS)(?P<sub>[A-Z])?:")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_AMOUNT = re.compile(r"\d{1,15}(,\d*)?")
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
        processors["post_transaction_details"] = []  # the raw text, for `read_details`
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
    details = read_details(str(data.get("transaction_details") or ""), credit=credit)
    add_supplementary(details, str(data.get("extra_details") or "").strip())
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
