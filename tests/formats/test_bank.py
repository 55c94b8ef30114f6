"""Every sample bank file in ../shared/data/bank reads as ../shared/data/README.md says; `detect`
tells formats by content; unreadable files are refused naming the file."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dunwell.formats.bank import detect, read_statements
from dunwell.formats.errors import FileRejected
from dunwell.formats.statements import Statement

# file -> format, then per statement: (currency, entries, reconciles) as the README states
EXPECTED = {
    "camt053/oca_test-camt053-txdtls.xml": ("camt.053", [("CHF", 1, True)]),
    "camt053/genkgo_camt053.v2.multi.statement.xml": (
        "camt.053",
        [("EUR", 1, True), ("EUR", 1, True)],
    ),
    "camt054/oca_test-camt054.xml": ("camt.054", [("EUR", 1, None)]),
    "mt940/wolph_jejik_rabobank-iban.sta": ("mt940", [("EUR", 2, True), ("EUR", 2, True)]),
    "mt940/wolph_jejik_knab.sta": ("mt940", [("EUR", 1, True), ("EUR", 2, False)]),
    "mt940/wolph_cmxl_mt940.sta": (
        "mt940",
        [("DEM", 11, True), ("EUR", 2, True), ("PLN", 3, True)],
    ),
    "ofx/oca_test_ofx_fields.ofx": ("ofx", [("USD", 3, None)]),
    "ofx/ofxparse_bank_medium.ofx": ("ofx", [("CAD", 3, None)]),
    "bai2/moov_sample1.bai2": ("bai2", [("CAD", 11, True), ("CAD", 6, True)]),
    "csv/oca_sheet_sample_statement_en.csv": ("csv", [("USD", 2, None)]),
}


def read(shared_data: Path, name: str) -> list[Statement]:
    path = shared_data / "bank" / name
    return read_statements(path.read_bytes(), path.name)


def rejection(data: bytes, filename: str = "statement.txt", fmt: str | None = None) -> list[str]:
    with pytest.raises(FileRejected) as caught:
        read_statements(data, filename, fmt)
    return [str(error) for error in caught.value.errors]


def test_every_sample_bank_file_has_an_expectation_here(shared_data):
    found = {str(p.relative_to(shared_data / "bank")) for p in shared_data.glob("bank/*/*")}
    assert found == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_is_detected_by_its_content(shared_data, name):
    data = (shared_data / "bank" / name).read_bytes()
    assert detect(data, "upload.bin") == EXPECTED[name][0]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_has_the_statements_entries_and_balances_its_readme_states(shared_data, name):
    fmt, statements = EXPECTED[name]
    got = [(s.currency, len(s.entries), s.reconciles()) for s in read(shared_data, name)]
    assert got == statements
    assert {s.format for s in read(shared_data, name)} == {fmt}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_entries_are_numbered_and_their_transactions_add_up(shared_data, name):
    for statement in read(shared_data, name):
        assert [e.index for e in statement.entries] == list(range(1, len(statement.entries) + 1))
        for entry in statement.entries:
            assert entry.transactions
            assert sum(t.amount for t in entry.transactions) == entry.amount
            assert entry.line is not None


def test_entry_lines_are_the_physical_lines_of_the_sample_files(shared_data):
    lines = {
        name: [[e.line for e in s.entries] for s in read(shared_data, name)]
        for name in (
            "camt053/oca_test-camt053-txdtls.xml",
            "mt940/wolph_jejik_knab.sta",
            "ofx/ofxparse_bank_medium.ofx",
        )
    }
    assert lines == {
        "camt053/oca_test-camt053-txdtls.xml": [[53]],
        "mt940/wolph_jejik_knab.sta": [[5], [14, 17]],
        "ofx/ofxparse_bank_medium.ofx": [[15, 16, 17]],
    }


def test_repeated_statement_ids_for_one_account_are_numbered(shared_data):
    statements = read(shared_data, "mt940/wolph_jejik_rabobank-iban.sta")
    assert [s.statement_id for s in statements] == ["940S130101/0", "940S130101/0#2"]
    assert [s.opening_on for s in statements] == [date(2013, 1, 1), date(2013, 1, 8)]


def test_camt_batch_of_3483_splits_into_two_isr_references(shared_data):
    (statement,) = read(shared_data, "camt053/oca_test-camt053-txdtls.xml")
    (entry,) = statement.entries
    assert entry.amount == Decimal("3483.00")
    assert [(t.amount, t.remittance.structured) for t in entry.transactions] == [
        (Decimal("2187.00"), ("302388292000011111111111111",)),
        (Decimal("1296.00"), ("302388292000022222222222222",)),
    ]


# -- detection -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"\xef\xbb\xbf<?xml version='1.0'?><Document><BkToCstmrStmt>", "camt.053"),
        (b"<n:Document xmlns:n='x'><n:BkToCstmrDbtCdtNtfctn>", "camt.054"),
        (b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.08'>", "camt.053"),
        (b"{1:F01ABNANL2AXXX0000000000}{2:O940}{4:\r\n:20:X\r\n", "mt940"),
        (b"\r\n:20:STATEMENT\r\n:25:NL71RABO0123456789\r\n", "mt940"),
        (b"OFXHEADER:100\r\nDATA:OFXSGML\r\n", "ofx"),
        (b"<OFX><SIGNONMSGSRSV1>", "ofx"),
        (b'<?xml version="1.0"?>\n<?OFX OFXHEADER="200" VERSION="211"?>\n<OFX>', "ofx"),
        (b"01,0004,12345,060321,0829,001,80,1,2/\n", "bai2"),
        (b"Date;Betrag;Verwendungszweck\n01.02.2024;12,50;RE 4711\n", "csv"),
        ("Date\tAmount\tCurrency\r\n".encode("utf-16"), "csv"),
    ],
)
def test_format_is_told_by_content_not_by_file_name(data, fmt):
    assert detect(data, "statement.csv") == fmt


def test_utf16_export_is_read(shared_data):
    data = (shared_data / "bank/csv/oca_sheet_sample_statement_en.csv").read_bytes()
    (statement,) = read_statements(data.decode("utf-8").encode("utf-16"), "export.txt")
    assert [e.amount for e in statement.entries] == [Decimal("-33.50"), Decimal("1525.00")]


def test_empty_file_is_refused_naming_the_file():
    assert rejection(b"  \r\n") == [
        "statement.txt: expected a bank statement: camt.053, camt.054, MT940, OFX, BAI2 or CSV, "
        'got "an empty file"'
    ]


def test_pdf_and_spreadsheet_are_refused_saying_what_they_are():
    assert rejection(b"%PDF-1.4\n...", "kontoauszug.pdf") == [
        "kontoauszug.pdf: expected a bank statement: camt.053, camt.054, MT940, OFX, BAI2 or CSV,"
        ' got "a PDF file"'
    ]
    assert rejection(b"PK\x03\x04\x14\x00", "export.xlsx") == [
        "export.xlsx: expected a bank statement: camt.053, camt.054, MT940, OFX, BAI2 or CSV, "
        'got "a ZIP archive (an Excel workbook?): export the statement as CSV"'
    ]


def test_xml_that_is_no_statement_is_refused_naming_its_root():
    data = b'<?xml version="1.0"?>\n<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'
    assert rejection(data, "invoice.xml") == [
        "invoice.xml line 1: expected a bank statement: camt.053, camt.054, MT940, OFX, BAI2 or "
        'CSV, got "XML with the root element Invoice"'
    ]


def test_camt_052_is_refused_with_a_hint():
    data = b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.052.001.02'><BkToCstmrAcctRpt>"
    assert rejection(data, "intraday.xml") == [
        "intraday.xml line 1: expected a bank statement: camt.053, camt.054, MT940, OFX, BAI2 or "
        'CSV, got "a camt.052 intraday report (read its end-of-day camt.053 instead)"'
    ]


def test_text_that_is_no_statement_is_read_as_csv_and_refused_naming_its_columns():
    assert rejection(b"hello world\nthis is not a statement\n", "notes.txt") == [
        "notes.txt line 1: expected a date column and an amount column (or debit and credit), or "
        'a column mapping, got "hello world"'
    ]


def test_format_given_by_the_caller_is_checked_against_the_message(shared_data):
    data = (shared_data / "bank/camt054/oca_test-camt054.xml").read_bytes()
    assert rejection(data, "notification.xml", "camt.053") == [
        'notification.xml line 1: expected a camt.053 message, got "a camt.054 message"'
    ]


def test_unknown_format_name_is_a_usage_error():
    with pytest.raises(ValueError, match="unknown bank statement format 'qif'"):
        read_statements(b"!Type:Bank", "x.qif", "qif")
