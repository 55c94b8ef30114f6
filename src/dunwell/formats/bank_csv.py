"""Bank statements exported as CSV in, one `Statement` out, through a column mapping.

`CsvMapping` names the header of each column the reader uses: the booking date (required), the
value date, a signed amount or separate debit and credit columns, the currency, an amount in the
original currency, the counterparty's name and account (an IBAN or an account number, told
apart by shape), the remittance text (several columns are joined with a space) and the bank's
reference; and how dates and numbers are written. The file is read with `formats.csv_rows`
(encoding, delimiter, physical line numbers) and its value parsers.

Without a mapping, `recognise` builds one from common header names in English, German, Dutch
and French ("Date", "Booking date", "Buchungstag", "Amount", "Betrag", "Debit"/"Credit",
"Partner Name", "IBAN", "Label", "Description", "Verwendungszweck", ...) and reads the date
format and the separators off the values: the OCA sample's ``12/15/2018`` can only be month /
day / year, and ``1,525.00`` has a decimal point. Dates that fit both orders (01/02/2018) are
refused rather than guessed.

Currencies follow Odoo's export, which the OCA sample comes from: ``Amount`` is booked in the
statement's currency; when an ``Amount Currency`` (original amount) is given and not zero, the
row's ``Currency`` is the original amount's, which becomes the transaction's instructed amount
(the sample's "Your payment" is 1,525.00 USD for 1,000.00 EUR). Otherwise ``Currency`` is the
amount's. The statement currency is `CsvMapping.statement_currency`, else a currency in the
amount's header ("Amount (GBP)"), else the currency of the rows without an original amount,
which must agree: one statement, one currency.

CSV exports carry no account, statement id or balances; the caller knows which account it
imported the file for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from dunwell.formats.bank_values import check_places, iban_or_account
from dunwell.formats.csv_rows import (
    CsvRow,
    CsvTable,
    check_date_format,
    parse_currency,
    parse_date,
    parse_decimal,
    read_csv,
    stream_csv,
)
from dunwell.formats.errors import FieldError, FileRejected, FormatError
from dunwell.formats.statements import Entry, Remittance, Statement, Transaction


@dataclass(frozen=True, slots=True)
class CsvMapping:
    """Which column (by its header) gives what; "" for a column the file does not have."""

    date: str
    amount: str = ""  # signed: credits positive, debits negative
    debit: str = ""  # or: money out and money in in two columns (signs are ignored)
    credit: str = ""
    value_date: str = ""
    currency: str = ""
    original_amount: str = ""  # the amount in the row's currency when not the statement's
    counterparty_name: str = ""
    counterparty_account: str = ""  # IBAN or account number
    text: tuple[str, ...] = ()  # remittance text, joined with a space
    reference: str = ""  # the bank's reference of the entry
    statement_currency: str = ""  # the account's currency when the file does not say
    date_format: str = ""  # iso, dmy, mdy or a %-pattern; "" reads it off the values
    decimal_sep: str = ""  # "." or ","; "" reads it off the values
    thousands_sep: str = ""  # "" is the other of . and ,

    def __post_init__(self) -> None:
        if self.date_format:
            check_date_format(self.date_format)
        if not self.amount and not (self.debit or self.credit):
            raise ValueError("a CSV mapping needs an amount column, or debit and credit columns")


# Normalised header -> mapping field (see `_normalise`), checked in this order.
_HEADERS: dict[str, tuple[str, ...]] = {
    "date": (
        "date", "booking date", "transaction date", "posting date", "posted date", "buchungstag",
        "buchungsdatum", "datum", "boekdatum", "date operation", "date opération",
    ),
    "value_date": ("value date", "valuta", "valutadatum", "wertstellung", "date valeur", "rentedatum"),
    "amount": ("amount", "betrag", "bedrag", "montant", "umsatz"),
    "debit": ("debit", "debit amount", "withdrawal", "withdrawals", "paid out", "money out", "soll", "af"),
    "credit": ("credit", "credit amount", "deposit", "deposits", "paid in", "money in", "haben", "bij"),
    "currency": ("currency", "währung", "waehrung", "devise", "munt"),
    "original_amount": ("amount currency", "original amount", "foreign amount", "amount in currency"),
    "counterparty_name": (
        "partner name", "counterparty", "counter party", "counterparty name", "payee", "payer",
        "name", "beneficiary", "auftraggeber", "empfänger", "zahlungspflichtiger",
        "beguenstigter/zahlungspflichtiger", "naam", "tegenpartij", "tiers",
    ),
    "counterparty_account": (
        "iban", "counterparty iban", "counterparty account", "bank account", "partner account",
        "kontonummer", "kontonummer/iban", "tegenrekening", "tegenrekening iban",
    ),
    "text": (
        "label", "description", "memo", "details", "purpose", "verwendungszweck", "omschrijving",
        "mededelingen", "libellé", "libelle", "narrative", "remittance", "reference",
        "payment reference",
    ),
    "reference": ("transaction id", "bank reference", "transaction reference", "id"),
}  # fmt: skip
_HEADER_CURRENCY = re.compile(r"(?P<name>.*?)\s*[(\[](?P<currency>[A-Za-z]{3})[)\]]")


def _normalise(name: str) -> str:
    return " ".join(name.strip("\ufeff").replace("_", " ").split()).casefold()


def recognise(header: Iterable[str]) -> tuple[CsvMapping, str]:
    """A mapping from common header names, and the currency a header names ("Amount (GBP)").

    Raises `ValueError` naming the headers when there is no date or no amount column among them.
    """
    columns = list(header)
    found: dict[str, str] = {}
    texts: list[str] = []
    currency = ""
    for column in columns:
        name = _normalise(column)
        hinted = _HEADER_CURRENCY.fullmatch(name)
        if hinted and hinted["name"] in _HEADERS["amount"]:
            name, currency = hinted["name"], hinted["currency"].upper()
        for target, names in _HEADERS.items():
            if name not in names:
                continue
            if target == "text":
                texts.append(column)
            else:
                found.setdefault(target, column)
            break
    if "date" not in found or not ("amount" in found or "debit" in found or "credit" in found):
        raise ValueError(f"no date and amount columns among {', '.join(columns)}")
    return CsvMapping(text=tuple(texts), **found), currency


def read_bank_csv(
    data: bytes, *, file_name: str, mapping: CsvMapping | None = None
) -> list[Statement]:
    """The file's rows as one statement (see the module docstring)."""
    header_currency = ""
    if mapping is None:
        mapping, header_currency = _recognised(data, file_name)
    columns = _columns(mapping)
    table = read_csv(data, file_name=file_name, required=list(columns.values()), mapping=columns)
    return [_Reader(file_name, _settled(mapping, table, file_name), table, header_currency).read()]


