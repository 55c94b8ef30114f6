"""BAI2 cash management balance reports in, `Statement` values out (hand-written: no Python
library reads BAI2 with its continuation records and control totals).

A file is records of comma-separated fields ending in ``/``, one per line::

    01 file header      sender, receiver, creation date and time, file id, ...
    02 group header     receiver, originator, status, as-of date (YYMMDD), as-of time, currency
    03 account          account number, currency, then (type code, amount, item count, funds
                        type [+ its fields]) for each balance or summary
    16 transaction      type code, amount, funds type [+ its fields], bank reference,
                        customer reference, text (to the end of the record, commas included)
    88 continuation     more fields of the record before it (more text for a 16)
    49 account trailer  account control total, number of records (03 to 49)
    98 group trailer    group control total, number of accounts, number of records (02 to 98)
    99 file trailer     file control total, number of groups, number of records (01 to 99)

Each 03 account is one `Statement` (the moov sample has two). Amounts have no decimal point: they
count minor units of the account's currency (``000000000208500`` CAD is 2085.00); a 16 amount is
unsigned and its type code gives the sign: 100-399 credits, 400-699 debits (BAI's ranges; a
16 record with a status, loan or custom code is refused). Balances (03) are signed. Opening
balance is 010 (opening ledger), else 040 (opening available); closing 015 (closing ledger),
else 045 (closing available), as the moov sample gives only the available ones.

Funds type in 16 and 03 records: ``0`` immediate, ``1`` one day, ``2`` two or more days,
``Z``/blank unknown; ``V`` is followed by a value date and time; ``S`` by three amounts
(immediate, one day, two or more days); ``D`` by a count and that many (days, amount) pairs.
An entry's value date is the ``V`` date, else the group's as-of date, which is also its booking
date (BAI2 has no posting date per transaction).

Control totals are checked: each 49 against its account's amounts (the amount fields of its 03,
88 and 16 records, balances signed; availability distributions split an amount and are not
counted again) and its record count (physical records, 88s included), each 98 against its
accounts' totals and counts, the 99 against the groups'. A disagreement, a missing trailer (a
truncated file) or a record out of place refuses the file, naming the line.

The currency of an account is its 03 currency, else the group's, else USD (BAI2's default).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import ClassVar, NoReturn

from dunwell.core.money import exponent
from dunwell.formats.bank_values import currency_code, yymmdd
from dunwell.formats.csv_rows import decode
from dunwell.formats.errors import FieldError, FileRejected, FormatError
from dunwell.formats.statements import Entry, Remittance, Statement, Transaction

_SIGNED = re.compile(r"[+-]?\d+")
_UNSIGNED = re.compile(r"\d+")
_NEWLINE = re.compile(r"\r\n|\r|\n")
DEFAULT_CURRENCY = "USD"


def is_credit(type_code: int) -> bool | None:
    """True for a credit transaction code (100-399), False for a debit (400-699), else None."""
    if 100 <= type_code <= 399:
        return True
    if 400 <= type_code <= 699:
        return False
    return None


def read_bai2(data: bytes, *, file_name: str) -> list[Statement]:
    """One statement per account (03) record, in file order."""
    text, _ = decode(data, file_name)
    return _File(file_name, _records(text)).read()


@dataclass(frozen=True, slots=True)
class _Record:
    code: str
    fields: list[str]  # after the code, continuation (88) fields appended
    line: int
    physical: int  # physical records it spans (1 + its 88 continuations)
    text: str = ""  # a 16's text, continuations joined with a space


def _records(text: str) -> list[_Record]:
    """Logical records: each with the fields of the 88 records that continue it."""
    records: list[_Record] = []
    for number, raw in enumerate(_NEWLINE.split(text.removeprefix("\ufeff")), start=1):
        line = raw.strip()
        if not line:
            continue
        code, _, rest = line.partition(",")
        if code == "88" and records:
            previous = records[-1]
            if previous.code == "16":
                more = rest.removesuffix("/").rstrip()
                joined = f"{previous.text} {more}".strip() if more else previous.text
                records[-1] = _Record(
                    "16", previous.fields, previous.line, previous.physical + 1, joined
                )
            else:
                fields = previous.fields + _fields(rest)
                records[-1] = _Record(previous.code, fields, previous.line, previous.physical + 1)
            continue
        if code == "16":
            records.append(_transaction_record(rest, number))
        else:
            records.append(_Record(code, _fields(rest), number, 1))
    return records


def _fields(rest: str) -> list[str]:
    """Fields up to the record's ``/`` (a record may omit its trailing empty fields)."""
    body = rest.split("/", 1)[0] if "/" in rest else rest
    return [part.strip() for part in body.split(",")]


