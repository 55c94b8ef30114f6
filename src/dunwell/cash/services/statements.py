"""Importing bank statement files: every entry stored once, nothing applied yet.

`import_statements` reads a file (`formats.bank.read_statements`), files each statement under
one of the company's bank accounts and stores each transaction as a `StatementLine` in one
transaction: a file that fails anywhere stores nothing. Re-importing changes nothing, at three
levels: the same bytes are recognised by their SHA-256 before they are read; a statement
already filed (the same account, id and period, from another file) is not filed again; and a
line is stored under a natural key, so an entry delivered again in another statement is known.

The line key is the content of the transaction (the bank's reference, value date, amount,
currency, payer account, end-to-end id, remittance) plus its occurrence among identical ones
in the statement: two identical payments on one day stay two lines, and the bank's reference
alone never merges two entries (some banks repeat one, MT940's "NONREF"). Which entries a
matcher may apply is its business (booked credits); here pending and information entries are
stored as `pending`, everything else as `unmatched`.

A dry run reads, files and converts exactly as the import does and returns the same report,
storing nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from dunwell.cash.models import (
    BankAccount,
    BankStatement,
    LineState,
    StatementFile,
    StatementLine,
)
from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.core.money import Money, MoneyError
from dunwell.formats.bank import read_statements
from dunwell.formats.statements import Entry, EntryStatus, Statement, Transaction

NO_REFERENCE = {"", "NONREF", "NOTPROVIDED", "NONE"}
CHUNK = 500  # keys looked up per query


@dataclass
class StatementReport:
    statement_id: str
    account: str  # IBAN or number, as filed
    currency: str
    opening: str | None
    closing: str | None
    opening_on: str | None
    closing_on: str | None
    reconciles: bool | None
    entries: int
    lines_new: int = 0
    lines_known: int = 0
    already_filed: bool = False
    account_created: bool = False
    lines: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ImportReport:
    file: str
    sha256: str
    format: str = ""
    duplicate_file: bool = False  # the same bytes were imported before: nothing read
    dry_run: bool = False
    statements: list[StatementReport] = field(default_factory=list)

    @property
    def lines_new(self) -> int:
        return sum(s.lines_new for s in self.statements)

    @property
    def lines_known(self) -> int:
        return sum(s.lines_known for s in self.statements)

    def as_dict(self, *, with_lines: bool = False) -> dict[str, Any]:
        return {
            "file": self.file, "sha256": self.sha256, "format": self.format,
            "duplicate_file": self.duplicate_file, "dry_run": self.dry_run,
            "lines_new": self.lines_new, "lines_known": self.lines_known,
            "statements": [
                {k: v for k, v in vars(s).items() if with_lines or k != "lines"}
                for s in self.statements
            ],
        }  # fmt: skip


@dataclass(frozen=True)
class _Line:
    """A transaction ready to store: its key and the model's values."""

    key: str
    values: dict[str, Any]


def import_statements(
    *, company: Company, data: bytes, file_name: str, at: datetime, actor: User | None = None,
    file_format: str | None = None, account: BankAccount | None = None, dry_run: bool = False,
) -> ImportReport:  # fmt: skip
    """Read and store one file's statements (see the module); raises `FileRejected` for a file
    that cannot be read and `DunwellError` for one that cannot be filed, storing nothing.
    `account` files statements that name none (a CSV export), and must be the one named by
    those that do."""
    if account is not None and account.company_id != company.pk:
        raise DunwellError(ErrorCode.NOT_FOUND, f"no bank account {account.pk} in {company.code}")
    sha256 = hashlib.sha256(data).hexdigest()
    report = ImportReport(file=file_name, sha256=sha256, dry_run=dry_run)
    earlier = StatementFile.objects.filter(company=company, sha256=sha256).first()
    if earlier is not None:
        report.duplicate_file = True
        report.format = earlier.format
        return report
    statements = read_statements(data, file_name, file_format)
    report.format = statements[0].format if statements else (file_format or "")
    with transaction.atomic():
        record = None
        if not dry_run:
            record = StatementFile.objects.create(
                company=company, file_name=file_name[:300], sha256=sha256, format=report.format,
                size=len(data), statements=len(statements), imported_at=at, imported_by=actor,
            )  # fmt: skip
        for statement in statements:
            report.statements.append(
                _file_statement(company, statement, file_name, record, at, dry_run, account)
            )
        if record is not None:
            record.lines_new, record.lines_known = report.lines_new, report.lines_known
            record.save(update_fields=["lines_new", "lines_known"])
    return report