def _recognised(data: bytes, file_name: str) -> tuple[CsvMapping, str]:
    stream = stream_csv(data, file_name=file_name, required=())
    try:
        return recognise(stream.unknown_columns)
    except ValueError:
        columns = ", ".join(stream.unknown_columns)
        expected = "a date column and an amount column (or debit and credit), or a column mapping"
        raise FileRejected([FormatError(file_name, 1, None, expected, columns)]) from None


def _columns(mapping: CsvMapping) -> dict[str, str]:
    """Header -> the field name `read_csv` files it under."""
    columns = {
        getattr(mapping, name): name
        for name in (
            "date", "value_date", "amount", "debit", "credit", "currency", "original_amount",
            "counterparty_name", "counterparty_account", "reference",
        )
        if getattr(mapping, name)
    }  # fmt: skip
    for i, column in enumerate(mapping.text, start=1):
        columns.setdefault(column, f"text_{i}")
    return columns


# -- reading the formats off the values -------------------------------------------------------

_ISO = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_DAY_MONTH = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2\d{4}")
_COMMA_DECIMALS = re.compile(r".*,\d{1,2}\)?-?")
_POINT_DECIMALS = re.compile(r".*\.\d{1,2}\)?-?")


def _settled(mapping: CsvMapping, table: CsvTable, file_name: str) -> CsvMapping:
    """The mapping with the date format and separators it leaves open read off the values."""
    date_format = mapping.date_format or _date_format(mapping, table, file_name)
    decimal_sep = mapping.decimal_sep or _decimal_sep(table)
    thousands_sep = mapping.thousands_sep or ("." if decimal_sep == "," else ",")
    return replace(
        mapping, date_format=date_format, decimal_sep=decimal_sep, thousands_sep=thousands_sep
    )


def _date_format(mapping: CsvMapping, table: CsvTable, file_name: str) -> str:
    values = [row.get(field) for row in table.rows for field in ("date", "value_date")]
    values = [value for value in values if value]
    if all(_ISO.fullmatch(value) for value in values):  # no rows at all: any format will do
        return "iso"
    orders = {"dmy", "mdy"}
    for value in values:
        found = _DAY_MONTH.fullmatch(value)
        if found is None:
            continue
        if found[2] == ".":
            orders.discard("mdy")  # nobody writes month.day.year
        if int(found[1]) > 12:
            orders.discard("mdy")
        if int(found[3]) > 12:
            orders.discard("dmy")
    if len(orders) == 1:
        return orders.pop()
    column = table.columns.get("date", mapping.date)
    first = values[0] if values else None
    expected = (
        "dates whose format can be told (a day above 12 or a four-digit year first), "
        "or the date format in the mapping (iso, dmy or mdy)"
    )
    line = next((row.line for row in table.rows if row.get("date")), None)
    raise FileRejected([FormatError(file_name, line, column, expected, first)])


def _decimal_sep(table: CsvTable) -> str:
    fields = ("amount", "debit", "credit", "original_amount")
    values = [row.get(field) for row in table.rows for field in fields if row.get(field)]
    if any(_COMMA_DECIMALS.fullmatch(v) for v in values) and not any(
        _POINT_DECIMALS.fullmatch(v) for v in values
    ):
        return ","
    return "."


