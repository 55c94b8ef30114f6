"""Bank CSV exports: the OCA sample with recognised headers, a German export, explicit
mappings, and what is refused."""

from datetime import date
from decimal import Decimal

import pytest

from dunwell.formats.bank_csv import CsvMapping, read_bank_csv, recognise
from dunwell.formats.errors import FileRejected
from dunwell.formats.statements import Remittance, Transaction


def read(data: bytes, mapping: CsvMapping | None = None, file_name: str = "bank.csv"):
    (statement,) = read_bank_csv(data, file_name=file_name, mapping=mapping)
    return statement


def rejection(data: bytes, mapping: CsvMapping | None = None) -> list[str]:
    with pytest.raises(FileRejected) as caught:
        read_bank_csv(data, file_name="bank.csv", mapping=mapping)
    return [str(error) for error in caught.value.errors]


def test_oca_sample_reads_with_recognised_headers_and_us_formats(shared_data):
    path = shared_data / "bank" / "csv" / "oca_sheet_sample_statement_en.csv"
    statement = read(path.read_bytes())
    assert (statement.format, statement.currency) == ("csv", "USD")
    supplier, payment = statement.entries
    assert (supplier.amount, supplier.value_on, supplier.line) == (
        Decimal("-33.50"),
        date(2018, 12, 15),
        2,
    )
    assert supplier.transactions[0] == Transaction(
        amount=Decimal("-33.50"),
        currency="USD",
        counterparty_name="John Doe",
        counterparty_account="123456789",  # not an IBAN
        remittance=Remittance(unstructured="Your best supplier on 12/15/2018"),
    )
    assert payment.transactions[0] == Transaction(
        amount=Decimal("1525.00"),
        currency="USD",
        counterparty_name="Azure Interior",
        remittance=Remittance(unstructured="Your payment on 12/15/2018"),
        instructed_amount=Decimal("1000.00"),
        instructed_currency="EUR",
    )


GERMAN = """Buchungstag;Wertstellung;Auftraggeber;IBAN;Verwendungszweck;Soll;Haben;Währung
08.03.2024;09.03.2024;Acme Trading GmbH;DE89 3704 0044 0532 0130 00;RE INV-1001;;2.450,00;EUR
10.03.2024;10.03.2024;Stadtwerke;DE02120300000000202051;Strom März;84,20;;EUR
""".encode("cp1252")


def test_german_export_reads_debit_and_credit_columns_and_comma_decimals():
    statement = read(GERMAN)
    credit, debit = statement.entries
    assert (credit.amount, credit.value_on, credit.booked_on) == (
        Decimal("2450.00"),
        date(2024, 3, 9),
        date(2024, 3, 8),
    )
    assert credit.transactions[0].counterparty_iban == "DE89370400440532013000"
    assert credit.transactions[0].remittance.unstructured == "RE INV-1001"
    assert (debit.amount, debit.transactions[0].remittance.unstructured) == (
        Decimal("-84.20"),
        "Strom März",
    )


def test_currency_in_the_amount_header_is_the_statement_currency():
    data = b"Date,Counter Party,Reference,Type,Amount (GBP),Balance (GBP)\n15/03/2024,Acme Ltd,INV-1001,FASTER PAYMENT,250.00,1250.00\n"
    statement = read(data)
    assert statement.currency == "GBP"
    (entry,) = statement.entries
    assert (entry.value_on, entry.amount) == (date(2024, 3, 15), Decimal("250.00"))
    assert entry.transactions[0].counterparty_name == "Acme Ltd"
    assert entry.transactions[0].remittance.unstructured == "INV-1001"


def test_explicit_mapping_names_the_columns_and_formats():
    data = b"When|What|Who|Sum|Ref\n2024-03-01|Payment INV-7|Beta BV|1 234,56|TX-1\n"
    mapping = CsvMapping(
        date="When",
        amount="Sum",
        counterparty_name="Who",
        text=("What",),
        reference="Ref",
        statement_currency="eur",
        date_format="iso",
        decimal_sep=",",
        thousands_sep=".",
    )
    (entry,) = read(data, mapping).entries
    assert (entry.amount, entry.bank_reference) == (Decimal("1234.56"), "TX-1")
    assert entry.transactions[0].currency == "EUR"


def test_recognise_keeps_every_text_column_in_order():
    mapping, currency = recognise(["Date", "Description", "Amount", "Memo", "Reference"])
    assert mapping.text == ("Description", "Memo", "Reference")
    assert currency == ""
    with pytest.raises(ValueError, match="no date and amount columns among Foo, Bar"):
        recognise(["Foo", "Bar"])


def test_mapping_without_amount_columns_is_a_usage_error():
    with pytest.raises(ValueError, match="needs an amount column"):
        CsvMapping(date="Date")


# -- refusals --------------------------------------------------------------------------------------


def test_dates_that_fit_both_orders_are_refused_not_guessed():
    data = b"Date,Amount,Currency\n01/02/2024,10.00,EUR\n03/04/2024,12.00,EUR\n"
    assert rejection(data) == [
        'bank.csv line 2, field "Date": expected dates whose format can be told (a day above 12 '
        "or a four-digit year first), or the date format in the mapping (iso, dmy or mdy), got "
        '"01/02/2024"'
    ]
    mapping = CsvMapping(date="Date", amount="Amount", currency="Currency", date_format="dmy")
    assert read(data, mapping).entries[0].value_on == date(2024, 2, 1)


def test_wrong_values_are_all_reported_with_their_columns_and_lines():
    data = (
        b"Date,Amount,Currency,Partner Name\n"
        b"12/15/2018,12.3x,USD,A\n"
        b"12/32/2018,5.00,USD,B\n"
        b"12/16/2018,5.001,USD,C\n"
        b"12/17/2018,,USD,D\n"
        b"12/18/2018,1.00,EUR,E\n"
        b"12/19/2018,1.00,USD\n"
    )
    assert rejection(data) == [
        'bank.csv line 2, field "Amount": expected a number like 1,234.56, got "12.3x"',
        'bank.csv line 3, field "Date": expected a date that exists, like 1/26/2013, got '
        '"12/32/2018"',
        'bank.csv line 4, field "Amount": expected an amount with at most 2 decimals for USD, '
        'got "5.001"',
        'bank.csv line 5, field "Amount": expected an amount',
        'bank.csv line 6, field "Currency": expected the statement currency USD (one per file), '
        'or an original amount, got "EUR"',
        'bank.csv line 7: expected 4 values separated by commas, got "3 values"',
    ]


def test_file_without_currency_is_refused_unless_the_mapping_gives_it():
    data = b"Date,Amount\n2024-03-01,10.00\n"
    assert rejection(data) == [
        "bank.csv line 1: expected a currency column, or the statement currency in the mapping"
    ]
    mapping = CsvMapping(date="Date", amount="Amount", statement_currency="CHF")
    assert read(data, mapping).currency == "CHF"


def test_file_with_only_a_header_is_an_empty_statement():
    statement = read(b"Date,Amount,Currency\n")
    assert (statement.entries, statement.currency) == ((), "")
