"""CSV bytes in, rows of canonical fields with their physical line numbers out."""

import pickle
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunwell.formats.csv_rows import (
    CsvRow,
    FieldError,
    check_date_format,
    parse_currency,
    parse_date,
    parse_decimal,
    parse_minor,
    read_csv,
    stream_csv,
    to_minor,
)
from dunwell.formats.errors import FileRejected

FIELDS = {"required": ("number", "amount"), "optional": ("due_on", "customer")}


def read(data: bytes, **options):
    return read_csv(data, file_name="invoices.csv", **{**FIELDS, **options})


def rejection(data: bytes, **options) -> list[str]:
    with pytest.raises(FileRejected) as caught:
        read(data, **options)
    return [str(error) for error in caught.value.errors]


def field_error(call, *args) -> str:
    """The message a caller shows after placing the FieldError on line 14 of a file."""
    with pytest.raises(FieldError) as caught:
        call(*args)
    return str(caught.value.at("invoices.csv", 14, "amount"))


# -- lines ------------------------------------------------------------------------------------


def test_rows_keep_their_physical_line_when_a_quoted_value_spans_lines():
    data = b'number,amount,customer\nA-1,10,"Acme\nWarehouse\r\nNorth"\nA-2,20,Beta\n'
    table = read(data)
    assert table.rows == (
        CsvRow(2, {"number": "A-1", "amount": "10", "customer": "Acme\nWarehouse\r\nNorth"}),
        CsvRow(5, {"number": "A-2", "amount": "20", "customer": "Beta"}),
    )


def test_blank_lines_are_skipped_without_shifting_line_numbers():
    table = read(b"number,amount\n\nA-1,10\n,\n\r\nA-2,20")
    assert [row.line for row in table.rows] == [3, 6]


def test_first_data_row_is_line_two():
    assert read(b"number,amount\r\nA-1,10\r\n").rows[0].line == 2


def test_row_with_too_few_values_is_reported_and_the_others_are_kept():
    table = read(b"number;amount;customer\nA-1;10;Acme\nA-2;20\nA-3;30;Beta\n")
    assert [row.line for row in table.rows] == [2, 4]
    assert [str(e) for e in table.errors] == [
        'invoices.csv line 3: expected 3 values separated by semicolons, got "2 values"'
    ]


def test_trailing_empty_values_are_ignored_when_a_spreadsheet_pads_rows():
    table = read(b"number,amount\nA-1,10,,\n")
    assert table.rows == (CsvRow(2, {"number": "A-1", "amount": "10"}),)
    assert table.errors == ()


# -- decoding and delimiters --------------------------------------------------------------------


def test_utf8_byte_order_mark_is_not_part_of_the_first_column():
    table = read(b"\xef\xbb\xbfnumber,amount\nA-1,10\n")
    assert table.encoding == "utf-8-sig"
    assert table.rows[0].values == {"number": "A-1", "amount": "10"}


def test_plain_utf8_is_read_as_utf8():
    table = read("number,amount,customer\nA-1,10,Müller\n".encode())
    assert (table.encoding, table.rows[0].get("customer")) == ("utf-8", "Müller")


def test_windows_1252_is_the_fallback_when_the_bytes_are_not_utf8():
    data = "number;amount;customer\nA-1;10;Müller\n".encode("cp1252")
    table = read(data)
    assert (table.encoding, table.rows[0].get("customer")) == ("cp1252", "Müller")


def test_bytes_that_are_neither_utf8_nor_windows_1252_are_refused_naming_the_line():
    assert rejection(b"number,amount\nA-1,10\nA-2,\x81\n") == [
        'invoices.csv line 3: expected text in UTF-8 or Windows-1252 (cp1252), got "byte 0x81"'
    ]


def test_utf8_with_a_byte_order_mark_is_refused_when_a_byte_is_not_utf8():
    assert rejection(b"\xef\xbb\xbfnumber,amount\nA-1,M\xfcller\n") == [
        'invoices.csv line 2: expected text in UTF-8, as its byte-order mark says, got "byte 0xfc"'
    ]


def test_utf16_with_a_byte_order_mark_is_read():
    table = read("number\tamount\nA-1\t10\n".encode("utf-16"))
    assert (table.encoding, table.delimiter, table.rows[0].get("amount")) == ("utf-16", "\t", "10")


@pytest.mark.parametrize(
    ("delimiter", "_case"), [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "bar")]
)
def test_delimiter_is_found_from_the_header(delimiter, _case):
    data = f"number{delimiter}amount{delimiter}customer\nA-1{delimiter}15{delimiter}X Y\n"
    table = read(data.encode())
    assert table.delimiter == delimiter
    assert table.rows[0].values == {"number": "A-1", "amount": "15", "customer": "X Y"}


def test_semicolon_file_keeps_decimal_commas_in_values():
    table = read(b"number;amount\nA-1;1.234,56\n")
    assert table.delimiter == ";"
    assert parse_decimal(table.rows[0].get("amount"), ",", ".") == Decimal("1234.56")