# -- rows -------------------------------------------------------------------------------------


class _Reader:
    def __init__(
        self, file_name: str, mapping: CsvMapping, table: CsvTable, header_currency: str
    ) -> None:
        self.file_name = file_name
        self.mapping = mapping
        self.table = table
        self.errors: list[FormatError] = list(table.errors)
        self.header_currency = header_currency

    def error(self, row: CsvRow, field: str, exc: FieldError) -> None:
        column = self.table.columns.get(field, field)  # the header as the user wrote it
        self.errors.append(exc.at(self.file_name, row.line, column))

    def day(self, row: CsvRow, field: str) -> date | None:
        try:
            return parse_date(row.get(field), self.mapping.date_format) if row.get(field) else None
        except FieldError as exc:
            self.error(row, field, exc)
            return None

    def number(self, row: CsvRow, field: str, *, quiet: bool = False) -> Decimal | None:
        separators = (self.mapping.decimal_sep, self.mapping.thousands_sep)
        try:
            return parse_decimal(row.get(field), *separators) if row.get(field) else None
        except FieldError as exc:
            if not quiet:
                self.error(row, field, exc)
            return None

    def currency_of(self, row: CsvRow, *, quiet: bool = False) -> str | None:
        try:
            return parse_currency(row.get("currency")) if row.get("currency") else None
        except FieldError as exc:
            if not quiet:
                self.error(row, "currency", exc)
            return None

    def statement_currency(self) -> str:
        """See the module docstring: the mapping's, the header's, or the rows' currency."""
        given = self.mapping.statement_currency or self.header_currency
        if given:
            try:
                return parse_currency(given)
            except FieldError as exc:
                raise FileRejected([exc.at(self.file_name, 1, "statement currency")]) from None
        for row in self.table.rows:
            currency = self.currency_of(row, quiet=True)
            if currency and not self.number(row, "original_amount", quiet=True):
                return currency
        if not self.table.rows:
            return ""  # an export without movements: nothing is in any currency
        expected = "a currency column, or the statement currency in the mapping"
        raise FileRejected([*self.errors, FormatError(self.file_name, 1, None, expected, None)])

    def read(self) -> Statement:
        currency = self.statement_currency()
        entries: list[Entry] = []
        for row in self.table.rows:
            entry = self.entry(row, len(entries) + 1, currency)
            if entry is not None:
                entries.append(entry)
        if self.errors:
            raise FileRejected(sorted(self.errors, key=lambda e: e.line or 0))
        return Statement(
            format="csv",
            statement_id="",
            account_iban="",
            account_number="",
            currency=currency,
            entries=tuple(entries),
            line=1,
        )

    def amount(self, row: CsvRow, currency: str) -> Decimal | None:
        field = "amount" if self.mapping.amount else "debit"
        errors_before = len(self.errors)
        if self.mapping.amount:
            amount = self.number(row, "amount")
        else:
            debit, credit = self.number(row, "debit"), self.number(row, "credit")
            both_blank = debit is None and credit is None
            amount = None if both_blank else abs(credit or Decimal(0)) - abs(debit or Decimal(0))
        if amount is None:
            if len(self.errors) == errors_before:
                what = "an amount" if self.mapping.amount else "an amount as a debit or a credit"
                self.error(row, field, FieldError(what, None))
            return None
        try:
            return check_places(amount, currency)
        except FieldError as exc:
            self.error(row, field, exc)
            return None

    def entry(self, row: CsvRow, index: int, currency: str) -> Entry | None:
        booked_on = self.day(row, "date")
        if not row.get("date"):
            self.error(row, "date", FieldError("the booking date", None))
        value_on = self.day(row, "value_date") or booked_on
        amount = self.amount(row, currency)
        original = self.number(row, "original_amount")
        row_currency = self.currency_of(row)
        if not original and row_currency and row_currency != currency:
            expected = f"the statement currency {currency} (one per file), or an original amount"
            self.error(row, "currency", FieldError(expected, row.get("currency")))
        if amount is None or value_on is None:
            return None
        iban, account = iban_or_account(row.get("counterparty_account"))
        texts = [row.get(f"text_{i}") for i in range(1, len(self.mapping.text) + 1)]
        transaction = Transaction(
            amount=amount,
            currency=currency,
            counterparty_name=row.get("counterparty_name"),
            counterparty_iban=iban,
            counterparty_account=account,
            remittance=Remittance(unstructured=" ".join(t for t in texts if t)),
            instructed_amount=abs(original) if original else None,
            instructed_currency=(row_currency or "") if original else "",
        )
        return Entry(
            index=index,
            amount=amount,
            currency=currency,
            value_on=value_on,
            booked_on=booked_on,
            bank_reference=row.get("reference"),
            line=row.line,
            transactions=(transaction,),
        )
