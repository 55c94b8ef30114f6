"""Importing bank statement files: each transaction a line, stored once, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from dunwell.cash.models import BankAccount, BankStatement, LineState, StatementFile, StatementLine
from dunwell.cash.services.statements import import_statements
from dunwell.core.errors import DunwellError
from dunwell.core.models import Company
from dunwell.formats.bank import read_statements
from dunwell.formats.errors import FileRejected
from tests import factories as f
from tests.factories import AT

pytestmark = pytest.mark.django_db

BATCH = "camt053/oca_test-camt053-txdtls.xml"  # one CHF credit of 3,483.00 in two transactions


def swiss(iban: str = "CH1111000000123456789") -> Company:
    company = f.company("alpen", currency="CHF", country="CH")
    company.iban = iban
    company.save(update_fields=["iban"])
    return company


def sample(shared_data: Path, name: str) -> tuple[bytes, str]:
    path = shared_data / "bank" / name
    return path.read_bytes(), path.name


def imported(company: Company, data: bytes, name: str, **options: object):
    return import_statements(company=company, data=data, file_name=name, at=AT, **options)  # type: ignore[arg-type]


def test_a_batched_credit_becomes_one_line_per_transaction_with_its_reference(shared_data):
    company = swiss()
    data, name = sample(shared_data, BATCH)
    report = imported(company, data, name)
    [statement] = report.statements
    assert (statement.entries, statement.lines_new, statement.reconciles) == (1, 2, True)
    assert statement.account_created and BankAccount.objects.get().currency == "CHF"
    lines = list(StatementLine.objects.order_by("part"))
    assert [(x.part, x.amount_minor, x.currency, x.state) for x in lines] == [
        (1, 2187_00, "CHF", LineState.UNMATCHED), (2, 1296_00, "CHF", LineState.UNMATCHED)
    ]  # fmt: skip
    assert all(len(x.structured) == 1 and len(x.structured[0]) == 27 for x in lines)
    stored = BankStatement.objects.get()
    assert (stored.opening_minor, stored.closing_minor) == (75960_15, 79443_15)
    assert StatementFile.objects.get().lines_new == 2


def test_importing_again_changes_nothing_at_any_level(shared_data):
    company = swiss()
    data, name = sample(shared_data, BATCH)
    imported(company, data, name)
    again = imported(company, data, name)
    assert again.duplicate_file and again.lines_new == 0
    # the same statement in another file (other bytes): filed already, its lines known
    other = imported(company, data + b"\n<!-- exported again -->\n", "again.xml")
    assert not other.duplicate_file
    assert (other.statements[0].already_filed, other.lines_new, other.lines_known) == (True, 0, 2)
    assert (StatementLine.objects.count(), BankStatement.objects.count()) == (2, 1)
    assert StatementFile.objects.count() == 2


def test_a_statement_of_an_account_not_the_company_s_is_refused_and_nothing_stored(shared_data):
    company = swiss(iban="CH9300762011623852957")
    data, name = sample(shared_data, BATCH)
    with pytest.raises(DunwellError) as refused:
        imported(company, data, name)
    assert str(refused.value).startswith(
        f"{name}, statement '{read_statements(data, name)[0].statement_id}': account "
        "CH1111000000123456789 (CHF) is not one of Alpen GmbH's bank accounts (known: none); "
        "add it with `dunwell cash account-add`"
    )
    assert not StatementFile.objects.exists() and not StatementLine.objects.exists()


def test_a_statement_in_another_currency_than_its_account_is_refused(shared_data):
    company = swiss(iban="")
    BankAccount.objects.create(company=company, name="EUR account", iban="CH1111000000123456789",
                               currency="EUR", created_at=AT)  # fmt: skip
    data, name = sample(shared_data, BATCH)
    with pytest.raises(DunwellError, match="currency CHF, but account CH1111000000123456789 is "
                                           "kept in EUR"):  # fmt: skip
        imported(company, data, name)
    assert not StatementLine.objects.exists()


def test_a_dry_run_prints_the_entries_and_stores_nothing(shared_data, capsys):
    swiss()
    path = shared_data / "bank" / BATCH
    call_command("cash", "import", str(path), "--dry-run", "--format", "json")
    [report] = json.loads(capsys.readouterr().out)
    assert report["dry_run"] and report["format"] == "camt.053"
    [statement] = report["statements"]
    assert [(x["amount"], x["part"]) for x in statement["lines"]] == [
        ("2187.00", 1),
        ("1296.00", 2),
    ]
    assert statement["account_created"] and statement["lines_new"] == 2
    assert not StatementFile.objects.exists() and not BankAccount.objects.exists()


def test_a_truncated_file_is_refused_by_the_command_naming_the_file(shared_data, tmp_path):
    swiss()
    data = (shared_data / "bank" / BATCH).read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CommandError) as refused:
        call_command("cash", "import", str(cut))
    assert str(refused.value).startswith("cut.xml") and "nothing was imported" in str(refused.value)
    assert not StatementFile.objects.exists()


def test_a_csv_export_is_filed_under_the_account_given(shared_data, capsys):
    company = f.company("oca", currency="USD", country="US")
    call_command("cash", "account-add", "--name", "Operating", "--number", "12345",
                 "--currency", "USD", "--company", "oca", "--format", "json")  # fmt: skip
    account = json.loads(capsys.readouterr().out)
    path = shared_data / "bank" / "csv" / "oca_sheet_sample_statement_en.csv"
    with pytest.raises(CommandError, match="the file names no account: give the account"):
        call_command("cash", "import", str(path), "--company", "oca")
    call_command("cash", "import", str(path), "--company", "oca", "--account", str(account["id"]),
                 "--format", "json")  # fmt: skip
    [report] = json.loads(capsys.readouterr().out)
    assert report["lines_new"] == 2
    assert StatementLine.objects.filter(company=company, account_id=account["id"]).count() == 2


@pytest.mark.parametrize(
    "name",
    [
        "camt053/genkgo_camt053.v2.multi.statement.xml",
        "camt054/oca_test-camt054.xml",
        "mt940/wolph_jejik_rabobank-iban.sta",
        "mt940/wolph_jejik_knab.sta",
        "ofx/oca_test_ofx_fields.ofx",
        "ofx/ofxparse_bank_medium.ofx",
        "bai2/moov_sample1.bai2",
        BATCH,
    ],
)
def test_every_sample_file_imports_each_transaction_once(shared_data, name):
    data, file_name = sample(shared_data, name)
    statements = read_statements(data, file_name)
    company = f.company("bank", currency="EUR")
    for s in statements:  # the accounts the file is of, added as a user would
        BankAccount.objects.get_or_create(
            company=company, iban=s.account_iban, account_number="" if s.account_iban
            else s.account_number, currency=s.currency, defaults={"name": "x", "created_at": AT},
        )  # fmt: skip
    report = imported(company, data, file_name)
    transactions = sum(max(len(e.transactions), 1) for s in statements for e in s.entries)
    assert report.lines_new == StatementLine.objects.count() == transactions
    total = sum(e.amount for s in statements for e in s.entries)
    stored = sum(StatementLine.objects.values_list("amount_minor", flat=True))
    assert stored == sum(
        int(e.amount * 10 ** (0 if e.currency == "JPY" else 2))
        for s in statements
        for e in s.entries
    ), total
    assert imported(company, data, file_name).duplicate_file
    assert StatementLine.objects.count() == transactions


def test_a_statement_in_a_currency_that_no_longer_exists_refuses_the_file(shared_data):
    """The cmxl sample's first statement is in Deutsche Mark (2002): its amounts cannot be
    money here, so the file, with its EUR and PLN statements, is refused whole."""
    data, name = sample(shared_data, "mt940/wolph_cmxl_mt940.sta")
    company = f.company("bank", currency="EUR")
    for s in read_statements(data, name):
        BankAccount.objects.get_or_create(company=company, iban=s.account_iban,
                                          account_number="" if s.account_iban else s.account_number,
                                          currency=s.currency,
                                          defaults={"name": "x", "created_at": AT})  # fmt: skip
    with pytest.raises(DunwellError) as refused:
        imported(company, data, name)
    assert str(refused.value) == (f"{name} line 5, amount: unknown currency 'DEM': expected an "
                                  "ISO 4217 code such as EUR")  # fmt: skip
    assert not StatementFile.objects.exists() and not StatementLine.objects.exists()


def test_a_file_that_is_no_statement_is_refused():
    company = f.company()
    with pytest.raises(FileRejected):
        imported(company, b"hello, world\n", "notes.txt")
    assert not StatementFile.objects.exists()