# -- header -------------------------------------------------------------------------------------


def test_header_matches_canonical_names_ignoring_case_and_spaces():
    table = read(b" NUMBER ,Amount,Due On,customer\nA-1,10,2025-01-31,Acme\n")
    assert table.columns == {
        "number": "NUMBER",
        "amount": "Amount",
        "due_on": "Due On",
        "customer": "customer",
    }
    assert table.rows[0].get("due_on") == "2025-01-31"


def test_mapping_names_the_source_column_of_a_field():
    table = read(b"Invoice No,Amount,Notes\nA-1,10,x\n", mapping={"Invoice No": "number"})
    assert table.rows[0].values == {"number": "A-1", "amount": "10"}
    assert table.unknown_columns == ("Notes",)


def test_mapping_wins_over_a_column_with_the_canonical_name():
    data = b"number,Invoice No,amount\n42,A-1,10\n"
    table = read(data, mapping={"invoice no": "number"})
    assert table.rows[0].get("number") == "A-1"
    assert table.unknown_columns == ("number",)


def test_missing_required_columns_are_refused_naming_the_columns_found():
    assert rejection(b"Kunde;Betrag\nAcme;10\n") == [
        'invoices.csv line 1: expected the required columns number, amount, got "Kunde, Betrag"'
    ]


def test_one_missing_required_column_is_named_in_the_singular():
    assert rejection(b"number,Betrag\nA-1,10\n") == [
        'invoices.csv line 1: expected the required column amount, got "number, Betrag"'
    ]


def test_mapped_column_absent_from_the_file_is_refused():
    assert rejection(b"number,Betrag\nA-1,10\n", mapping={"Total": "amount"}) == [
        'invoices.csv line 1: expected a column "Total" (mapped to amount), got "number, Betrag"'
    ]


def test_two_columns_giving_one_field_are_refused():
    assert rejection(b"number,amount,Amount\nA-1,10,11\n") == [
        'invoices.csv line 1: expected one column for field "amount", got "amount, Amount"'
    ]


def test_mapping_to_something_that_is_no_field_is_a_usage_error():
    with pytest.raises(ValueError, match="'total' is not a field; expected one of number, amount"):
        read(b"number,amount\n", mapping={"Total": "total"})


def test_empty_file_is_refused():
    assert rejection(b"") == ["invoices.csv line 1: expected a header line with column names"]


def test_unterminated_quote_is_refused_naming_the_line_where_the_record_starts():
    assert rejection(b'number,amount\nA-1,10\nA-2,"20\nA-3,30\n') == [
        "invoices.csv line 3: expected a well-formed CSV record (a quoted value must end with "
        'a quote), got "unexpected end of data"'
    ]


# -- pieces, for worker processes ------------------------------------------------------------

_cell = st.text(alphabet="ab1 ", max_size=3)
_line = st.one_of(
    st.just(""),  # a blank line
    st.lists(_cell, min_size=1, max_size=4).map(",".join),  # often too few or too many values
)


@given(
    lines=st.lists(_line, max_size=40),
    blank_before=st.integers(0, 2),
    newline=st.sampled_from(["\n", "\r\n"]),
    size=st.integers(1, 30),
)
def test_pieces_give_the_records_lines_and_errors_of_the_whole_file(
    lines, blank_before, newline, size
):
    text = newline * blank_before + newline.join(["number,amount,due_on", *lines]) + newline
    whole = stream_csv(text.encode(), file_name="f.csv", **FIELDS)
    expected = list(whole.records)
    pieces = stream_csv(text.encode(), file_name="f.csv", **FIELDS)
    assert pieces.body is not None
    errors: list = []
    found = [r for piece in pieces.body.pieces(size) for r in pieces.body.records(*piece, errors)]
    assert found == expected
    assert errors == whole.errors


def test_a_file_with_quotes_or_lone_carriage_returns_is_not_cut_in_pieces():
    assert stream_csv(b'number,amount\n"A-1",1\n', file_name="f.csv", **FIELDS).body is None
    assert stream_csv(b"number,amount\rA-1,1\r", file_name="f.csv", **FIELDS).body is None


def test_a_refused_file_keeps_its_errors_when_sent_between_processes():
    with pytest.raises(FileRejected) as caught:
        read(b'number,amount\nA-1,"2\n')
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own bytes
    assert copy.errors == caught.value.errors and str(copy) == str(caught.value)


# -- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("2013-01-26", "iso"),
        ("26.01.2013", "dmy"),
        ("26/01/2013", "dmy"),
        ("26-01-2013", "dmy"),
        ("1/26/2013", "mdy"),
        ("01/26/2013", "mdy"),
        (" 26 Jan 2013 ", "%d %b %Y"),
        ("20130126", "%Y%m%d"),
    ],
)
def test_date_reads_as_26_january_2013_when_written_in_its_format(text, fmt):
    assert parse_date(text, fmt) == date(2013, 1, 26)


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("26.01.13", "dmy", "a date with a four-digit year like 26.01.2013"),
        ("1/26/13", "mdy", "a date with a four-digit year like 1/26/2013"),
        ("13-01-26", "iso", "a date with a four-digit year like 2013-01-26"),
        ("26/01/13", "%d/%m/%Y", "a date like 26/01/2013 (%d/%m/%Y)"),
    ],
)
def test_two_digit_year_is_refused(text, fmt, expected):
    assert field_error(parse_date, text, fmt) == (
        f'invoices.csv line 14, field "amount": expected {expected}, got "{text}"'
    )