def _transaction_record(rest: str, number: int) -> _Record:
    """A 16's fixed fields, then its text: everything after them, commas included."""
    parts = rest.split(",")
    fixed = 3  # type code, amount, funds type
    funds = parts[2].strip().upper() if len(parts) > 2 else ""
    if funds == "V":
        fixed += 2
    elif funds == "S":
        fixed += 3
    elif funds == "D" and len(parts) > 3 and parts[3].strip().isdigit():
        fixed += 1 + 2 * int(parts[3].strip())
    fixed += 2  # bank reference, customer reference
    fields = [part.strip() for part in parts[:fixed]]
    if fields and fields[-1].endswith("/") and len(parts) <= fixed:
        fields[-1] = fields[-1].removesuffix("/").strip()
    text = ",".join(parts[fixed:]).removesuffix("/").rstrip()
    return _Record("16", fields, number, 1, text.strip())


@dataclass
class _Account:
    record: _Record
    number: str
    currency: str
    balances: dict[int, Decimal] = field(default_factory=dict)  # type code -> amount
    entries: list[Entry] = field(default_factory=list)
    total: int = 0  # the control total: the amount fields of its records, in minor units
    records: int = 0  # physical records from 03 to 49


@dataclass
class _Group:
    record: _Record
    as_of: date
    currency: str
    accounts: int = 0
    total: int = 0
    records: int = 0  # physical records from 02 to 98


