"""OFX: the OFX 2 (XML) and OFX 1 (SGML without closing tags) samples, what ofxtools refuses
and is read anyway, and what is refused."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dunwell.formats.errors import FileRejected
from dunwell.formats.ofx import read_ofx
from dunwell.formats.statements import Remittance, Transaction


def sample(shared_data: Path, name: str) -> bytes:
    return (shared_data / "bank" / "ofx" / name).read_bytes()


def rejection(data: bytes, file_name: str = "bank.ofx") -> list[str]:
    with pytest.raises(FileRejected) as caught:
        read_ofx(data, file_name=file_name)
    return [str(error) for error in caught.value.errors]


def edited(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data, f"{old!r} is no longer in the sample"
    return data.replace(old, new, 1)


def test_ofx2_sample_reads_fitid_names_memos_and_the_ledger_balance(shared_data):
    (statement,) = read_ofx(sample(shared_data, "oca_test_ofx_fields.ofx"), file_name="x")
    assert (statement.account_number, statement.currency, statement.statement_id) == (
        "123456",
        "USD",
        "20130801-20130831",
    )
    assert (statement.closing_balance, statement.closing_on) == (
        Decimal("1632.11"),
        date(2013, 8, 31),
    )
    assert statement.opening_balance is None
    check, debit, interest = statement.entries
    assert (check.amount, check.bank_reference, check.bank_code, check.value_on) == (
        Decimal(-500),
        "319378",
        "CHECK",
        date(2013, 8, 24),
    )
    assert check.transactions[0] == Transaction(
        amount=Decimal(-500),
        currency="USD",
        counterparty_name="Acme Landlord",
        remittance=Remittance(unstructured="Rent payment August"),
        references=(("CHECKNUM", "321"),),
    )
    # no NAME; then neither NAME nor MEMO
    assert (debit.amount, debit.transactions[0].counterparty_name) == (Decimal("-25.50"), "")
    assert debit.transactions[0].remittance.unstructured == "Electricity monthly"
    assert (interest.amount, interest.transactions[0].remittance) == (Decimal("1.05"), Remittance())


def test_ofx1_sgml_sample_without_closing_tags_reads(shared_data):
    (statement,) = read_ofx(sample(shared_data, "ofxparse_bank_medium.ofx"), file_name="x")
    assert (statement.account_number, statement.currency, statement.closing_balance) == (
        "12300 000012345678",
        "CAD",
        Decimal("382.34"),  # the ledger balance, not the available 682.34
    )
    assert [(e.bank_code, e.amount, e.value_on) for e in statement.entries] == [
        ("POS", Decimal("-6.60"), date(2009, 4, 1)),
        ("CHECK", Decimal("-316.67"), date(2009, 4, 2)),
        ("POS", Decimal("-22.00"), date(2009, 4, 3)),
    ]
    second = statement.entries[1].transactions[0]
    assert second.counterparty_name == "Joe's Bald Hairstyles"
    assert second.references == ()  # CHECKNUM 0 is no cheque number


def test_dates_are_the_banks_local_days_not_utc(shared_data):
    data = edited(
        sample(shared_data, "oca_test_ofx_fields.ofx"),
        b"<DTPOSTED>20130824080000</DTPOSTED>",
        b"<DTPOSTED>20130824200000.000[-8:PST]</DTPOSTED>",
    )
    (statement,) = read_ofx(data, file_name="x")
    assert statement.entries[0].value_on == date(2013, 8, 24)  # 04:00 on the 25th in UTC


def test_available_date_is_the_value_date_and_the_user_date_a_reference(shared_data):
    data = edited(
        sample(shared_data, "oca_test_ofx_fields.ofx"),
        b"<DTPOSTED>20130826080000</DTPOSTED>",
        b"<DTPOSTED>20130826</DTPOSTED><DTUSER>20130823</DTUSER><DTAVAIL>20130827</DTAVAIL>",
    )
    interest = read_ofx(data, file_name="x")[0].entries[2]
    assert (interest.value_on, interest.booked_on) == (date(2013, 8, 27), date(2013, 8, 26))
    assert interest.transactions[0].references == (("DTUSER", "2013-08-23"),)


def test_escaped_characters_are_unescaped(shared_data):
    data = edited(
        sample(shared_data, "oca_test_ofx_fields.ofx"), b"Acme Landlord", b"Smith &amp; Sons"
    )
    assert read_ofx(data, file_name="x")[0].entries[0].transactions[0].counterparty_name == (
        "Smith & Sons"
    )


def test_file_without_a_header_is_read_with_a_plain_one(shared_data):
    data = sample(shared_data, "ofxparse_bank_medium.ofx")
    body = data[data.index(b"<OFX>") :]
    (statement,) = read_ofx(body, file_name="x")
    assert len(statement.entries) == 3
    assert statement.entries[0].line == 5  # the body's own lines


def test_windows_1252_text_under_a_utf8_header_is_read(shared_data):
    data = edited(sample(shared_data, "ofxparse_bank_medium.ofx"), b"CHARSET:1252", b"CHARSET:NONE")
    data = edited(data, b"CONNIE'S HAIR D<MEMO>", "CAFÉ MÜLLER<MEMO>".encode("cp1252"))
    (statement,) = read_ofx(data, file_name="x")
    assert statement.entries[2].transactions[0].counterparty_name == "CAFÉ MÜLLER"


def test_statement_without_ledger_balance_or_fitid_is_read(shared_data):
    data = sample(shared_data, "ofxparse_bank_medium.ofx")
    data = edited(data, b"<LEDGERBAL><BALAMT>382.34<DTASOF>20090523122017</LEDGERBAL>", b"")
    data = edited(data, b"<FITID>0000123456782009040100001", b"")
    (statement,) = read_ofx(data, file_name="x")
    assert statement.closing_balance is None
    assert statement.entries[0].bank_reference == ""


# -- refusals --------------------------------------------------------------------------------------


def test_truncated_sgml_file_is_refused_naming_the_last_line(shared_data):
    data = sample(shared_data, "ofxparse_bank_medium.ofx")
    truncated = data[: data.index(b"<STMTTRN><TRNTYPE>CHECK")]
    assert rejection(truncated, "medium.ofx") == [
        'medium.ofx line 15: expected the end of the OFX document (</OFX>), got "the end of the '
        'file"'
    ]


def test_truncated_xml_file_is_refused(shared_data):
    data = sample(shared_data, "oca_test_ofx_fields.ofx")
    truncated = data[: data.index(b"<LEDGERBAL>")]
    assert rejection(truncated) == [
        'bank.ofx line 53: expected the end of the OFX document (</OFX>), got "the end of the file"'
    ]


def test_wrong_values_are_reported_with_their_lines(shared_data):
    data = sample(shared_data, "oca_test_ofx_fields.ofx")
    data = edited(data, b"<TRNAMT>-25.50</TRNAMT>", b"<TRNAMT>minus 25</TRNAMT>")
    data = edited(data, b"<DTPOSTED>20130826080000", b"<DTPOSTED>20130232")
    data = edited(data, b"<TRNAMT>-500</TRNAMT>", b"")
    data = edited(data, b"<CURDEF>USD</CURDEF>", b"<CURDEF>dollars</CURDEF>")
    assert rejection(data) == [
        'bank.ofx line 21, field "STMTRS/CURDEF": expected a three-letter ISO 4217 currency '
        'code like EUR, got "dollars"',
        'bank.ofx line 31, field "TRNAMT": expected an amount like -25.50',
        'bank.ofx line 40, field "TRNAMT": expected an amount like -25.50, got "minus 25"',
        'bank.ofx line 47, field "DTPOSTED": expected a date that exists, like 20130824 '
        '(YYYYMMDD), got "20130232"',
    ]


def test_markup_error_is_refused_naming_its_line(shared_data):
    data = edited(
        sample(shared_data, "oca_test_ofx_fields.ofx"),
        b"</STMTTRN>\n          <STMTTRN>\n            <TRNTYPE>INT",
        b"</STMTTRN> stray text\n          <STMTTRN>\n            <TRNTYPE>INT",
    )
    assert rejection(data) == [
        "bank.ofx line 46: expected well-formed OFX markup, got \"Tail text 'stray text' after </STMTTRN>\""
    ]


def test_file_that_is_no_ofx_is_refused():
    assert rejection(b"<html><body>Log in to your bank</body></html>") == [
        'bank.ofx line 1: expected an OFX file (an OFX header and an <OFX> element), got "<html>'
        '<body>Log in to your bank</body></html>"'
    ]