def _file_statement(
    company: Company, statement: Statement, file_name: str, record: StatementFile | None,
    at: datetime, dry_run: bool, given: BankAccount | None,
) -> StatementReport:  # fmt: skip
    account, created = _account(company, statement, file_name, at, dry_run, given)
    currency = statement.currency.upper() or (given.currency if given else "")
    report = StatementReport(
        statement_id=statement.statement_id, account=statement.account_iban or
        statement.account_number, currency=currency,
        opening=_text(statement.opening_balance), closing=_text(statement.closing_balance),
        opening_on=_iso(statement.opening_on), closing_on=_iso(statement.closing_on),
        reconciles=statement.reconciles(), entries=len(statement.entries), account_created=created,
    )  # fmt: skip
    lines = list(_lines(statement, file_name, currency))
    report.lines = [{"key": line.key, **_shown(line.values)} for line in lines]
    key = _statement_key(statement)
    filed = account is not None and BankStatement.objects.filter(account=account, key=key).exists()
    report.already_filed = filed
    known = _known_keys(account, [line.key for line in lines]) if account is not None else set()
    report.lines_known = sum(1 for line in lines if line.key in known)
    report.lines_new = len(lines) - report.lines_known
    if dry_run or filed or account is None or record is None:
        return report
    stored = BankStatement.objects.create(
        company=company, account=account, file=record, key=key,
        statement_id=statement.statement_id[:100],
        opening_minor=_minor(statement.opening_balance, currency, file_name, statement.line,
                             "opening balance"),
        closing_minor=_minor(statement.closing_balance, currency, file_name, statement.line,
                             "closing balance"),
        opening_on=statement.opening_on, closing_on=statement.closing_on,
        reconciles=report.reconciles, entries=len(statement.entries),
    )  # fmt: skip
    StatementLine.objects.bulk_create(
        StatementLine(company=company, account=account, statement=stored, key=line.key,
                      **line.values)
        for line in lines
        if line.key not in known
    )  # fmt: skip
    return report


def _account(
    company: Company, statement: Statement, file_name: str, at: datetime, dry_run: bool,
    given: BankAccount | None,
) -> tuple[BankAccount | None, bool]:  # fmt: skip
    """The company's account the statement is of: by IBAN (or number) and currency; the
    company's own IBAN makes its account on the first statement; `given` for a statement that
    names no account."""
    iban = statement.account_iban.replace(" ", "").upper()
    number = "" if iban else statement.account_number.strip()
    currency = statement.currency.upper() or (given.currency if given else "")
    where = f"{file_name}, statement {statement.statement_id!r}"
    if not iban and not number:
        if given is None:
            raise DunwellError(ErrorCode.INVALID, f"{where}: the file names no account: give the "
                               "account it is of (--account)", field="account")  # fmt: skip
        if currency != given.currency:
            raise DunwellError(ErrorCode.INVALID, f"{where}: currency {currency}, but account "
                               f"{given} is kept in {given.currency}", field="currency")  # fmt: skip
        return given, False
    found = BankAccount.objects.filter(company=company, iban=iban, account_number=number)
    account = found.filter(currency=currency).first()
    if given is not None and account != given:
        raise DunwellError(ErrorCode.INVALID, f"{where}: the file is of account {iban or number} "
                           f"({currency}), not of {given}", field="account")  # fmt: skip
    if account is not None:
        return account, False
    other = found.first()
    if other is not None:
        raise DunwellError(
            ErrorCode.INVALID,
            f"{where}: currency {currency}, but account {iban or number} is kept in "
            f"{other.currency}",
            field="currency",
        )
    own = company.iban.replace(" ", "").upper()
    if iban and iban == own:
        if dry_run:
            return None, True
        made = BankAccount.objects.create(company=company, name=f"{company.legal_name} {currency}",
                                          iban=iban, currency=currency, bic=company.bic,
                                          created_at=at)  # fmt: skip
        return made, True
    accounts = ", ".join(str(a) for a in BankAccount.objects.filter(company=company)) or "none"
    raise DunwellError(
        ErrorCode.INVALID,
        f"{where}: account {iban or number} ({currency}) is not one of {company.legal_name}'s "
        f"bank accounts (known: {accounts}); add it with `dunwell cash account-add`",
        field="account",
    )


def _statement_key(statement: Statement) -> str:
    return "|".join((statement.statement_id, _iso(statement.opening_on) or "",
                     _iso(statement.closing_on) or "", _text(statement.opening_balance) or "",
                     _text(statement.closing_balance) or ""))[:200]  # fmt: skip