class _File:
    """Reads the records in order, keeping the open group and account."""

    def __init__(self, file_name: str, records: list[_Record]) -> None:
        self.file_name = file_name
        self.records = records
        self.statements: list[Statement] = []
        self.errors: list[FormatError] = []  # control totals: all are reported together
        self.created_at = self.file_id = ""
        self.group: _Group | None = None
        self.account: _Account | None = None
        self.groups: list[_Group] = []
        self.records_read = 0

    def fail(
        self, record: _Record | None, field: str | None, expected: str, got: str | None
    ) -> NoReturn:
        line = record.line if record is not None else None
        raise FileRejected([*self.errors, FormatError(self.file_name, line, field, expected, got)])

    def check(self, record: _Record, field: str, expected: int, got: int, what: str) -> None:
        if expected != got:
            message = f"{expected}, {what}"
            self.errors.append(FormatError(self.file_name, record.line, field, message, str(got)))

    def read(self) -> list[Statement]:
        if not self.records or self.records[0].code != "01":
            got = (
                ",".join([self.records[0].code, *self.records[0].fields])
                if self.records
                else "an empty file"
            )
            self.fail(
                self.records[0] if self.records else None,
                None,
                "a BAI2 file starting with a 01 file header",
                got,
            )
        self.header(self.records[0])
        for position, record in enumerate(self.records[1:], start=1):
            self.records_read += record.physical
            if record.code == "99":
                self.file_trailer(record)
                if position + 1 < len(self.records):
                    after = self.records[position + 1]
                    self.fail(after, None, "nothing after the 99 file trailer", after.code)
                if self.errors:
                    raise FileRejected(self.errors)
                return self.statements
            handler = self.handlers.get(record.code)
            if handler is None:
                self.fail(
                    record, None, "a record code 01, 02, 03, 16, 49, 88, 98 or 99", record.code
                )
            handler(self, record)
        self.fail(self.records[-1], None, "the 99 file trailer", "the end of the file")

    # -- values ---------------------------------------------------------------------------

    @staticmethod
    def field(record: _Record, index: int) -> str:
        return record.fields[index].strip() if index < len(record.fields) else ""

    def minor(self, raw: str, record: _Record, name: str, *, signed: bool) -> int | None:
        """Minor units; None for a blank amount."""
        if not raw:
            return None
        if not (_SIGNED if signed else _UNSIGNED).fullmatch(raw):
            sign = "+" if signed else ""
            example = f"{sign}000000000208500 (minor units, no decimal point)"
            self.fail(record, name, f"an amount like {example}", raw)
        return int(raw)

    def day(self, raw: str, record: _Record, name: str) -> date:
        try:
            return yymmdd(raw, f"the {name}")
        except FieldError as exc:
            self.fail(record, name, exc.expected, raw)

    def currency(self, raw: str, record: _Record, default: str) -> str:
        try:
            return currency_code(raw) if raw else default
        except FieldError as exc:
            self.fail(record, "currency", exc.expected, raw)

    def count(self, record: _Record, index: int, name: str) -> int:
        raw = self.field(record, index)
        if not raw.isdigit():
            self.fail(record, name, f"the {name}", raw or None)
        return int(raw)

    def funds_fields(self, funds: str, after: list[str], record: _Record) -> int:
        """How many fields follow the funds type (availability distributions split the amount
        before them and are not counted in the control total again)."""
        if funds == "V":
            return 2
        if funds == "S":
            return 3
        if funds == "D":
            count = after[0].strip() if after else ""
            if not count.isdigit():
                self.fail(record, "funds type D", "the number of distributions", count or None)
            return 1 + 2 * int(count)
        if funds not in ("", "0", "1", "2", "Z"):
            self.fail(record, "funds type", "a funds type 0, 1, 2, V, S, D or Z", funds)
        return 0

    # -- records --------------------------------------------------------------------------

    def header(self, record: _Record) -> None:
        self.records_read = record.physical
        self.file_id = self.field(record, 4)
        created, time = self.field(record, 2), self.field(record, 3)
        if created:
            clock = f"T{time[:2]}:{time[2:]}" if re.fullmatch(r"\d{4}", time) else ""
            self.created_at = self.day(created, record, "file creation date").isoformat() + clock

    def group_header(self, record: _Record) -> None:
        if self.group is not None:
            self.fail(record, None, "a 98 group trailer before the next group", "02")
        as_of = self.day(self.field(record, 3), record, "as-of date")
        currency = self.currency(self.field(record, 5), record, DEFAULT_CURRENCY)
        self.group = _Group(record, as_of, currency, records=record.physical)

    def account_record(self, record: _Record) -> None:
        group = self.group
        if group is None or self.account is not None:
            where = "a 02 group header" if group is None else "a 49 account trailer"
            self.fail(record, None, f"{where} before the account", "03")
        number = self.field(record, 0)
        if not number:
            self.fail(record, "account number", "the account number", None)
        currency = self.currency(self.field(record, 1), record, group.currency)
        account = _Account(record, number, currency, records=record.physical)
        fields = record.fields[2:]
        i = 0
        while i < len(fields) and fields[i]:  # (type code, amount, item count, funds type, ...)
            code = fields[i]
            raw = fields[i + 1] if i + 1 < len(fields) else ""
            amount = self.minor(raw, record, f"type {code} amount", signed=True)
            if amount is not None:
                account.total += amount
                if code.isdigit():
                    account.balances.setdefault(int(code), _decimal(amount, currency))
            funds = fields[i + 3].strip().upper() if i + 3 < len(fields) else ""
            i += 4 + self.funds_fields(funds, fields[i + 4 :], record)
        group.records += record.physical
        self.account = account

    def transaction(self, record: _Record) -> None:
        account, group = self.account, self.group
        if account is None or group is None:
            self.fail(record, None, "a 03 account record before its transactions", "16")
        code = self.field(record, 0)
        credit = is_credit(int(code)) if re.fullmatch(r"\d{3}", code) else None
        if credit is None:
            expected = "a transaction type code 100-399 (credit) or 400-699 (debit)"
            self.fail(record, "type code", expected, code)
        minor = self.minor(self.field(record, 1), record, "amount", signed=False)
        if minor is None:
            self.fail(record, "amount", "the transaction amount", None)
        funds = self.field(record, 2).upper()
        value_on = group.as_of
        if funds == "V" and self.field(record, 3):
            value_on = self.day(self.field(record, 3), record, "value date")
        extra = self.funds_fields(funds, record.fields[3:], record)
        customer_reference = self.field(record, 4 + extra)
        amount = _decimal(minor if credit else -minor, account.currency)
        transaction = Transaction(
            amount=amount,
            currency=account.currency,
            remittance=Remittance(unstructured=record.text),
            references=(("customer_reference", customer_reference),) if customer_reference else (),
        )
        account.entries.append(
            Entry(
                index=len(account.entries) + 1,
                amount=amount,
                currency=account.currency,
                value_on=value_on,
                booked_on=group.as_of,
                bank_reference=self.field(record, 3 + extra),
                bank_code=code,
                line=record.line,
                transactions=(transaction,),
            )
        )
        account.total += minor
        account.records += record.physical
        group.records += record.physical

    def account_trailer(self, record: _Record) -> None:
        account, group = self.account, self.group
        if account is None or group is None:
            self.fail(record, None, "a 03 account record before its trailer", "49")
        account.records += record.physical
        group.records += record.physical
        total = self.minor(self.field(record, 0), record, "account control total", signed=True)
        records = self.count(record, 1, "number of records")
        self.check(
            record,
            "account control total",
            account.total,
            total or 0,
            "the sum of the account's amounts",
        )
        self.check(
            record,
            "number of records",
            account.records,
            records,
            "the account's records from 03 to 49",
        )
        group.accounts += 1
        group.total += account.total
        self.account = None
        self.statements.append(_statement(account, group, self.file_id, self.created_at))

    def group_trailer(self, record: _Record) -> None:
        group = self.group
        if group is None or self.account is not None:
            got = "98" if group is None else "98 before the account's 49 trailer"
            self.fail(record, None, "a 49 account trailer, then the 98", got)
        group.records += record.physical
        total = self.minor(self.field(record, 0), record, "group control total", signed=True)
        accounts = self.count(record, 1, "number of accounts")
        records = self.count(record, 2, "number of records")
        self.check(
            record,
            "group control total",
            group.total,
            total or 0,
            "the sum of the group's account control totals",
        )
        self.check(
            record, "number of accounts", group.accounts, accounts, "the group's 03 account records"
        )
        self.check(
            record, "number of records", group.records, records, "the group's records from 02 to 98"
        )
        self.groups.append(group)
        self.group = None

    def file_trailer(self, record: _Record) -> None:
        if self.group is not None:
            self.fail(record, None, "a 98 group trailer before the 99", "99")
        total = self.minor(self.field(record, 0), record, "file control total", signed=True)
        groups = self.count(record, 1, "number of groups")
        records = self.count(record, 2, "number of records")
        self.check(
            record,
            "file control total",
            sum(g.total for g in self.groups),
            total or 0,
            "the sum of the group control totals",
        )
        self.check(
            record, "number of groups", len(self.groups), groups, "the file's 02 group headers"
        )
        self.check(
            record,
            "number of records",
            self.records_read,
            records,
            "the file's records from 01 to 99",
        )

    handlers: ClassVar[dict[str, Callable[[_File, _Record], None]]] = {
        "02": group_header,
        "03": account_record,
        "16": transaction,
        "49": account_trailer,
        "98": group_trailer,
    }


def _decimal(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def _statement(account: _Account, group: _Group, file_id: str, created_at: str) -> Statement:
    opening = account.balances.get(10, account.balances.get(40))
    closing = account.balances.get(15, account.balances.get(45))
    as_of = group.as_of.isoformat()
    return Statement(
        format="bai2",
        statement_id=f"{file_id}/{as_of}" if file_id else as_of,
        account_iban="",
        account_number=account.number,
        currency=account.currency,
        entries=tuple(account.entries),
        opening_balance=opening,
        closing_balance=closing,
        opening_on=group.as_of if opening is not None else None,
        closing_on=group.as_of if closing is not None else None,
        created_at=created_at,
        line=account.record.line,
    )