def test_date_in_another_format_is_refused_with_an_example():
    assert field_error(parse_date, "2013-01-26", "dmy") == (
        'invoices.csv line 14, field "amount": expected a date like 26.01.2013, got "2013-01-26"'
    )


def test_month_first_date_is_refused_when_the_format_is_day_first():
    assert field_error(parse_date, "1/26/2013", "dmy") == (
        'invoices.csv line 14, field "amount": expected a date that exists, like 26.01.2013, '
        'got "1/26/2013"'
    )


def test_date_that_does_not_exist_is_refused():
    assert field_error(parse_date, "31.02.2013", "dmy") == (
        'invoices.csv line 14, field "amount": expected a date that exists, like 26.01.2013, '
        'got "31.02.2013"'
    )


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ("%d.%m.%y", "two-digit year"),
        ("european", "unknown date format"),
        ("%m/%Y", "needs a day"),
    ],
)
def test_date_format_is_a_usage_error_when_it_cannot_give_a_full_date(fmt, message):
    with pytest.raises(ValueError, match=message):
        check_date_format(fmt)


# -- numbers and currencies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "decimal_sep", "thousands_sep", "expected"),
    [
        ("1,234.56", ".", ",", Decimal("1234.56")),
        ("1.234,56", ",", ".", Decimal("1234.56")),
        ("1 234,56", ",", ".", Decimal("1234.56")),
        ("(12.00)", ".", ",", Decimal("-12.00")),
        ("12.00-", ".", ",", Decimal("-12.00")),
    ],
)
def test_number_reads_in_its_convention(text, decimal_sep, thousands_sep, expected):
    assert parse_decimal(text, decimal_sep, thousands_sep) == expected


def test_number_with_a_stray_letter_is_refused_with_the_expected_format():
    assert field_error(parse_decimal, "12,3x") == (
        'invoices.csv line 14, field "amount": expected a number like 1,234.56, got "12,3x"'
    )


def test_number_in_the_other_convention_is_refused_rather_than_misread():
    assert field_error(parse_decimal, "1.234,56") == (
        'invoices.csv line 14, field "amount": expected a number like 1,234.56, got "1.234,56"'
    )


@given(
    cents=st.integers(min_value=-(10**14), max_value=10**14),
    european=st.booleans(),
)
def test_formatted_amount_reads_back_to_the_same_decimal(cents, european):
    value = Decimal(cents).scaleb(-2)
    text = f"{value:,.2f}"
    if european:
        text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    separators = (",", ".") if european else (".", ",")
    assert parse_decimal(text, *separators) == value


def test_currency_code_is_upper_cased():
    assert parse_currency(" eur ") == "EUR"


def test_unknown_currency_is_refused():
    assert field_error(parse_currency, "EUX") == (
        'invoices.csv line 14, field "amount": expected an ISO 4217 currency code like EUR, '
        'got "EUX"'
    )


def test_minor_units_follow_the_currency():
    assert (to_minor(Decimal("12.30"), "EUR"), to_minor(Decimal(1500), "JPY")) == (1230, 1500)


def test_amount_with_more_decimals_than_the_currency_is_refused():
    assert field_error(to_minor, Decimal("1.005"), "EUR") == (
        'invoices.csv line 14, field "amount": expected an amount with at most 2 decimals '
        'for EUR, got "1.005"'
    )


AMOUNT_TEXT = st.one_of(
    st.from_regex(r"-?\d{1,16}(\.\d{0,4})?", fullmatch=True),
    st.text(alphabet="0123456789.,-() ", max_size=12),
)


@given(text=AMOUNT_TEXT, currency=st.sampled_from(["EUR", "JPY", "KWD"]))
def test_parse_minor_agrees_with_parse_decimal_then_to_minor(text: str, currency: str) -> None:
    def slow() -> int | str:
        try:
            return to_minor(parse_decimal(text), currency)
        except FieldError as error:
            return str(error)

    def quick() -> int | str:
        try:
            return parse_minor(text, currency)
        except FieldError as error:
            return str(error)

    assert quick() == slow()


def test_parse_minor_reads_plain_and_grouped_amounts() -> None:
    assert parse_minor("1234.5", "EUR") == 123450
    assert parse_minor("-0.07", "EUR") == -7
    assert parse_minor("1.234,56", "EUR", ",", ".") == 123456
    assert parse_minor("1500", "JPY") == 1500
    assert parse_minor("1.250", "KWD") == 1250
    with pytest.raises(FieldError, match="at most 0 decimals for JPY"):
        parse_minor("12.5", "JPY")
