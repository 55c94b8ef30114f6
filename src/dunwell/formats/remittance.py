"""Remittance advices in: which invoices a payment is for, so the cash engine can split it.

Two sources, one shape (`RemittanceAdvice`: the payment's key and its `ReferredDocument` list):

1. **An advice file (CSV)**, one row per document paid, as AP systems export them::

       Payment Reference,Payment Date,Payment Amount,Currency,Invoice Number,Amount Paid,Discount
       PAY-778,2024-03-09,3480.00,EUR,INV-1001,2450.00,50.00
       PAY-778,2024-03-09,3480.00,EUR,INV-1002,1030.00,

   Rows with the same payment reference are one advice, in the order first seen. Columns are
   recognised by common names (`COLUMNS`) or named with `mapping` as in `formats.csv_rows`.
   Only the invoice number is required; the payment reference, when absent, is the file's one
   payment (key ""). Where the payment amount is given it must be the same on every row of the
   payment and equal the sum of the amounts paid (a credit note is a negative row): a
   disagreement is refused, naming the line, since splitting a payment by a wrong advice
   misallocates money.

2. **Lines pasted from an email** (`parse_pasted`), one document per line: a document number
   and an amount, in any of the usual spellings::

       INV-1001   2,500.00
       Invoice 1004: 3,000.00 EUR
       #1007 - 1.750,00

   A line starting with "total" gives the total the documents must add up to; other lines
   (greetings, headers, prose that mentions an amount) are skipped, but a line that ends in an
   amount without a document number before it is reported.

Amounts are Decimals; dates are read as `date_format` says (`csv_rows.parse_date`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dunwell.formats.csv_rows import CsvRow, parse_currency, parse_date, parse_decimal, read_csv
from dunwell.formats.errors import FieldError, FileRejected, FormatError
from dunwell.formats.statements import ReferredDocument


@dataclass(frozen=True, slots=True)
class RemittanceAdvice:
    """What a payer says one payment is for."""

    payment_key: str  # the payment's reference (cheque number, transfer reference); "" if none
    documents: tuple[ReferredDocument, ...]
    paid_on: date | None = None
    amount: Decimal | None = None  # the payment's total, where the advice gives it
    currency: str = ""
    line: int | None = None  # where the advice starts in its file


# field -> header names recognised for it (normalised as `csv_rows` does: case, spaces, _)
COLUMNS: dict[str, tuple[str, ...]] = {
    "payment_key": (
        "payment reference", "payment ref", "payment id", "payment number", "check number",
        "cheque number", "remittance id", "payment",
    ),
    "paid_on": ("payment date", "paid on", "date paid", "value date"),
    "payment_amount": ("payment amount", "payment total", "total paid", "check amount"),
    "currency": ("currency", "ccy"),
    "number": (
        "invoice number", "invoice", "invoice no", "invoice #", "document number", "document",
        "document no", "reference", "your reference",
    ),
    "kind": ("document type", "type"),
    "document_date": ("invoice date", "document date"),
    "amount": ("amount paid", "paid", "amount", "net amount", "payment applied"),
    "discount": ("discount", "discount taken", "discount amount", "deduction"),
}  # fmt: skip


def read_remittance_csv(
    data: bytes,
    *,
    file_name: str,
    date_format: str = "iso",
    decimal_sep: str = ".",
    thousands_sep: str = ",",
    mapping: Mapping[str, str] | None = None,
) -> list[RemittanceAdvice]:
    """The advices in the file, one per payment reference (see the module docstring)."""
    columns = dict(mapping or {})
    header = read_csv(data, file_name=file_name, required=(), optional=()).unknown_columns
    mapped = set(columns.values())
    for column in header:
        name = " ".join(column.replace("_", " ").split()).casefold()
        field = next((f for f, names in COLUMNS.items() if name in names), None)
        if field is not None and field not in mapped and column not in columns:
            columns[column] = field
            mapped.add(field)
    table = read_csv(
        data,
        file_name=file_name,
        required=("number",),
        optional=tuple(f for f in COLUMNS if f != "number"),
        mapping=columns,
    )
    reader = _Rows(file_name, date_format, decimal_sep, thousands_sep)
    advices = reader.advices(table.rows)
    errors = [*table.errors, *reader.errors]
    if errors:
        raise FileRejected(sorted(errors, key=lambda e: e.line or 0))
    return advices


class _Rows:
    def __init__(
        self, file_name: str, date_format: str, decimal_sep: str, thousands_sep: str
    ) -> None:
        self.file_name = file_name
        self.date_format = date_format
        self.separators = (decimal_sep, thousands_sep)
        self.errors: list[FormatError] = []

    def value(self, row: CsvRow, field: str, kind: str) -> object:
        text = row.get(field)
        if not text:
            return None
        try:
            if kind == "date":
                return parse_date(text, self.date_format)
            if kind == "currency":
                return parse_currency(text)
            return parse_decimal(text, *self.separators)
        except FieldError as exc:
            self.errors.append(exc.at(self.file_name, row.line, field))
            return None

    def number(self, row: CsvRow, field: str) -> Decimal | None:
        value = self.value(row, field, "number")
        return value if isinstance(value, Decimal) else None

    def advices(self, rows: tuple[CsvRow, ...]) -> list[RemittanceAdvice]:
        groups: dict[str, list[CsvRow]] = {}
        for row in rows:
            groups.setdefault(row.get("payment_key"), []).append(row)
        return [self.advice(key, group) for key, group in groups.items()]

    def advice(self, key: str, rows: list[CsvRow]) -> RemittanceAdvice:
        documents = []
        for row in rows:
            if not row.get("number"):
                self.errors.append(
                    FormatError(self.file_name, row.line, "number", "the invoice number")
                )
                continue
            on = self.value(row, "document_date", "date")
            documents.append(
                ReferredDocument(
                    number=row.get("number"),
                    kind=row.get("kind"),
                    amount=self.number(row, "amount"),
                    discount=self.number(row, "discount"),
                    on=on if isinstance(on, date) else None,
                )
            )
        first = rows[0]
        total = self.total(key, rows, documents)
        paid_on = self.value(first, "paid_on", "date")
        currency = self.value(first, "currency", "currency")
        return RemittanceAdvice(
            payment_key=key,
            documents=tuple(documents),
            paid_on=paid_on if isinstance(paid_on, date) else None,
            amount=total,
            currency=currency if isinstance(currency, str) else "",
            line=first.line,
        )

    def total(
        self, key: str, rows: list[CsvRow], documents: list[ReferredDocument]
    ) -> Decimal | None:
        """The payment amount, checked: the same on every row, and the sum of the amounts paid."""
        totals = [
            (row, self.number(row, "payment_amount")) for row in rows if row.get("payment_amount")
        ]
        if not totals:
            return None
        total = totals[0][1]
        for row, other in totals[1:]:
            if other is not None and total is not None and other != total:
                expected = f"the payment amount {total} of {key or 'the payment'}, as on line {rows[0].line}"
                self.errors.append(
                    FormatError(
                        self.file_name,
                        row.line,
                        "payment_amount",
                        expected,
                        row.get("payment_amount"),
                    )
                )
                return total
        paid = [doc.amount for doc in documents]
        if total is not None and paid and all(amount is not None for amount in paid):
            added = sum((amount for amount in paid if amount is not None), Decimal(0))
            if added != total:
                expected = f"amounts paid that add up to the payment amount {total}"
                self.errors.append(
                    FormatError(self.file_name, rows[0].line, "amount", expected, str(added))
                )
        return total


# -- pasted lines -----------------------------------------------------------------------------

_PASTED = re.compile(
    r"""^\s*(?:invoice|inv\.?|rechnung|re\.?|facture|factuur|document|doc\.?|no\.?|nr\.?)?\s*
    [#:]?\s*
    (?P<number>[A-Za-z0-9][A-Za-z0-9\-/._]*\d[A-Za-z0-9\-/._]*|\d[A-Za-z0-9\-/._]*)
    \s*[:\-–]?\s+
    (?P<amount>[-+(]?\s*\d[\d.,'\s]*\d\)?-?|\d)
    \s*(?P<currency>[A-Za-z]{3}|[€$£])?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_TOTAL = re.compile(
    r"^\s*total\b\D*(?P<amount>[-+(]?\d[\d.,'\s]*\d\)?|\d)\s*(?:[A-Za-z]{3}|[€$£])?\s*$",
    re.IGNORECASE,
)
_ENDS_IN_AMOUNT = re.compile(r"\d[.,]\d{2}\s*(?:[A-Za-z]{3}|[€$£])?\s*$")


@dataclass(frozen=True, slots=True)
class PastedRemittance:
    documents: tuple[ReferredDocument, ...]
    total: Decimal | None  # a "total" line's amount, where there is one
    errors: tuple[FormatError, ...]  # lines that held an amount but no document, a wrong total


def parse_pasted(
    text: str, *, source: str = "pasted text", decimal_sep: str = ".", thousands_sep: str = ","
) -> PastedRemittance:
    """Documents and amounts from remittance lines pasted from an email (see the module
    docstring); `source` names the text in error messages."""
    documents: list[ReferredDocument] = []
    errors: list[FormatError] = []
    total: Decimal | None = None
    example = f"a document number and an amount, like INV-1001  2{thousands_sep}500{decimal_sep}00"
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found_total = _TOTAL.match(line)
            if found_total:
                total = parse_decimal(
                    found_total["amount"].replace(" ", ""), decimal_sep, thousands_sep
                )
                continue
            found = _PASTED.match(line)
            if found is None:
                if _ENDS_IN_AMOUNT.search(line):  # a remittance line missing its number
                    errors.append(FormatError(source, number, None, example, line.strip()))
                continue
            amount = parse_decimal(found["amount"].replace(" ", ""), decimal_sep, thousands_sep)
        except FieldError as exc:
            errors.append(exc.at(source, number))
            continue
        documents.append(ReferredDocument(number=found["number"], amount=amount))
    if total is not None and documents:
        added = sum((doc.amount or Decimal(0) for doc in documents), Decimal(0))
        if added != total:
            expected = f"amounts that add up to the total {total}"
            errors.append(FormatError(source, None, None, expected, str(added)))
    return PastedRemittance(tuple(documents), total, tuple(errors))