def _lines(statement: Statement, file_name: str, currency: str) -> Iterator[_Line]:
    seen: Counter[str] = Counter()
    for entry in statement.entries:
        if entry.currency.upper() != currency:
            raise DunwellError(
                ErrorCode.INVALID,
                f"{file_name} line {entry.line or '?'}, entry {entry.index}: currency "
                f"{entry.currency}, but statement {statement.statement_id!r} is in {currency}",
                field="currency",
            )
        parts = entry.transactions or (Transaction(amount=entry.amount, currency=entry.currency),)
        for part, tx in enumerate(parts, start=1 if len(parts) > 1 else 0):
            values = _values(entry, tx, part, file_name, currency)
            content = _content(entry, tx, values)
            seen[content] += 1
            digest = hashlib.sha256(f"{content}#{seen[content]}".encode()).hexdigest()[:40]
            yield _Line(key=f"{values['value_on'].isoformat()}:{digest}", values=values)


def _values(
    entry: Entry, tx: Transaction, part: int, file_name: str, currency: str
) -> dict[str, Any]:
    line = entry.line
    remittance = tx.remittance
    text = " ".join(t for t in (remittance.unstructured, entry.text) if t).strip()
    reference = entry.bank_reference.strip()
    return {
        "entry_index": entry.index, "part": part, "line_in_file": line,
        "amount_minor": _minor(tx.amount, currency, file_name, line, "amount"),
        "currency": currency, "value_on": entry.value_on, "booked_on": entry.booked_on,
        "reversal": entry.reversal,
        "bank_reference": "" if reference.upper() in NO_REFERENCE else reference[:100],
        "bank_code": entry.bank_code[:60], "end_to_end_id": tx.end_to_end_id[:100],
        "counterparty_name": tx.counterparty_name[:200],
        "counterparty_iban": tx.counterparty_iban.replace(" ", "").upper()[:34],
        "counterparty_account": tx.counterparty_account[:60],
        "ultimate_party": tx.ultimate_party[:200],
        "structured": list(remittance.structured), "text": text,
        "documents": [_document(d, currency, file_name, line) for d in remittance.documents],
        "charges_minor": _minor(tx.charges, currency, file_name, line, "charges"),
        "instructed_minor": _minor(tx.instructed_amount, tx.instructed_currency or currency,
                                   file_name, line, "instructed amount"),
        "instructed_currency": tx.instructed_currency.upper()[:3],
        "return_reason": tx.return_reason[:10],
        "state": LineState.UNMATCHED if entry.status == EntryStatus.BOOKED else LineState.PENDING,
    }  # fmt: skip


def _content(entry: Entry, tx: Transaction, values: dict[str, Any]) -> str:
    """What makes two transactions the same one: everything the bank said about it."""
    return json.dumps(
        [values["bank_reference"], values["value_on"].isoformat(), values["amount_minor"],
         values["currency"], values["counterparty_iban"], values["counterparty_account"],
         values["end_to_end_id"], values["structured"], values["text"], values["part"],
         entry.reversal],
        ensure_ascii=False,
    )  # fmt: skip


def _document(document: Any, currency: str, file_name: str, line: int | None) -> dict[str, Any]:
    return {
        "number": document.number, "kind": document.kind,
        "amount_minor": _minor(document.amount, currency, file_name, line, "document amount"),
        "discount_minor": _minor(document.discount, currency, file_name, line, "discount"),
        "on": _iso(document.on),
    }  # fmt: skip


def _known_keys(account: BankAccount, keys: Iterable[str]) -> set[str]:
    listed = list(keys)
    known: set[str] = set()
    for start in range(0, len(listed), CHUNK):
        chunk = listed[start : start + CHUNK]
        known.update(
            StatementLine.objects.filter(account=account, key__in=chunk).values_list(
                "key", flat=True
            )
        )
    return known


def _minor(
    amount: Decimal | None, currency: str, file_name: str, line: int | None, what: str
) -> int | None:
    if amount is None:
        return None
    try:
        return Money(amount, currency).minor
    except MoneyError as error:
        raise DunwellError(ErrorCode.INVALID, f"{file_name} line {line or '?'}, {what}: {error}",
                           field=what) from None  # fmt: skip


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    """A line as the report shows it: amounts in the currency's units, dates as ISO text."""
    shown = dict(values)
    for name in ("amount_minor", "charges_minor", "instructed_minor"):
        minor = shown.pop(name)
        currency = shown["instructed_currency"] or shown["currency"]
        label = name.removesuffix("_minor")
        if minor is None:
            shown[label] = None
        else:
            shown[label] = str(Money.from_minor(minor, shown["currency"] if name != "instructed_minor"
                                                else currency).amount)  # fmt: skip
    for name in ("value_on", "booked_on"):
        shown[name] = _iso(shown[name])
    return shown


def _iso(day: Any) -> str | None:
    return day.isoformat() if day is not None else None


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)
